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


class StatsReport(_Row):
    filter: StatsFilter
    filings: list[FilingCount]  # per dimension, key and period
    totals: list[FilingCount]  # per dimension and key, the whole period
    deadlines: list[DeadlineCompliance]
    timings: list[Timing]
    outcomes: list[Outcomes]
    satisfaction: list[Satisfaction]
