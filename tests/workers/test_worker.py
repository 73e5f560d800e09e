"""A job that fails while handling a tip-off: RQ keeps and logs where it broke, never the
exception's message (which quoted the tip-off's text and the reporter)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from core.redis import get_redis
from schemas import Complaint, OutboxMessage
from tests.canaries import (
    BANK_ACCOUNT,
    IDENTITY,
    NAME,
    PHONE,
    TIP_PHRASE,
    TIP_TEXT,
    leaks,
    platform_log,
    redis_dump,
)
from tests.helpers import valid_filing
from workers.outbox import relay_pending
from workers.queues import JOBS, ROUTE_COMPLAINT
from workers.worker import run_worker

CANARIES = [*IDENTITY, TIP_PHRASE, "月饼"]


def test_a_failed_job_about_a_tip_off_keeps_no_canary_in_redis_or_the_logs(
    sqlite_platform: str,
    redis_url: str,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One immediate retry, then given up: the whole failure path in one burst.
    monkeypatch.setitem(JOBS, ROUTE_COMPLAINT.func, replace(ROUTE_COMPLAINT, retry=(0,)))

    def broken(session: Session, *, complaint_id: int, engine: object) -> None:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        raise ValueError(f"cannot route {complaint.text!r} (reporter {NAME}, {PHONE})")

    monkeypatch.setattr("routing.tasks.service.route_complaint", broken)
    body = valid_filing(
        kind="tip",
        text=TIP_TEXT,
        contact_phone=PHONE,
        reporter={"name": NAME, "bank_name": "中国工商银行", "bank_account": BANK_ACCOUNT},
    )
    assert client.post("/api/v1/complaints", json=body).status_code == 201
    with platform_log() as log:
        run_worker(burst=True)  # the drain: fails the item, retries it at once, gives it up
        with Session(get_engine(read_only=True)) as session:
            relay_pending(session, connection=get_redis(), grace_seconds=0, limit=100)
        run_worker(burst=True)
    with Session(get_engine(read_only=True)) as session:
        [row] = session.exec(
            select(OutboxMessage).where(OutboxMessage.job == ROUTE_COMPLAINT.func)
        ).all()
    assert row.failed_at is not None  # it was retried, and failed again
    assert row.attempts == 2
    error = row.last_error or ""
    assert "ValueError: [message withheld" in error
    assert "routing/tasks.py" in error  # where it broke is kept
    assert leaks(error, CANARIES) == [], error
    for key, value in redis_dump(redis_url).items():
        assert [c for c in CANARIES if c.encode() in value] == [], key
    text = log.getvalue()
    assert "routing.tasks.route_complaint: 1 item(s) failed (ValueError)" in text
    assert leaks(text, CANARIES) == [], text


@pytest.mark.usefixtures("sqlite_platform")
def test_warm_up_loads_every_tokenizer_a_routing_job_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    import classifiers.tokenizer as tokenizer_module
    from routing.engine import forget_engine
    from routing.tasks import warm_up

    monkeypatch.setattr(tokenizer_module, "_shared", {})
    forget_engine()
    warm_up()
    loaded = dict(tokenizer_module._shared)
    # The keyword classifier's, with the registry's words, and the plain one routing.sectors
    # cuts sector names with: both loaded before the first job, not in it.
    assert frozenset() in loaded
    assert len(loaded) == 2
    assert all(t._ready for t in loaded.values())
