"""Routing corrections: staff moving a filing to another department, a labelled example."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class RoutingCorrection(SQLModel, table=True):
    """What the router (or a person) decided, and what a person said it should have been."""

    __tablename__ = "routing_corrections"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)
    from_department: str | None = Field(default=None, max_length=32)
    to_department: str = Field(max_length=32)
    source: str = Field(max_length=20)  # triage | transfer | operator | operator_confirmed
    reason: str = Field(max_length=500)
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
