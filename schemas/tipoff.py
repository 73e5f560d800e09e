"""What a tip-off's reporter sends and sees on the receipt-code page (no account, no cookie)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, model_validator
from sqlmodel import Field, SQLModel

from schemas.complaint import TrackingView
from schemas.formats import Trimmed, given, required_when
from schemas.reporter import ReporterIdentityIn

ReceiptCode = Annotated[str, Trimmed(1, 60)]


class ReceiptIn(SQLModel):
    """The receipt code travels in the body, never in a URL (URLs end up in logs)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    receipt_code: ReceiptCode = Field(description="24 digits; spaces allowed")


class ReporterAnswer(ReceiptIn):
    text: Annotated[str, Trimmed(2, 2000)]


WHO_TO_PAY = (
    "a reward claim must say who to pay: give name, bank_name and bank_account (phone and "
    "id_number help the reward officer confirm it is you); what was given before is kept"
)


class ClaimantIdentity(ReporterIdentityIn):
    """A reward claim's identity: as a filing's, every field optional, but not none of them
    (an empty claim would be recorded as a claim with nothing sealed to pay)."""

    model_config = ConfigDict(
        json_schema_extra={
            **required_when(given("bank_account"), "bank_name"),
            "anyOf": [given(field) for field in ReporterIdentityIn.model_fields],
        }
    )

    @model_validator(mode="after")
    def _someone_to_pay(self) -> ClaimantIdentity:
        if not self.given():
            raise ValueError(WHO_TO_PAY)
        return self


class RewardClaim(ReceiptIn):
    identity: ClaimantIdentity = Field(
        description="who to pay: name, phone, ID number, bank and account; sealed in the vault, "
        "over what was given before; at least one of them"
    )


class ReporterQuestion(SQLModel):
    on: str  # the day asked
    question: str


class ReporterCaseView(SQLModel):
    case: TrackingView
    questions: list[ReporterQuestion]
    answers_sent: int
    identity_on_file: bool  # whether the vault holds something to pay a reward to
    reward: dict[str, Any] | None
