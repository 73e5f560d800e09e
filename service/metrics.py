"""GET /metrics: Prometheus text built at scrape time from Redis and the database.

Counters and the routing-latency histogram are the shared ones of core.metrics (every
process adds to them); queue depths and the like are read as they are now. A store that does
not answer leaves its figures out and says so in `complaints_metrics_source_up`: a scrape
never fails because of it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError
from rq.registry import FailedJobRegistry
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from cases.follow_ups import waiting_counts
from core import metrics
from core.db import get_engine
from core.redis import get_redis
from core.timeutil import day_start
from schemas.casework import Deadline
from schemas.complaint import Complaint
from schemas.enums import Channel, Kind, Status
from schemas.outbox import OutboxMessage
from workers.queues import ALL_QUEUES, get_queue

log = logging.getLogger(__name__)


class PlatformCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "complaints_metrics_source_up",
            "1 if the store behind a group of figures answered this scrape.",
            labels=["source"],
        )
        gauges: list[Metric] = []
        tips: dict[str, int] | None = None
        try:
            tips, gauges = _database_figures()
            up.add_metric(["database"], 1)
        except SQLAlchemyError as exc:
            log.warning("metrics: database unreachable (%s)", type(exc).__name__)
            up.add_metric(["database"], 0)
        try:
            connection = get_redis()
            yield from _shared_counters(connection, tips)
            yield from _queues(connection)
            up.add_metric(["redis"], 1)
        except RedisError as exc:
            log.warning("metrics: Redis unreachable (%s)", type(exc).__name__)
            up.add_metric(["redis"], 0)
        yield from gauges
        yield up


def _labels(raw: bytes | str) -> dict[str, str]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return dict(json.loads(text))


def _shared_counters(connection: Redis, tips: dict[str, int] | None) -> Iterator[Metric]:
    """The shared counters; filings of kind tip come from `tips` (channel → tip-offs filed
    before today in China), not Redis: intake does not count a tip-off as it comes in."""
    for name, help_text in metrics.COUNTERS.items():
        rows = connection.hgetall(metrics.COUNTER_PREFIX + name)
        decoded = [(_labels(field), int(value)) for field, value in rows.items()]
        if name == metrics.FILINGS:
            decoded = [row for row in decoded if row[0].get("kind") != Kind.tip.value]
            decoded += [
                ({"channel": channel, "kind": Kind.tip.value}, count)
                for channel, count in (tips or {}).items()
            ]
        names = sorted({k for labels, _ in decoded for k in labels})
        family = CounterMetricFamily(name.removesuffix("_total"), help_text, labels=names)
        for labels, value in sorted(decoded, key=lambda row: sorted(row[0].items())):
            family.add_metric([labels.get(k, "") for k in names], value)
        yield family
    for name, (help_text, buckets) in metrics.HISTOGRAMS.items():
        rows = connection.hgetall(metrics.HISTOGRAM_PREFIX + name)
        yield _histogram(name, help_text, buckets, rows)


def _histogram(
    name: str, help_text: str, buckets: tuple[float, ...], rows: dict
) -> HistogramMetricFamily:
    series: dict[str, dict[str, float]] = {}
    for field, value in rows.items():
        text = field.decode() if isinstance(field, bytes) else field
        labels, _, bound = text.rpartition("|")
        series.setdefault(labels, {})[bound] = float(value)
    names = sorted({k for labels in series for k in _labels(labels)})
    family = HistogramMetricFamily(name, help_text, labels=names)
    for raw_labels, values in sorted(series.items()):
        labels = _labels(raw_labels)
        cumulative = [(str(b), values.get(str(b), 0.0)) for b in buckets]
        family.add_metric(
            [labels.get(k, "") for k in names],
            buckets=[*cumulative, ("+Inf", values.get("+Inf", 0.0))],
            sum_value=values.get(metrics.SUM_FIELD, 0.0),
        )
    return family


def _queues(connection: Redis) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "complaints_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"]
    )
    failed = GaugeMetricFamily(
        "complaints_failed_jobs", "Jobs in each RQ queue's failed registry.", labels=["queue"]
    )
    for name in ALL_QUEUES:
        queue = get_queue(name, connection)
        depth.add_metric([name], queue.count)
        failed.add_metric([name], FailedJobRegistry(queue=queue).count)
    yield depth
    yield failed


# (database, today's start) → tip-offs per channel before it: the figure changes once a
# day, so one count a day per process, not a scan of every filing on every scrape.
_tips_counted: dict[tuple[str, datetime], dict[str, int]] = {}


def forget_counts() -> None:
    """Drop the remembered tip-off counts (tests switch databases within one day)."""
    _tips_counted.clear()


def _database_figures() -> tuple[dict[str, int], list[Metric]]:
    """Tip-offs per channel filed before today (China time), and the gauges."""
    today = day_start()
    engine = get_engine(read_only=True)
    with Session(engine) as session:
        key = (str(engine.url), today)
        if key not in _tips_counted:
            found = session.exec(
                select(Complaint.channel, func.count())
                .where(Complaint.kind == Kind.tip)
                # A tip-off's row carries its day's start: today's are counted tomorrow.
                .where(col(Complaint.created_at) < today)
                .group_by(Complaint.channel)
            ).all()
            _tips_counted.clear()
            _tips_counted[key] = {Channel(c).value: int(n) for c, n in found}
        return _tips_counted[key], list(_database_gauges(session))


def _database_gauges(session: Session) -> Iterator[Metric]:
    pending = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.dispatched_at).is_(None))
    ).one()
    by_status = dict(
        session.exec(
            select(Complaint.status, func.count())
            .where(col(Complaint.status).in_([Status.received, Status.triage]))
            .group_by(Complaint.status)
        ).all()
    )
    overdue = session.exec(
        select(func.count())
        .select_from(Deadline)
        .where(Deadline.state == "breached")
        .where(col(Deadline.closed_at).is_(None))
    ).one()
    yield GaugeMetricFamily(
        "complaints_outbox_pending", "Jobs written but not yet handed to Redis.", value=pending
    )
    waiting = GaugeMetricFamily(
        "complaints_waiting_filings",
        "Filings waiting: `received` for the router, `triage` for a person.",
        labels=["status"],
    )
    for status in (Status.received, Status.triage):
        waiting.add_metric([status.value], by_status.get(status, 0))
    yield waiting
    yield GaugeMetricFamily(
        "complaints_deadlines_overdue", "Time limits breached and still open.", value=overdue
    )
    due, late = waiting_counts(session)
    calls = GaugeMetricFamily(
        "complaints_follow_ups_waiting",
        "Closed complaints waiting for a follow-up call (回访): all of them, and the overdue.",
        labels=["state"],
    )
    calls.add_metric(["waiting"], due)
    calls.add_metric(["overdue"], late)
    yield calls


_registry = CollectorRegistry(auto_describe=False)
_registry.register(PlatformCollector())


def render_metrics() -> bytes:
    return generate_latest(_registry)
