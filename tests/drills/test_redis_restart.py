"""Redis stopped and restarted under load: intake keeps answering 201, and every filing is
routed once Redis is back (this Redis keeps nothing on disk: it comes back empty)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from redis import Redis
from rq import Queue

from core import migrate
from tests.drills.conftest import OwnRedis, Processes, free_port, wait_for
from tests.drills.helpers import routed_count, routing_events_per_filing
from tests.helpers import valid_filing
from workers.queues import INTAKE_QUEUE

pytestmark = [pytest.mark.drill, pytest.mark.timeout(600)]
RATE = 15  # filings per second offered
SECONDS = 14
STOP_AT, START_AT = 4.0, 9.0


def test_intake_keeps_answering_while_redis_is_down_and_routing_catches_up(
    configure: Callable[..., None],
    tmp_path: Path,
    own_redis: OwnRedis,
    processes: Callable[..., Processes],
) -> None:
    database = f"sqlite:///{tmp_path / 'drill.db'}"
    configure(database_url=database, redis_url=own_redis.url)
    migrate.upgrade()
    platform = processes(database_url=database, redis_url=own_redis.url)
    port = free_port()
    platform.start("registry", "departments", "load", "routing/registries/default.yaml").wait(120)
    platform.start("api", "api", "--port", str(port))
    platform.start("worker", "worker")
    platform.start("relay", "relay")
    base = f"http://127.0.0.1:{port}"
    wait_for("the API is ready", lambda: _status(f"{base}/readyz") == 200, timeout=120)

    answers: list[int] = []
    readiness: dict[str, int] = {}

    def offer_load() -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            started = time.monotonic()
            for n in range(RATE * SECONDS):
                time.sleep(max(0.0, started + n / RATE - time.monotonic()))
                body = valid_filing(contact_phone=f"1390{n:07d}", text=f"第{n}件：{_TEXT}")
                answers.append(http.post("/api/v1/complaints", json=body).status_code)

    load = threading.Thread(target=offer_load)
    load.start()
    time.sleep(STOP_AT)
    own_redis.stop()
    time.sleep(1.0)
    readiness["down"] = _status(f"{base}/readyz")
    time.sleep(START_AT - STOP_AT - 1.0)
    own_redis.start()
    load.join(timeout=SECONDS + 60)
    wait_for("ready again", lambda: _status(f"{base}/readyz") == 200, timeout=60)

    assert len(answers) == RATE * SECONDS
    assert set(answers) == {201}, {code: answers.count(code) for code in set(answers)}
    assert readiness["down"] == 503
    wait_for("every filing routed", lambda: routed_count() == len(answers), timeout=180)
    per_filing = routing_events_per_filing()
    assert len(per_filing) == len(answers)
    assert set(per_filing.values()) == {1}


_TEXT = "小区电梯困人两次，物业不修，电梯年检标志过期了，请质监部门检查。"


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=3).status_code
    except httpx.TransportError:
        return 0


def test_a_worker_that_loses_redis_under_a_job_takes_jobs_again_once_it_is_back(
    configure: Callable[..., None],
    tmp_path: Path,
    own_redis: OwnRedis,
    processes: Callable[..., Processes],
) -> None:
    """RQ's loop quits on an error it did not expect (here: recording a job's end with Redis
    gone); the worker process must not: it waits for Redis and works again."""
    database = f"sqlite:///{tmp_path / 'drill.db'}"
    configure(database_url=database, redis_url=own_redis.url)
    migrate.upgrade()
    platform = processes(database_url=database, redis_url=own_redis.url)
    worker = platform.start("worker", "worker")
    queue = Queue(INTAKE_QUEUE, connection=Redis.from_url(own_redis.url))
    queue.enqueue("tests.drills.jobs.shut_redis_down")
    assert own_redis.process is not None
    own_redis.process.wait(30)  # the job stopped it
    time.sleep(2)
    own_redis.start()
    marker = tmp_path / "after-restart"
    Queue(INTAKE_QUEUE, connection=Redis.from_url(own_redis.url)).enqueue(
        "tests.drills.jobs.touch", str(marker)
    )
    wait_for(
        "a job taken after Redis came back",
        marker.exists,
        timeout=60,
        explain=lambda: platform.log_of("worker")[-3000:],
    )
    assert worker.poll() is None
