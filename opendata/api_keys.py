"""Open311 API keys: 32 random bytes shown once, only their SHA-256 kept.

A plain hash is enough here (not Argon2 as for passwords): the key is random and long,
so there is nothing to guess from its hash, and every POST checks it at no cost.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from core.errors import Conflict, InvalidInput, NotFound
from core.timeutil import utcnow
from schemas.formats import trim
from schemas.open311 import Open311Key

PREFIX = "o311_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(session: Session, *, name: str) -> str:
    """A new key for the client system `name` (caller commits); the key is returned once."""
    name = trim(name)
    if not 2 <= len(name) <= 100:
        raise InvalidInput("--name: 2 to 100 characters")
    if session.exec(select(Open311Key).where(Open311Key.name == name)).first():
        raise Conflict(f"a key named {name!r} exists; revoke it or choose another name")
    raw = PREFIX + secrets.token_urlsafe(32)
    session.add(Open311Key(name=name, key_hash=_hash(raw)))
    session.flush()
    return raw


def revoke_key(session: Session, *, name: str) -> None:
    key = session.exec(select(Open311Key).where(Open311Key.name == name.strip())).first()
    if key is None:
        raise NotFound(f"no key named {name!r}")
    key.active, key.revoked_at = False, utcnow()
    session.add(key)


def key_for(session: Session, raw: str | None) -> Open311Key | None:
    """The active key `raw` is, or None."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    return session.exec(
        select(Open311Key)
        .where(col(Open311Key.key_hash) == _hash(raw))
        .where(col(Open311Key.active))
    ).first()
