"""kill -9 a worker while it routes 1,000 filings: after recovery none lost, none routed twice."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session

from core import migrate
from core.db import get_engine
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from tests.drills.conftest import Processes, children_of, wait_for
from tests.drills.helpers import (
    file_directly,
    outbox_summary,
    pending_outbox,
    routed_count,
    routing_events_per_filing,
)

pytestmark = [pytest.mark.drill, pytest.mark.postgres, pytest.mark.timeout(600)]
FILINGS = 1_000


def test_a_worker_killed_mid_batch_loses_nothing_and_routes_nothing_twice(
    configure: Callable[..., None],
    postgres_url: str,
    redis_url: str,
    processes: Callable[..., Processes],
) -> None:
    configure(database_url=postgres_url, redis_url=redis_url, batch_size="50")
    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()
    ids = file_directly(FILINGS)
    platform = processes(database_url=postgres_url, redis_url=redis_url, batch_size="50")

    first = platform.start("worker-1", "worker")
    wait_for("the first worker routes some", lambda: routed_count() >= 50, timeout=120, every=0.02)
    forked = children_of(first.pid)  # RQ's scheduler process
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    at_kill = routed_count()
    # What the dead worker forked dies with it, and leaves no scheduler lock behind.
    wait_for("the dead worker's scheduler exits", lambda: not any(map(_alive, forked)), timeout=15)
    assert at_kill < FILINGS, "the worker finished before it could be killed: use more filings"

    started = time.monotonic()
    platform.start("relay", "relay")  # it pokes the drain the dead worker's batch never did
    platform.start("worker-2", "worker")
    wait_for("every filing routed", lambda: routed_count() == FILINGS, timeout=180)
    recovery = time.monotonic() - started

    per_filing = routing_events_per_filing()
    assert sorted(per_filing) == sorted(ids)  # 0 lost
    assert set(per_filing.values()) == {1}  # 0 routed twice
    wait_for(
        "every outbox row done",
        lambda: pending_outbox() == 0,
        timeout=120,
        explain=lambda: f"{outbox_summary()}\n{platform.log_of('worker-2')[-4000:]}",
    )
    print(f"killed at {at_kill}/{FILINGS} routed; recovered in {recovery:.1f}s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead; only its parent (init, here) has yet to reap it.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
