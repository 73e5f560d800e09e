"""Staff routes over filings: the queue and one filing's full view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from accounts.deps import StaffDep
from cases import service
from cases.merge import dismiss, merge
from core.deps import SessionDep
from intake.attachments import path_for
from schemas.complaint import ComplaintStaffView, QueuePage
from schemas.enums import Status
from schemas.routing import DismissRequest, MergeRequest

router = APIRouter(prefix="/api/v1", tags=["queue"])

ComplaintID = Annotated[int, Path(ge=1, le=2**62, description="the filing's id")]
_NOT_YOURS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such filing, or not one this account may see"}
}


@router.get("/queue", response_model=QueuePage, responses={403: {"description": "no queue"}})
def list_queue(
    session: SessionDep,
    staff: StaffDep,
    status: Annotated[list[Status] | None, Query(description="repeat to allow several")] = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QueuePage:
    return service.queue(
        session,
        staff=staff,
        department_code=department,
        statuses=status or [],
        cursor=cursor,
        limit=limit,
    )


@router.get("/complaints/{complaint_id}", response_model=ComplaintStaffView, responses=_NOT_YOURS)
def read_complaint(
    complaint_id: ComplaintID, session: SessionDep, staff: StaffDep
) -> ComplaintStaffView:
    return service.staff_view(session, staff=staff, complaint_id=complaint_id)


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
    session.commit()
    return service.staff_view(session, staff=staff, complaint_id=complaint_id)


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
    session.commit()
    return service.staff_view(session, staff=staff, complaint_id=complaint_id)


@router.get(
    "/complaints/{complaint_id}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses=_NOT_YOURS,
)
def download_attachment(
    complaint_id: ComplaintID,
    attachment_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    staff: StaffDep,
) -> FileResponse:
    """A filing's attachment, for staff who may see the filing."""
    attachment = service.attachment_of(
        session, staff=staff, complaint_id=complaint_id, attachment_id=attachment_id
    )
    return FileResponse(
        path_for(attachment.sha256),
        media_type=attachment.content_type,
        filename=attachment.filename,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )
