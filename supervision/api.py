"""Quality supervisors: appointed and revoked by supervisors; their own filings and record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from accounts.deps import StaffDep
from core.deps import SessionDep
from intake.api import filing_created
from intake.idempotency import OPENAPI_HEADER, Answer, client_scope, key_of, run_once
from schemas.complaint import ComplaintCreated
from schemas.supervision import (
    AppointmentIn,
    RevocationIn,
    SupervisorFilingCreate,
    SupervisorHome,
    SupervisorList,
    SupervisorView,
)
from supervision import service

router = APIRouter(prefix="/api/v1", tags=["quality supervisors"])

SupervisorID = Annotated[int, Path(ge=1, le=2**53 - 1)]
_SUPERVISORS: dict[int | str, dict[str, Any]] = {403: {"description": "not a supervisor"}}
_ONE = _SUPERVISORS | {404: {"description": "no such quality supervisor"}}


@router.post(
    "/quality-supervisors",
    status_code=201,
    response_model=SupervisorView,
    responses=_SUPERVISORS
    | {
        409: {"description": "the phone number or account is already appointed"},
        422: {"description": "unknown sector or account, or a field is invalid"},
    },
)
def appoint_quality_supervisor(
    body: AppointmentIn, session: SessionDep, staff: StaffDep
) -> SupervisorView:
    """Appoint a social quality supervisor (社会质量监督员) for a region and sectors."""
    supervisor = service.appoint(session, staff=staff, data=body)
    session.commit()
    return service.view(session, supervisor)


@router.get("/quality-supervisors", response_model=SupervisorList, responses=_SUPERVISORS)
def list_quality_supervisors(
    session: SessionDep,
    staff: StaffDep,
    active: Annotated[bool, Query(description="only those not revoked")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SupervisorList:
    """Appointments, newest first, each with its track record."""
    return service.listing(session, staff=staff, active_only=active, limit=limit)


@router.get("/quality-supervisors/{supervisor_id}", response_model=SupervisorView, responses=_ONE)
def read_quality_supervisor(
    supervisor_id: SupervisorID, session: SessionDep, staff: StaffDep
) -> SupervisorView:
    """One appointment: who appointed (and revoked) it, and its track record."""
    return service.read(session, staff=staff, supervisor_id=supervisor_id)


@router.post(
    "/quality-supervisors/{supervisor_id}/revocation",
    response_model=SupervisorView,
    responses=_ONE | {409: {"description": "already revoked"}},
)
def revoke_quality_supervisor(
    supervisor_id: SupervisorID, body: RevocationIn, session: SessionDep, staff: StaffDep
) -> SupervisorView:
    """Revoke an appointment: later filings from the person are ordinary ones."""
    supervisor = service.revoke(
        session, staff=staff, supervisor_id=supervisor_id, reason=body.reason
    )
    session.commit()
    return service.view(session, supervisor)


@router.post(
    "/quality-supervision/filings",
    status_code=201,
    response_model=ComplaintCreated,
    responses={
        403: {"description": "not (or no longer) an appointed quality supervisor"},
        409: {"description": "a request with this Idempotency-Key is still being processed"},
        422: {"description": "a field is missing or invalid (a bad barcode says why)"},
    },
    openapi_extra=OPENAPI_HEADER,
)
def file_as_quality_supervisor(
    body: SupervisorFilingCreate,
    session: SessionDep,
    staff: StaffDep,
    request: Request,
) -> JSONResponse:
    """A supervisor's filing, marked with its identity, with inspection details."""
    idempotency_key = key_of(request)

    def produce() -> Answer:
        complaint = service.file_as_supervisor(session, staff=staff, data=body)
        return Answer(status=201, body=filing_created(request, complaint))

    answer = run_once(
        session,
        scope=lambda: client_scope(staff_id=staff.id, client_address=None),
        key=idempotency_key,
        content=lambda: body.model_dump(mode="json"),
        produce=produce,
    )
    return JSONResponse(answer.body, status_code=answer.status)


@router.get(
    "/quality-supervision/me",
    response_model=SupervisorHome,
    responses={
        403: {"description": "not a quality supervisor"},
        404: {"description": "never appointed"},
    },
)
def my_quality_supervision(session: SessionDep, staff: StaffDep) -> SupervisorHome:
    """The signed-in supervisor's appointment, track record and latest filings."""
    return service.home(session, staff=staff)
