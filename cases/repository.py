"""Queries behind the department queue and the staff view of a filing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, tuple_
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import Session, col, select

from core import write_behind
from core.db import insert_unless_taken
from core.rows import filled
from schemas.attachment import Attachment
from schemas.complaint import COMPLAINTS, DUE_OR_LAST, Complaint
from schemas.duplicate import DuplicateLink
from schemas.enums import Status
from schemas.event import COMPLAINT_EVENTS, ComplaintEvent
from schemas.office import Office


@dataclass(frozen=True)
class QueueQuery:
    department_ids: Sequence[int] | None  # None: every department
    office_prefix: str | None
    statuses: Sequence[Status]
    place_prefix: str | None
    due_by: date | None  # only filings with a running clock due on or before this day
    by_deadline: bool  # soonest due first (no clock last), else oldest first


FAR_FUTURE = date(9999, 12, 31)


def in_office_area(office_prefix: str) -> ColumnElement[bool]:
    """Filings routed to an office in the area an office user covers (admin-code prefix)."""
    area = select(Office.id).where(col(Office.admin_code).startswith(office_prefix))
    return col(Complaint.office_id).in_(area)


def queue_page(
    session: Session, *, query: QueueQuery, after: tuple[date, int] | None, limit: int
) -> Sequence[Complaint]:
    """Keyset-paginated: on (due date, id) when sorted by deadline, else on id."""
    select_ = select(Complaint)
    if query.department_ids is not None:
        select_ = select_.where(col(Complaint.department_id).in_(list(query.department_ids)))
    if query.office_prefix is not None:
        select_ = select_.where(in_office_area(query.office_prefix))
    if query.statuses:
        select_ = select_.where(col(Complaint.status).in_(list(query.statuses)))
    if query.place_prefix:
        select_ = select_.where(col(Complaint.place_code).startswith(query.place_prefix))
    if query.due_by is not None:
        select_ = select_.where(col(Complaint.deadline_due_on) <= query.due_by)
    if query.by_deadline:
        due = DUE_OR_LAST
        if after is not None:
            select_ = select_.where(tuple_(due, col(Complaint.id)) > tuple_(after[0], after[1]))
        select_ = select_.order_by(due, col(Complaint.id))
    else:
        if after is not None:
            select_ = select_.where(col(Complaint.id) > after[1])
        select_ = select_.order_by(col(Complaint.id))
    return session.exec(select_.limit(limit)).all()


def lock_complaints(session: Session, ids: Sequence[int]) -> None:
    """Hold the filings' rows until commit and reload them as they are now: FOR UPDATE, in id
    order, so two transactions locking the same filings wait rather than deadlock (SQLite
    renders no FOR UPDATE: its one writer at a time already serialises)."""
    session.exec(
        select(Complaint)
        .where(col(Complaint.id).in_(sorted(set(ids))))
        .order_by(col(Complaint.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def merged_into(session: Session, complaint_id: int) -> Sequence[Complaint]:
    """The filings merged into this one, directly or through a filing merged into it (A into
    B, then B into C: both, for C), oldest first. One recursive query on the
    merged_into_id index; UNION, not UNION ALL, so even a cycle would end."""
    tree = (
        select(col(Complaint.id))
        .where(col(Complaint.merged_into_id) == complaint_id)
        .where(col(Complaint.status) == Status.merged)
        .cte("merged_tree", recursive=True)
    )
    below = aliased(Complaint)
    tree = tree.union(
        select(col(below.id))
        .join(tree, col(below.merged_into_id) == tree.c.id)
        .where(col(below.status) == Status.merged)
    )
    return session.exec(
        select(Complaint)
        .where(col(Complaint.id).in_(select(tree.c.id)))
        .order_by(col(Complaint.id))
    ).all()


def outcome_events(session: Session, complaint_id: int) -> Sequence[ComplaintEvent]:
    """The moves that gave the filing an outcome (answered, closed), oldest first."""
    return session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .where(col(ComplaintEvent.to_status).in_([Status.answered, Status.closed]))
        .where(col(ComplaintEvent.from_status) != col(ComplaintEvent.to_status))
        .order_by(col(ComplaintEvent.id))
    ).all()


def complaints_by_id(session: Session, ids: Sequence[int]) -> Sequence[Complaint]:
    """Many filings in one query (a batch job's, into its session)."""
    return session.exec(select(Complaint).where(col(Complaint.id).in_(ids))).all()


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


def insert_new_complaint(session: Session, values: dict[str, Any]) -> Complaint | None:
    """Write a new filing (its columns but the id; the rest take the model's defaults) in one
    INSERT unless its tracking number is taken (None: nothing written). Written, the filing
    is the session's row as it was written, with its id: no flush, no read back and no
    model validation, which were most of what a filing cost the ORM.

    In a session that defers its INSERTs (core.write_behind: a group of filings), the row
    waits for the group's, with an id drawn in advance; a taken number then fails the
    transaction when the rows are written (intake.group_commit files each alone after it).
    """
    row = _new_complaint_row(values)
    reserved = write_behind.reserve_ids(session, COMPLAINTS, 1)
    if reserved is not None:
        new_id: int | None = reserved[0]
        write_behind.insert_later(session, COMPLAINTS, [{"id": new_id, **row}])
    else:
        new_id = insert_unless_taken(session, COMPLAINTS, row, unique=["tracking_number"])
    if new_id is None:
        return None
    # As a query would load it: every column set, nothing pending, in the identity map.
    complaint: Complaint = manager_of_class(Complaint).new_instance()
    complaint.__dict__.update(row, id=int(new_id))
    make_transient_to_detached(complaint)
    session.add(complaint)
    return complaint


def _new_complaint_row(values: dict[str, Any]) -> dict[str, Any]:
    """The new filing's columns but the id: `values` and the model's defaults."""
    if "id" in values:
        raise ValueError("a new filing's id comes from the database")
    try:
        row = filled(Complaint, values, complete=True)
    except ValueError as exc:
        raise ValueError(f"a new filing's row: {exc}") from None
    del row["id"]
    return row


def insert_event(session: Session, values: dict[str, Any]) -> None:
    """Append one history entry (ComplaintEvent's columns) without an ORM object."""
    write_behind.insert_later(session, COMPLAINT_EVENTS, [values])
