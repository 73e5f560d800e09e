"""Exactly-once intake: an Idempotency-Key makes a retried request return the first answer.

The key is claimed in its own short transaction, so a retry that arrives while the first
request is still running sees it in flight (409). The work and the stored answer then
commit together: either both are there or neither, and a request that dies leaves only
the claim, which a retry may take over once it is older than the in-flight timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.errors import Conflict, InvalidInput
from core.settings import get_settings
from core.timeutil import day_start, utcnow
from schemas.idempotency import IdempotencyKey

MAX_KEY_LENGTH = 200
_HEADER = "Idempotency-Key"
_DESCRIPTION = "Retries with the same key and body get the first answer (kept 24 h)."
# The header as the filing routes document it (`openapi_extra`): they read it themselves
# (`key_of`) rather than declare it as a parameter, whose validation by FastAPI was 2.5 %
# of a filing's CPU for a header most filings do not send. `run_once` checks it.
OPENAPI_HEADER: dict[str, Any] = {
    "parameters": [
        {
            "name": _HEADER,
            "in": "header",
            "required": False,
            "schema": {
                "anyOf": [
                    {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
                    {"type": "null"},
                ],
                "description": _DESCRIPTION,
                "title": _HEADER,
            },
            "description": _DESCRIPTION,
        }
    ]
}


def key_of(request: Request) -> str | None:
    """The request's Idempotency-Key, None without one (`run_once` refuses a bad one)."""
    return request.headers.get(_HEADER)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replay_body: Any = None  # what a retry gets, when not all of `body` may be kept


def fingerprint(content: Any) -> str:
    """The same content, however its JSON was spaced or ordered, has the same fingerprint."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def client_scope(*, staff_id: int | None, client_address: str | None) -> str:
    """Whose key it is. Anonymous clients by a keyed hash of their address: no address kept."""
    if staff_id is not None:
        return f"staff:{staff_id}"
    key = get_settings().signing_key().encode()
    digest = hmac.new(key, (client_address or "unknown").encode(), hashlib.sha256).hexdigest()
    return f"client:{digest[:40]}"


def run_once(
    session: Session,
    *,
    scope: Callable[[], str],
    key: str | None,
    content: Callable[[], Any],
    produce: Callable[[], Answer],
    coarse: bool = False,
) -> Answer:
    """Run `produce` (which adds to `session` and does not commit) at most once per key.

    `scope` (whose key it is) and `content` (what the key stands for) are asked for only
    when there is a key: most filings come without one, and the keyed hash and the JSON
    dump were 6 % of such a filing's time, spent for nothing.
    """
    if key is None:
        answer = produce()
        session.commit()
        return answer
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} characters")
    digest = fingerprint(content())
    owner = scope()
    replay = _claim(session, scope=owner, key=key, fingerprint=digest)
    if replay is not None:
        return replay
    try:
        answer = produce()
        row = _row(session, owner, key)
        assert row is not None
        row.state = "done"
        row.response_status = answer.status
        row.response_body = answer.body if answer.replay_body is None else answer.replay_body
        if coarse:  # a tip-off: the key's row keeps the day, not the time
            row.created_at = day_start()
            row.expires_at = day_start() + timedelta(
                hours=get_settings().idempotency_ttl_hours, days=1
            )
        session.add(row)
        session.commit()
    except BaseException:
        session.rollback()
        _release(session, scope=owner, key=key)
        raise
    return answer


def _claim(session: Session, *, scope: str, key: str, fingerprint: str) -> Answer | None:
    settings = get_settings()
    now = utcnow()
    for _ in range(3):
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyKey(
                        scope=scope,
                        key=key,
                        fingerprint=fingerprint,
                        state="in_flight",
                        created_at=now,
                        expires_at=now + timedelta(hours=settings.idempotency_ttl_hours),
                    )
                )
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
        existing = _row(session, scope, key)
        if existing is None:
            continue  # released between our insert and our read: try again
        if existing.expires_at <= now:
            session.delete(existing)
            session.commit()
            continue
        if existing.fingerprint != fingerprint:
            session.rollback()
            raise InvalidInput("this Idempotency-Key was used with a different request body")
        if existing.state == "in_flight":
            stale = existing.created_at <= now - timedelta(
                seconds=settings.idempotency_in_flight_seconds
            )
            if not stale:
                session.rollback()
                raise Conflict("a request with this Idempotency-Key is still being processed")
            # The first request died: this one takes over, unless another retry just did.
            taken = session.execute(
                update(IdempotencyKey)
                .where(col(IdempotencyKey.id) == existing.id)
                .where(col(IdempotencyKey.state) == "in_flight")
                .where(col(IdempotencyKey.created_at) == existing.created_at)
                .values(created_at=now)
            )
            session.commit()
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict("a request with this Idempotency-Key is still being processed")
            return None
        session.rollback()
        return Answer(status=existing.response_status or 200, body=existing.response_body)
    raise Conflict("could not claim the Idempotency-Key; retry")


def _row(session: Session, scope: str, key: str) -> IdempotencyKey | None:
    return session.exec(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope).where(IdempotencyKey.key == key)
    ).first()


def _release(session: Session, *, scope: str, key: str) -> None:
    session.execute(
        delete(IdempotencyKey)
        .where(col(IdempotencyKey.scope) == scope)
        .where(col(IdempotencyKey.key) == key)
        .where(col(IdempotencyKey.state) == "in_flight")
    )
    session.commit()


def purge_expired(session: Session) -> int:
    result = session.execute(
        delete(IdempotencyKey).where(col(IdempotencyKey.expires_at) <= utcnow())
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
