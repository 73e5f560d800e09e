"""Batched jobs: the outbox rows of a job are its queue, and one RQ job drains many of them.

One RQ job per filing costs more than routing the filing does (fetching, bookkeeping and
deleting the job in Redis). So for the jobs every filing makes (routing, duplicate search)
the outbox row itself is the queue entry:

- after commit, or from the relay, a *poke* makes sure one drain job is queued (a Redis flag
  set with NX: at most one waits at a time, however many filings come in);
- the drain job claims up to `batch_size` pending rows (FOR UPDATE SKIP LOCKED on
  PostgreSQL, so several workers drain side by side), hands each row to the job's handler,
  marks the rows done, and commits the work and the marks together;
- a full batch pokes again before it starts, so another worker can take the next one.

What this keeps of one-job-per-filing: each item is idempotent (the handlers check state with
a compare-and-set), and isolated. A batch first runs straight through in one transaction (no
savepoints: they would flush after every item and cost two statements each). If an item
raises, that attempt is rolled back and the batch runs again with a savepoint per item: the
failing item is rolled back to its savepoint, its row gets its next try time from the job's
retry schedule (and gives up after the last), and the rest of the batch commits. A worker
killed mid-batch commits nothing: its rows are still pending, and the next drain (poked by
the relay if no one else) takes them. Nothing is lost if Redis loses its data either: the
rows are in the database, and the relay pokes again.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from redis import Redis
from redis.client import Pipeline
from rq import Retry
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from core import metrics
from core.db import session_scope
from core.redis import get_redis
from core.settings import get_settings
from core.timeutil import day_start, utcnow
from core.tracebacks import exception_name, redacted_traceback
from schemas.outbox import OutboxMessage
from workers.queues import JOBS, JobSpec, get_queue

log = logging.getLogger(__name__)

DRAIN = "workers.batches.drain"
_FLAG_TTL_SECONDS = 30  # a queued drain job lost with Redis blocks pokes this long at most


class BatchHandler(Protocol):
    """What a batched job's handler class provides (routing.tasks.RouteBatch, …)."""

    def __init__(self, session: Session) -> None: ...

    def prefetch(self, items: Sequence[Sequence[Any]]) -> None:
        """Load what the items need in a few queries (each item's args, as handle gets them)."""

    def handle(self, *args: Any) -> None:
        """Do one item's work in the session (a savepoint is open); raise to fail it alone."""

    def committed(self) -> None:
        """The batch committed: metrics and log lines that must not precede the commit."""


@dataclass(frozen=True)
class DrainResult:
    done: int
    failed: int

    def __str__(self) -> str:
        return f"{self.done} done, {self.failed} failed"


def _flag(spec: JobSpec) -> str:
    return f"batch:{spec.func}:queued"


def poke(connection: Redis, spec: JobSpec) -> bool:
    """Queue a drain job for `spec` unless one is already waiting. True if one was queued."""
    return bool(poke_all(connection, [spec]))


def poke_all(connection: Redis, specs: Sequence[JobSpec]) -> int:
    """`poke` for each; the flags in one round trip (a filing pokes two drains at commit)."""
    if not specs:
        return 0
    with connection.pipeline(transaction=False) as pipe:
        raise_flags(pipe, specs)
        raised = pipe.execute()
    return drain_raised(connection, specs, raised)


def raise_flags(pipe: Pipeline, specs: Sequence[JobSpec]) -> None:
    """The first half of a poke, in someone's pipeline: one flag per drain not yet queued."""
    for spec in specs:
        pipe.set(_flag(spec), "1", nx=True, ex=_FLAG_TTL_SECONDS)


def drain_raised(connection: Redis, specs: Sequence[JobSpec], raised: Sequence[Any]) -> int:
    """The second half: queue the drain of each spec whose flag this poke raised."""
    for spec in (spec for spec, up in zip(specs, raised, strict=True) if up):
        _enqueue_drain(connection, spec)
    return sum(1 for up in raised if up)


def _enqueue_drain(connection: Redis, spec: JobSpec) -> None:
    get_queue(spec.queue, connection).enqueue(
        DRAIN,
        spec.func,
        job_timeout=spec.timeout_seconds,
        # A drain that fails as a whole (the database went away) committed nothing; trying
        # again takes the same rows.
        retry=Retry(max=len(spec.retry), interval=list(spec.retry)),
        description=DRAIN,  # what RQ logs: no filing, no ids
        result_ttl=0,
        failure_ttl=7 * 24 * 3600,
    )


