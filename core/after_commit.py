"""Redis work that waits for a session's transaction to commit, sent in one round trip.

A filing counts a metric and pokes the drains of its jobs once it is committed; each was a
round trip of its own, and together they cost a filing more than its INSERTs. Modules now
register a contributor for the transaction; at commit every contributor adds its commands to
one pipeline and gets its own results back. A rolled-back transaction sends nothing.

Nothing here may fail the work that committed: a Redis error goes to each contributor's
`failed`, which decides what is lost (a metric) and what the relay will send later (a job).

A caller may `hold` a session's hand-off: its commit then leaves the round trip in the
session (`held`) for the caller to run when it chooses, such as after answering the requests
whose rows the transaction wrote (intake.group_commit). Whatever happens in between, the
committed rows are what the relay reads, so a hand-off that never runs loses nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from core.redis import get_redis, note_failure
from core.redis import paused as redis_paused

log = logging.getLogger(__name__)
_KEY = "redis_after_commit"
_LISTS = "redis_after_commit_lists"  # session.info keys of the contributors' lists
_HOLD = "redis_after_commit_hold"  # the next commit's hand-off waits for the caller
_HELD = "redis_after_commit_held"  # that hand-off, ready to run


@dataclass(frozen=True)
class Contribution:
    """Commands for the shared pipeline, and what to do with their answers."""

    add: Callable[[Pipeline], None]
    done: Callable[[Redis, Sequence[Any]], None]  # its own results, in order
    failed: Callable[[RedisError], None] = lambda _exc: None


# Called once at commit with the session; None when it has nothing to send after all.
Contributor = Callable[[Session], Contribution | None]


def _register(session: Session, contributor: Contributor) -> None:
    """Have `contributor` add its commands when this session's transaction commits."""
    contributors: list[Contributor] = session.info.setdefault(_KEY, [])
    if contributor not in contributors:
        contributors.append(contributor)


def pending(session: Session, key: str, contributor: Contributor) -> list[Any]:
    """The transaction's list `key` of work for `contributor` (who pops it at commit):
    registered on first use, dropped with the transaction if it rolls back."""
    items: list[Any] = session.info.setdefault(key, [])
    if not items:
        _register(session, contributor)
        session.info.setdefault(_LISTS, set()).add(key)
    return items


def hold(session: Session) -> None:
    """Have the session's next commit keep its hand-off for `held`, not send it."""
    session.info[_HOLD] = True


def held(session: Session) -> Callable[[], None] | None:
    """The hand-off a held commit kept (None when it had nothing to send): run it once.
    Also stops holding, so a later commit of the session sends its own at once."""
    session.info.pop(_HOLD, None)
    handoff: Callable[[], None] | None = session.info.pop(_HELD, None)
    return handoff


def _forget(session: Session) -> None:
    # A rolled-back savepoint keeps the outer transaction's work; each contributor finds
    # what of its own survived when the commit comes.
    if _KEY in session.info and not session.in_nested_transaction():
        session.info.pop(_KEY, None)
        for key in session.info.pop(_LISTS, set()):
            session.info.pop(key, None)


def _send(session: Session) -> None:
    if _KEY not in session.info or session.in_nested_transaction():
        return  # nothing registered, or a savepoint released: the real commit is to come
    contributors: list[Contributor] = session.info.pop(_KEY, [])
    session.info.pop(_LISTS, None)  # each contributor pops its own list now
    contributions = [c for each in contributors if (c := _contribution(each, session))]
    if not contributions:
        return
    if session.info.pop(_HOLD, False):
        session.info[_HELD] = functools.partial(_deliver, contributions)
        return
    _deliver(contributions)


def _deliver(contributions: Sequence[Contribution]) -> None:
    if redis_paused():
        skipped = RedisError("Redis timed out a moment ago; not tried")
        for contribution in contributions:
            _call(contribution.failed, skipped)
        return
    _run(get_redis(), contributions)


# Listened to once for every session, not per transaction (a listen cost a group of filings
# more than its Redis commands took to build); a session with nothing registered returns
# at once.
event.listen(OrmSession, "after_commit", _send)
event.listen(OrmSession, "after_rollback", _forget)


def _contribution(contributor: Contributor, session: Session) -> Contribution | None:
    # The transaction is committed: an error here must not reach its caller, who would take
    # the work for undone (and a group of filings would be filed again).
    try:
        return contributor(session)
    except Exception as exc:
        log.warning("after-commit step not prepared (%s)", type(exc).__name__)
        return None


def _run(connection: Redis, contributions: Sequence[Contribution]) -> None:
    """One pipeline for all `contributions`; each gets its slice of the results."""
    spans: list[tuple[Contribution, int, int]] = []
    try:
        with connection.pipeline(transaction=False) as pipe:
            for contribution in contributions:
                start = len(pipe)
                contribution.add(pipe)
                spans.append((contribution, start, len(pipe)))
            results = pipe.execute(raise_on_error=False)
    except RedisError as exc:
        note_failure(exc)
        for contribution in contributions:
            _call(contribution.failed, exc)
        return
    for contribution, start, end in spans:
        own = results[start:end]
        error = next((r for r in own if isinstance(r, RedisError)), None)
        if error is not None:
            _call(contribution.failed, error)
        else:
            _call(contribution.done, connection, own)


def _call(callback: Callable[..., None], *args: Any) -> None:
    try:
        callback(*args)
    except Exception:  # one contributor's trouble is not the others'
        log.warning("after-commit step failed", exc_info=True)
