"""A tip-off reporter's identity as given (web, operator, reward claim) and as officers see it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from schemas.formats import CN_ID_NUMBER, CN_PHONE, Trimmed, given, required_when
from schemas.validators import ascii_digits, id_number_problem, normalize_cn_phone

Short = Annotated[str, Trimmed(1, 60)]


def _id_number(value: str) -> str:
    # As typed with a Chinese input method too: full-width digits and Ｘ.
    code = ascii_digits(value.strip().upper()).replace("Ｘ", "X")
    problem = id_number_problem(code)
    if problem:
        raise ValueError(f"id_number {problem}")
    return code


def _bank_account(value: str) -> str:
    # Stored as ASCII digits, the form a bank transfer takes (not as typed: １２３…).
    digits = ascii_digits(re.sub(r"[\s\-]", "", value))
    if not re.fullmatch(r"[0-9]{10,30}", digits):
        raise ValueError("bank_account must be 10–30 digits")
    return digits


class ReporterIdentityIn(SQLModel):
    """Who reports: every field optional (a tip-off may be anonymous), sealed on arrival."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=required_when(given("bank_account"), "bank_name"),  # _account_with_bank
    )

    name: Short | None = None
    phone: Annotated[str, AfterValidator(normalize_cn_phone), CN_PHONE] | None = None
    id_number: Annotated[str, AfterValidator(_id_number), CN_ID_NUMBER] | None = Field(
        default=None, description="居民身份证号码, 18 characters, check digit verified"
    )
    bank_name: Short | None = None
    bank_account: (
        Annotated[
            str,
            AfterValidator(_bank_account),
            PydanticField(json_schema_extra={"pattern": r"^[\s\-]*(?:\d[\s\-]*){10,30}$"}),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _account_with_bank(self) -> ReporterIdentityIn:
        if self.bank_account and not self.bank_name:
            raise ValueError("bank_name is required with bank_account")
        return self

    def given(self) -> dict[str, str]:
        return {key: value for key, value in self.model_dump().items() if value}


class ReporterIdentityView(SQLModel):
    """What a reward officer sees on opening the vault: phone and ID number masked."""

    complaint_id: int
    name: str | None
    phone_masked: str | None
    id_number_masked: str | None
    bank_name: str | None
    bank_account: str | None  # needed to pay the reward
    updated_on: str


class VaultReadRequest(SQLModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]

    reason: Annotated[str, Trimmed(4, 500)]
