"""A crash between commit and enqueue loses nothing; a rolled-back intake enqueues nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from tests.drills.helpers import pending_outbox, routed_count, routing_events_per_filing
from tests.helpers import run_worker_until_idle, valid_filing
from workers.queues import ALL_QUEUES
from workers.relay import relay_once

pytestmark = pytest.mark.drill

# Files 30 complaints in one transaction, commits, and dies where the jobs would be sent.
CRASHING_INTAKE = textwrap.dedent(
    """
    import os
    import schemas  # noqa: F401
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from core import after_commit

    def die_after_commit(session):
        if not session.in_nested_transaction():  # the real commit, not a savepoint's release
            os._exit(9)  # the process is gone: nothing reaches Redis

    # Where the jobs' pokes and the metrics go, listened to for every session.
    event.remove(Session, "after_commit", after_commit._send)
    event.listen(Session, "after_commit", die_after_commit)
    from tests.drills.helpers import file_directly
    file_directly(30, per_transaction=30)
    """
)


def test_filings_committed_by_a_process_that_died_before_enqueueing_are_all_routed(
    sqlite_platform: str, redis_url: str, configure: Callable[..., None]
) -> None:
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_INTAKE],
        env=dict(os.environ),
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == 9, crashed.stderr.decode()[-2000:]
    assert not any(  # nothing sent
        Redis.from_url(redis_url).llen(f"rq:queue:{name}") for name in ALL_QUEUES
    )
    assert routed_count() == 0
    assert pending_outbox() == 60  # routing and duplicates, for each of the 30

    configure(database_url=sqlite_platform, redis_url=redis_url, relay_grace_seconds="0")
    assert relay_once().poked == 2
    run_worker_until_idle()
    per_filing = routing_events_per_filing()
    assert len(per_filing) == 30
    assert set(per_filing.values()) == {1}
    assert pending_outbox() == 0


def test_an_intake_whose_transaction_rolls_back_enqueues_nothing(
    sqlite_platform: str, client: TestClient, redis_url: str
) -> None:
    # The filing is written, then its attachment is refused: the whole request rolls back.
    body = valid_filing(attachments=["0" * 32])
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 422, answer.text
    assert not any(Redis.from_url(redis_url).llen(f"rq:queue:{name}") for name in ALL_QUEUES)
    assert pending_outbox() == 0
    assert routed_count() == 0
    assert not relay_once()
