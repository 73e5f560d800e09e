"""Department webhooks: every event on a department's filings, pushed to its own system.

Each delivery is signed with the department's secret (HMAC-SHA256 over the timestamp and
the body), sent by an RQ job with retries and backoff, and every attempt is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from core.db import session_memo
from core.errors import InvalidInput
from core.settings import get_settings
from core.timeutil import stamp
from schemas.casework import DepartmentWebhook, WebhookDelivery
from schemas.complaint import Complaint
from schemas.department import Department
from schemas.enums import Kind
from schemas.event import ComplaintEvent
from workers.outbox import enqueue_after_commit
from workers.queues import DELIVER_WEBHOOK

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Complaints-Signature"
TIMESTAMP_HEADER = "X-Complaints-Timestamp"


def check_url(url: str) -> str:
    parts = urlsplit(url)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and local and get_settings().webhook_allow_http_localhost:
        return url
    raise InvalidInput(
        "a webhook URL must be https:// (plain http only to localhost in development)"
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _active_hooks(session: Session) -> dict[int, DepartmentWebhook]:
    """Each department's active webhook; read once per transaction (a batch writes many)."""

    def load() -> dict[int, DepartmentWebhook]:
        hooks = session.exec(
            select(DepartmentWebhook).where(DepartmentWebhook.active == True)  # noqa: E712
        ).all()
        return {hook.department_id: hook for hook in hooks}  # one per department (unique)

    return session_memo(session, "active_webhooks", load)


def fan_out(
    session: Session,
    *,
    complaint: Complaint,
    event: ComplaintEvent,
    left_department_id: int | None = None,
) -> None:
    """Queue a delivery of `event` to the webhook of the filing's department, if it has one,
    and to that of the department it just left (`left_department_id`): that system holds
    the filing from earlier pushes and learns here that it went elsewhere."""
    if complaint.id is None:
        return
    hooks = _active_hooks(session)
    targets = dict.fromkeys(
        d for d in (complaint.department_id, left_department_id) if d is not None
    )
    for department_id in targets:
        hook = hooks.get(department_id)
        if hook is None or hook.id is None:
            continue
        if event.id is None:
            session.flush()  # the delivery names the event
        assert event.id is not None
        delivery = WebhookDelivery(
            webhook_id=hook.id,
            complaint_id=complaint.id,
            event_id=event.id,
            created_at=stamp(coarse=complaint.kind is Kind.tip),
        )
        session.add(delivery)
        session.flush()
        enqueue_after_commit(session, DELIVER_WEBHOOK, delivery.id)


def payload(complaint: Complaint, event: ComplaintEvent, department: str | None) -> dict[str, Any]:
    """What a delivery carries; `department` is the code of the department the filing is
    with now (a transfer's delivery to the one it left says where it went).

    The department's system handles the filing, so it gets what the desk's own staff read:
    the full contact number, and with it the complainant's name and address (personal data
    like the number, never logged); the demand, purchase day and order number to settle it.
    A tip-off carries none of them: its reporter is in the vault, never on its row."""
    complaint_only = complaint.kind is Kind.complaint
    return {
        "event": {
            "id": event.id,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "reason": event.reason,
            "public_note": event.public_note,
        },
        "complaint": {
            "id": complaint.id,
            "tracking_number": complaint.tracking_number,
            "kind": complaint.kind,
            "channel": complaint.channel,
            "status": complaint.status,
            "department": department,
            "text": complaint.text,
            "contact_phone": complaint.contact_phone,
            "business_name": complaint.business_name,
            "business_uscc": complaint.business_uscc,
            "business_address": complaint.business_address,
            "complainant_name": complaint.complainant_name if complaint_only else None,
            "complainant_address": complaint.complainant_address if complaint_only else None,
            "demand": complaint.demand if complaint_only else None,
            "purchased_on": complaint.purchased_on.isoformat()
            if complaint_only and complaint.purchased_on
            else None,
            "order_number": complaint.order_number if complaint_only else None,
            "place_code": complaint.place_code,
            "deadline_due_on": complaint.deadline_due_on.isoformat()
            if complaint.deadline_due_on
            else None,
            "actions_url": f"/api/v1/complaints/{complaint.id}/actions/{{action}}",
        },
    }


_client_lock = threading.Lock()
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    # httpx is imported here, where a delivery needs it: imported with this module, it was
    # 0.05-0.15 s of the start-up of every process that changes a status (its command-line
    # module pulls in rich), and only the worker sends.
    import httpx

    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(timeout=get_settings().webhook_timeout_seconds)
        return _client


class DeliveryFailed(Exception):
    """Raised so that RQ retries the delivery after its backoff."""


def deliver(session: Session, delivery: WebhookDelivery, *, max_attempts: int) -> str:
    """One attempt: POST, record the outcome (caller commits); DeliveryFailed to retry."""
    hook = session.get(DepartmentWebhook, delivery.webhook_id)
    complaint = session.get(Complaint, delivery.complaint_id)
    event = session.get(ComplaintEvent, delivery.event_id)
    if hook is None or complaint is None or event is None or not hook.active:
        delivery.state = "failed"
        delivery.last_error = "webhook, filing or event gone, or webhook switched off"
        return "failed"
    department = (
        session.get(Department, complaint.department_id) if complaint.department_id else None
    )
    body = json.dumps(
        payload(complaint, event, department.code if department else None),
        ensure_ascii=False,
        default=str,
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
        "X-Complaints-Delivery": str(delivery.id),
    }
    delivery.attempts += 1
    status_code: int | None = None
    error: str | None = None
    import httpx  # where it is needed, as in _http

    try:
        response = _http().post(hook.url, content=body, headers=headers)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"answered {status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    delivery.last_status_code, delivery.last_error = status_code, error
    now = stamp(coarse=complaint.kind is Kind.tip)  # a tip-off's records carry days only
    delivery.attempt_log = [
        *delivery.attempt_log,
        {"at": now.isoformat(), "status": status_code, "error": error},
    ]
    if error is None:
        delivery.state, delivery.delivered_at = "delivered", now
        return "delivered"
    if delivery.attempts >= max_attempts:
        delivery.state = "failed"
        log.warning("webhook delivery %s failed for good: %s", delivery.id, error)
        return "failed"
    return "retry"
