"""Receipt codes: how a tip-off's reporter, named or not, follows the case without an account.

A code is 24 random digits: the first 8 find the row (the locator), the whole code is
checked against an Argon2 hash, the only form in which it is kept. It is shown once.
Guessing is throttled in Redis: a locator locks after a few wrong tries, and wrong tries
over all codes together are capped per window, after which every look-up waits for the
window to end. Unknown locators cost the same Argon2 check as known ones, so timing does
not tell which exist. If Redis is down, look-ups are refused (fail closed), not unthrottled.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.errors import NotFound, ServiceUnavailable
from core.redis import get_redis
from core.settings import get_settings
from core.timeutil import china_today
from intake.limits import TooManyRequests
from schemas.complaint import Complaint
from schemas.reward import TipReceipt

LOCATOR_DIGITS = 8
SECRET_DIGITS = 16
CODE_DIGITS = LOCATOR_DIGITS + SECRET_DIGITS
# Argon2id with OWASP's parameters (t=2, 19 MiB, p=1): the secret is 16 random digits, so
# even a stolen database costs 10^16 checks of ~35 ms each; lighter than the password
# hasher, because every tip-off draws one.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_DUMMY_HASH = _hasher.hash("0" * CODE_DIGITS)
_ATTEMPTS = 10


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def display(code: str) -> str:
    """In groups of four, for reading aloud and copying: 1234 5678 …"""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize(raw: str) -> str | None:
    digits = re.sub(r"[\s\-]", "", raw)
    return digits if re.fullmatch(rf"\d{{{CODE_DIGITS}}}", digits) else None


def issue(session: Session, *, complaint_id: int) -> str:
    """A new code for the tip-off, kept as a hash; the caller shows the code once."""
    for _ in range(_ATTEMPTS):
        code = _digits(CODE_DIGITS)
        try:
            with session.begin_nested():
                session.add(
                    TipReceipt(
                        complaint_id=complaint_id,
                        locator=code[:LOCATOR_DIGITS],
                        code_hash=_hasher.hash(code),
                        issued_on=china_today(),
                    )
                )
        except IntegrityError:
            continue  # the locator is taken: draw again
        return code
    raise RuntimeError("could not draw a free receipt locator")


def _key(name: str) -> str:
    secret = get_settings().signing_key().encode()
    return "receipt:" + hmac.new(secret, name.encode(), hashlib.sha256).hexdigest()[:24]


def verify(session: Session, raw_code: str) -> Complaint:
    """The tip-off this code belongs to. NotFound if wrong; 429 while throttled."""
    settings = get_settings()
    window = int(time.time()) // settings.receipt_global_window_seconds
    global_key = f"{_key('all')}:{window}"
    code = normalize(raw_code)
    locator_key = _key(code[:LOCATOR_DIGITS] if code else "malformed")
    try:
        redis = get_redis()
        global_failures, locator_failures = redis.mget(global_key, locator_key)
    except RedisError as exc:
        raise ServiceUnavailable("receipt look-up is unavailable; try again later") from exc
    if int(global_failures or 0) >= settings.receipt_global_max_failures:
        retry = settings.receipt_global_window_seconds - (
            int(time.time()) % settings.receipt_global_window_seconds
        )
        raise TooManyRequests("too many wrong receipt codes; try again later", retry_after=retry)
    if int(locator_failures or 0) >= settings.receipt_max_failures:
        ttl = max(int(redis.ttl(locator_key)), 1)
        raise TooManyRequests("this receipt code is locked after wrong tries", retry_after=ttl)
    receipt = (
        session.exec(select(TipReceipt).where(TipReceipt.locator == code[:LOCATOR_DIGITS])).first()
        if code
        else None
    )
    if code and _matches(receipt.code_hash if receipt else None, code) and receipt:
        redis.delete(locator_key)
        complaint = session.get(Complaint, receipt.complaint_id)
        if complaint is not None:
            return complaint
    pipe = redis.pipeline()
    pipe.incr(global_key)
    pipe.expire(global_key, settings.receipt_global_window_seconds + 5)
    pipe.incr(locator_key)
    pipe.expire(locator_key, settings.receipt_lockout_seconds)
    pipe.execute()
    raise NotFound("this receipt code is not right; check the digits")


def _matches(code_hash: str | None, code: str) -> bool:
    try:
        return _hasher.verify(code_hash or _DUMMY_HASH, code) and code_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def purge(session: Session, complaint_ids: list[int]) -> None:
    for receipt in session.exec(
        select(TipReceipt).where(TipReceipt.complaint_id.in_(complaint_ids))  # type: ignore[attr-defined]
    ).all():
        session.delete(receipt)
