"""Counters and histograms kept in Redis, so every process and host adds to the same figures.

The API runs several uvicorn workers and the queue several worker processes; a scrape of
/metrics reaches one of them. Each event is one HINCRBY on a shared hash (pipelined), and the
scrape reads the hashes back (service.metrics). Recording never fails the work it measures:
with Redis down the figure is lost, the filing is not. Counters restart from zero when Redis
loses its data, which Prometheus's rate() expects of any counter.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError
from sqlmodel import Session

from core import after_commit
from core.redis import get_redis

log = logging.getLogger(__name__)

COUNTER_PREFIX = "metrics:counter:"
HISTOGRAM_PREFIX = "metrics:histogram:"
SUM_FIELD = "_sum"
COUNT_FIELD = "_count"
_AFTER_COMMIT_KEY = "metrics_after_commit"

Labels = Mapping[str, str]
_QUIET_SECONDS = 5.0  # after a failure, skip recording for a while: never slow the work down
_quiet_until = 0.0


def _connection() -> Redis | None:
    return None if time.monotonic() < _quiet_until else get_redis()


def _failed(what: str, exc: RedisError) -> None:
    global _quiet_until
    _quiet_until = time.monotonic() + _QUIET_SECONDS
    log.debug("%s not recorded: %s", what, type(exc).__name__)


def label_key(labels: Labels) -> str:
    return json.dumps(dict(sorted(labels.items())), ensure_ascii=False, separators=(",", ":"))


def count(name: str, labels: Labels | None = None, amount: int = 1) -> None:
    """Add `amount` to the counter `name` with these labels."""
    connection = _connection()
    if connection is None:
        return
    try:
        connection.hincrby(COUNTER_PREFIX + name, label_key(labels or {}), amount)
    except RedisError as exc:
        _failed(f"metric {name}", exc)


def observe(
    name: str, value: float, *, buckets: Sequence[float], labels: Labels | None = None
) -> None:
    """Record one observation in the cumulative histogram `name`."""
    observe_many(name, [value], buckets=buckets, labels=labels)


def observe_many(
    name: str, values: Sequence[float], *, buckets: Sequence[float], labels: Labels | None = None
) -> None:
    """Record several observations in one round trip (a batch of routed filings)."""
    connection = _connection()
    if not values or connection is None:
        return
    key = HISTOGRAM_PREFIX + name
    prefix = label_key(labels or {})
    try:
        pipe = connection.pipeline(transaction=False)
        for bound in buckets:
            within = sum(1 for v in values if v <= bound)
            if within:
                pipe.hincrby(key, f"{prefix}|{bound}", within)
        pipe.hincrby(key, f"{prefix}|+Inf", len(values))
        pipe.hincrbyfloat(key, f"{prefix}|{SUM_FIELD}", float(sum(values)))
        pipe.hincrby(key, f"{prefix}|{COUNT_FIELD}", len(values))
        pipe.execute()
    except RedisError as exc:
        _failed(f"metric {name}", exc)


def count_after_commit(session: Session, name: str, labels: Labels | None = None) -> None:
    """Count once the caller's transaction commits: a rolled-back filing was never filed.
    The counts go in the transaction's shared after-commit pipeline (core.after_commit)."""
    after_commit.pending(session, _AFTER_COMMIT_KEY, _committed).append((name, dict(labels or {})))


def _committed(session: Session) -> after_commit.Contribution | None:
    pending: list[tuple[str, Labels]] = session.info.pop(_AFTER_COMMIT_KEY, [])
    if not pending or _connection() is None:
        return None

    # A group of filings (intake.group_commit) counts each, in one HINCRBY per label set.
    counts = Counter((name, label_key(labels)) for name, labels in pending)

    def add(pipe: Pipeline) -> None:
        for (name, key), amount in counts.items():
            pipe.hincrby(COUNTER_PREFIX + name, key, amount)

    return after_commit.Contribution(
        add=add,
        done=lambda _connection, _results: None,
        failed=lambda exc: _failed(f"{len(pending)} metric(s)", exc),
    )


# The figures the platform records; service.metrics exposes them with these descriptions.
FILINGS = "complaints_filings_total"
ROUTING_LATENCY = "complaints_routing_latency_seconds"
DEADLINE_BREACHES = "complaints_deadline_breaches_total"
JOB_FAILURES = "complaints_job_failures_total"
ROUTING_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

COUNTERS: dict[str, str] = {
    FILINGS: "Filings taken in, by channel and kind (counted when their transaction commits).",
    DEADLINE_BREACHES: "Legal time limits that ran out, by step (counted by the sweep).",
    JOB_FAILURES: "Background job attempts that raised, by job.",
}
HISTOGRAMS: dict[str, tuple[str, tuple[float, ...]]] = {
    ROUTING_LATENCY: (
        "Seconds from a filing's intake to its routing decision (not tip-offs).",
        ROUTING_LATENCY_BUCKETS,
    ),
}
