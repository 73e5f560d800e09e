"""Filing rate limits per client address and per contact number, counted in Redis.

Fixed windows: simple, and enough to stop a flood. If Redis cannot be reached the limit
is not enforced: intake must keep taking filings while Redis is down.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from redis import Redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError, RedisError

from core.errors import PlatformError
from core.redis import get_redis, note_failure
from core.redis import paused as redis_paused
from core.settings import get_settings

log = logging.getLogger(__name__)


class TooManyRequests(PlatformError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


def _bucket(kind: str, identity: str) -> str:
    # Keyed hash: neither addresses nor phone numbers appear in Redis.
    key = get_settings().signing_key().encode()
    return f"rl:{kind}:{hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()[:24]}"


@dataclass(frozen=True)
class Limit:
    kind: str  # "ip" or "phone": the counter's family
    identity: str
    limit: int
    window_seconds: int
    what: str  # for the refusal: "filings from this address"


# Counts each window in turn and stops at the first one over its limit, all in one round
# trip: a filing refused for its address does not use up its phone number's quota.
_COUNT = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[2 * i])
  if count > tonumber(ARGV[2 * i - 1]) then return i end
end
return 0
"""


# Sent by its digest (EVALSHA); loaded again when Redis has lost it (a restart).
_COUNT_SHA = hashlib.sha1(_COUNT.encode()).hexdigest()  # noqa: S324 (Redis's script name)


# A try that turned out not to count (a right password): taken back from the windows it was
# counted in, unless a window has ended meanwhile (no negative counts without an expiry).
_FORGIVE = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0
"""


@cache
def _forgive_script() -> Script:
    return get_redis().register_script(_FORGIVE)


@dataclass(frozen=True)
class _Count:
    """One try's counters in their current windows, and the script's arguments for them."""

    limits: Sequence[Limit]
    now: int
    windows: list[int]
    keys: list[str]
    arguments: list[int]

    @classmethod
    def of(cls, limits: Sequence[Limit]) -> _Count:
        now = int(time.time())
        windows = [now // limit.window_seconds for limit in limits]
        keys = [
            f"{_bucket(limit.kind, limit.identity)}:{window}"
            for limit, window in zip(limits, windows, strict=True)
        ]
        arguments = [n for limit in limits for n in (limit.limit, limit.window_seconds + 60)]
        return cls(limits, now, windows, keys, arguments)

    def refusal(self, exceeded: int) -> TooManyRequests | None:
        """The script's answer (the 1-based limit exceeded, or 0) as the refusal, if any."""
        if not exceeded:
            return None
        limit, window = self.limits[exceeded - 1], self.windows[exceeded - 1]
        retry_after = (window + 1) * limit.window_seconds - self.now
        return TooManyRequests(
            f"too many {limit.what}; try again in {retry_after} seconds", retry_after=retry_after
        )


def check_all(limits: Sequence[Limit]) -> list[str]:
    """Count one try against each limit; TooManyRequests names the first one exceeded.
    Returns the counters it added to (for `forgive`); none when Redis was not asked."""
    if not limits:
        return []
    count = _Count.of(limits)
    answer = _count_each({0: count}).get(0)
    if answer is None:
        return []
    refusal = count.refusal(answer)
    if refusal is not None:
        raise refusal
    return count.keys


def check_each(tries: Sequence[Sequence[Limit]]) -> list[TooManyRequests | None]:
    """`check_all` for several tries in one round trip (a group of filings): each try's
    refusal, or None. Each try is counted on its own, exactly as `check_all` counts it, and
    fails open on its own: a command Redis refused leaves that try unchecked, not the rest."""
    counts = {i: _Count.of(limits) for i, limits in enumerate(tries) if limits}
    outcomes: list[TooManyRequests | None] = [None] * len(tries)
    for i, answer in _count_each(counts).items():
        outcomes[i] = counts[i].refusal(answer)
    return outcomes


def _count_each(counts: dict[int, _Count]) -> dict[int, int]:
    """The count script's answer for each try Redis counted, in one round trip. A try left
    out was not counted: limits fail open while Redis is paused, unreachable, or refuses."""
    if not counts:
        return {}
    if redis_paused():
        log.warning("rate limits not checked: Redis timed out a moment ago")
        return {}
    try:
        connection = get_redis()
        answers = _evalsha_each(connection, counts)
        # A Redis that lost the script (a restart) answers NOSCRIPT to those calls, which
        # did not run: it is loaded and only they are sent again.
        lost = {i: counts[i] for i, answer in answers.items() if isinstance(answer, NoScriptError)}
        if lost:
            connection.script_load(_COUNT)
            answers |= _evalsha_each(connection, lost)
    except RedisError as exc:
        note_failure(exc)
        log.warning("rate limits not checked: Redis unreachable")
        return {}
    counted = {}
    for i, answer in answers.items():
        if isinstance(answer, RedisError):
            log.warning("a rate limit not checked: %s", type(answer).__name__)
        else:
            counted[i] = int(answer)
    return counted


def _evalsha_each(connection: Redis, counts: dict[int, _Count]) -> dict[int, Any]:
    """The count script for each try, in one plain pipeline (redis-py's script pipelining
    would ask SCRIPT EXISTS first, a second round trip); each answer, or its error."""
    with connection.pipeline(transaction=False) as pipe:
        for count in counts.values():
            pipe.evalsha(_COUNT_SHA, len(count.keys), *count.keys, *count.arguments)
        answers = pipe.execute(raise_on_error=False)
    return dict(zip(counts, answers, strict=True))


def forgive(keys: Sequence[str]) -> None:
    """Take one try back from each counter `check_all` added to."""
    if not keys:
        return
    try:
        _forgive_script()(keys=list(keys), args=[], client=get_redis())
    except RedisError:
        log.warning("rate-limit counters not corrected: Redis unreachable")


def client_limit(address: str | None) -> Limit:
    return Limit(
        "ip",
        address or "unknown",
        limit=get_settings().rate_limit_filings_per_ip_per_hour,
        window_seconds=3600,
        what="filings from this address",
    )


def phone_limit(phone: str) -> Limit:
    return Limit(
        "phone",
        phone,
        limit=get_settings().rate_limit_filings_per_phone_per_day,
        window_seconds=24 * 3600,
        what="filings from this phone number today",
    )


def check_client(address: str | None) -> None:
    check_all([client_limit(address)])


def check_phone(phone: str) -> None:
    check_all([phone_limit(phone)])


def clear(limits: Sequence[Limit]) -> None:
    """Wipe the current window's count of each limit (an administrator's reset). Earlier
    windows no longer count, so nothing else is kept that could refuse the next try."""
    if not limits:
        return
    now = int(time.time())
    keys = [
        f"{_bucket(limit.kind, limit.identity)}:{now // limit.window_seconds}" for limit in limits
    ]
    try:
        get_redis().delete(*keys)
    except RedisError:
        log.warning("rate-limit counters not cleared: Redis unreachable")
