"""Password hashing (Argon2) and signed, expiring staff tokens (JWT, HS256)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import NotAuthenticated
from core.timeutil import utcnow

_hasher = PasswordHasher()
_ALGORITHM = "HS256"


@cache
def dummy_hash() -> str:
    """A hash of a random password: checking unknown usernames against it costs the same time
    as checking a real one, so response times do not reveal which usernames exist.

    Made on first use, not at import: it takes 0.15 s, which every process (each CLI command,
    each worker) paid at start-up. The API makes it while starting (service.app), so its
    first unknown username costs what the others do."""
    return _hasher.hash("unused-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(*, subject: str, role: str, epoch: int, key: str, ttl_minutes: int) -> str:
    """A signed token for `subject`; `epoch` is the account's credentials version, checked
    against the stored one on every request (accounts.service.staff_from_token)."""
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role,
        "epoch": epoch,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=ttl_minutes)).timestamp()),
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def read_token(token: str, *, key: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[_ALGORITHM], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("token expired; sign in again") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("invalid token") from exc
    return claims
