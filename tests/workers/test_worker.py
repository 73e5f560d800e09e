"""A job that fails while handling a tip-off: RQ keeps and logs where it broke, never the
exception's message (which quoted the tip-off's text and the reporter)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq.registry import FailedJobRegistry
from sqlmodel import Session

from schemas import Complaint
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
from workers.queues import INTAKE_QUEUE, JOBS, ROUTE_COMPLAINT, get_queue
from workers.worker import run_worker

CANARIES = [*IDENTITY, TIP_PHRASE, "月饼"]


def test_a_failed_job_about_a_tip_off_keeps_no_canary_in_redis_or_the_logs(
    sqlite_platform: str,
    redis_url: str,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One immediate retry, then the failed registry: the whole failure path in one burst.
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
        run_worker(burst=True)
    connection = Redis.from_url(redis_url)
    failed = FailedJobRegistry(queue=get_queue(INTAKE_QUEUE, connection))
    [job_id] = failed.get_job_ids()
    job = failed.job_class.fetch(job_id, connection=connection)
    assert job.func_name == ROUTE_COMPLAINT.func
    assert job.retries_left == 0  # it was retried, and failed again
    exc_info = job.latest_result().exc_string  # type: ignore[union-attr]
    assert "workers.worker.JobFailed" in exc_info
    assert "ValueError: [message withheld" in exc_info
    assert "routing/tasks.py" in exc_info  # where it broke is kept
    assert leaks(exc_info, CANARIES) == [], exc_info
    for key, value in redis_dump(redis_url).items():
        assert [c for c in CANARIES if c.encode() in value] == [], key
    text = log.getvalue()
    assert "exception raised while executing (routing.tasks.route_complaint)" in text
    assert leaks(text, CANARIES) == [], text
