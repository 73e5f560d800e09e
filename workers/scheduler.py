"""The scheduler process: runs each periodic sweep on its interval, one scheduler at a time."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from redis.exceptions import RedisError

from core.redis import get_redis

log = logging.getLogger(__name__)
_LOCK_KEY = "scheduler:leader"


@dataclass
class Periodic:
    name: str
    every_seconds: float
    run: Callable[[], object]
    next_at: float = field(default=0.0)


def run_scheduler(
    jobs: list[Periodic], *, tick_seconds: float = 1.0, stop: threading.Event | None = None
) -> None:
    """Run until SIGTERM/SIGINT. Only the scheduler holding the Redis lock works, so a second
    one started by mistake waits instead of sending every warning twice."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():

        def _stop(signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    token = f"{time.time()}:{id(stop)}"
    log.info("scheduler: %s", ", ".join(f"{j.name} every {j.every_seconds:.0f}s" for j in jobs))
    while not stop.is_set():
        if _lead(token, ttl_seconds=max(10, int(tick_seconds * 10))):
            now = time.monotonic()
            for job in jobs:
                if now >= job.next_at:
                    job.next_at = now + job.every_seconds
                    try:
                        result = job.run()
                        log.debug("scheduler: %s → %s", job.name, result)
                    except Exception:
                        log.exception("scheduler: %s failed; next try on schedule", job.name)
        stop.wait(tick_seconds)
    _release(token)


def _lead(token: str, *, ttl_seconds: int) -> bool:
    try:
        redis = get_redis()
        if redis.set(_LOCK_KEY, token, nx=True, ex=ttl_seconds):
            return True
        if redis.get(_LOCK_KEY) == token.encode():
            redis.expire(_LOCK_KEY, ttl_seconds)
            return True
        return False
    except RedisError:
        log.warning("scheduler: Redis unreachable; sweeping without the leader lock")
        return True


def _release(token: str) -> None:
    try:
        redis = get_redis()
        if redis.get(_LOCK_KEY) == token.encode():
            redis.delete(_LOCK_KEY)
    except RedisError:
        pass
