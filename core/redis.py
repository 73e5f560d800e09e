"""The Redis connection of this process, from settings (embedded socket by default)."""

from __future__ import annotations

import time
from functools import lru_cache

from redis import Redis
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

from core.settings import get_settings


@lru_cache(maxsize=8)
def _connect(url: str, connect_timeout: float, socket_timeout: float | None) -> Redis:
    return Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
        health_check_interval=30,
    )


def get_redis(*, blocking: bool = False) -> Redis:
    """Short timeouts for request paths; `blocking` for workers that wait on BLPOP."""
    settings = get_settings()
    timeout = settings.redis_timeout_seconds
    return _connect(settings.effective_redis_url, timeout, None if blocking else timeout)


def reset_redis() -> None:
    global _paused_until
    _connect.cache_clear()
    _paused_until = 0.0


# Request paths that can go on without Redis (rate limits fail open; the relay sends what the
# after-commit step could not) skip it for a few seconds after it timed out: a Redis that
# neither answers nor refuses would otherwise hold every filing for the timeout, and a
# filing holds one of only a few threads (intake.filing_threads, or the committer of
# intake.group_commit, whose whole group waits with it).
PAUSE_AFTER_TIMEOUT_SECONDS = 5.0
_paused_until = 0.0


def paused() -> bool:
    """Whether request paths skip Redis for now, because it timed out a moment ago."""
    return time.monotonic() < _paused_until


def note_failure(exc: RedisError) -> None:
    """A request path's call to Redis failed: a timeout pauses the others' (`paused`). A
    refusal does not: it comes at once, and costs the next request nothing to find out."""
    global _paused_until
    if isinstance(exc, RedisTimeout):
        _paused_until = time.monotonic() + PAUSE_AFTER_TIMEOUT_SECONDS


class EvictingRedis(RuntimeError):
    """Redis may drop keys under memory pressure: queued jobs would vanish without a trace."""


def eviction_policy(connection: Redis) -> str | None:
    """Redis's maxmemory-policy, or None where CONFIG is not allowed (some managed Redis)."""
    try:
        answer = connection.config_get("maxmemory-policy")
    except ResponseError:
        return None
    value = answer.get("maxmemory-policy")
    return str(value) if value is not None else None


def require_noeviction(connection: Redis) -> None:
    """Refuse a Redis that evicts: RQ's queues and our batches live in plain keys."""
    policy = eviction_policy(connection)
    if policy is not None and policy != "noeviction":
        raise EvictingRedis(
            f"Redis runs with maxmemory-policy {policy}: under memory pressure it would drop "
            "queued jobs. Set `maxmemory-policy noeviction` (redis.conf or CONFIG SET)"
        )
