"""What staff see: their department's queue and the filings they may open."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from accounts.service import Staff
from cases import deadlines, repository
from cases.policy import current_policy
from core.errors import InvalidInput, NotFound, PermissionDenied
from routing.repository import active_departments, department_by_code
from schemas.complaint import Complaint, QueueItem, QueuePage
from schemas.enums import FINAL_STATUSES, Role, Status
from schemas.formats import MAX_ID
from schemas.office import Office

SUMMARY_LENGTH = 80


def can_view(session: Session, staff: Staff, complaint: Complaint) -> bool:
    """Supervisors, admins and operators see every filing; department staff their own
    department's, and an office's staff only the filings of their office's area."""
    if staff.sees_every_department:
        return True
    if staff.role is not Role.department or staff.department_id is None:
        return False  # reward officers, quality supervisors: not through this door
    if complaint.department_id != staff.department_id:
        return False
    if staff.office_prefix is None:
        return True
    office = session.get(Office, complaint.office_id) if complaint.office_id else None
    return office is not None and office.admin_code.startswith(staff.office_prefix)


def visible_complaint(session: Session, *, staff: Staff, complaint_id: int) -> Complaint:
    """The filing if `staff` may see it; otherwise NotFound, exactly as if it did not exist."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or not can_view(session, staff, complaint):
        raise NotFound(f"no filing {complaint_id}")
    return complaint


def queue(
    session: Session,
    *,
    staff: Staff,
    department_code: str | None,
    filters: QueueFilters,
    cursor: str | None,
    limit: int,
) -> QueuePage:
    """A page of a department's queue: department staff get their own, supervisors any."""
    office_prefix = None
    if staff.role is Role.department:
        if department_code and department_code != staff.department_code:
            raise NotFound(f"no queue {department_code!r}")
        assert staff.department_id is not None
        department_ids: list[int] | None = [staff.department_id]
        office_prefix = staff.office_prefix
    elif staff.role in {Role.supervisor, Role.admin}:
        department_ids = None
        if department_code:
            department = department_by_code(session, department_code)
            if department is None or department.id is None:
                raise NotFound(f"no department {department_code!r}")
            department_ids = [department.id]
    else:
        raise PermissionDenied("only department staff and supervisors work queues")
    if filters.sector:
        with_sector = [
            d.id for d in active_departments(session) if filters.sector in d.sectors and d.id
        ]
        department_ids = [d for d in (department_ids or with_sector) if d in with_sector]
    statuses = filters.statuses or ([] if filters.include_closed else OPEN_STATUSES)
    query = repository.QueueQuery(
        department_ids=department_ids,
        office_prefix=office_prefix,
        statuses=statuses,
        place_prefix=filters.place,
        due_by=_due_by(filters.deadline),
        by_deadline=filters.sort == "deadline",
    )
    rows = repository.queue_page(session, query=query, after=_parse_cursor(cursor), limit=limit + 1)
    page = rows[:limit]
    return QueuePage(
        data=[_item(row) for row in page],
        count=len(page),
        next_cursor=_cursor(page[-1]) if len(rows) > limit and page else None,
    )


OPEN_STATUSES = [s for s in Status if s not in FINAL_STATUSES]


def _due_by(deadline: str | None) -> date | None:
    if deadline is None:
        return None
    today = deadlines.today()
    if deadline == "overdue":
        return today - timedelta(days=1)
    policy = current_policy()
    return deadlines.calendar_for(policy).add_working_days(
        today, policy.early_warning.working_days_before
    )


def _item(row: Complaint) -> QueueItem:
    return QueueItem(
        id=row.id or 0,
        tracking_number=row.tracking_number,
        kind=row.kind,
        status=row.status,
        business_name=row.business_name,
        summary=row.text[:SUMMARY_LENGTH],
        place_code=row.place_code,
        deadline_due_on=row.deadline_due_on,
        deadline_badge=deadlines.badge(row.deadline_due_on),
        assignee_id=row.assignee_id,
        priority=row.priority,
        created_at=row.created_at,
    )


def _cursor(row: Complaint) -> str:
    due = row.deadline_due_on or repository.FAR_FUTURE
    return f"{due.isoformat()}_{row.id}"


_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2})_([1-9]\d{0,15})")


def _parse_cursor(cursor: str | None) -> tuple[date, int] | None:
    """(due day, id) from `_cursor`; anything else, an id beyond the API's ids included, is
    refused before it reaches the database (a 64-bit column overflows in the driver)."""
    if not cursor:
        return None
    bad = InvalidInput("cursor must be the next_cursor of a previous page")
    match = _CURSOR.fullmatch(cursor)
    if match is None or int(match[2]) > MAX_ID:
        raise bad
    try:
        return date.fromisoformat(match[1]), int(match[2])
    except ValueError as exc:
        raise bad from exc


@dataclass(frozen=True)
class QueueFilters:
    statuses: list[Status] = field(default_factory=list)
    include_closed: bool = False
    deadline: str | None = None  # soon | overdue
    sector: str | None = None
    place: str | None = None  # an administrative code prefix: 14 (山西), 1401 (太原)
    sort: str = "oldest"  # oldest | deadline
