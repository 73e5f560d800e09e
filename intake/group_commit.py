"""Group commit: filings that arrive while others are being written share one transaction.

A keyless filing's own work is a few INSERTs; around them, a transaction's BEGIN and
COMMIT, the rate limits' round trip to Redis, and the after-commit hand-off (a metric, the
drains' flags) cost it about as much again (bench/intake.py; docs/architecture.md). Here
each API process writes one group at a time, in a thread of its own (the committer).
Filings that arrive meanwhile wait on the event loop; when the committer is free it takes
all of them (up to `filing_group_size`) and:

1. counts every filing against its rate limits in one round trip (intake.limits.check_each);
   a refused filing gets its 429 and takes no part in the rest;
2. files the others in one transaction, their rows written together, one INSERT per table
   (core.write_behind), and commits it once, so the after-commit hand-off is one pipeline
   for the group;
3. answers each filing's request with its own answer.

Under load (a group of several filings, or others waiting for the committer) the answers go
out as soon as the group is committed, and its after-commit hand-off to Redis (the drains'
flags, the filings metric; core.after_commit) follows in the committer. That round trip
was about a fifth of a group's time in the committer, and every request of the group, and
every filing waiting for the next group, waited for it: in paired runs of bench/intake.py's
load (SQLite, 2 workers, wrk -c32) 1.18–1.26× the filings per second, at 18 % less API CPU
a filing, since requests answered sooner come back sooner and the groups grow. The rows
are committed before any answer, and the relay sends any job whose hand-off never ran
(workers.outbox). A lone filing with none waiting keeps the plain order, hand-off then
answer: nothing waits for it, and a client that reads what the hand-off feeds right after
its answer (the drain's job, the metric) finds it there.

A group never makes one filing's trouble another's. If a filing's work raises (an attachment
token already used, a deadlock, a bug), the transaction is rolled back and each filing of
the group is filed again in a transaction of its own: the others get their 201, the bad one
its error, and nothing of any of them is left half-written. Their rate limits were counted
once, before the transaction, so the second try counts nothing twice. When the database
itself fails (unreachable, no free connection), every filing of the group gets that 503.

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
import contextlib
import contextvars
import functools
import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast
from weakref import WeakKeyDictionary

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from core import after_commit, write_behind
from core.db import get_engine
from core.settings import get_settings
from intake import limits

log = logging.getLogger(__name__)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


def database_down(exc: BaseException) -> bool:
    """The database failed, not a filing: its connection, the pool, or (SQLite) the file.
    Filing each alone would fail the same way, one by one. A deadlock, a serialization
    failure or a lock timeout (PostgreSQL's class 40, 55, 57) is one filing's trouble: those
    go back to be filed alone."""
    if isinstance(exc, PoolTimeout | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        state = getattr(exc.orig, "sqlstate", None)  # psycopg's; none when it never connected
        return state is None or str(state).startswith("08")
    return False


@dataclass(frozen=True)
class Filing(Generic[T_co]):
    """One filing for a group: the limits it counts against, and its work on the group's
    session (adds rows, does not commit), which returns the request's answer."""

    limits: Sequence[limits.Limit]
    work: Callable[[Session], T_co]
    # The request's context (its request id for the log), entered around its work.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    # The ids its work draws in advance, per table (core.write_behind.reserve_ids): the
    # group draws everyone's at once. Only a hint: a filing that draws more gets more.
    ids: Mapping[Table, int] = field(default_factory=dict)


def commit_group(
    filings: Sequence[Filing[T]], committed: Callable[[Sequence[T | BaseException]], None]
) -> list[T | BaseException]:
    """File `filings` in one transaction; each one's answer, or the exception that is its
    answer. Runs in the process's committer thread. `committed` gets those answers once
    the group is committed and before its after-commit hand-off to Redis
    (core.after_commit), which then follows in this thread: the caller may answer the
    requests there (`_Groups._commit`; the module's doc says when and why)."""
    outcomes: list[T | BaseException | None] = list(limits.check_each([f.limits for f in filings]))
    todo = [i for i, refusal in enumerate(outcomes) if refusal is None]
    handoff = None
    if todo:
        together: list[Filing[T]] = [filings[i] for i in todo]
        answers, handoff = _file_together(together)
        for i, outcome in zip(todo, answers, strict=True):
            outcomes[i] = outcome
    final = cast("list[T | BaseException]", outcomes)
    if handoff is not None:
        committed(final)
        try:
            handoff()
        except Exception:  # a bug: the rows are committed, and the relay sends their jobs
            log.warning("the after-commit hand-off of a group of filings failed", exc_info=True)
    return final


def _file_together(
    filings: Sequence[Filing[T]],
) -> tuple[list[T | BaseException], Callable[[], None] | None]:
    """The filings' answers, and their committed transaction's after-commit hand-off, kept
    for the caller to run (core.after_commit.hold; None when it had nothing to send)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        deferred = _defers(session, len(filings))
        try:
            if deferred:  # their INSERTs go out together, one statement per table
                ids: Counter[Table] = Counter()
                for filing in filings:
                    ids.update(filing.ids)
                write_behind.defer(session, expected=len(filings), ids=ids)
            answers = [filing.context.run(filing.work, session) for filing in filings]
            # What the commit would write: a conflict here is a filing's.
            write_behind.write_now(session)
            session.flush()
        except Exception as exc:
            session.rollback()
            if database_down(exc):
                return [exc] * len(filings), None
            if len(filings) == 1 and not (deferred and isinstance(exc, IntegrityError)):
                # A lone filing's own error is its answer. Deferred, its rows may have met
                # a number taken meanwhile when they went out: filed again alone, it draws
                # another, as the plain INSERTs do.
                return [exc], None
            # The type only: a database error's text carries the statement's parameters,
            # which are a filing's personal data.
            log.warning(
                "a group of %d filings failed (%s); filing each alone",
                len(filings),
                type(exc).__name__,
            )
            failed = True
        else:
            failed = False
            after_commit.hold(session)
            try:
                session.commit()
            except Exception as exc:
                # Never filed again: a COMMIT that failed may have been written all the same
                # (the connection lost after the server committed). Each request gets the
                # error (503 for a database down), and a retry with an Idempotency-Key is safe.
                return [exc] * len(filings), None
            return list(answers), after_commit.held(session)
    assert failed
    alone: list[T | BaseException] = []
    for filing in filings:
        alone.append(_file_alone(filing))
    return alone, None


def _defers(session: Session, filings: int) -> bool:
    """Whether the group's INSERTs wait to go out together (core.write_behind). A group of
    one too on SQLite: its ids come from a short transaction of its own, but its three
    INSERTs go to the driver directly, not through SQLAlchemy's statement path (in-process,
    1.35 against 1.49–1.57 ms of CPU a filing, three paired runs). On PostgreSQL the ids'
    round trip and the array casts cost a lone filing more than they save (2.0 against
    2.3–2.8 ms). A deferred filing alone whose rows fail a constraint when they go out is
    filed again without deferring, where a tracking number already taken is drawn again."""
    return filings > 1 or session.get_bind().dialect.name == "sqlite"


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
        self.tasks: set[asyncio.Task[list[object | BaseException]]] = set()

    async def file(self, filing: Filing[T]) -> T:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.waiting.append((cast("Filing[object]", filing), future))
        self._start()
        return cast("T", await future)

    def _start(self) -> None:
        size = get_settings().filing_group_size
        while self.waiting and not self.running:
            group: list[tuple[Filing[object], asyncio.Future[object]]] = []
            while self.waiting and len(group) < size:
                filing, future = self.waiting.popleft()
                if not future.done():  # a request that gave up while waiting is not filed
                    group.append((filing, future))
            if not group:
                return
            self.running += 1
            # A context of its own: the committer's log lines belong to no one request.
            task = asyncio.get_running_loop().create_task(
                self._commit(group), context=contextvars.Context()
            )
            self.tasks.add(task)
            task.add_done_callback(functools.partial(self._done, group))

    async def _commit(
        self, group: list[tuple[Filing[object], asyncio.Future[object]]]
    ) -> list[object | BaseException]:
        # Nothing awaits or cancels this task but the loop's own shutdown; its bookkeeping is
        # in `_done`, which runs however it ends (even cancelled before its first step).
        loop = asyncio.get_running_loop()
        futures = [future for _, future in group]

        def committed(outcomes: Sequence[object | BaseException]) -> None:
            """In the committer, once the group is committed: under load its requests are
            answered now, before its hand-off to Redis (see `commit_group`)."""
            if len(futures) > 1 or self.waiting:
                with contextlib.suppress(RuntimeError):  # the loop closed: `_done` answers
                    loop.call_soon_threadsafe(_answer_each, futures, outcomes)

        filings = [filing for filing, _ in group]
        return await anyio.to_thread.run_sync(commit_group, filings, committed, limiter=self.thread)

    def _done(
        self,
        group: list[tuple[Filing[object], asyncio.Future[object]]],
        task: asyncio.Task[list[object | BaseException]],
    ) -> None:
        """Every request of the group gets its answer, whatever became of the task."""
        self.tasks.discard(task)
        self.running -= 1
        outcomes: Sequence[object | BaseException]
        if task.cancelled():  # the loop is closing
            outcomes = [asyncio.CancelledError()] * len(group)
        elif (error := task.exception()) is not None:  # a bug: no request waits forever
            outcomes = [error] * len(group)
        else:
            outcomes = task.result()
        _answer_each([future for _, future in group], outcomes)
        if not task.cancelled():
            self._start()


def _answer_each(
    futures: Sequence[asyncio.Future[object]], outcomes: Sequence[object | BaseException]
) -> None:
    for future, outcome in zip(futures, outcomes, strict=True):
        _answer(future, outcome)


def _answer(future: asyncio.Future[object], outcome: object | BaseException) -> None:
    if future.done():  # answered before the hand-off, or its request went away meanwhile
        return
    if isinstance(outcome, asyncio.CancelledError):
        future.cancel()
    elif isinstance(outcome, StopIteration):  # a Future refuses it
        future.set_exception(RuntimeError(f"{type(outcome).__name__} while filing"))
    elif isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


_groups: WeakKeyDictionary[asyncio.AbstractEventLoop, _Groups] = WeakKeyDictionary()


async def file(
    limited_by: Sequence[limits.Limit],
    work: Callable[[Session], T],
    *,
    ids: Mapping[Table, int] | None = None,
) -> T:
    """Count the filing against `limited_by`, run `work` on a group's session, commit; the
    answer `work` returned, or what it (or its refusal) raised. `ids`: what `work` draws
    (see `Filing.ids`)."""
    loop = asyncio.get_running_loop()
    groups = _groups.get(loop)
    if groups is None:
        groups = _groups[loop] = _Groups()
    return await groups.file(Filing(limited_by, work, ids=ids or {}))


async def settled() -> None:
    """Wait until every group this event loop's committer has taken is done, its hand-off
    to Redis included: under load a group's requests are answered before it (see the
    module's doc). For a server shutting down, and for a client in the same process that
    reads what the hand-offs feed."""
    groups = _groups.get(asyncio.get_running_loop())
    while groups is not None and groups.tasks:
        await asyncio.wait(set(groups.tasks))
