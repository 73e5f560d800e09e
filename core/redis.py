"""The Redis connection of this process, from settings (embedded socket by default)."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from redis.exceptions import ResponseError

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
    _connect.cache_clear()


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
