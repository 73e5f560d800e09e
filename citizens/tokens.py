"""A citizen's signed-in state: a short-lived JWT scoped to one phone number.

Not a staff token, and it cannot pass for one (nor one for it): it is signed with a key
derived from the secret for this purpose alone, and it must carry the audience `citizen`.
Staff tokens are checked with the secret itself, so a citizen token's signature fails there.
It holds the number it was issued for (the citizen's own, in their own browser or client),
an id, and its expiry; no table. Signing out puts the id on a deny list in Redis until the
token would have expired anyway. Reading that list fails open, as the rate limits do: a
token is minutes long, and the browser has dropped its cookie already.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from redis.exceptions import RedisError

from core.errors import NotAuthenticated
from core.redis import get_redis
from core.settings import get_settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)

_ALGORITHM = "HS256"
_AUDIENCE = "citizen"


@dataclass(frozen=True)
class CitizenSession:
    phone: str  # E.164, as filings store contact_phone
    token_id: str
    expires_at: int  # Unix seconds


def _key() -> str:
    secret = get_settings().signing_key().encode()
    return hmac.new(secret, b"citizen-session-token", hashlib.sha256).hexdigest()


def _revoked_key(token_id: str) -> str:
    return f"citizen:signed-out:{token_id}"


def issue(phone: str) -> tuple[str, int]:
    """A token for `phone` and the seconds it lasts."""
    seconds = get_settings().citizen_session_minutes * 60
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": phone,
        "aud": _AUDIENCE,
        "jti": secrets.token_urlsafe(16),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=seconds)).timestamp()),
    }
    return jwt.encode(claims, _key(), algorithm=_ALGORITHM), seconds


def read(token: str | None) -> CitizenSession:
    """The session a token stands for; NotAuthenticated if none, bad, expired or signed out."""
    if not token:
        raise NotAuthenticated(
            "sign in first: POST /api/v1/citizen/code, then /api/v1/citizen/session, "
            "and send Authorization: Bearer <token>"
        )
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "aud", "jti", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("signed in too long ago; ask for a new code") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("not a citizen sign-in token") from exc
    session = CitizenSession(
        phone=str(claims["sub"]), token_id=str(claims["jti"]), expires_at=int(claims["exp"])
    )
    try:
        revoked = get_redis().exists(_revoked_key(session.token_id))
    except RedisError:
        log.warning("citizen sign-out list not checked: Redis unreachable")
        revoked = 0
    if revoked:
        raise NotAuthenticated("signed out; ask for a new code to sign in again")
    return session


def revoke(session: CitizenSession) -> None:
    """Sign out: the token is refused from now until it would have expired."""
    left = session.expires_at - int(utcnow().timestamp())
    if left <= 0:
        return
    try:
        get_redis().set(_revoked_key(session.token_id), b"1", ex=left)
    except RedisError:
        log.warning("citizen sign-out not recorded: Redis unreachable")
