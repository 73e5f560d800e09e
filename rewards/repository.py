"""Queries behind the reward desk and the reward file; the state's compare-and-set."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from schemas.casework import TipCase
from schemas.complaint import Complaint
from schemas.enums import Kind
from schemas.reward import Reward, RewardAmount, RewardApproval, RewardEvent, RewardPayment
from schemas.staff import StaffUser


@dataclass(frozen=True)
class DeskRow:
    complaint: Complaint
    case: TipCase
    reward: Reward | None
    amount: RewardAmount | None


def tip_case(session: Session, complaint_id: int) -> TipCase | None:
    return session.exec(select(TipCase).where(TipCase.complaint_id == complaint_id)).first()


def reward_for_complaint(session: Session, complaint_id: int) -> Reward | None:
    return session.exec(select(Reward).where(Reward.complaint_id == complaint_id)).first()


def amounts(session: Session, reward_id: int) -> Sequence[RewardAmount]:
    return session.exec(
        select(RewardAmount)
        .where(RewardAmount.reward_id == reward_id)
        .order_by(col(RewardAmount.id))
    ).all()


def approvals(session: Session, reward_id: int) -> Sequence[RewardApproval]:
    return session.exec(
        select(RewardApproval)
        .where(RewardApproval.reward_id == reward_id)
        .order_by(col(RewardApproval.id))
    ).all()


def approvers_of(session: Session, amount_id: int) -> set[int]:
    """The distinct officers who approved this amount."""
    return set(
        session.exec(
            select(RewardApproval.officer_id).where(RewardApproval.amount_id == amount_id)
        ).all()
    )


def payment(session: Session, reward_id: int) -> RewardPayment | None:
    return session.exec(select(RewardPayment).where(RewardPayment.reward_id == reward_id)).first()


def events(session: Session, reward_id: int) -> Sequence[RewardEvent]:
    return session.exec(
        select(RewardEvent).where(RewardEvent.reward_id == reward_id).order_by(col(RewardEvent.id))
    ).all()


def usernames(session: Session, staff_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(staff_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(StaffUser.id, StaffUser.username).where(col(StaffUser.id).in_(ids))
    ).all()
    return {staff_id: name for staff_id, name in rows if staff_id is not None}


def compare_and_set_state(
    session: Session, *, reward: Reward, from_state: str, values: dict[str, Any]
) -> bool:
    """UPDATE … WHERE id, state and version are as read; False when someone changed it first."""
    result = session.execute(
        update(Reward)
        .where(col(Reward.id) == reward.id)
        .where(col(Reward.state) == from_state)
        .where(col(Reward.version) == reward.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def desk_rows(
    session: Session, *, state: str | None, after: int | None, limit: int
) -> list[DeskRow]:
    """Tip-offs with a decided penalty, oldest filing first; `state` "none": without a reward."""
    query = (
        select(Complaint, TipCase, Reward, RewardAmount)
        .join(TipCase, col(TipCase.complaint_id) == col(Complaint.id))
        .outerjoin(Reward, col(Reward.complaint_id) == col(Complaint.id))
        .outerjoin(RewardAmount, col(RewardAmount.id) == col(Reward.current_amount_id))
        .where(col(Complaint.kind) == Kind.tip)
        .where(col(TipCase.decided_at).is_not(None))
    )
    if state == "none":
        query = query.where(col(Reward.id).is_(None))
    elif state is not None:
        query = query.where(col(Reward.state) == state)
    if after is not None:
        query = query.where(col(Complaint.id) > after)
    rows = session.exec(query.order_by(col(Complaint.id)).limit(limit)).all()
    return [DeskRow(complaint, case, reward, amount) for complaint, case, reward, amount in rows]
