"""Follow-up call routes (回访) for hotline operators and supervisors: the due list, the
number to dial (audited), and recording a call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from accounts.deps import require_roles
from accounts.service import Staff
from cases import follow_ups
from cases.api import ComplaintID
from core.deps import SessionDep
from schemas.follow_up import FollowUpCallIn, FollowUpCallView, FollowUpPage

router = APIRouter(prefix="/api/v1/follow-ups", tags=["follow-ups"])

Caller = Annotated[Staff, Depends(require_roles(*follow_ups.CALLERS))]
_CALLERS: dict[int | str, dict[str, Any]] = {403: {"description": "not an operator or supervisor"}}
_CALL_ERRORS = _CALLERS | {
    404: {"description": "no such filing"},
    409: {
        "description": "not closed, merged, no contact number, already done or unreachable, "
        "rated already, or another operator recorded a call at the same moment"
    },
    422: {"description": "a tip-off or an inquiry, or an invalid call (satisfaction when reached)"},
}


@router.get(
    "", response_model=FollowUpPage, responses=_CALLERS | {422: {"description": "bad cursor"}}
)
def list_due(
    session: SessionDep,
    staff: Caller,
    cursor: Annotated[str | None, Query(max_length=40, pattern=r"^\d{1,17}_[1-9]\d{0,15}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> FollowUpPage:
    """Closed complaints waiting for their follow-up call: overdue first, then by due date.
    The number is masked; the full one comes from the contact route, audited."""
    return follow_ups.due_list(session, staff=staff, cursor=cursor, limit=limit)


@router.post("/{complaint_id}/contact", responses=_CALL_ERRORS)
def read_contact(complaint_id: ComplaintID, session: SessionDep, staff: Caller) -> dict[str, str]:
    """The number to dial, while the complaint waits for its call; every read audited."""
    number = follow_ups.contact_for_call(session, staff=staff, complaint_id=complaint_id)
    session.commit()
    return {"contact_phone": number}


@router.post(
    "/{complaint_id}/calls",
    status_code=201,
    response_model=FollowUpCallView,
    responses=_CALL_ERRORS,
)
def record_call(
    complaint_id: ComplaintID, body: FollowUpCallIn, session: SessionDep, staff: Caller
) -> FollowUpCallView:
    """Record one call: reached (with 满意 / 基本满意 / 不满意), declined, or not reached."""
    view = follow_ups.record_call(session, staff=staff, complaint_id=complaint_id, call=body)
    session.commit()
    return view
