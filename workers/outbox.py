"""The transactional outbox: a job is written in the transaction that needs it, then sent.

`enqueue_after_commit` adds the outbox row to the caller's transaction and sends the job
to Redis as soon as that transaction commits. If Redis is down then, the row stays
pending and `relay_pending` (the relay process) sends it later. A job may therefore run
more than once; every job is idempotent. Batched jobs (workers.batches) are not sent one by
one: after commit, and from the relay, their drain job is poked instead.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import insert, inspect, update
from sqlmodel import Session, col, select

from core import after_commit, write_behind
from core.settings import get_settings
from core.timeutil import day_start, utcnow
from schemas.outbox import OUTBOX, OutboxMessage
from workers import batches
from workers.queues import BATCHED, JOBS, JobSpec, enqueue_job

log = logging.getLogger(__name__)
_PENDING_KEY = "outbox_pending_ids"


def enqueue_after_commit(session: Session, spec: JobSpec, *args: object) -> OutboxMessage:
    """Write `spec(*args)` to the outbox in the caller's transaction; send it after commit."""
    message = OutboxMessage(job=spec.func, queue=spec.queue, args=list(args))
    session.add(message)  # not flushed here: the commit writes all of a filing's rows at once
    _pending(session).append(message)
    return message


def enqueue_all_after_commit(
    session: Session, jobs: Sequence[tuple[JobSpec, Sequence[object]]]
) -> None:
    """`enqueue_after_commit` for several jobs in one INSERT, with no ORM objects: the
    intake path's jobs (routing and the duplicate search of each new filing)."""
    if not jobs:
        return
    now = utcnow()
    rows = [
        {"job": spec.func, "queue": spec.queue, "args": list(args), "created_at": now}
        for spec, args in jobs
    ]
    reserved = write_behind.reserve_ids(session, OUTBOX, len(rows))
    if reserved is not None:  # a group's rows, written with the others (core.write_behind)
        write_behind.insert_later(
            session,
            OUTBOX,
            [{"id": row_id, **row} for row_id, row in zip(reserved, rows, strict=True)],
        )
        _pending(session).extend(
            (row_id, spec.func) for row_id, (spec, _) in zip(reserved, jobs, strict=True)
        )
        return
    # Parameters, not literals: one statement shape, compiled once (SQLAlchemy sends the
    # rows as one multi-row INSERT … RETURNING).
    written = session.execute(insert(OUTBOX).returning(OUTBOX.c.id, OUTBOX.c.job), rows)
    _pending(session).extend((int(row_id), job) for row_id, job in written)


_Pending = OutboxMessage | tuple[int, str]  # an ORM row, or (id, job) of a row written by Core


def _pending(session: Session) -> list[_Pending]:
    # Dropped if the transaction rolls back. A rolled-back savepoint keeps the outer
    # transaction's jobs; rows it undid are simply not found when the commit sends the rest.
    pending: list[_Pending] = after_commit.pending(session, _PENDING_KEY, _after_commit)
    return pending


def _written(entry: _Pending) -> tuple[int, str] | None:
    """(id, job) of a row the commit wrote; None for a row of a rolled-back savepoint."""
    if isinstance(entry, tuple):
        return entry
    state = inspect(entry)
    return None if state.identity is None else (int(state.identity[0]), entry.job)


def _after_commit(session: Session) -> after_commit.Contribution | None:
    """Poke the drains of the committed batched rows in the shared after-commit pipeline,
    then send the other rows to RQ (a fresh session: the committed one is mid-commit)."""
    entries: list[_Pending] = session.info.pop(_PENDING_KEY, [])
    pending = [written for entry in entries if (written := _written(entry)) is not None]
    if not pending:
        return None
    batched = {spec.func: spec for spec in BATCHED}
    specs = [batched[f] for f in sorted({f for _, f in pending}) if f in batched]
    ids = [row_id for row_id, func in pending if func not in batched]
    bind = session.get_bind()

    def done(connection: Redis, raised: Sequence[Any]) -> None:
        try:
            # Batched rows stay where they are (they are their drain's queue).
            batches.drain_raised(connection, specs, raised)
            if ids:
                with Session(bind) as fresh:
                    dispatch(fresh, ids=ids, connection=connection)
                    fresh.commit()
        except Exception:  # the relay will send what this could not
            log.warning("outbox: sending after commit failed; the relay will retry", exc_info=True)

    def failed(exc: RedisError) -> None:
        log.warning("outbox: Redis unreachable after commit (%s); the relay will retry", exc)

    return after_commit.Contribution(
        add=lambda pipe: batches.raise_flags(pipe, specs), done=done, failed=failed
    )


def job_id_for(outbox_id: int) -> str:
    """The same outbox row always makes the same job id (no double enqueue), but the id is
    a keyed hash: RQ logs it with the time, and it must not lead back to a filing."""
    key = get_settings().signing_key().encode()
    return "job-" + hmac.new(key, f"outbox-{outbox_id}".encode(), hashlib.sha256).hexdigest()[:24]


def dispatch(session: Session, *, ids: Sequence[int], connection: Redis) -> int:
    """Send the given pending outbox rows to Redis; mark each sent. Returns how many were sent.

    Rows of batched jobs stay pending (they are the batch's queue): their drain is poked.
    """
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .where(col(OutboxMessage.dispatched_at).is_(None))
        .order_by(col(OutboxMessage.id))
    ).all()
    batched = {spec.func: spec for spec in BATCHED}
    for func in sorted({row.job for row in rows if row.job in batched}):
        batches.poke(connection, batched[func])
    return _send(session, [row for row in rows if row.job not in batched], connection)


@dataclass(frozen=True)
class Relayed:
    sent: int  # jobs handed to RQ
    poked: int  # batched jobs whose drain was queued

    def __bool__(self) -> bool:
        return bool(self.sent or self.poked)


def relay_pending(
    session: Session, *, connection: Redis, grace_seconds: float, limit: int
) -> Relayed:
    """Send pending rows older than `grace_seconds` (younger ones are their request's job);
    poke the drain of every batched job with rows that old still waiting."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.dispatched_at).is_(None))
        .where(col(OutboxMessage.job).not_in([spec.func for spec in BATCHED]))
        .where(col(OutboxMessage.created_at) <= cutoff)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    ).all()
    sent = _send(session, rows, connection)
    poked = 0
    for spec in BATCHED:
        if batches.has_due_rows(session, spec, older_than_seconds=grace_seconds):
            poked += batches.poke(connection, spec)
    return Relayed(sent=sent, poked=poked)


def _send(session: Session, rows: Sequence[OutboxMessage], connection: Redis) -> int:
    sent = 0
    for row in rows:
        assert row.id is not None
        spec = JOBS.get(row.job)
        if spec is None:
            _record_failure(session, row.id, f"unknown job {row.job}")
            continue
        try:
            enqueue_job(connection, spec, list(row.args), job_id=job_id_for(row.id))
        except RedisError as exc:
            _record_failure(session, row.id, f"{type(exc).__name__}: {exc}")
            # Redis is unreachable: the rest of the batch would fail the same way.
            break
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row.id)
            # Sent: only the day is kept. A row names a filing, and a tip-off's filing
            # must not be tied to a time of day after the fact.
            .values(
                created_at=day_start(),
                dispatched_at=day_start(),
                attempts=OutboxMessage.attempts + 1,
            )
        )
        sent += 1
    return sent


def _record_failure(session: Session, message_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(attempts=OutboxMessage.attempts + 1, last_error=error[:500])
    )
