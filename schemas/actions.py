"""The bodies of the actions staff take on a filing, one model per action."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.formats import Trimmed

Text = Annotated[str, Trimmed(2, 2000)]
Short = Annotated[str, Trimmed(1, 200)]
Code = Annotated[str, Trimmed(1, 40)]
Fen = Annotated[int, Field(ge=0, le=10**13, description="an amount in fen (分)")]


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoFields(ActionBody):
    pass


class ClaimBody(ActionBody):
    assignee: Short | None = None  # a colleague's username; default: the one claiming


class NoteBody(ActionBody):
    text: Text  # internal: never shown to the citizen


class ReplyBody(ActionBody):
    text: Text  # shown on the tracking page and sent by SMS


class AcceptBody(ActionBody):
    note: Text | None = None


class RefuseBody(ActionBody):
    reason_code: Code  # one of the policy's refusal_grounds
    explanation: Text


class SummaryBody(ActionBody):
    summary: Text


class TestingRequestBody(ActionBody):
    lab: Short
    sample: Text
    basis: Text  # mandatory standard first, then what the parties agreed, then the seller's claim
    items: list[Short] = Field(min_length=1, max_length=50)
    fee_fen: Fen
    payer: Literal["complainant", "business", "shared", "regulator"]
    payment_timing: Short
    due_on: date


class TestReportBody(ActionBody):
    outcome: Literal["conforming", "nonconforming", "inconclusive"]
    summary: Text
    attachment: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


class AgreementBody(ActionBody):
    agreement: Text
    recovered_fen: Fen  # refund and compensation the consumer gets (挽回经济损失); 0 if none


class SettlementBody(ActionBody):
    """The business settled with the consumer directly (ODR)."""

    summary: Text
    recovered_fen: Fen


class EndMediationBody(ActionBody):
    reason_code: Code  # one of the policy's mediation_end_reasons
    explanation: Text


class OpenCaseBody(ActionBody):
    case_number: Short


class NotOpenCaseBody(ActionBody):
    reason: Text


class DecisionBody(ActionBody):
    decision_number: Short
    penalty_fen: Fen
    confiscation_fen: Fen = 0
    crime_transferred: bool = Field(default=False, description="移送司法机关")
    business_suspended: bool = Field(default=False, description="责令停产停业")
    licence_revoked: bool = Field(default=False, description="吊销许可证件")
    summary: Text


class QuestionBody(ActionBody):
    question: Text


class AnswerBody(ActionBody):
    answer: Text
