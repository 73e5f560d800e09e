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


# Counts each try's windows in turn and stops at the first one over its limit: a filing
# refused for its address does not use up its phone number's quota. Every try of a group
# (intake.group_commit) goes in one call, one round trip: ARGV holds the number of tries,
# then for each try its number of windows and each window's limit and lifetime; KEYS the
# windows' counters, try after try. The answer for each try: the 1-based window it
# exceeded, 0, or -1 when Redis refused a command of its own (that try is left unchecked,
# as when Redis is down, and the others are counted all the same). One EVALSHA per try
# was sixteen commands for a group of sixteen filings to pack, run and parse; a Redis that
# had lost the script answered some of them NOSCRIPT, and only those were sent again. Now a
# lost script means one call refused, nothing counted, and the call sent again. What an
# API process spends on the limits moved within noise (py-spy in-process: 14.3 % → 12.7 %
# of its samples, most of it redis-py's own work per command).
_COUNT = """
local answers = {}
local key, arg = 1, 2
for try = 1, tonumber(ARGV[1]) do
  local windows = tonumber(ARGV[arg])
  arg = arg + 1
  local answer = 0
  for window = 1, windows do
    if answer == 0 then
      local count = redis.pcall('INCR', KEYS[key])
      if type(count) == 'table' and count.err then
        answer = -1
      else
        redis.call('EXPIRE', KEYS[key], ARGV[arg + 1])
        if count > tonumber(ARGV[arg]) then answer = window end
      end
    end
    key = key + 1
    arg = arg + 2
  end
  answers[try] = answer
end
return answers
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
    keys = [key for count in counts.values() for key in count.keys]
    arguments = [len(counts)]
    for count in counts.values():
        arguments += [len(count.keys), *count.arguments]
    try:
        connection = get_redis()
        try:
            answers = connection.evalsha(_COUNT_SHA, len(keys), *keys, *arguments)
        except NoScriptError:  # a restarted Redis lost it; nothing was counted
            connection.script_load(_COUNT)
            answers = connection.evalsha(_COUNT_SHA, len(keys), *keys, *arguments)
    except RedisError as exc:
        note_failure(exc)
        log.warning("rate limits not checked: Redis unreachable")
        return {}
    counted = {}
    for i, answer in zip(counts, answers, strict=True):
        if int(answer) < 0:
            log.warning("a rate limit not checked: Redis refused its counter")
        else:
            counted[i] = int(answer)
    return counted


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
