"""The Redis connection of this process, from settings (embedded socket by default)."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis

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
