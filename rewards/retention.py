"""What of a reward file, and of the vault's audit trail, goes when a tip-off's personal data
is erased (cases.retention calls this in the same transaction).

Officers type free text into a reward file: why an amount was corrected, a note with an
approval, the payment's bank reference and the finance sign-off's reference, and, to open
the vault, why they needed the reporter's identity. Any of it can name or point to the
reporter (a bank reference leads to the account paid). The amounts, tiers, states, dates and
who acted stay: the file still shows what was decided and paid.

Amounts, approvals, payments and the reward history are never changed through the ORM
(schemas.reward); like the filing's history, this erasure is the one exception, made with
Core UPDATEs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, update
from sqlmodel import Session, col, select

from schemas.casework import AuditEntry
from schemas.reward import Reward, RewardAmount, RewardApproval, RewardEvent, RewardPayment
from schemas.reward_api import RewardState

ERASED = "［已按保存期限清除］"
# Reward history payload keys that hold codes, amounts and flags, not anyone's words.
KEPT_EVENT_KEYS = frozenset(
    {
        "from_state",
        "to_state",
        "tier",
        "amount_id",
        "fines_fen",
        "confiscation_fen",
        "amount_fen",
        "needs_finance_signoff",
        "old_amount_id",
        "old_amount_fen",
        "approvals_voided",
        "approvals",
        "method",
        "paid_on",
        "sms",
        "error",
        "eligibility",  # the officer's yes/no answers and the decision's number
        "reasons",  # refusal reasons, worded by the policy
    }
)
# A reward in these states is still to be paid: to the person in the vault, who follows it
# with the receipt code.
UNFINISHED = (RewardState.proposed.value, RewardState.approved.value)
TABLES = ("reward_amounts", "reward_approvals", "reward_payments", "reward_events", "audit_log")


def reward_in_use(complaint_id: Any, since: date) -> ColumnElement[bool]:
    """True for a tip-off (by its id column) whose reward file is still being worked, or took
    a step on or after `since`: cases.retention keeps such a tip-off's personal data.

    Paying needs the reporter's identity and bank account from the vault, and the reporter
    follows the reward with the receipt code; and the file is finished only when it is paid
    or refused, so the retention period runs from its last step too.
    """
    recent_step = exists(
        select(RewardEvent.id)
        .where(col(RewardEvent.reward_id) == col(Reward.id))
        .where(col(RewardEvent.on) >= since)
    )
    return exists(
        select(Reward.id)
        .where(col(Reward.complaint_id) == complaint_id)
        .where(or_(col(Reward.state).in_(UNFINISHED), recent_step))
    )


def erase_free_text(session: Session, complaint_ids: list[int]) -> None:
    """Overwrite the officers' free text about these tip-offs (caller commits)."""
    if not complaint_ids:
        return
    _erase_vault_reasons(session, complaint_ids)
    reward_ids = [
        rid
        for rid in session.exec(
            select(Reward.id).where(col(Reward.complaint_id).in_(complaint_ids))
        ).all()
        if rid is not None
    ]
    if not reward_ids:
        return
    in_files = col(RewardAmount.reward_id).in_(reward_ids)
    session.execute(
        update(RewardAmount)
        .where(in_files)
        .where(col(RewardAmount.supersede_reason).is_not(None))
        .values(supersede_reason=ERASED)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(RewardApproval)
        .where(col(RewardApproval.reward_id).in_(reward_ids))
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    payments = col(RewardPayment.reward_id).in_(reward_ids)
    session.execute(
        update(RewardPayment)
        .where(payments)
        .values(reference=ERASED)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(RewardPayment)
        .where(payments)
        .where(col(RewardPayment.finance_reference).is_not(None))
        .values(finance_reference=ERASED)
        .execution_options(synchronize_session=False)
    )
    events = session.exec(
        select(RewardEvent.id, RewardEvent.payload).where(
            col(RewardEvent.reward_id).in_(reward_ids)
        )
    ).all()
    for event_id, payload in events:
        kept = kept_event_payload(payload)
        if kept != payload:
            session.execute(
                update(RewardEvent)
                .where(col(RewardEvent.id) == event_id)
                .values(payload=kept)
                .execution_options(synchronize_session=False)
            )


def kept_event_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key in KEPT_EVENT_KEYS}


def _erase_vault_reasons(session: Session, complaint_ids: list[int]) -> None:
    """The reason stated for each vault read: the read itself (who, when, found) stays."""
    reads = session.exec(
        select(AuditEntry.id, AuditEntry.detail)
        .where(col(AuditEntry.complaint_id).in_(complaint_ids))
        .where(AuditEntry.action == "vault.read")
    ).all()
    for entry_id, detail in reads:
        if detail.get("reason") not in (None, ERASED):
            session.execute(
                update(AuditEntry)
                .where(col(AuditEntry.id) == entry_id)
                .values(detail={**detail, "reason": ERASED})
                .execution_options(synchronize_session=False)
            )
