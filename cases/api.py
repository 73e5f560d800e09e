"""Staff routes over filings: the queue, one filing's view, its actions and its files."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import FileResponse
from pydantic import AfterValidator, BeforeValidator
from sqlmodel import Session

from accounts.deps import StaffDep
from accounts.service import Staff
from cases import actions, audit, satisfaction, service, sweeps, views
from cases.merge import dismiss, merge
from core.deps import SessionDep
from core.errors import PermissionDenied
from core.timeutil import china_if_naive
from intake.attachments import path_for
from schemas.casework import AuditEntry
from schemas.complaint import ComplaintStaffView, QueuePage
from schemas.enums import Role, Status
from schemas.formats import MAX_ID, iso_datetime_text
from schemas.routing import DismissRequest, MergeRequest

router = APIRouter(prefix="/api/v1", tags=["queue"])

ComplaintID = Annotated[int, Path(ge=1, le=MAX_ID, description="the filing's id")]


def _utc(value: datetime | None) -> datetime | None:
    """A day, or a time without an offset, is China time. A bound at the very ends of the
    calendar, which UTC cannot hold, is the end it is at: since year 1 is since the start."""
    if value is None:
        return None
    try:
        return china_if_naive(value).astimezone(UTC)
    except OverflowError:
        end = datetime.min if value.year == datetime.min.year else datetime.max
        return end.replace(tzinfo=UTC)


_NOT_YOURS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such filing, or not one this account may see"},
    409: {"description": "not possible in the filing's status; see allowed_actions"},
}


@router.get("/queue", response_model=QueuePage, responses={403: {"description": "no queue"}})
def list_queue(
    session: SessionDep,
    staff: StaffDep,
    status: Annotated[list[Status] | None, Query(description="repeat to allow several")] = None,
    include_closed: bool = False,
    deadline: Annotated[Literal["soon", "overdue"] | None, Query()] = None,
    sector: Annotated[str | None, Query(max_length=32)] = None,
    place: Annotated[
        str | None, Query(pattern=r"^\d{2,6}$", description="admin code prefix")
    ] = None,
    sort: Annotated[Literal["oldest", "deadline"], Query()] = "oldest",
    department: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QueuePage:
    filters = service.QueueFilters(
        statuses=status or [],
        include_closed=include_closed,
        deadline=deadline,
        sector=sector,
        place=place,
        sort=sort,
    )
    return service.queue(
        session,
        staff=staff,
        department_code=department,
        filters=filters,
        cursor=cursor,
        limit=limit,
    )


@router.get("/complaints/{complaint_id}", response_model=ComplaintStaffView, responses=_NOT_YOURS)
def read_complaint(
    complaint_id: ComplaintID, session: SessionDep, staff: StaffDep
) -> ComplaintStaffView:
    return views.staff_view(session, staff=staff, complaint_id=complaint_id)


@router.post(
    "/complaints/{complaint_id}/contact",
    responses={404: {"description": "no such filing, not yours, or no contact number"}},
)
def read_contact(complaint_id: ComplaintID, session: SessionDep, staff: StaffDep) -> dict[str, str]:
    """The complainant's full phone number (the filing shows it masked); every read audited."""
    return {"contact_phone": views.contact_of(session, staff=staff, complaint_id=complaint_id)}


@router.post(
    "/complaints/{complaint_id}/actions/merge",
    response_model=ComplaintStaffView,
    responses=_NOT_YOURS,
)
def merge_complaint(
    complaint_id: ComplaintID, body: MergeRequest, session: SessionDep, staff: StaffDep
) -> ComplaintStaffView:
    """Close this filing as a duplicate of `into`; both histories are kept."""
    merge(
        session, staff=staff, duplicate_id=complaint_id, survivor_id=body.into, reason=body.reason
    )
    return _done(session, staff, complaint_id, "merge", {"into": body.into})


