"""SMS sign-in codes in Redis: only a keyed hash of each, for minutes, one per phone number.

A code is 6 random digits. Redis holds, under a keyed hash of the phone number, the keyed hash
of (number, code) and a count of tries, and expires it after `citizen_code_ttl_seconds`; a
second key per number holds the resend wait. Nothing in Redis names the number or the code,
and nothing outlives the TTL, so no table and no migration: a code is short-lived state.
A new code replaces the old one. Every try is counted before the code is compared (in one
script, so that tries made at the same moment each get their own number); the comparison is
constant-time; after `citizen_code_max_tries` wrong ones the code is void until it expires or
is replaced. A right code is used up.

Unlike the rate limits this fails closed: without Redis there is no code to check (503).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Literal

from redis.commands.core import Script
from redis.exceptions import RedisError

from core.errors import NotAuthenticated, ServiceUnavailable
from core.redis import get_redis
from core.settings import get_settings

Refusal = Literal["wrong", "expired", "void"]


class CodeRefused(NotAuthenticated):
    """A sign-in code that does not open the list: wrong, expired (or never sent), or void.

    `reason` and `tries_left` are in the JSON answer, so the page (and any client) can say
    which, and whether typing it again can still help."""

    def __init__(self, detail: str, *, reason: Refusal, tries_left: int) -> None:
        super().__init__(detail, reason=reason, tries_left=tries_left)
        self.reason = reason
        self.tries_left = tries_left


@dataclass(frozen=True)
class Issued:
    code: str  # for the text message only: never stored, never logged
    wait_seconds: int  # 0: issued; else the resend wait left and nothing was issued


def _keyed(purpose: str, text: str) -> str:
    key = get_settings().signing_key().encode()
    return hmac.new(key, f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()


def _keys(phone: str) -> tuple[str, str]:
    # The number is never a Redis key (as with the rate limits): a keyed hash of it is.
    who = _keyed("citizen-phone", phone)[:32]
    return f"citizen:code:{who}", f"citizen:code-wait:{who}"


def _digest(phone: str, code: str) -> str:
    # Bound to the number, so one number's code hash says nothing of another's.
    return _keyed("citizen-code", f"{phone}:{code}")


# KEYS: code, wait. ARGV: digest, ttl seconds, resend wait seconds.
# Returns the wait left in milliseconds (nothing changed), or 0 once the new code is stored.
_ISSUE = """
local wait = redis.call('PTTL', KEYS[2])
if wait > 0 then return wait end
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3]))
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'digest', ARGV[1], 'tries', 0)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 0
"""

# KEYS: code. Counts a try and returns {tries so far, stored digest}; {0, ''} if no code.
_TRY = """
local digest = redis.call('HGET', KEYS[1], 'digest')
if not digest then return {0, ''} end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
return {tries, digest}
"""

# KEYS: code. ARGV: digest. Deletes the code if it is still that one: a code opens once.
_USE = """
if redis.call('HGET', KEYS[1], 'digest') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


@cache
def _script(source: str) -> Script:
    return get_redis().register_script(source)


def _unavailable(exc: RedisError) -> ServiceUnavailable:
    return ServiceUnavailable("sign-in by SMS code is unavailable just now; try again shortly")


def issue(phone: str) -> Issued:
    """A new code for `phone`, replacing any earlier one, unless the resend wait runs."""
    settings = get_settings()
    code = f"{secrets.randbelow(10**6):06d}"
    code_key, wait_key = _keys(phone)
    try:
        wait_ms = int(
            _script(_ISSUE)(
                keys=[code_key, wait_key],
                args=[
                    _digest(phone, code),
                    settings.citizen_code_ttl_seconds,
                    settings.citizen_code_resend_seconds,
                ],
                client=get_redis(),
            )
        )
    except RedisError as exc:
        raise _unavailable(exc) from exc
    return Issued(code=code, wait_seconds=math.ceil(wait_ms / 1000))


def check(phone: str, code: str) -> None:
    """Use up `phone`'s code if `code` is it; CodeRefused says why not."""
    max_tries = get_settings().citizen_code_max_tries
    code_key, _ = _keys(phone)
    connection = get_redis()
    try:
        tries_raw, stored_raw = _script(_TRY)(keys=[code_key], args=[], client=connection)
        tries = int(tries_raw)
        stored = stored_raw.decode() if isinstance(stored_raw, bytes) else str(stored_raw)
        if not tries:
            raise CodeRefused(
                "no code is waiting for this number, or it has expired; ask for a new one",
                reason="expired",
                tries_left=0,
            )
        if tries > max_tries:
            raise CodeRefused(
                "too many wrong codes: this code is void; ask for a new one",
                reason="void",
                tries_left=0,
            )
        if hmac.compare_digest(stored, _digest(phone, code)):
            if int(_script(_USE)(keys=[code_key], args=[stored], client=connection)):
                return
            # Used (or replaced) by another request between the two scripts.
            raise CodeRefused(
                "this code has just been used or replaced; ask for a new one",
                reason="expired",
                tries_left=0,
            )
    except RedisError as exc:
        raise _unavailable(exc) from exc
    left = max_tries - tries
    detail = (
        f"wrong code; {left} tries left"
        if left
        else "wrong code, and that was the last try: this code is void; ask for a new one"
    )
    raise CodeRefused(detail, reason="wrong", tries_left=left)
