"""A department's office for one place (省/市/县 level): where a filing is actually handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class Office(SQLModel, table=True):
    __tablename__ = "offices"
    __table_args__ = (Index("ix_offices_department_code", "department_id", "admin_code"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60, unique=True, index=True)  # <department>-<admin code>
    department_id: int = Field(foreign_key="departments.id")
    name: str = Field(max_length=100)
    level: str = Field(max_length=10)  # province | city | county
    admin_code: str = Field(max_length=6)
    province: str = Field(max_length=30)
    city: str | None = Field(default=None, max_length=30)
    county: str | None = Field(default=None, max_length=30)
    active: bool = Field(default=True)
    registry_version: str = Field(max_length=40)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OfficeRef(SQLModel):
    code: str
    name: str
    level: str
