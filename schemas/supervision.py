"""Social quality supervisors (社会质量监督员): appointments, inspections, track records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, StringConstraints
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import china_if_naive, utcnow
from schemas.complaint import ComplaintCreate
from schemas.formats import CN_PHONE, Trimmed, iso_datetime_text
from schemas.validators import normalize_cn_phone

SectorCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class QualitySupervisor(SQLModel, table=True):
    """One appointment: who, where, which sectors; who appointed and who revoked, and when.

    A revoked row stays (the record); a person appointed again gets a new row.
    """

    __tablename__ = "quality_supervisors"

    id: int | None = Field(default=None, primary_key=True)
    # The account a supervisor signs in with to file on the web and see its record.
    staff_id: int | None = Field(default=None, foreign_key="staff_users.id", index=True)
    name: str = Field(max_length=60)
    phone: str = Field(max_length=20, index=True)  # E.164: SMS and hotline filings match it
    region: str = Field(max_length=100)
    sectors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    appointed_by_id: int = Field(foreign_key="staff_users.id")
    appointed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="staff_users.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoke_reason: str | None = Field(default=None, max_length=300)


class SupervisorInspection(SQLModel, table=True):
    """What a supervisor saw on an inspection: the place and time (photos are attachments)."""

    __tablename__ = "supervisor_inspections"

    complaint_id: int = Field(foreign_key="complaints.id", primary_key=True)
    quality_supervisor_id: int = Field(foreign_key="quality_supervisors.id", index=True)
    place: str | None = Field(default=None, max_length=200)
    inspected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def _phone(value: str) -> str:
    return normalize_cn_phone(value)


class AppointmentIn(SQLModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]

    username: Annotated[str, Trimmed(1, 64)] | None = Field(
        default=None,
        description="an account with role quality_supervisor, to file on the web and see its "
        "record; without one the supervisor files by SMS and hotline only",
    )
    name: Annotated[str, Trimmed(1, 60)]
    phone: Annotated[str, AfterValidator(_phone), CN_PHONE] = Field(
        description="SMS and hotline filings from this number carry the supervisor's identity"
    )
    region: Annotated[str, Trimmed(1, 100)]
    sectors: list[SectorCode] = Field(
        min_length=1, max_length=20, description="sector codes of the registry"
    )


class RevocationIn(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    reason: Annotated[str, Trimmed(2, 300)]


def _datetime_text(value: object) -> object:
    """A date-time as the schema says: ISO 8601 text, never a number read as Unix seconds."""
    if isinstance(value, int | float):
        raise ValueError("give an ISO 8601 date-time, e.g. 2026-12-01T08:00:00+08:00")
    return iso_datetime_text(value)


def _china_if_naive(value: datetime | None) -> datetime | None:
    return None if value is None else china_if_naive(value)


class InspectionIn(SQLModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]

    place: Annotated[str, Trimmed(1, 200)] | None = None
    inspected_at: Annotated[
        datetime | None, BeforeValidator(_datetime_text), AfterValidator(_china_if_naive)
    ] = Field(default=None, description="ISO 8601; without an offset, China time")


class SupervisorFilingCreate(ComplaintCreate):
    """A supervisor's web filing, with the inspection's details. It is filed openly: a
    tip-off's reporter identity is for the public form, which keeps it anonymous."""

    reporter: None = Field(
        default=None, description="none: a supervisor files openly, under its appointment"
    )
    inspection: InspectionIn | None = None


class TrackRecord(SQLModel):
    filings: int
    confirmed: int  # accepted (complaint) or case opened (tip-off)
    refused: int  # refused (complaint) or case not opened (tip-off)
    closed: int
    average_handling_days: float | None  # filing to closing, over closed filings


class SupervisorView(SQLModel):
    id: int
    username: str | None
    name: str
    phone: str  # masked
    region: str
    sectors: list[str]
    active: bool
    appointed_by: str
    appointed_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str | None
    record: TrackRecord


class SupervisorList(SQLModel):
    data: list[SupervisorView]
    count: int


class SupervisorFilingView(SQLModel):
    tracking_number: str
    kind: str
    channel: str
    status: str
    status_label: str
    priority: int
    business_name: str | None
    summary: str
    created_at: datetime


class SupervisorHome(SQLModel):
    supervisor: SupervisorView
    filings: list[SupervisorFilingView]
