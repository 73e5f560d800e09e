"""Queries about quality supervisors and their filings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from schemas.complaint import Complaint
from schemas.enums import Status
from schemas.event import ComplaintEvent
from schemas.supervision import QualitySupervisor

CONFIRMED = (Status.accepted, Status.case_opened)
REFUSED = (Status.refused, Status.case_not_opened)


def active_by_phone(session: Session, phone: str) -> QualitySupervisor | None:
    return session.exec(
        select(QualitySupervisor)
        .where(QualitySupervisor.phone == phone)
        .where(col(QualitySupervisor.revoked_at).is_(None))
    ).first()


def active_by_staff(session: Session, staff_id: int) -> QualitySupervisor | None:
    return session.exec(
        select(QualitySupervisor)
        .where(QualitySupervisor.staff_id == staff_id)
        .where(col(QualitySupervisor.revoked_at).is_(None))
    ).first()


def latest_by_staff(session: Session, staff_id: int) -> QualitySupervisor | None:
    return session.exec(
        select(QualitySupervisor)
        .where(QualitySupervisor.staff_id == staff_id)
        .order_by(col(QualitySupervisor.id).desc())
        .limit(1)
    ).first()


def supervisors(session: Session, *, active_only: bool, limit: int) -> Sequence[QualitySupervisor]:
    query = select(QualitySupervisor)
    if active_only:
        query = query.where(col(QualitySupervisor.revoked_at).is_(None))
    return session.exec(query.order_by(col(QualitySupervisor.id).desc()).limit(limit)).all()


def filing_count(session: Session, supervisor_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Complaint)
            .where(Complaint.quality_supervisor_id == supervisor_id)
        ).one()
    )


def filings_reaching(session: Session, supervisor_id: int, statuses: Sequence[Status]) -> int:
    """Filings of the supervisor whose history ever reached one of `statuses`."""
    return int(
        session.exec(
            select(func.count(func.distinct(ComplaintEvent.complaint_id)))
            .join(Complaint, col(Complaint.id) == col(ComplaintEvent.complaint_id))
            .where(Complaint.quality_supervisor_id == supervisor_id)
            .where(col(ComplaintEvent.to_status).in_(list(statuses)))
        ).one()
    )


def closing_times(session: Session, supervisor_id: int) -> Sequence[tuple[datetime, datetime]]:
    """(filed, first closed) of the supervisor's closed filings."""
    rows = session.exec(
        select(Complaint.created_at, func.min(ComplaintEvent.at))
        .join(ComplaintEvent, col(ComplaintEvent.complaint_id) == col(Complaint.id))
        .where(Complaint.quality_supervisor_id == supervisor_id)
        .where(ComplaintEvent.to_status == Status.closed)
        .group_by(col(Complaint.id), col(Complaint.created_at))
    ).all()
    return [(filed, closed) for filed, closed in rows]


def recent_filings(session: Session, supervisor_id: int, limit: int) -> Sequence[Complaint]:
    return session.exec(
        select(Complaint)
        .where(Complaint.quality_supervisor_id == supervisor_id)
        .order_by(col(Complaint.id).desc())
        .limit(limit)
    ).all()
