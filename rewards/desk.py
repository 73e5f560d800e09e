"""The reward desk's read model: decided tip-offs with their reward state, and one file.

No reporter identity anywhere: the officer sees the case, the amounts and who approved them.
"""

from __future__ import annotations

from sqlmodel import Session

from accounts.service import Staff
from core.errors import NotFound
from core.timeutil import as_china
from rewards import repository
from rewards.calculation import TIER_NAMES, yuan
from rewards.workflow import APPROVALS_NEEDED, require_officer
from schemas.complaint import Complaint
from schemas.reward import Reward, RewardAmount, RewardPayment
from schemas.reward_api import (
    AmountView,
    ApprovalView,
    DeskItem,
    DeskPage,
    PaymentView,
    RewardEventView,
    RewardFile,
    RewardState,
)


def desk(
    session: Session, *, staff: Staff, state: str | None, after: int | None, limit: int
) -> DeskPage:
    """Tip-offs with decided penalties, each with its reward's state (or none yet)."""
    require_officer(staff)
    rows = repository.desk_rows(session, state=state, after=after, limit=limit)
    items = []
    for row in rows:
        assert row.complaint.id is not None
        assert row.case.decided_at is not None
        penalty, confiscation = row.case.penalty_fen or 0, row.case.confiscation_fen or 0
        items.append(
            DeskItem(
                complaint_id=row.complaint.id,
                tracking_number=row.complaint.tracking_number,
                business_name=row.complaint.business_name,
                decision_number=row.case.decision_number,
                decided_on=as_china(row.case.decided_at).date(),
                penalty_fen=penalty,
                penalty_yuan=yuan(penalty),
                confiscation_fen=confiscation,
                confiscation_yuan=yuan(confiscation),
                crime_transferred=row.case.crime_transferred,
                business_suspended=row.case.business_suspended,
                licence_revoked=row.case.licence_revoked,
                reward_id=row.reward.id if row.reward else None,
                reward_state=RewardState(row.reward.state) if row.reward else None,
                amount_fen=row.amount.amount_fen if row.amount else None,
                amount_yuan=yuan(row.amount.amount_fen) if row.amount else None,
            )
        )
    next_after = items[-1].complaint_id if items and len(rows) == limit else None
    return DeskPage(data=items, count=len(items), next_after=next_after)


def reward_file(session: Session, *, staff: Staff, reward_id: int) -> RewardFile:
    """One reward file in full: every amount with its reasons, approvals, payment, history."""
    require_officer(staff)
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise NotFound("no such reward")
    complaint = session.get(Complaint, reward.complaint_id)
    assert complaint is not None
    amounts = repository.amounts(session, reward_id)
    approvals = repository.approvals(session, reward_id)
    paid = repository.payment(session, reward_id)
    names = repository.usernames(
        session,
        [reward.opened_by_id]
        + [a.created_by_id for a in amounts]
        + [a.officer_id for a in approvals]
        + ([paid.recorded_by_id] if paid else []),
    )
    views = [_amount_view(a, reward, names) for a in amounts]
    current = next((v for v in views if v.current), None)
    approvers = {a.officer_id for a in approvals if a.amount_id == reward.current_amount_id}
    return RewardFile(
        id=reward_id,
        complaint_id=reward.complaint_id,
        tracking_number=complaint.tracking_number,
        decision_number=reward.eligibility.get("decision_number"),
        state=RewardState(reward.state),
        version=reward.version,
        opened_by=names.get(reward.opened_by_id, "?"),
        opened_on=reward.opened_on,
        eligibility=reward.eligibility,
        refusal_reasons=list(reward.refusal_reasons),
        current_amount=current,
        approvals_needed=max(APPROVALS_NEEDED - len(approvers), 0) if current else 0,
        amounts=views,
        approvals=[
            ApprovalView(
                amount_id=a.amount_id,
                officer=names.get(a.officer_id, "?"),
                approved_on=a.approved_on,
                note=a.note,
            )
            for a in approvals
        ],
        payment=_payment_view(paid, names) if paid else None,
        events=[
            RewardEventView(on=e.on, actor=e.actor, action=e.action, payload=e.payload)
            for e in repository.events(session, reward_id)
        ],
    )


def _amount_view(amount: RewardAmount, reward: Reward, names: dict[int, str]) -> AmountView:
    assert amount.id is not None
    return AmountView(
        id=amount.id,
        current=amount.id == reward.current_amount_id,
        tier=amount.tier,
        tier_name=TIER_NAMES.get(amount.tier, f"{amount.tier}级"),
        fines_fen=amount.fines_fen,
        confiscation_fen=amount.confiscation_fen,
        basis_fen=amount.basis_fen,
        share_fen=amount.share_fen,
        amount_fen=amount.amount_fen,
        amount_yuan=yuan(amount.amount_fen),
        needs_finance_signoff=amount.needs_finance_signoff,
        explanation=list(amount.explanation),
        created_by=names.get(amount.created_by_id, "?"),
        created_on=amount.created_on,
        superseded_by_id=amount.superseded_by_id,
        supersede_reason=amount.supersede_reason,
    )


def _payment_view(paid: RewardPayment, names: dict[int, str]) -> PaymentView:
    return PaymentView(
        amount_id=paid.amount_id,
        amount_fen=paid.amount_fen,
        amount_yuan=yuan(paid.amount_fen),
        method=paid.method,
        reference=paid.reference,
        paid_on=paid.paid_on,
        finance_reference=paid.finance_reference,
        recorded_by=names.get(paid.recorded_by_id, "?"),
    )
