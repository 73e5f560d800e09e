"""Risk alerts and business quality credit: the tables and what staff read of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow
from schemas.event import APPEND_ONLY


class Alert(SQLModel, table=True):
    """A surge of filings about one subject: a supervisor's work item, open → acknowledged →
    closed. One row per surge: `surge_key` (subject and first window) is unique."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("surge_key", name="uq_alerts_surge_key"),
        Index("ix_alerts_subject", "subject_type", "subject_key", "window_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    surge_key: str = Field(max_length=120)
    subject_type: str = Field(max_length=20)  # business | sector | place
    subject_key: str = Field(max_length=60)
    subject_label: str = Field(max_length=200)
    window_start: date
    window_end: date  # the last day of the latest window that fired for this surge
    observed: int
    baseline: float  # the expected count per window
    p_value: float
    threshold: float
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="open", max_length=20, index=True)  # open | acknowledged | closed
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertEvent(SQLModel, table=True):
    """One step in an alert's history. Rows are only ever inserted."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_alert", "alert_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alerts.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=100)
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)


class BusinessCredit(SQLModel, table=True):
    """A business's quality credit as last computed: its grade, the reasons and the figures."""

    __tablename__ = "business_credit"

    id: int | None = Field(default=None, primary_key=True)
    business_key: str = Field(max_length=40, unique=True)
    business_uscc: str | None = Field(default=None, max_length=18, index=True)
    business_name: str = Field(max_length=200)
    business_address: str | None = Field(default=None, max_length=300)
    grade: str = Field(max_length=20, index=True)  # honest | lacking | dishonest
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    policy_version: str = Field(max_length=40)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreditChange(SQLModel, table=True):
    """A change of a business's grade, with the reasons and figures behind it (append-only)."""

    __tablename__ = "business_credit_changes"
    __table_args__ = (Index("ix_credit_changes_key", "business_key", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    business_key: str = Field(max_length=40)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    from_grade: str | None = Field(default=None, max_length=20)
    to_grade: str = Field(max_length=20)
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


APPEND_ONLY.extend([AlertEvent, CreditChange])


class AlertNote(SQLModel):
    note: str = Field(default="", max_length=500)


class AlertEventView(SQLModel):
    at: datetime
    actor: str
    from_state: str | None
    to_state: str
    note: str


class AlertView(SQLModel):
    id: int
    subject_type: str
    subject_key: str
    subject_label: str
    window_start: date
    window_end: date
    observed: int
    baseline: float
    p_value: float
    threshold: float
    evidence: dict[str, Any]
    state: str
    created_at: datetime
    updated_at: datetime
    history: list[AlertEventView] = Field(default_factory=list)


class CreditView(SQLModel):
    business_key: str
    business_uscc: str | None
    business_name: str
    business_address: str | None
    grade: str
    grade_label: str
    reasons: list[dict[str, Any]]
    metrics: dict[str, Any]
    policy_version: str
    computed_at: datetime
    changes: list[dict[str, Any]] = Field(default_factory=list)
