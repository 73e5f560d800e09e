"""Hotline operator routes: a call's filing(s), and the caller's earlier filings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from accounts.deps import StaffDep
from classifiers.kind import detect_kind
from core.deps import SessionDep
from core.errors import InvalidInput
from intake import operator
from intake.idempotency import Answer, client_scope, run_once
from intake.repository import department
from intake.tracking_number import display_tracking_number
from rewards import receipts
from schemas.department import DepartmentRef
from schemas.enums import Kind
from schemas.operator import CallerFiling, CallerHistory, FiledRef, OperatorCall, OperatorFiled
from schemas.validators import normalize_cn_phone

router = APIRouter(prefix="/api/v1/operator", tags=["operator"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "not an operator or supervisor"},
    409: {"description": "a request with this Idempotency-Key is still being processed"},
    422: {"description": "invalid call, override without a reason, or a reused key"},
}


@router.post("/calls", status_code=201, response_model=OperatorFiled, responses=_ERRORS)
def take_call(
    call: OperatorCall,
    session: SessionDep,
    staff: StaffDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """File what the caller said (channel hotline, marked with the operator)."""
    operator.require_operator(staff)

    def produce() -> Answer:
        filings, detected = operator.file_call(session, call=call, staff=staff)
        refs = [
            FiledRef(
                tracking_number=f.complaint.tracking_number,
                tracking_number_display=display_tracking_number(f.complaint.tracking_number),
                kind=f.complaint.kind,
                status=f.complaint.status,
                receipt_code_display=receipts.display(f.receipt_code) if f.receipt_code else None,
            )
            for f in filings
        ]
        body = OperatorFiled(filings=refs, kind_detected=detected).model_dump(mode="json")
        # A retry gets the same answer but the receipt code: it is shown once, never stored.
        replay = OperatorFiled(
            filings=[ref.model_copy(update={"receipt_code_display": None}) for ref in refs],
            kind_detected=detected,
        ).model_dump(mode="json")
        return Answer(status=201, body=body, replay_body=replay)

    tip = call.split or (call.kind or detect_kind(call.text).kind) is Kind.tip
    answer = run_once(
        session,
        scope=client_scope(staff_id=staff.id, client_address=None),
        key=idempotency_key,
        content=call.model_dump(mode="json"),
        produce=produce,
        coarse=tip,
    )
    return JSONResponse(answer.body, status_code=answer.status)


@router.get("/callers/{phone}/filings", response_model=CallerHistory, responses=_ERRORS)
def caller_filings(
    phone: Annotated[str, Path(max_length=30)],
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
