"""The append-only history of a filing: who did what, when, from which status to which."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, event
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow
from schemas.enums import Status, stored_as_text


class ComplaintEvent(SQLModel, table=True):
    """One step in a filing's history. Rows are only ever inserted."""

    __tablename__ = "complaint_events"
    __table_args__ = (Index("ix_complaint_events_complaint", "complaint_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=100, description="citizen, system:<component> or staff:<name>")
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    from_status: Status | None = Field(default=None, sa_type=stored_as_text(Status))
    to_status: Status | None = Field(default=None, sa_type=stored_as_text(Status))
    reason: str = Field(default="", max_length=500)
    public_note: str | None = Field(default=None, max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    public: bool = Field(default=True, description="shown on the citizen's tracking timeline")


COMPLAINT_EVENTS: Table = ComplaintEvent.__table__  # type: ignore[attr-defined]


class EventPublic(SQLModel):
    at: datetime
    status: Status | None
    label: str
    note: str | None


class EventStaffView(SQLModel):
    id: int
    at: datetime
    actor: str
    from_status: Status | None
    to_status: Status | None
    reason: str
    payload: dict[str, Any]
    public: bool


class HistoryIsAppendOnly(RuntimeError):
    """Raised on any attempt to change or delete a ComplaintEvent."""


# Tables whose rows are only ever inserted (schemas.reward adds the reward file's history).
APPEND_ONLY: list[type[SQLModel]] = [ComplaintEvent]


@event.listens_for(Session, "before_flush")
def _refuse_history_rewrites(session: Session, _context: object, _instances: object) -> None:
    kinds = tuple(APPEND_ONLY)
    for obj in session.deleted:
        if isinstance(obj, kinds):
            raise HistoryIsAppendOnly(f"{type(obj).__name__} rows are append-only: never deleted")
    for obj in session.dirty:
        if isinstance(obj, kinds) and session.is_modified(obj):
            raise HistoryIsAppendOnly(f"{type(obj).__name__} rows are append-only: never changed")
