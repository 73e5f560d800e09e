"""Health, readiness, Prometheus metrics and structured logs, against real stores."""

from __future__ import annotations

import io
import json
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue
from sqlmodel import select

from cases.sweeps import sweep_deadlines
from core.db import session_scope
from core.redis import EvictingRedis, eviction_policy, get_redis, require_noeviction
from schemas import Complaint
from service.logs import REQUEST_ID, configure_logging
from tests.helpers import run_worker_until_idle, valid_filing
from workers.worker import run_worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def evicting_redis() -> Iterator[str]:
    """A real redis-server of our own, configured the way that loses queued jobs."""
    port = _free_port()
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "",
         "--appendonly", "no", "--maxmemory-policy", "allkeys-lru"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Redis.from_url(url).ping():
                break
        except Exception:
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(10)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.mark.usefixtures("platform")
def test_readyz_says_ready_when_the_database_and_redis_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_is_503_naming_redis_when_it_does_not_answer(
    configure: Callable[..., None], sqlite_url: str
) -> None:
    configure(database_url=sqlite_url, redis_url=f"redis://127.0.0.1:{_free_port()}/0")
    from service.app import create_app

    with TestClient(create_app()) as client:
        answer = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # the process itself is fine
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    body = answer.json()
    assert body["error"] == "ServiceUnavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable")


