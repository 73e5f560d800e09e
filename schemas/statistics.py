"""The supervisor's statistics: one report of flat rows per section, as JSON and as CSV."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

Bucket = Literal["day", "week", "month"]
DIMENSIONS = ("channel", "kind", "sector", "department", "city", "county")
Dimension = Literal["channel", "kind", "sector", "department", "city", "county"]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatsFilter(_Row):
    since: date | None = None  # China dates, both ends included
    until: date | None = None
    place: str | None = None  # administrative code prefix: 14, 1401, 140105
    bucket: Bucket = "month"


class FilingCount(_Row):
    dimension: Dimension
    key: str | None  # None: not stated (no sector found, no place named)
    label: str
    period: str | None  # the bucket's first day (YYYY-MM-DD; a month: YYYY-MM); None: total
    count: int


class DeadlineCompliance(_Row):
    department: str | None
    department_label: str
    step: str
    met: int  # done within the limit
    breached: int  # the limit passed, done since or not
    running: int  # still counting (active or paused)
    compliance: float | None  # met / (met + breached)


class Timing(_Row):
    department: str | None  # None: every department together
    department_label: str
    accepted: int
    average_days_to_accept: float | None
    closed: int
    average_days_to_close: float | None


class Outcomes(_Row):
    department: str | None  # None: every department together
    department_label: str
    decided: int  # complaints accepted or refused
    refused: int
    refusal_rate: float | None
    mediations_concluded: int  # succeeded or ended without agreement
    mediations_succeeded: int
    mediation_success_rate: float | None
    settled: int = 0  # settled (mediation or ODR) with the amount recovered recorded
    settled_with_money: int = 0  # of them, with money back to the consumer
    recovered_fen: int = 0  # 挽回经济损失, in fen


class Satisfaction(_Row):
    department: str
    department_label: str
    ratings: int
    average: float
    index: float  # the average as a share of 5, in percent


class FollowUps(_Row):
    """Follow-up calls (回访) on the complaints received in the period, as of today."""

    department: str | None  # None: every department together
    department_label: str
    due: int  # closed complaints owed a call (with a number; not rated online, by policy)
    done: int  # reached, or the complainant declined to talk
    unreachable: int  # the policy's attempts made, nobody reached
    expired: int  # never reached, closed longer ago than the policy's stop_after_days
    waiting: int  # still to call
    overdue: int  # still to call, past the due date
    called: int  # at least one call made
    reached: int  # answered (including those who declined to talk)
    reach_rate: float | None  # reached / called
    satisfied: int  # 满意, said on a call
    basically_satisfied: int  # 基本满意
    unsatisfied: int  # 不满意
    satisfaction_rate: float | None  # (满意 + 基本满意) / reached with an answer


class UnsatisfiedCall(_Row):
    """A complainant who said 不满意 on a follow-up call: for a supervisor to act on."""

    complaint_id: int
    tracking_number: str
    department: str | None
    department_label: str
    called_on: date  # China day
    note: str | None


class StatsReport(_Row):
    filter: StatsFilter
    filings: list[FilingCount]  # per dimension, key and period
    totals: list[FilingCount]  # per dimension and key, the whole period
    deadlines: list[DeadlineCompliance]
    timings: list[Timing]
    outcomes: list[Outcomes]
    satisfaction: list[Satisfaction]
    follow_ups: list[FollowUps] = []
    unsatisfied_calls: list[UnsatisfiedCall] = []
