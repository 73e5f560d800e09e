"""Group commit: filings that arrive while others are being written share one transaction.

A keyless filing's own work is a few INSERTs; around them, a transaction's BEGIN and
COMMIT, the rate limits' round trip to Redis, and the after-commit hand-off (a metric, the
drains' flags) cost it about as much again (bench/intake.py; docs/architecture.md). Here
each API process writes one group at a time, in a thread of its own (the committer).
Filings that arrive meanwhile wait on the event loop; when the committer is free it takes
all of them (up to `filing_group_size`) and:

1. counts every filing against its rate limits in one round trip (intake.limits.check_each);
   a refused filing gets its 429 and takes no part in the rest;
2. files the others in one transaction and commits it once, so the after-commit hand-off
   is one pipeline for the group;
3. answers each filing's request with its own answer.

A group never makes one filing's trouble another's. If a filing's work raises (an attachment
token already used, a bug), the transaction is rolled back and each filing of the group is
filed again in a transaction of its own: the others get their 201, the bad one its error,
and nothing of any of them is left half-written. Their rate limits were counted once, before
the transaction, so the second try counts nothing twice. When the database itself fails
(unreachable, no free connection), every filing of the group gets that 503.

At low load a group is one filing and nothing waits. Under load one committer per process
filed more than two did (wrk -c32, 2 workers, 2 cores: 719–895 against 699–791 durable
filings/s on SQLite, 696–850 against 507–734 on PostgreSQL); a second group can only wait
for the write lock, or run its statements beside the first, both taking turns at the GIL.

Filings with an Idempotency-Key and tip-offs keep a transaction of their own in the filing
threads (intake.idempotency.run_once, intake.filing_threads): a key's claim must be
committed or released on its own, and a tip-off's receipt hash (Argon2) would hold up a
group.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast
from weakref import WeakKeyDictionary

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from core.db import get_engine
from core.settings import get_settings
from intake import limits

log = logging.getLogger(__name__)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# The database failed, not a filing: filing each alone would fail the same way, one by one.
_DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


@dataclass(frozen=True)
class Filing(Generic[T_co]):
    """One filing for a group: the limits it counts against, and its work on the group's
    session (adds rows, does not commit), which returns the request's answer."""

    limits: Sequence[limits.Limit]
    work: Callable[[Session], T_co]
    # The request's context (its request id for the log), entered around its work.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)


def commit_group(filings: Sequence[Filing[T]]) -> list[T | BaseException]:
    """File `filings` in one transaction; each one's answer, or the exception that is its
    answer. Runs in a filing thread."""
    outcomes: list[T | BaseException | None] = list(limits.check_each([f.limits for f in filings]))
    todo = [i for i, refusal in enumerate(outcomes) if refusal is None]
    if todo:
        together: list[Filing[T]] = [filings[i] for i in todo]
        for i, outcome in zip(todo, _file_together(together), strict=True):
            outcomes[i] = outcome
    return cast("list[T | BaseException]", outcomes)


def _file_together(filings: Sequence[Filing[T]]) -> list[T | BaseException]:
    try:
        with Session(get_engine(), expire_on_commit=False) as session:
            answers = [filing.context.run(filing.work, session) for filing in filings]
            session.commit()
        return list(answers)
    except _DATABASE_DOWN as exc:
        return [exc] * len(filings)
    except Exception as exc:
        if len(filings) == 1:
            return [exc]
        # The type only: a database error's text carries the statement's parameters, which
        # are a filing's personal data.
        log.warning(
            "a group of %d filings failed (%s); filing each alone", len(filings), type(exc).__name__
        )
    alone: list[T | BaseException] = []
    for filing in filings:
        alone.append(_file_alone(filing))
    return alone


def _file_alone(filing: Filing[T]) -> T | BaseException:
    try:
        with Session(get_engine(), expire_on_commit=False) as session:
            answer = filing.context.run(filing.work, session)
            session.commit()
        return answer
    except Exception as exc:
        return exc


class _Groups:
    """One event loop's filings waiting for a thread, and the groups under way."""

    def __init__(self) -> None:
        self.waiting: deque[tuple[Filing[object], asyncio.Future[object]]] = deque()
        self.running = 0
        # The committer: a thread of its own, not one of the filing threads, so that a
        # tip-off's receipt hash or an SMS filing in those never holds up a group.
        self.thread = CapacityLimiter(1)
        self.tasks: set[asyncio.Task[None]] = set()

    async def file(self, filing: Filing[T]) -> T:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.waiting.append((cast("Filing[object]", filing), future))
        self._start()
        return cast("T", await future)

    def _start(self) -> None:
        while self.waiting and not self.running:
            size = min(get_settings().filing_group_size, len(self.waiting))
            group = [self.waiting.popleft() for _ in range(size)]
            self.running += 1
            task = asyncio.ensure_future(self._commit(group))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _commit(self, group: list[tuple[Filing[object], asyncio.Future[object]]]) -> None:
        outcomes: Sequence[object | BaseException]
        try:
            filings = [filing for filing, _ in group]
            outcomes = await anyio.to_thread.run_sync(commit_group, filings, limiter=self.thread)
        except BaseException as exc:  # the loop is closing, or a bug: no request waits forever
            outcomes = [exc] * len(group)
            raise
        finally:
            self.running -= 1
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():  # its request went away; the filing stands
                    continue
                if isinstance(outcome, asyncio.CancelledError):
                    future.cancel()
                elif isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            self._start()


_groups: WeakKeyDictionary[asyncio.AbstractEventLoop, _Groups] = WeakKeyDictionary()


async def file(limited_by: Sequence[limits.Limit], work: Callable[[Session], T]) -> T:
    """Count the filing against `limited_by`, run `work` on a group's session, commit; the
    answer `work` returned, or what it (or its refusal) raised."""
    loop = asyncio.get_running_loop()
    groups = _groups.get(loop)
    if groups is None:
        groups = _groups[loop] = _Groups()
    return await groups.file(Filing(limited_by, work))