def test_readyz_is_503_naming_the_database_when_it_does_not_answer(
    configure: Callable[..., None], redis_url: str
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nowhere"
    configure(database_url=url, redis_url=redis_url)
    from service.app import create_app

    with TestClient(create_app()) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"].startswith("unreachable")
    assert answer.json()["checks"]["redis"] == "ok"


def test_a_redis_that_evicts_is_refused_at_start_and_by_readyz(
    configure: Callable[..., None], sqlite_url: str, evicting_redis: str
) -> None:
    configure(database_url=sqlite_url, redis_url=evicting_redis)
    assert eviction_policy(get_redis()) == "allkeys-lru"
    with pytest.raises(EvictingRedis, match="noeviction"):
        require_noeviction(get_redis())
    from service.app import create_app

    with TestClient(create_app()) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "maxmemory-policy allkeys-lru" in answer.json()["checks"]["redis"]
    get_redis().config_set("maxmemory-policy", "noeviction")
    require_noeviction(get_redis())


def test_the_test_redis_does_not_evict(redis_url: str) -> None:
    assert eviction_policy(Redis.from_url(redis_url)) == "noeviction"


@pytest.mark.usefixtures("platform")
def test_metrics_count_filings_routing_latency_breaches_and_failures(
    client: TestClient, redis_url: str
) -> None:
    for _ in range(2):
        assert client.post("/api/v1/complaints", json=valid_filing()).status_code == 201
    tip = valid_filing(kind="tip", contact_phone=None)
    assert client.post("/api/v1/complaints", json=tip).status_code == 201
    before = _samples(client.get("/metrics").text)
    # One drain job waits per batched job (routing; the duplicate search in its own queue);
    # their rows are the backlog.
    assert before[("complaints_queue_depth", (("queue", "intake"),))] == 1
    assert before[("complaints_queue_depth", (("queue", "search"),))] == 1
    assert before[("complaints_outbox_pending", ())] == 6
    assert before[("complaints_waiting_filings", (("status", "received"),))] == 3

    run_worker_until_idle()
    with session_scope() as session:
        sweep_deadlines(session, on=date(2099, 1, 1))  # every running clock has run out
        routed = len(session.exec(select(Complaint)).all())

    # A job that raises: counted by the worker's failure handler, then in RQ's failed registry.
    Queue("notify", connection=Redis.from_url(redis_url)).enqueue("builtins.int", "not a number")
    run_worker(burst=True)

    answer = client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    found = _samples(answer.text)
    web = (("channel", "web"), ("kind", "complaint"))
    assert found[("complaints_filings_total", web)] == 2
    # Tip-offs are counted by the day, once it is over (below).
    assert ("complaints_filings_total", (("channel", "web"), ("kind", "tip"))) not in found
    # Tip-offs carry only their day, so their latency says nothing: two observations.
    assert found[("complaints_routing_latency_seconds_count", ())] == 2
    assert found[("complaints_routing_latency_seconds_bucket", (("le", "+Inf"),))] == 2
    assert 0 < found[("complaints_routing_latency_seconds_sum", ())] < 120
    assert found[("complaints_waiting_filings", (("status", "received"),))] == 0
    assert found[("complaints_queue_depth", (("queue", "intake"),))] == 0
    breaches = sum(
        v for (name, _), v in found.items() if name == "complaints_deadline_breaches_total"
    )
    assert breaches == routed  # each routed filing's acceptance clock
    assert found[("complaints_deadlines_overdue", ())] == routed
    assert found[("complaints_job_failures_total", (("job", "builtins.int"),))] == 1
    assert found[("complaints_failed_jobs", (("queue", "notify"),))] == 1
    assert found[("complaints_metrics_source_up", (("source", "redis"),))] == 1
    assert found[("complaints_metrics_source_up", (("source", "database"),))] == 1


@pytest.mark.usefixtures("platform")
def test_a_tip_off_is_counted_once_its_day_is_over_not_when_it_came_in(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A counter scraped every few seconds dates each filing to the scrape: a tip-off's
    records carry only its day (docs/architecture.md), and a hotline tip-off's time beside
    the call log names the caller. So tip-offs are counted by their day, the day after."""
    from core.timeutil import day_start
    from service import metrics as service_metrics

    def tips(text: str) -> dict[str, float]:
        return {
            dict(labels)["channel"]: value
            for (name, labels), value in _samples(text).items()
            if name == "complaints_filings_total" and dict(labels).get("kind") == "tip"
        }

    tip = valid_filing(kind="tip", contact_phone=None)
    assert client.post("/api/v1/complaints", json=tip).status_code == 201
    assert client.post("/api/v1/complaints", json=valid_filing()).status_code == 201
    assert tips(now_text := client.get("/metrics").text).get("web", 0) == 0
    complaints = (("channel", "web"), ("kind", "complaint"))
    assert _samples(now_text)[("complaints_filings_total", complaints)] == 1
    # The day is over: the next scrape counts it (and nothing of when in the day it came).
    monkeypatch.setattr(service_metrics, "day_start", lambda: day_start() + timedelta(days=1))
    assert tips(client.get("/metrics").text) == {"web": 1}


@pytest.mark.usefixtures("sqlite_platform")
def test_a_rolled_back_filing_is_not_counted(client: TestClient) -> None:
    from cases.lifecycle import Actor
    from core import metrics
    from intake.service import FilingDraft, create_filing
    from schemas.enums import Channel, Kind

    with session_scope() as session:
        create_filing(
            session,
            draft=FilingDraft(kind=Kind.inquiry, text="请问食品经营许可证怎么办理，需要什么材料？"),
            channel=Channel.web,
            actor=Actor.system("test"),
        )
        session.rollback()
    assert get_redis().hgetall(metrics.COUNTER_PREFIX + metrics.FILINGS) == {}


def test_metrics_are_answered_without_redis_and_say_so(
    configure: Callable[..., None], sqlite_url: str
) -> None:
    configure(database_url=sqlite_url, redis_url=f"redis://127.0.0.1:{_free_port()}/0")
    from core import migrate
    from service.app import create_app

    migrate.upgrade()
    with TestClient(create_app()) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    found = _samples(answer.text)
    assert found[("complaints_metrics_source_up", (("source", "redis"),))] == 0
    assert found[("complaints_metrics_source_up", (("source", "database"),))] == 1
    assert found[("complaints_outbox_pending", ())] == 0


def test_json_logs_carry_the_request_id_and_mask_personal_numbers() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "api", "json")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    token = REQUEST_ID.set("abc123")
    try:
        logging.getLogger("complaints.test").info(
            "called back %s about %s", "13812345678", "110105199001011234"
        )
    finally:
        REQUEST_ID.reset(token)
    logging.getLogger("complaints.test").warning("outside a request")
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["request_id"] == "abc123"
    assert first["process"] == "api"
    assert first["level"] == "INFO"
    assert first["message"] == "called back 138****5678 about 110***********1234"
    assert second["request_id"] == "-"
    configure_logging("WARNING", "tests")


def test_a_worker_will_not_start_on_a_redis_that_evicts(
    evicting_redis: str, tmp_path: Path
) -> None:
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
    env |= {"COMPLAINTS_REDIS_URL": evicting_redis, "COMPLAINTS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "service", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "maxmemory-policy allkeys-lru" in done.stderr
    assert "noeviction" in done.stderr
