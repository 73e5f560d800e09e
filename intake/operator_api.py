"""Hotline operator routes: a call's filing(s), and the caller's earlier filings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from accounts.deps import StaffDep
from core.deps import SessionDep
from core.errors import InvalidInput
from intake import operator
from intake.idempotency import OPENAPI_HEADER, key_of
from intake.repository import department
from schemas.department import DepartmentRef
from schemas.operator import CallerFiling, CallerHistory, OperatorCall, OperatorFiled
from schemas.validators import normalize_cn_phone

router = APIRouter(prefix="/api/v1/operator", tags=["operator"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "not an operator or supervisor"},
    409: {"description": "a request with this Idempotency-Key is still being processed"},
    422: {"description": "invalid call, override without a reason, or a reused key"},
}


@router.post(
    "/calls",
    status_code=201,
    response_model=OperatorFiled,
    responses=_ERRORS,
    openapi_extra=OPENAPI_HEADER,
)
def take_call(
    call: OperatorCall, session: SessionDep, staff: StaffDep, request: Request
) -> JSONResponse:
    """File what the caller said (channel hotline, marked with the operator)."""
    answer = operator.take_call_once(session, call=call, staff=staff, key=key_of(request))
    return JSONResponse(answer.body, status_code=answer.status)


@router.get("/callers/{phone}/filings", response_model=CallerHistory, responses=_ERRORS)
def caller_filings(
    phone: Annotated[str, Path(max_length=30, json_schema_extra={"format": "cn-phone"})],
    session: SessionDep,
    staff: StaffDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CallerHistory:
    """The caller's earlier filings, newest first, through every channel."""
    try:
        number = normalize_cn_phone(phone)
    except ValueError as exc:
        raise InvalidInput(f"phone: {exc}") from exc
    rows = operator.caller_history(session, staff=staff, phone=number, limit=limit)
    data = []
    for row in rows:
        dept = department(session, row.department_id)
        data.append(
            CallerFiling(
                id=row.id or 0,
                tracking_number=row.tracking_number,
                kind=row.kind,
                channel=row.channel.value,
                status=row.status,
                department=DepartmentRef(code=dept.code, name=dept.name) if dept else None,
                business_name=row.business_name,
                summary=row.text[:80],
                created_at=row.created_at,
            )
        )
    return CallerHistory(caller_phone=number, data=data)
