"""Queries intake needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from schemas.complaint import Complaint
from schemas.department import Department
from schemas.event import ComplaintEvent
from schemas.office import Office


def complaint_by_tracking_number(session: Session, number: str) -> Complaint | None:
    return session.exec(select(Complaint).where(Complaint.tracking_number == number)).first()


def public_events(session: Session, complaint_id: int) -> Sequence[ComplaintEvent]:
    return session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .where(col(ComplaintEvent.public))
        .order_by(col(ComplaintEvent.id))
    ).all()


def department(session: Session, department_id: int | None) -> Department | None:
    return session.get(Department, department_id) if department_id is not None else None


def office(session: Session, office_id: int | None) -> Office | None:
    return session.get(Office, office_id) if office_id is not None else None


def latest_filing_by_phone(session: Session, phone: str, *, since: datetime) -> Complaint | None:
    return session.exec(
        select(Complaint)
        .where(Complaint.contact_phone == phone)
        .where(col(Complaint.created_at) >= since)
        .order_by(col(Complaint.id).desc())
        .limit(1)
    ).first()


def filings_by_phone(session: Session, phone: str, *, limit: int) -> Sequence[Complaint]:
    return session.exec(
        select(Complaint)
        .where(Complaint.contact_phone == phone)
        .order_by(col(Complaint.id).desc())
        .limit(limit)
    ).all()
