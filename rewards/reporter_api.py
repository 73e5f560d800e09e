"""The receipt-code routes (reporters, no account) and the vault's one door (reward officers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from accounts.deps import StaffDep
from core.deps import SessionDep
from rewards import follow_up, vault
from schemas.formats import MAX_ID
from schemas.reporter import ReporterIdentityView, VaultReadRequest
from schemas.tipoff import ReceiptIn, ReporterAnswer, ReporterCaseView, RewardClaim

router = APIRouter(tags=["tip-offs"])
_RECEIPT_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "the receipt code is not right"},
    429: {"description": "too many wrong codes: this code, or all codes, wait (Retry-After)"},
    503: {"description": "the throttle cannot be checked (Redis down): try later"},
}


@router.post(
    "/api/v1/tipoffs/follow-up", response_model=ReporterCaseView, responses=_RECEIPT_ERRORS
)
def follow(body: ReceiptIn, session: SessionDep) -> ReporterCaseView:
    """A tip-off's progress, the department's questions and the reward, by receipt code."""
    view = follow_up.follow(session, body.receipt_code)
    session.commit()  # a right code clears the code's failure count; nothing else is written
    return view


@router.post("/api/v1/tipoffs/answers", status_code=201, responses=_RECEIPT_ERRORS)
def answer(body: ReporterAnswer, session: SessionDep) -> dict[str, bool]:
    """Answer the department's questions, or add to the tip-off."""
    follow_up.answer(session, raw_code=body.receipt_code, text=body.text)
    session.commit()
    return {"received": True}


@router.post("/api/v1/tipoffs/reward-claims", status_code=201, responses=_RECEIPT_ERRORS)
def claim(body: RewardClaim, session: SessionDep) -> dict[str, bool]:
    """Give who to pay: sealed in the identity vault, seen only by reward officers."""
    follow_up.claim_reward(session, raw_code=body.receipt_code, identity=body.identity)
    session.commit()
    return {"received": True}


@router.post(
    "/api/v1/vault/tipoffs/{complaint_id}/identity",
    response_model=ReporterIdentityView,
    responses={
        403: {"description": "not a reward officer"},
        404: {"description": "no such tip-off, or no identity on file"},
        422: {"description": "no reason given"},
    },
)
def open_identity(
    complaint_id: Annotated[int, Path(ge=1, le=MAX_ID, description="the tip-off's filing id")],
    body: VaultReadRequest,
    session: SessionDep,
    staff: StaffDep,
) -> ReporterIdentityView:
    """Open a reporter's identity: reward officers only, with a reason; every read is audited."""
    return vault.read(session, staff=staff, complaint_id=complaint_id, reason=body.reason)
