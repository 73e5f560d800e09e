"""The reward desk's routes, for reward officers only: list, open, correct, approve, pay."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from sqlmodel import Session

from accounts.deps import StaffDep
from accounts.service import Staff
from cases import audit
from core.deps import SessionDep
from rewards import desk, workflow
from rewards.calculation import Reporter
from schemas.formats import MAX_ID
from schemas.reward import Reward
from schemas.reward_api import (
    AmountSupersede,
    ApprovalCreate,
    DeskPage,
    PaymentCreate,
    RewardFile,
    RewardOpen,
)

router = APIRouter(prefix="/api/v1/rewards", tags=["rewards"])

RewardID = Annotated[int, Path(ge=1, le=MAX_ID, description="the reward file's id")]
_OFFICERS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not a reward officer"},
}
_FILE = _OFFICERS | {
    404: {"description": "no such reward"},
    409: {"description": "not possible in the reward's state, or changed by someone else"},
    422: {"description": "a field is missing or invalid"},
}


@router.get("", response_model=DeskPage, responses=_OFFICERS)
def list_rewards(
    session: SessionDep,
    staff: StaffDep,
    state: Annotated[
        Literal["none", "proposed", "refused", "approved", "paid"] | None,
        Query(description="none: decided tip-offs without a reward yet"),
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="the page's last complaint_id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeskPage:
    """Tip-offs with decided penalties and the state of their reward."""
    return desk.desk(session, staff=staff, state=state, after=after, limit=limit)


@router.post(
    "",
    response_model=RewardFile,
    status_code=201,
    responses=_FILE | {404: {"description": "no such filing"}},
)
def open_reward(body: RewardOpen, session: SessionDep, staff: StaffDep) -> RewardFile:
    """Open a decided tip-off's reward: refused with the reasons, or a first amount."""
    reward = workflow.open_reward(
        session,
        staff=staff,
        complaint_id=body.complaint_id,
        reporter=Reporter(**body.reporter.model_dump()),
        tier=body.tier,
    )
    return _done(session, staff, reward, "open")


@router.get("/{reward_id}", response_model=RewardFile, responses=_FILE)
def read_reward(reward_id: RewardID, session: SessionDep, staff: StaffDep) -> RewardFile:
    """The reward file: amounts (superseded ones too), approvals, payment, history."""
    view = desk.reward_file(session, staff=staff, reward_id=reward_id)
    audit.audit(session, staff=staff, action="reward:view", complaint_id=view.complaint_id)
    session.commit()
    return view


@router.post("/{reward_id}/amounts", response_model=RewardFile, status_code=201, responses=_FILE)
def supersede_amount(
    reward_id: RewardID, body: AmountSupersede, session: SessionDep, staff: StaffDep
) -> RewardFile:
    """A new amount replaces the current one, with the reason; its approvals start over."""
    reward = workflow.supersede_amount(
        session,
        staff=staff,
        reward_id=reward_id,
        reason=body.reason,
        tier=body.tier,
        fines_fen=body.fines_fen,
        confiscation_fen=body.confiscation_fen,
    )
    return _done(session, staff, reward, "supersede_amount")


@router.post("/{reward_id}/approvals", response_model=RewardFile, status_code=201, responses=_FILE)
def approve_amount(
    reward_id: RewardID, body: ApprovalCreate, session: SessionDep, staff: StaffDep
) -> RewardFile:
    """Approve the current amount; the second officer's approval makes it payable."""
    reward = workflow.approve_amount(
        session, staff=staff, reward_id=reward_id, amount_id=body.amount_id, note=body.note
    )
    return _done(session, staff, reward, "approve")


@router.post("/{reward_id}/payment", response_model=RewardFile, status_code=201, responses=_FILE)
def record_payment(
    reward_id: RewardID, body: PaymentCreate, session: SessionDep, staff: StaffDep
) -> RewardFile:
    """Record the payment of the approved amount; the reporter is told by SMS if possible."""
    reward = workflow.record_payment(
        session,
        staff=staff,
        reward_id=reward_id,
        amount_id=body.amount_id,
        method=body.method,
        reference=body.reference,
        paid_on=body.paid_on,
        finance_reference=body.finance_reference,
    )
    return _done(session, staff, reward, "payment")


def _done(session: Session, staff: Staff, reward: Reward, action: str) -> RewardFile:
    """Audit the step, commit it with the step, and answer with the file as it is now."""
    audit.audit(session, staff=staff, action=f"reward:{action}", complaint_id=reward.complaint_id)
    session.commit()
    assert reward.id is not None
    return desk.reward_file(session, staff=staff, reward_id=reward.id)
