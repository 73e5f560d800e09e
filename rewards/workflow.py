"""The reward desk: open a reward for a decided tip-off, correct its amount, approve, pay.

Only reward officers work here. The state moves through `rewards.states.change_state` alone
(compare-and-set plus the history entry); every other step goes into the append-only
history through `rewards.states.record_event`. An amount is never edited: a correction is a
new amount, and approvals bind to the amount they approved. Payment needs two approvals of
the current amount by two different officers. Nothing here reads the reporter's identity.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from accounts.service import Staff
from cases.lifecycle import Actor
from cases.policy import Rewards, current_policy
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rewards import repository
from rewards.calculation import Reporter, Violation, compute_award, refusal_reasons, yuan
from rewards.states import change_state, record_event, today
from schemas.complaint import Complaint
from schemas.enums import Kind, Role, Status
from schemas.formats import trim
from schemas.reward import Reward, RewardAmount, RewardApproval, RewardPayment
from schemas.reward_api import RewardState

log = logging.getLogger(__name__)

R = RewardState
APPROVALS_NEEDED = 2  # two different officers: payout is a high-value flow
PAYMENT_METHODS = frozenset({"bank_transfer", "cash", "other"})
_DECIDED = frozenset({Status.decided, Status.closed})


def require_officer(staff: Staff) -> None:
    if staff.role is not Role.reward_officer:
        raise PermissionDenied("only reward officers work on whistleblower rewards")


def open_reward(
    session: Session, *, staff: Staff, complaint_id: int, reporter: Reporter, tier: str
) -> Reward:
    """Open the reward file of a decided tip-off: refused with reasons, or a first amount."""
    require_officer(staff)
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound("no such filing")
    if complaint.kind is not Kind.tip:
        raise Conflict("rewards are for tip-offs (举报) only", kind=complaint.kind.value)
    case = repository.tip_case(session, complaint_id)
    if case is None or case.decided_at is None or complaint.status not in _DECIDED:
        raise Conflict(
            "the tip-off has no decision yet: a reward needs a decided penalty",
            current_status=complaint.status.value,
        )
    existing = repository.reward_for_complaint(session, complaint_id)
    if existing is not None:
        raise Conflict("this tip-off already has a reward file", reward_id=existing.id)
    rules = current_policy().rewards
    _check_tier(tier, rules)
    violation = Violation(
        fines_fen=case.penalty_fen or 0,
        confiscation_fen=case.confiscation_fen or 0,
        crime_transferred=case.crime_transferred,
        business_suspended=case.business_suspended,
        licence_revoked=case.licence_revoked,
    )
    reasons = refusal_reasons(reporter, violation, rules)
    eligibility = {
        "reporter": asdict(reporter),
        "violation": asdict(violation),
        "decision_number": case.decision_number,
    }
    reward = Reward(
        complaint_id=complaint_id,
        state=R.proposed.value,
        opened_by_id=staff.id,
        opened_on=today(),
        eligibility=eligibility,
        refusal_reasons=reasons,
    )
    _insert(session, reward, "this tip-off already has a reward file")
    actor = Actor.staff(staff.username, staff.id)
    opened = {"eligibility": eligibility, "tier": tier}
    if reasons:
        record_event(session, reward=reward, actor=actor, action="opened", payload=opened)
        change_state(
            session,
            reward=reward,
            to_state=R.refused,
            actor=actor,
            action="refused",
            payload={"reasons": reasons},
        )
        return reward
    amount = _add_amount(session, reward=reward, violation=violation, tier=tier, staff=staff)
    # A file nobody else can see yet: its first amount needs no compare-and-set.
    reward.current_amount_id = amount.id
    session.add(reward)
    record_event(
        session, reward=reward, actor=actor, action="opened", payload=opened | _amount_facts(amount)
    )
    return reward


def supersede_amount(
    session: Session,
    *,
    staff: Staff,
    reward_id: int,
    reason: str,
    tier: str | None = None,
    fines_fen: int | None = None,
    confiscation_fen: int | None = None,
) -> Reward:
    """Replace the current amount with a new one; the old one stays, with the reason.

    Approvals bind to the amount they approved, so the new one needs two fresh approvals.
    """
    require_officer(staff)
    reason = trim(reason)
    if len(reason) < 2:
        raise InvalidInput("say why the amount changes (at least 2 characters)")
    reward = _reward(session, reward_id)
    if reward.state in {R.paid, R.refused}:
        raise Conflict(
            f"a {reward.state} reward's amount cannot change", current_state=reward.state
        )
    old = _current_amount(session, reward)
    new_tier = old.tier if tier is None else tier
    fines = old.fines_fen if fines_fen is None else fines_fen
    confiscation = old.confiscation_fen if confiscation_fen is None else confiscation_fen
    if (new_tier, fines, confiscation) == (old.tier, old.fines_fen, old.confiscation_fen):
        raise InvalidInput("nothing changes: give another tier, fines_fen or confiscation_fen")
    _check_tier(new_tier, current_policy().rewards)
    flags = {k: v for k, v in reward.eligibility["violation"].items() if isinstance(v, bool)}
    violation = Violation(fines_fen=fines, confiscation_fen=confiscation, **flags)
    reasons = refusal_reasons(
        Reporter(**reward.eligibility["reporter"]), violation, current_policy().rewards
    )
    if reasons:
        raise Conflict(
            "with these amounts the reward could not be granted: " + "；".join(reasons),
            refusal_reasons=reasons,
        )
    new = _add_amount(session, reward=reward, violation=violation, tier=new_tier, staff=staff)
    voided = len(repository.approvers_of(session, _id(old)))
    old.superseded_by_id, old.supersede_reason = new.id, reason
    session.add(old)
    change_state(
        session,
        reward=reward,
        to_state=R.proposed,
        actor=Actor.staff(staff.username, staff.id),
        action="amount_superseded",
        payload={
            "old_amount_id": old.id,
            "old_amount_fen": old.amount_fen,
            "reason": reason,
            "approvals_voided": voided,
            **_amount_facts(new),
        },
        changes={"current_amount_id": new.id},
    )
    return reward


def approve_amount(
    session: Session, *, staff: Staff, reward_id: int, amount_id: int, note: str | None = None
) -> Reward:
    """One officer's approval of the current amount; the second officer's makes it approved."""
    require_officer(staff)
    reward = _reward(session, reward_id)
    if reward.state == R.approved:
        raise Conflict("two officers already approved this amount; record the payment")
    if reward.state != R.proposed:
        raise Conflict(f"a {reward.state} reward cannot be approved", current_state=reward.state)
    _check_current(reward, amount_id)
    approvers = repository.approvers_of(session, amount_id)
    twice = "you already approved this amount: a second officer must approve it"
    if staff.id in approvers:
        raise Conflict(twice)
    approval = RewardApproval(
        reward_id=reward_id,
        amount_id=amount_id,
        officer_id=staff.id,
        approved_on=today(),
        note=note,
    )
    _insert(session, approval, twice)
    approvers.add(staff.id)
    change_state(
        session,
        reward=reward,
        to_state=R.approved if len(approvers) >= APPROVALS_NEEDED else R.proposed,
        actor=Actor.staff(staff.username, staff.id),
        action="approved",
        payload={"amount_id": amount_id, "approvals": len(approvers), "note": note},
    )
    return reward


def record_payment(
    session: Session,
    *,
    staff: Staff,
    reward_id: int,
    amount_id: int,
    method: str,
    reference: str,
    paid_on: date,
    finance_reference: str | None = None,
) -> Reward:
    """Record that the approved amount was paid, then tell the reporter."""
    require_officer(staff)
    reward = _reward(session, reward_id)
    if reward.state in {R.paid, R.refused}:
        raise Conflict(f"a {reward.state} reward cannot be paid", current_state=reward.state)
    _check_current(reward, amount_id)
    approvals = [a for a in repository.approvals(session, reward_id) if a.amount_id == amount_id]
    officers = {a.officer_id for a in approvals}
    if reward.state != R.approved or len(officers) < APPROVALS_NEEDED:
        raise Conflict(
            f"a payment needs {APPROVALS_NEEDED} approvals of the current amount by different "
            f"officers; it has {len(officers)}",
            approvals=len(officers),
            current_state=reward.state,
        )
    amount = _current_amount(session, reward)
    reference, finance_reference = reference.strip(), (finance_reference or "").strip() or None
    if method not in PAYMENT_METHODS:
        raise InvalidInput(f"method must be one of {', '.join(sorted(PAYMENT_METHODS))}")
    if not reference:
        raise InvalidInput("give the payment's reference")
    if paid_on > today():
        raise InvalidInput("paid_on cannot be in the future")
    approved_on = max(a.approved_on for a in approvals)
    if paid_on < approved_on:
        raise InvalidInput(f"paid_on is before the amount was approved ({approved_on})")
    if amount.needs_finance_signoff and finance_reference is None:
        raise InvalidInput(
            f"an award of {yuan(amount.amount_fen)} needs the finance department's joint "
            "sign-off: give finance_reference"
        )
    payment = RewardPayment(
        reward_id=reward_id,
        amount_id=amount_id,
        amount_fen=amount.amount_fen,
        method=method,
        reference=reference,
        paid_on=paid_on,
        finance_reference=finance_reference,
        recorded_by_id=staff.id,
    )
    _insert(session, payment, "this reward is already paid")
    change_state(
        session,
        reward=reward,
        to_state=R.paid,
        actor=Actor.staff(staff.username, staff.id),
        action="paid",
        payload={
            "amount_id": amount_id,
            "amount_fen": amount.amount_fen,
            "method": method,
            "reference": reference,
            "paid_on": paid_on.isoformat(),
            "finance_reference": finance_reference,
        },
    )
    _notify_reporter(session, reward=reward, amount_fen=amount.amount_fen)
    return reward


def _notify_reporter(session: Session, *, reward: Reward, amount_fen: int) -> None:
    """Text the reporter through the vault; a payment already made is recorded either way."""
    payload: dict[str, Any] = {"sms": False}
    try:
        with session.begin_nested():
            from rewards.vault import notify_reporter

            complaint = session.get(Complaint, reward.complaint_id)
            assert complaint is not None
            payload["sms"] = bool(
                notify_reporter(
                    session,
                    complaint=complaint,
                    template="reward_paid",
                    params={"amount": yuan(amount_fen)},
                )
            )
    except Exception as exc:
        log.warning("reward %s: telling the reporter failed", reward.id, exc_info=True)
        payload["error"] = type(exc).__name__
    record_event(
        session,
        reward=reward,
        actor=Actor.system("rewards"),
        action="reporter_notified",
        payload=payload,
    )


def _check_tier(tier: str, rules: Rewards) -> None:
    if tier not in rules.tiers:
        raise InvalidInput(f"tier must be one of {', '.join(sorted(rules.tiers))}")


def _check_current(reward: Reward, amount_id: int) -> None:
    if amount_id != reward.current_amount_id:
        raise Conflict(
            f"amount {amount_id} is not the reward's current amount; review the current one",
            current_amount_id=reward.current_amount_id,
        )


def _reward(session: Session, reward_id: int) -> Reward:
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise NotFound("no such reward")
    return reward


def _current_amount(session: Session, reward: Reward) -> RewardAmount:
    amount = session.get(RewardAmount, reward.current_amount_id or 0)
    if amount is None:
        raise Conflict("this reward has no amount", current_state=reward.state)
    return amount


def _id(row: Reward | RewardAmount) -> int:
    assert row.id is not None
    return row.id


def _insert(session: Session, row: object, clash: str) -> None:
    """Insert in a savepoint: a unique constraint lost to a racing officer is a Conflict."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(clash) from exc