@router.post(
    "/complaints/{complaint_id}/actions/dismiss-duplicate",
    response_model=ComplaintStaffView,
    responses=_NOT_YOURS,
)
def dismiss_duplicate(
    complaint_id: ComplaintID, body: DismissRequest, session: SessionDep, staff: StaffDep
) -> ComplaintStaffView:
    """Not the same matter: the suggestion is kept, marked dismissed."""
    dismiss(session, staff=staff, complaint_id=complaint_id, link_id=body.link_id)
    return _done(session, staff, complaint_id, "dismiss-duplicate", {"link_id": body.link_id})


@router.post(
    "/complaints/{complaint_id}/actions/{action}",
    response_model=ComplaintStaffView,
    responses=_NOT_YOURS | {422: {"description": "the action's fields are missing or invalid"}},
)
def act_on_complaint(
    complaint_id: ComplaintID,
    action: Annotated[str, Path(max_length=40, description="one of the view's allowed_actions")],
    session: SessionDep,
    staff: StaffDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> ComplaintStaffView:
    """Take one of the filing's allowed actions with that action's fields."""
    actions.perform(session, staff=staff, complaint_id=complaint_id, action=action, body=body or {})
    return _done(session, staff, complaint_id, action)


def _done(
    session: Session,
    staff: Staff,
    complaint_id: int,
    action: str,
    detail: dict[str, Any] | None = None,
) -> ComplaintStaffView:
    """Audit the action with what it did, commit both, and answer with the filing as it is now."""
    audit.audit(
        session, staff=staff, action=f"act:{action}", complaint_id=complaint_id, detail=detail
    )
    session.commit()
    return views.staff_view(session, staff=staff, complaint_id=complaint_id, audited=False)


@router.get(
    "/complaints/{complaint_id}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses=_NOT_YOURS,
)
def download_attachment(
    complaint_id: ComplaintID,
    attachment_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    staff: StaffDep,
) -> FileResponse:
    """A filing's attachment, for staff who may see the filing."""
    attachment = views.attachment_of(
        session, staff=staff, complaint_id=complaint_id, attachment_id=attachment_id
    )
    return FileResponse(
        path_for(attachment.sha256),
        media_type=attachment.content_type,
        filename=attachment.filename,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@router.get(
    "/audit", response_model=list[AuditEntry], responses={403: {"description": "not a supervisor"}}
)
def read_audit(
    session: SessionDep,
    staff: StaffDep,
    complaint_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[
        datetime | None,
        BeforeValidator(iso_datetime_text),
        AfterValidator(_utc),
        Query(description="ISO 8601; a day, or a time without an offset, is China time"),
    ] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEntry]:
    """Who viewed or changed which filing, newest first (page on with before_id)."""
    return list(
        audit.search(
            session,
            staff=staff,
            complaint_id=complaint_id,
            username=username,
            since=since,
            before_id=before_id,
            limit=limit,
        )
    )


@router.get("/deadlines/breached", responses={403: {"description": "no queue"}})
def breached_deadlines(
    session: SessionDep, staff: StaffDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, object]]:
    """The escalation list: time limits that passed on filings still open."""
    return [
        {
            "complaint_id": complaint.id,
            "tracking_number": complaint.tracking_number,
            "department_id": complaint.department_id,
            "status": complaint.status,
            "step": clock.step,
            "due_on": clock.due_on,
            "breached_at": clock.breached_at,
        }
        for clock, complaint in sweeps.breaches(session, staff=staff, limit=limit)
    ]


@router.get("/stats/satisfaction", responses={403: {"description": "not a supervisor"}})
def satisfaction_index(session: SessionDep, staff: StaffDep) -> list[dict[str, object]]:
    """The satisfaction index per department (ratings, average, average as % of 5)."""
    if staff.role not in {Role.supervisor, Role.admin}:
        raise PermissionDenied("only supervisors read statistics")
    return satisfaction.index_by_department(session)
