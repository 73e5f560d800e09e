"""Receipt codes: how a tip-off's reporter, named or not, follows the case without an account.

A code is 24 random digits: the first 8 find the row (the locator), the whole code is
checked against an Argon2 hash, the only form in which it is kept. It is shown once.
Guessing is throttled in Redis: a locator locks after a few wrong tries, and wrong tries
over all codes together are capped per window, after which look-ups wait for the window to
end, except one check per window for each locator that exists. Unknown locators cost the
same Argon2 check as known ones, so timing does not tell which exist (but while the cap is
spent, see `_verify`). If Redis is down, look-ups are refused (fail closed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis import Redis
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
from schemas.validators import ascii_digits

LOCATOR_DIGITS = 8
SECRET_DIGITS = 16
CODE_DIGITS = LOCATOR_DIGITS + SECRET_DIGITS
# Argon2id with OWASP's parameters (t=2, 19 MiB, p=1): the secret is 16 random digits, so
# even a stolen database costs 10^16 checks of ~35 ms each; lighter than the password
# hasher, because every tip-off draws one.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@cache
def dummy_hash() -> str:
    """What a code whose locator finds no row is checked against, so that a miss costs what a
    wrong secret does. Made on first use (as core.security.dummy_hash), by the API while it
    starts."""
    return _hasher.hash("0" * CODE_DIGITS)


_ATTEMPTS = 10


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def display(code: str) -> str:
    """In groups of four, for reading aloud and copying: 1234 5678 …"""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize(raw: str) -> str | None:
    """The code's 24 ASCII digits (typed with spaces, dashes or full-width digits), or None."""
    digits = ascii_digits(re.sub(r"[\s\-]", "", raw))
    return digits if re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", digits) else None


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
    """The tip-off this code belongs to. NotFound if wrong; 429 while throttled; 503 if the
    throttle cannot be checked (Redis down: fail closed)."""
    try:
        return _verify(session, raw_code, get_redis())
    except RedisError as exc:
        raise ServiceUnavailable("receipt look-up is unavailable; try again later") from exc


def _verify(session: Session, raw_code: str, redis: Redis) -> Complaint:
    """Every try is counted before it is checked, so tries made at the same moment each get
    their own number and no more than the limits are ever checked. A count's lifetime starts
    at its first try and is not stretched by later ones (else a stream of tries would keep a
    code locked for good). Once the global cap of a window is spent, a locator that exists
    still gets one check in that window: a flood of wrong codes cannot keep an honest
    reporter out for as long as it lasts (docs/architecture.md says what this costs).
    """
    settings = get_settings()
    window_seconds = settings.receipt_global_window_seconds
    now = int(time.time())
    global_key = f"{_key('all')}:{now // window_seconds}"
    code = normalize(raw_code)
    locator = code[:LOCATOR_DIGITS] if code else None
    locator_key = _key(locator or "malformed")
    pipe = redis.pipeline(transaction=True)
    pipe.set(locator_key, 0, ex=settings.receipt_lockout_seconds, nx=True)
    pipe.incr(locator_key)
    pipe.set(global_key, 0, ex=window_seconds + 5, nx=True)
    pipe.incr(global_key)
    _, locator_tries, _, global_tries = pipe.execute()
    if locator_tries > settings.receipt_max_failures:
        redis.decr(global_key)  # refused unchecked: it costs the others nothing
        ttl = max(int(redis.ttl(locator_key)), 1)
        raise TooManyRequests("this receipt code is locked after wrong tries", retry_after=ttl)
    receipt = (
        session.exec(select(TipReceipt).where(TipReceipt.locator == locator)).first()
        if locator
        else None
    )
    counted = global_tries <= settings.receipt_global_max_failures
    reserve = f"{_key('reserve:' + (locator or '-'))}:{now // window_seconds}"
    if not counted:
        redis.decr(global_key)
        if receipt is None or not redis.set(reserve, 1, ex=window_seconds, nx=True):
            redis.decr(locator_key)  # not checked: not a wrong try on this code
            raise _everyone_waits(now, window_seconds)
    if code is not None and _matches(receipt.code_hash if receipt else None, code) and receipt:
        pipe = redis.pipeline(transaction=True)
        pipe.delete(locator_key)
        if counted:
            pipe.decr(global_key)  # a right code is not a failure
        else:
            pipe.delete(reserve)  # the reporter's next step (an answer, a claim) gets in too
        pipe.execute()
        complaint = session.get(Complaint, receipt.complaint_id)
        if complaint is not None:
            return complaint
    if not counted:
        # The reserved check of a spent window was wrong: answered as every refusal then
        # is, so that the answer does not tell that this locator exists.
        raise _everyone_waits(now, window_seconds)
    raise NotFound("this receipt code is not right; check the digits")


def _everyone_waits(now: int, window_seconds: int) -> TooManyRequests:
    return TooManyRequests(
        "too many wrong receipt codes; try again later",
        retry_after=window_seconds - now % window_seconds,
    )


def _matches(code_hash: str | None, code: str) -> bool:
    try:
        return _hasher.verify(code_hash or dummy_hash(), code) and code_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def purge(session: Session, complaint_ids: list[int]) -> None:
    for receipt in session.exec(
        select(TipReceipt).where(TipReceipt.complaint_id.in_(complaint_ids))  # type: ignore[attr-defined]
    ).all():
        session.delete(receipt)
