"""Queueing a text message: recorded in the caller's transaction, sent by a job after commit."""

from __future__ import annotations

from sqlmodel import Session

from notify.templates import render
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
