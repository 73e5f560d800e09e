"""Follow-up calls (回访) to complainants after closing: each attempt, and the API's shapes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, model_validator
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow
from schemas.department import DepartmentRef
from schemas.enums import stored_as_text
from schemas.formats import Trimmed


class CallOutcome(StrEnum):
    reached = "reached"  # spoke with the complainant, who answered the questions
    declined = "declined"  # reached, but did not want to talk: done, no satisfaction
    no_answer = "no_answer"
    busy = "busy"
    switched_off = "switched_off"
    wrong_number = "wrong_number"


# Attempts that count towards the policy's max_attempts; reached and declined end the work.
UNREACHED = frozenset(
    {CallOutcome.no_answer, CallOutcome.busy, CallOutcome.switched_off, CallOutcome.wrong_number}
)
OUTCOME_LABELS = {
    CallOutcome.reached: "已接通",
    CallOutcome.declined: "接通，不愿回访",
    CallOutcome.no_answer: "无人接听",
    CallOutcome.busy: "占线",
    CallOutcome.switched_off: "关机或停机",
    CallOutcome.wrong_number: "号码错误",
}


class CallSatisfaction(StrEnum):
    satisfied = "satisfied"  # 满意
    basically = "basically"  # 基本满意
    unsatisfied = "unsatisfied"  # 不满意


SATISFACTION_LABELS = {
    CallSatisfaction.satisfied: "满意",
    CallSatisfaction.basically: "基本满意",
    CallSatisfaction.unsatisfied: "不满意",
}
# On the 1–5 scale the citizen rates by (5 the most satisfied, as the closing SMS says):
# 满意 the top, 基本满意 one below it, 不满意 the second lowest, as 1 is kept for the
# "very dissatisfied" the three answers of a call do not have.
SATISFACTION_SCORES = {
    CallSatisfaction.satisfied: 5,
    CallSatisfaction.basically: 4,
    CallSatisfaction.unsatisfied: 2,
}


class FollowUpCall(SQLModel, table=True):
    """One attempt to call a complainant back. Rows are only ever inserted.

    (complaint_id, attempt) is unique: two operators recording the same filing at once both
    count the attempts before, and only one of them can add the next one.
    """

    __tablename__ = "follow_up_calls"
    __table_args__ = (
        UniqueConstraint("complaint_id", "attempt", name="uq_follow_up_attempt"),
        Index("ix_follow_up_calls_satisfaction", "satisfaction", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id")
    attempt: int  # 1, 2, …: the filing's calls in order
    outcome: CallOutcome = Field(sa_type=stored_as_text(CallOutcome))
    satisfaction: CallSatisfaction | None = Field(
        default=None, sa_type=stored_as_text(CallSatisfaction)
    )
    # The rating the call made (the filing had none yet and the rating window was open).
    rating_id: int | None = Field(default=None, foreign_key="satisfaction_ratings.id")
    # What the complainant said; free text, erased by retention with the rating comments.
    note: str | None = Field(default=None, max_length=500)
    staff_id: int | None = Field(default=None, foreign_key="staff_users.id")
    called_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowUpCallIn(SQLModel):
    """What the operator records after dialling."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]

    outcome: CallOutcome
    satisfaction: CallSatisfaction | None = Field(
        default=None, description="required when reached (满意 / 基本满意 / 不满意), else none"
    )
    note: Annotated[str, Trimmed(1, 500)] | None = Field(
        default=None, description="what the complainant said"
    )

    @model_validator(mode="after")
    def _satisfaction_when_reached(self) -> FollowUpCallIn:
        if self.outcome is CallOutcome.reached and self.satisfaction is None:
            raise ValueError("satisfaction is required when the complainant was reached")
        if self.outcome is not CallOutcome.reached and self.satisfaction is not None:
            raise ValueError("satisfaction is given only when the complainant was reached")
        return self


class FollowUpDue(SQLModel):
    """One complaint waiting for its follow-up call, as the operator's list shows it."""

    complaint_id: int
    tracking_number: str
    department: DepartmentRef | None
    closed_on: date
    due_on: date
    overdue: bool
    outcome_summary: str | None  # the closing summary
    attempts: int
    contact_phone: str  # masked; the full number through the audited contact route


class FollowUpPage(SQLModel):
    data: list[FollowUpDue]
    next_cursor: str | None


class FollowUpCallView(SQLModel):
    complaint_id: int
    tracking_number: str
    attempt: int
    outcome: CallOutcome
    satisfaction: CallSatisfaction | None
    score: int | None
    rated: bool = Field(description="the call gave the filing its satisfaction rating")
    state: str = Field(description="done | unreachable | due: where the follow-up stands now")
    called_at: datetime
