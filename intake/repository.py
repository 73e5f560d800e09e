"""Queries intake needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ARRAY, Connection, String, any_, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from schemas.complaint import Complaint
from schemas.department import Department
from schemas.enums import Kind, Status
from schemas.event import ComplaintEvent
from schemas.office import Office


def complaint_by_tracking_number(session: Session, number: str) -> Complaint | None:
    return session.exec(select(Complaint).where(Complaint.tracking_number == number)).first()


def taken_tracking_numbers(session: Session | Connection, numbers: Sequence[str]) -> set[str]:
    """Which of `numbers` filings already hold. On PostgreSQL the numbers go as one array
    (`= ANY`), not one parameter each: psycopg parses a statement of more than 50
    parameters again every time and converts each one. A pool's check of 256 numbers:
    1.3 ms of CPU against 0.39 ms (in-process, best of 5), 3.5 µs a filing."""
    column = col(Complaint.tracking_number)
    dialect = session.get_bind().dialect if isinstance(session, Session) else session.dialect
    if dialect.name == "postgresql":
        matches = column == any_(literal(list(numbers), ARRAY(String)))
    else:
        matches = column.in_(numbers)
    return {str(number) for number in session.execute(sa_select(column).where(matches)).scalars()}


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


class OwnFilingRow(NamedTuple):
    tracking_number: str
    kind: Kind
    status: Status
    created_at: datetime
    department: str | None


def own_filings(session: Session, phone: str, *, limit: int) -> Sequence[OwnFilingRow]:
    """A contact number's complaints and inquiries, newest first: only the columns the
    citizen's list shows, so neither the text nor anything staff wrote can come out of it.

    Tip-offs are excluded by kind as well as by having no contact: a reporter's number must
    never lead to their tip-off, whatever a future change stores on its row."""
    rows = session.execute(
        sa_select(
            col(Complaint.tracking_number),
            col(Complaint.kind),
            col(Complaint.status),
            col(Complaint.created_at),
            col(Department.name),
        )
        .outerjoin(Department, col(Department.id) == col(Complaint.department_id))
        .where(col(Complaint.contact_phone) == phone)
        .where(col(Complaint.kind).in_([Kind.complaint, Kind.inquiry]))
        .order_by(col(Complaint.created_at).desc(), col(Complaint.id).desc())
        .limit(limit)
    ).all()
    return [OwnFilingRow(*row) for row in rows]
