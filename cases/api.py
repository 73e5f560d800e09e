"""Staff routes over filings: the queue and one filing's full view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from accounts.deps import StaffDep
from cases import service
from core.deps import SessionDep
from schemas.complaint import ComplaintStaffView, QueuePage
from schemas.enums import Status

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
