"""What a tip-off's reporter sends and sees on the receipt-code page (no account, no cookie)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from schemas.complaint import TrackingView
from schemas.formats import Trimmed
from schemas.reporter import ReporterIdentityIn

ReceiptCode = Annotated[str, Trimmed(1, 60)]


class ReceiptIn(SQLModel):
    """The receipt code travels in the body, never in a URL (URLs end up in logs)."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    receipt_code: ReceiptCode = Field(description="24 digits; spaces allowed")


class ReporterAnswer(ReceiptIn):
    text: Annotated[str, Trimmed(2, 2000)]


class RewardClaim(ReceiptIn):
    identity: ReporterIdentityIn = Field(
        description="who to pay: name, phone, ID number, bank and account; sealed in the vault"
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
