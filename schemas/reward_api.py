"""API shapes of the reward desk: what an officer sends, and the reward file it gets back.

Amounts are integers in fen, each with its formatted yuan string beside it. Nothing here
identifies the reporter: identity lives sealed in the vault (schemas.reward.ReporterIdentity).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.formats import MAX_ID, Trimmed

# The fen columns (tip_cases, reward_amounts) are 32-bit integers: beyond this PostgreSQL
# refuses the row. Raise it together with those columns.
MAX_FEN = 10**13  # as DecisionBody; the columns are 64-bit
Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="an amount in fen (分)")]
Tier = Annotated[str, Field(pattern=r"^[1-9]$", description='the award tier: "1", "2" or "3"')]
Reason = Annotated[str, Trimmed(2, 500)]
Note = Annotated[str, Trimmed(1, 500)]
Reference = Annotated[str, Trimmed(1, 100)]
PaymentMethod = Literal["bank_transfer", "cash", "other"]


class RewardState(StrEnum):
    proposed = "proposed"  # an amount waits for two approvals
    refused = "refused"  # 不予奖励, with the reasons
    approved = "approved"  # two officers approved the current amount
    paid = "paid"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReporterAnswers(_Input):
    """The officer's answers about the reporter, from the file (rewards.calculation.Reporter)."""

    natural_person: bool = Field(description="the reporter is a natural person (自然人)")
    regulator_staff_or_duty_to_report: bool = Field(
        description="market-regulation staff, or anyone with a duty to report"
    )
    harmed_party_or_agent: bool = Field(description="the harmed party or its agent")
    paid_to_report: bool = Field(description="reported to be paid for it")
    information_already_known: bool = Field(
        description="the regulator already had the information before the tip-off"
    )


class RewardOpen(_Input):
    complaint_id: int = Field(ge=1, le=MAX_ID, description="the tip-off's filing id")
    reporter: ReporterAnswers
    tier: Tier


class AmountSupersede(_Input):
    """A new amount replacing the current one; give what changes and why."""

    # The schema says it too: at least one of the three changes.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("tier", "fines_fen", "confiscation_fen")
            ]
        }
    )

    reason: Reason
    tier: Tier | None = None
    fines_fen: Fen | None = None
    confiscation_fen: Fen | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> AmountSupersede:
        if self.tier is None and self.fines_fen is None and self.confiscation_fen is None:
            raise ValueError("give a new tier, fines_fen or confiscation_fen")
        return self


class ApprovalCreate(_Input):
    amount_id: int = Field(ge=1, le=MAX_ID, description="the amount approved: the current one")
    note: Note | None = None


class PaymentCreate(_Input):
    amount_id: int = Field(ge=1, le=MAX_ID, description="the amount paid: the approved one")
    method: PaymentMethod
    reference: Reference = Field(description="the transfer's or the receipt's number")
    paid_on: date
    finance_reference: Reference | None = Field(
        default=None,
        description="the finance department's joint sign-off document number; required when "
        "the amount needs finance sign-off",
    )


class AmountView(BaseModel):
    id: int
    current: bool
    tier: str
    tier_name: str
    fines_fen: int
    confiscation_fen: int
    basis_fen: int
    share_fen: int
    amount_fen: int
    amount_yuan: str
    needs_finance_signoff: bool
    explanation: list[str]
    created_by: str
    created_on: date
    superseded_by_id: int | None
    supersede_reason: str | None


class ApprovalView(BaseModel):
    amount_id: int
    officer: str
    approved_on: date
    note: str | None


class PaymentView(BaseModel):
    amount_id: int
    amount_fen: int
    amount_yuan: str
    method: PaymentMethod
    reference: str
    paid_on: date
    finance_reference: str | None
    recorded_by: str


class RewardEventView(BaseModel):
    on: date
    actor: str
    action: str
    payload: dict[str, Any]


class RewardFile(BaseModel):
    """One reward file: eligibility, every amount (superseded ones too), approvals, payment."""

    id: int
    complaint_id: int
    tracking_number: str
    decision_number: str | None
    state: RewardState
    version: int
    opened_by: str
    opened_on: date
    eligibility: dict[str, Any]
    refusal_reasons: list[str]
    current_amount: AmountView | None
    approvals_needed: int = Field(description="approvals of the current amount still missing")
    amounts: list[AmountView]
    approvals: list[ApprovalView]
    payment: PaymentView | None
    events: list[RewardEventView]


class DeskItem(BaseModel):
    """A tip-off with a decided penalty, and its reward if one was opened."""

    complaint_id: int
    tracking_number: str
    business_name: str | None
    decision_number: str | None
    decided_on: date
    penalty_fen: int
    penalty_yuan: str
    confiscation_fen: int
    confiscation_yuan: str
    crime_transferred: bool
    business_suspended: bool
    licence_revoked: bool
    reward_id: int | None
    reward_state: RewardState | None
    amount_fen: int | None
    amount_yuan: str | None


class DeskPage(BaseModel):
    data: list[DeskItem]
    count: int
    next_after: int | None = Field(description="pass as `after` for the next page")