def claim(session: Session, spec: JobSpec, *, limit: int) -> Sequence[OutboxMessage]:
    """Pending rows of `spec` due now, oldest first, locked against other drainers."""
    now = utcnow()
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.job == spec.func)
        .where(col(OutboxMessage.dispatched_at).is_(None))
        .where(col(OutboxMessage.failed_at).is_(None))
        .where(
            or_(col(OutboxMessage.available_at).is_(None), col(OutboxMessage.available_at) <= now)
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def has_due_rows(session: Session, spec: JobSpec, *, older_than_seconds: float) -> bool:
    """Whether rows of `spec` wait that no drain may be coming for (the relay's check)."""
    now = utcnow()
    row = session.exec(
        select(OutboxMessage.id)
        .where(OutboxMessage.job == spec.func)
        .where(col(OutboxMessage.dispatched_at).is_(None))
        .where(col(OutboxMessage.failed_at).is_(None))
        .where(col(OutboxMessage.created_at) <= now - timedelta(seconds=older_than_seconds))
        .where(
            or_(col(OutboxMessage.available_at).is_(None), col(OutboxMessage.available_at) <= now)
        )
        .limit(1)
    ).first()
    return row is not None


def drain(func: str) -> str:
    """The RQ job: take one batch of `func`'s rows and work it (see the module docstring)."""
    spec = JOBS[func]
    connection = get_redis()
    # Cleared before claiming: a row committed after this point gets a drain of its own.
    connection.delete(_flag(spec))
    return str(drain_once(spec, connection=connection))


def drain_once(spec: JobSpec, *, connection: Redis | None) -> DrainResult:
    """Claim, handle and commit one batch; `connection` None: do not poke for the next."""
    assert spec.batch_handler is not None
    size = min(get_settings().batch_size, spec.max_batch or get_settings().batch_size)
    handler_class = _handler_class(spec.batch_handler)
    with session_scope() as session:
        rows = claim(session, spec, limit=size)
        if not rows:
            return DrainResult(0, 0)
        if len(rows) == size and connection is not None:
            poke(connection, spec)  # more may be waiting: another worker can take them
        ids = [row.id for row in rows]
        items = [list(row.args) for row in rows]
        handler = handler_class(session)
        failures: list[tuple[OutboxMessage, BaseException]] = []
        try:
            handler.prefetch(items)
            for args in items:
                handler.handle(*args)
            done: list[int | None] = list(ids)
        except Exception:
            # Someone's item failed: undo the whole attempt, then isolate it.
            session.rollback()
            rows = claim(session, spec, limit=size)
            handler, done, failures = _one_by_one(session, handler_class, rows)
        _mark_done(session, [i for i in done if i is not None])
        for failed_row, failure in failures:
            _schedule_retry(session, spec, failed_row, failure)
        session.commit()
    handler.committed()
    if failures:
        metrics.count(metrics.JOB_FAILURES, {"job": spec.func}, len(failures))
        kinds = ", ".join(sorted({exception_name(error) for _, error in failures}))
        log.warning("%s: %d item(s) failed (%s)", spec.func, len(failures), kinds)
    return DrainResult(done=len(done), failed=len(failures))


def _one_by_one(
    session: Session, handler_class: type[BatchHandler], rows: Sequence[OutboxMessage]
) -> tuple[BatchHandler, list[int | None], list[tuple[OutboxMessage, BaseException]]]:
    """Each item in a savepoint of its own: a failing one is rolled back alone."""
    handler = handler_class(session)
    handler.prefetch([list(row.args) for row in rows])
    done: list[int | None] = []
    failures: list[tuple[OutboxMessage, BaseException]] = []
    for row in rows:
        try:
            with session.begin_nested():
                handler.handle(*row.args)
        except Exception as error:  # one item's failure is its own, not the batch's
            failures.append((row, error))
            continue
        done.append(row.id)
    return handler, done, failures


def _handler_class(path: str) -> type[BatchHandler]:
    module, _, name = path.rpartition(".")
    handler: type[BatchHandler] = getattr(importlib.import_module(module), name)
    return handler


def _mark_done(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        # Done: only the day is kept (a row names a filing; see workers.outbox).
        .values(
            created_at=day_start(),
            dispatched_at=day_start(),
            available_at=None,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )


def _schedule_retry(
    session: Session, spec: JobSpec, row: OutboxMessage, exc: BaseException
) -> None:
    attempts = row.attempts + 1
    # Where it broke, never the message: it may quote the filing (a tip-off's text, a name).
    error = redacted_traceback(exc)[-500:]
    if attempts > len(spec.retry):
        values: dict[str, Any] = {"failed_at": day_start(), "available_at": None}
        log.error(
            "%s: an item failed %d times and is given up (%s); its outbox row %s says where",
            spec.func,
            attempts,
            exception_name(exc),
            row.id,
        )
    else:
        values = {"available_at": utcnow() + timedelta(seconds=spec.retry[attempts - 1])}
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id)
        .values(attempts=attempts, last_error=error, **values)
        .execution_options(synchronize_session=False)
    )
