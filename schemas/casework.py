"""What departments record while working a filing: clocks, testing, ratings, notes, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class Deadline(SQLModel, table=True):
    """One legal time limit on one filing: started, paused, met or breached."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_active_due", "state", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)
    step: str = Field(max_length=40)  # accept_decision, mediation, ... (cases.deadlines.STEPS)
    started_on: date
    due_on: date  # the last day, in China time, on which the step is still in time
    paused_on: date | None = None
    state: str = Field(default="active", max_length=12)  # active | paused | met | breached
    warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    breached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ArbitrationTest(SQLModel, table=True):
    """质量仲裁检验: a commission to an approved lab, its report and the objection window."""

    __tablename__ = "arbitration_tests"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)
    lab: str = Field(max_length=200)
    sample: str = Field(max_length=500)
    basis: str = Field(max_length=500)  # mandatory standard, agreed standard, or seller's claim
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fee_fen: int
    payer: str = Field(max_length=20)  # complainant | business | shared | regulator
    payment_timing: str = Field(max_length=200)
    due_on: date
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    outcome: str | None = Field(
        default=None, max_length=20
    )  # conforming | nonconforming | inconclusive
    report_summary: str | None = Field(default=None, sa_type=Text)
    report_attachment_id: int | None = Field(default=None, foreign_key="attachments.id")
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    objection_until: date | None = None


class SatisfactionRating(SQLModel, table=True):
    __tablename__ = "satisfaction_ratings"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", unique=True)
    department_id: int | None = Field(default=None, foreign_key="departments.id", index=True)
    score: int
    comment: str | None = Field(default=None, max_length=500)
    channel: str = Field(max_length=20)  # web | sms
    rated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who looked at or changed which filing, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_complaint", "complaint_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff_users.id", index=True)
    username: str = Field(max_length=64)
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id")
    action: str = Field(max_length=60)  # view | act:<action> | ...
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DepartmentWebhook(SQLModel, table=True):
    """A department's own system, told of every routed filing and update."""

    __tablename__ = "department_webhooks"

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="departments.id", unique=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=200)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id", name="uq_webhook_event"),)

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="department_webhooks.id", index=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)
    event_id: int = Field(foreign_key="complaint_events.id")
    state: str = Field(default="pending", max_length=12)  # pending | delivered | failed
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    attempt_log: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OdrBusiness(SQLModel, table=True):
    """A business taking part in online dispute resolution: its complaints go to it first."""

    __tablename__ = "odr_businesses"

    id: int | None = Field(default=None, primary_key=True)
    business_uscc: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    active: bool = Field(default=True)


class TipCase(SQLModel, table=True):
    """A tip-off's enforcement record: case opened or not, and the decision with its penalty."""

    __tablename__ = "tip_cases"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", unique=True)
    case_number: str | None = Field(default=None, max_length=60)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    not_opened_reason: str | None = Field(default=None, max_length=500)
    decision_number: str | None = Field(default=None, max_length=60)
    # 64-bit: fines of a major case pass 2^31 fen (21 million yuan).
    penalty_fen: int | None = Field(default=None, sa_type=BigInteger)  # fines
    confiscation_fen: int | None = Field(default=None, sa_type=BigInteger)  # illegal gains
    # What makes a violation "major" for a reward besides the fine (rewards.calculation):
    # 移送司法机关, 责令停产停业, 吊销许可证件.
    crime_transferred: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    business_suspended: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    licence_revoked: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
