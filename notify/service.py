"""Queueing a text message: recorded in the caller's transaction, sent by a job after commit."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.timeutil import day_start
from notify.templates import render
from rewards.sealing import KeyRing, Sealed
from schemas.sms import SmsOutbound
from workers.outbox import enqueue_after_commit
from workers.queues import SEND_SMS


def queue_sms(
    session: Session,
    *,
    to: str,
    template: str,
    params: dict[str, str],
    complaint_id: int | None = None,
) -> SmsOutbound:
    message = SmsOutbound(
        to_number=to,
        template=template,
        params=params,
        body=render(template, params),
        complaint_id=complaint_id,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    enqueue_after_commit(session, SEND_SMS, message.id)
    return message


def _sealed_context(message_id: int) -> str:
    return f"sms-outbound:{message_id}"


def queue_sealed_sms(
    session: Session,
    *,
    ring: KeyRing,
    to: str,
    template: str,
    params: dict[str, str],
    complaint_id: int | None = None,
) -> SmsOutbound:
    """A message to a tip-off's reporter: number and text sealed until sent, then erased.

    Only the template's name and the day are kept in the clear.
    """
    message = SmsOutbound(template=template, complaint_id=complaint_id, created_at=day_start())
    session.add(message)
    session.flush()
    assert message.id is not None
    sealed = ring.seal(
        {"to": to, "body": render(template, params)}, context=_sealed_context(message.id)
    )
    message.sealed_key_id, message.sealed_nonce = sealed.key_id, sealed.nonce
    message.sealed_ciphertext = sealed.ciphertext
    session.add(message)
    enqueue_after_commit(session, SEND_SMS, message.id)
    return message


def open_sealed(ring: KeyRing, message: SmsOutbound) -> tuple[str, str]:
    """The number and text of a sealed message (for the send job only)."""
    assert message.id is not None
    assert message.sealed_key_id is not None
    assert message.sealed_nonce is not None
    assert message.sealed_ciphertext is not None
    value = ring.open(
        Sealed(message.sealed_key_id, message.sealed_nonce, message.sealed_ciphertext),
        context=_sealed_context(message.id),
    )
    return str(value["to"]), str(value["body"])


def erase_sealed(message: SmsOutbound) -> None:
    message.sealed_key_id = message.sealed_nonce = message.sealed_ciphertext = None


def reseal_pending(session: Session, ring: KeyRing) -> int:
    """Move queued sealed messages onto the active key (key rotation); returns how many."""
    rows = session.exec(
        select(SmsOutbound)
        .where(col(SmsOutbound.sealed_key_id).is_not(None))
        .where(col(SmsOutbound.sealed_key_id) != ring.active)
    ).all()
    for message in rows:
        assert message.id is not None
        to, body = open_sealed(ring, message)
        sealed = ring.seal({"to": to, "body": body}, context=_sealed_context(message.id))
        message.sealed_key_id, message.sealed_nonce = sealed.key_id, sealed.nonce
        message.sealed_ciphertext = sealed.ciphertext
        session.add(message)
    return len(rows)
