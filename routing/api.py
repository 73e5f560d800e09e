"""Staff routes of routing: a suggestion for a draft, and transfers between departments."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path

from accounts.deps import StaffDep
from cases.audit import audit
from core.deps import SessionDep
from routing import service
from routing.engine import current_engine
from routing.repository import active_departments
from routing.transfer import transfer
from schemas.department import Department, DepartmentRef
from schemas.office import Office, OfficeRef
from schemas.routing import (
    ClassifyRequest,
    ClassifyResult,
    DepartmentSuggestion,
    KindSuggestion,
    TransferRequest,
    TransferResult,
)

router = APIRouter(prefix="/api/v1", tags=["routing"])

ComplaintID = Annotated[int, Path(ge=1, le=2**62, description="the filing's id")]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    404: {"description": "no such filing, or not one this account may see"},
    409: {"description": "the filing's status does not allow it"},
}


@router.post("/classify", response_model=ClassifyResult, responses=_RESPONSES)
def classify_draft(body: ClassifyRequest, session: SessionDep, _staff: StaffDep) -> ClassifyResult:
    """What the router would do with this text now: kind, department, office, place, why."""
    started = time.perf_counter()
    engine = current_engine(session)
    filing = service.Filing(
        text=body.text,
        business_name=body.business_name,
        business_address=body.business_address,
        region=body.region,
    )
    decision = service.decide(session, filing=filing, engine=engine)
    names = {d.code: d.name for d in active_departments(session)}
    suggestions = []
    for suggestion in decision.prediction.top:
        code = engine.department_for(suggestion.label)
        suggestions.append(
            DepartmentSuggestion(
                label=suggestion.label,
                department=DepartmentRef(code=code, name=names[code]) if code in names else None,
                score=round(suggestion.score, 4),
                reasons=list(suggestion.reasons),
            )
        )
    office = decision.office
    return ClassifyResult(
        status=decision.status,
        department=DepartmentRef(code=decision.department.code, name=decision.department.name),
        office=OfficeRef(code=office.code, name=office.name, level=office.level)
        if office
        else None,
        place=decision.place.as_dict() if decision.place else None,
        jurisdiction=decision.ground.as_dict(),
        kind=KindSuggestion(
            kind=decision.kind.kind,
            confidence=round(decision.kind.confidence, 4),
            reasons=list(decision.kind.reasons),
            split_suggested=decision.kind.split_suggested,
        ),
        suggestions=suggestions,
        classifier=decision.prediction.classifier,
        version=decision.prediction.version,
        threshold=decision.threshold,
        reason=decision.reason,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
    )


@router.post(
    "/complaints/{complaint_id}/actions/transfer",
    response_model=TransferResult,
    responses=_RESPONSES,
)
def transfer_complaint(
    complaint_id: ComplaintID, body: TransferRequest, session: SessionDep, staff: StaffDep
) -> TransferResult:
    """Move the filing to another department (or `triage`); recorded as a routing correction."""
    complaint = transfer(
        session,
        staff=staff,
        complaint_id=complaint_id,
        to_department=body.department,
        reason=body.reason,
        office_code=body.office,
    )
    audit(
        session,
        staff=staff,
        action="act:transfer",
        complaint_id=complaint_id,
        detail={"to": body.department},
    )
    session.commit()
    department = session.get(Department, complaint.department_id)
    office = session.get(Office, complaint.office_id) if complaint.office_id else None
    assert department is not None
    assert complaint.id is not None
    return TransferResult(
        id=complaint.id,
        status=complaint.status,
        department=DepartmentRef(code=department.code, name=department.name),
        office=OfficeRef(code=office.code, name=office.name, level=office.level)
        if office
        else None,
    )