def _add_amount(
    session: Session, *, reward: Reward, violation: Violation, tier: str, staff: Staff
) -> RewardAmount:
    assert reward.id is not None
    award = compute_award(violation, tier, current_policy().rewards)
    amount = RewardAmount(
        reward_id=reward.id,
        tier=tier,
        fines_fen=violation.fines_fen,
        confiscation_fen=violation.confiscation_fen,
        basis_fen=award.basis_fen,
        share_fen=award.share_fen,
        amount_fen=award.amount_fen,
        needs_finance_signoff=award.needs_finance_signoff,
        explanation=list(award.explanation),
        created_by_id=staff.id,
        created_on=today(),
    )
    session.add(amount)
    session.flush()
    return amount


def _amount_facts(amount: RewardAmount) -> dict[str, Any]:
    return {
        "amount_id": amount.id,
        "tier": amount.tier,
        "fines_fen": amount.fines_fen,
        "confiscation_fen": amount.confiscation_fen,
        "amount_fen": amount.amount_fen,
        "needs_finance_signoff": amount.needs_finance_signoff,
    }


REPORTER_LABELS = {
    R.proposed: "奖励审核中",
    R.approved: "奖励审核中",  # an approved amount may still be corrected before payment
    R.refused: "不予奖励",
    R.paid: "奖励已发放",
}


def reporter_view(session: Session, complaint_id: int) -> dict[str, Any] | None:
    """What the reporter sees on the receipt-code page: no officer, no internal numbers."""
    reward = repository.reward_for_complaint(session, complaint_id)
    if reward is None:
        return None
    state = RewardState(reward.state)
    paid = repository.payment(session, _id(reward)) if state is R.paid else None
    return {
        "state": state.value,
        "label": REPORTER_LABELS[state],
        "reasons": list(reward.refusal_reasons) if state is R.refused else [],
        "amount_fen": paid.amount_fen if paid else None,
        "amount_yuan": yuan(paid.amount_fen) if paid else None,
        "paid_on": paid.paid_on.isoformat() if paid else None,
    }
