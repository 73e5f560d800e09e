"""What staff see: their department's queue and the filings they may open."""

from __future__ import annotations

from sqlmodel import Session

from accounts.service import Staff
from cases import repository
from core.errors import InvalidInput, NotFound, PermissionDenied
from routing.repository import department_by_code
from schemas.attachment import Attachment, AttachmentStaffView
from schemas.complaint import Complaint, ComplaintStaffView, QueueItem, QueuePage
from schemas.department import Department, DepartmentRef
from schemas.duplicate import DuplicateSuggestion
from schemas.enums import Role, Status
from schemas.event import EventStaffView
from schemas.office import Office, OfficeRef

SUMMARY_LENGTH = 80


def can_view(session: Session, staff: Staff, complaint: Complaint) -> bool:
    """Supervisors, admins and operators see every filing; department staff their own
    department's, and an office's staff only the filings of their office's area."""
    if staff.sees_every_department:
        return True
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


def staff_view(session: Session, *, staff: Staff, complaint_id: int) -> ComplaintStaffView:
    complaint = visible_complaint(session, staff=staff, complaint_id=complaint_id)
    assert complaint.id is not None
    department = (
        session.get(Department, complaint.department_id) if complaint.department_id else None
    )
    office = session.get(Office, complaint.office_id) if complaint.office_id else None
    routing = repository.latest_routing_event(session, complaint.id)
    merged_into = (
        session.get(Complaint, complaint.merged_into_id) if complaint.merged_into_id else None
    )
    return ComplaintStaffView(
        **complaint.model_dump(exclude={"department_id", "office_id", "version", "merged_into_id"}),
        merged_into=merged_into.tracking_number if merged_into else None,
        duplicates=_duplicates(session, complaint.id),
        attachments=[
            AttachmentStaffView(
                id=a.id or 0,
                content_type=a.content_type,
                size=a.size,
                filename=a.filename,
                url=f"/api/v1/complaints/{complaint.id}/attachments/{a.id}",
            )
            for a in repository.attachments(session, complaint.id)
        ],
        department=DepartmentRef(code=department.code, name=department.name)
        if department
        else None,
        office=OfficeRef(code=office.code, name=office.name, level=office.level)
        if office
        else None,
        routing=routing.payload if routing else None,
        history=[
            EventStaffView.model_validate(event, from_attributes=True)
            for event in repository.history(session, complaint.id)
        ],
    )


def _duplicates(session: Session, complaint_id: int) -> list[DuplicateSuggestion]:
    suggestions = []
    for link in repository.duplicate_links(session, complaint_id):
        other_id = link.duplicate_of_id if link.complaint_id == complaint_id else link.complaint_id
        other = session.get(Complaint, other_id)
        if other is None or link.id is None:
            continue
        suggestions.append(
            DuplicateSuggestion(
                link_id=link.id,
                other_id=other_id,
                other_tracking_number=other.tracking_number,
                similarity=link.similarity,
                reason=link.reason,
                state=link.state,
            )
        )
    return suggestions


def queue(
    session: Session,
    *,
    staff: Staff,
    department_code: str | None,
    statuses: list[Status],
    cursor: str | None,
    limit: int,
) -> QueuePage:
    """A page of a department's queue: department staff get their own, supervisors any."""
    office_prefix = None
    if staff.role is Role.department:
        if department_code and department_code != staff.department_code:
            raise NotFound(f"no queue {department_code!r}")
        department_id = staff.department_id
        office_prefix = staff.office_prefix
    elif staff.role in {Role.supervisor, Role.admin}:
        department_id = None
        if department_code:
            department = department_by_code(session, department_code)
            if department is None:
                raise NotFound(f"no department {department_code!r}")
            department_id = department.id
    else:
        raise PermissionDenied("only department staff and supervisors work queues")
    after_id = _parse_cursor(cursor)
    rows = repository.queue_page(
        session,
        department_id=department_id,
        office_prefix=office_prefix,
        statuses=statuses,
        after_id=after_id,
        limit=limit + 1,
    )
    page = rows[:limit]
    return QueuePage(
        data=[
            QueueItem(
                id=row.id or 0,
                tracking_number=row.tracking_number,
                kind=row.kind,
                status=row.status,
                business_name=row.business_name,
                summary=row.text[:SUMMARY_LENGTH],
                created_at=row.created_at,
            )
            for row in page
        ],
        count=len(page),
        next_cursor=str(page[-1].id) if len(rows) > limit and page else None,
    )


def _parse_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit():
        raise InvalidInput("cursor must be the next_cursor of a previous page")
    return int(cursor)


def attachment_of(
    session: Session, *, staff: Staff, complaint_id: int, attachment_id: int
) -> Attachment:
    visible_complaint(session, staff=staff, complaint_id=complaint_id)
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.complaint_id != complaint_id:
        raise NotFound(f"no attachment {attachment_id} on filing {complaint_id}")
    return attachment
