"""API shapes of a citizen's sign-in by SMS code and the list of their own filings."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from schemas.enums import Kind, Status
from schemas.formats import CN_PHONE
from schemas.validators import normalize_cn_phone

# The same normalisation as a filing's contact_phone, so that 138 1234 5678 and
# +86 13812345678 are one number and find the same filings.
CitizenPhone = Annotated[str, AfterValidator(normalize_cn_phone), CN_PHONE]
CODE_PATTERN = r"^[0-9]{6}$"


class CodeRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    phone: CitizenPhone = Field(
        description="the mainland China mobile number the filings give as their contact"
    )


class CodeSent(SQLModel):
    """The same answer whether or not the number has filings."""

    sent_to: str = Field(description="the number, masked: 138****5678")
    expires_in: int = Field(description="seconds the code is good for")
    resend_after: int = Field(description="seconds before another code may be asked for")


class SessionCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    phone: CitizenPhone
    code: Annotated[str, StringConstraints(pattern=CODE_PATTERN)] = Field(
        description="the 6 digits of the text message"
    )


class CitizenToken(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int


class OwnFiling(SQLModel):
    """One of the citizen's own complaints or inquiries: what the tracking page shows of it."""

    tracking_number: str
    tracking_number_display: str
    kind: Kind
    kind_label: str
    status: Status
    status_label: str
    filed_on: date = Field(description="the day it was filed, in China")
    department: str | None = Field(description="the department's name; none while routing")
    tracking_url: str


class OwnFilings(SQLModel):
    phone: str = Field(description="the signed-in number, masked")
    filings: list[OwnFiling] = Field(description="newest first")
    more: bool = Field(description="older filings exist beyond this list")
