"""Queries behind the department queue and the staff view of a filing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from schemas.attachment import Attachment
from schemas.complaint import Complaint
from schemas.duplicate import DuplicateLink
from schemas.enums import Status
from schemas.event import ComplaintEvent
from schemas.office import Office


def queue_page(
    session: Session,
    *,
    department_id: int | None,
    office_prefix: str | None = None,
    statuses: Sequence[Status],
    after_id: int | None,
    limit: int,
) -> Sequence[Complaint]:
    """Oldest first, keyset-paginated on id (served by ix_complaints_queue)."""
    query = select(Complaint)
    if department_id is not None:
        query = query.where(Complaint.department_id == department_id)
    if office_prefix is not None:
        area = select(Office.id).where(col(Office.admin_code).startswith(office_prefix))
        query = query.where(col(Complaint.office_id).in_(area))
    if statuses:
        query = query.where(col(Complaint.status).in_(list(statuses)))
    if after_id is not None:
        query = query.where(col(Complaint.id) > after_id)
    return session.exec(query.order_by(col(Complaint.id)).limit(limit)).all()


def history(session: Session, complaint_id: int) -> Sequence[ComplaintEvent]:
    return session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .order_by(col(ComplaintEvent.id))
    ).all()


def latest_routing_event(session: Session, complaint_id: int) -> ComplaintEvent | None:
    return session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .where(col(ComplaintEvent.actor) == "system:router")
        .order_by(col(ComplaintEvent.id).desc())
        .limit(1)
    ).first()


def duplicate_links(session: Session, complaint_id: int) -> Sequence[DuplicateLink]:
    return session.exec(
        select(DuplicateLink)
        .where(
            (col(DuplicateLink.complaint_id) == complaint_id)
            | (col(DuplicateLink.duplicate_of_id) == complaint_id)
        )
        .order_by(col(DuplicateLink.id))
    ).all()


def attachments(session: Session, complaint_id: int) -> Sequence[Attachment]:
    return session.exec(
        select(Attachment)
        .where(Attachment.complaint_id == complaint_id)
        .order_by(col(Attachment.id))
    ).all()
