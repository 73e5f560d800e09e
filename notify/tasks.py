"""The SMS send job: budget, gateway, record. Idempotent: a sent message is not sent again."""

from __future__ import annotations

import logging

from core.db import session_scope
from core.redis import get_redis
from core.settings import get_settings
from core.timeutil import stamp
from notify.budget import spend
from notify.gateway import GatewayError, get_gateway
from notify.service import erase_sealed, open_sealed
from notify.templates import OWN_BUDGET
from notify.webhooks import DeliveryFailed, deliver
from rewards.keys import keyring
from schemas.casework import WebhookDelivery
from schemas.sms import SmsOutbound
from schemas.validators import mask_phone
from workers.queues import DELIVER_WEBHOOK, SEND_SMS

log = logging.getLogger(__name__)


def send_sms(message_id: int) -> str:
    settings = get_settings()
    with session_scope() as session:
        message = session.get(SmsOutbound, message_id)
        if message is None or message.state != "queued":
            return "nothing to do"
        sealed = message.sealed_key_id is not None
        to, body = open_sealed(keyring(), message) if sealed else (message.to_number, message.body)
        if not to or body is None:
            message.state, message.last_error = "failed", "no number or text to send"
            session.add(message)
            session.commit()
            return "failed"
        # A sealed message (a reporter's, a citizen's sign-in code): neither its id nor even
        # a masked number next to the time.
        masked = "a sealed number" if sealed else mask_phone(to)
        label = "(sealed)" if sealed else str(message_id)
        if message.attempts == 0 and not spend(
            get_redis(),
            number=to,
            per_number=settings.sms_daily_budget_per_number,
            overall=settings.sms_daily_budget_global,
            pool=message.template if message.template in OWN_BUDGET else "",
        ):
            message.state = "over_budget"
            _finish(message, sealed)
            session.add(message)
            session.commit()
            log.warning("sms %s to %s not sent: daily budget spent", label, masked)
            return "over_budget"
        message.attempts += 1
        try:
            gateway = get_gateway()
            message.provider = gateway.name
            message.provider_message_id = gateway.send(to, body)
        except GatewayError as exc:
            # A sealed message's number and text are erased once it is done with; the
            # gateway's answer may quote both, so only the brief error is kept and logged.
            error = exc.brief if sealed else str(exc)
            message.last_error = error[:500]
            final = not exc.retryable or message.attempts > len(SEND_SMS.retry)
            if final:
                message.state = "failed"
                _finish(message, sealed)
            session.add(message)
            session.commit()
            log.warning(
                "sms %s to %s failed (attempt %d): %s", label, masked, message.attempts, error
            )
            if final:
                return "failed"
            raise  # RQ retries it after the job's backoff
        message.state = "sent"
        message.sent_at = stamp(coarse=sealed)
        _finish(message, sealed)
        session.add(message)
        session.commit()
    log.info("sms %s sent to %s via %s", label, masked, message.provider)
    return "sent"


def _finish(message: SmsOutbound, sealed: bool) -> None:
    """A reporter's message is done with: its sealed number and text are erased."""
    if sealed:
        erase_sealed(message)


def deliver_webhook(delivery_id: int) -> str:
    """Push one event to a department's system; RQ retries it with backoff until it lands."""
    with session_scope() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.state != "pending":
            return "nothing to do"
        outcome = deliver(session, delivery, max_attempts=len(DELIVER_WEBHOOK.retry) + 1)
        session.add(delivery)
        session.commit()
    if outcome == "retry":
        raise DeliveryFailed(f"webhook delivery {delivery_id}: {delivery.last_error}")
    return outcome
