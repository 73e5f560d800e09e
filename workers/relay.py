"""The outbox relay process: sends to Redis whatever the request path could not."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from core.db import session_scope
from core.redis import get_redis
from core.settings import get_settings
from workers.outbox import relay_pending

log = logging.getLogger(__name__)


def relay_once() -> int:
    settings = get_settings()
    with session_scope() as session:
        sent = relay_pending(
            session,
            connection=get_redis(),
            grace_seconds=settings.relay_grace_seconds,
            limit=settings.relay_batch_size,
        )
        session.commit()
    return sent


def run_relay(stop: threading.Event | None = None) -> None:
    """Relay until SIGTERM/SIGINT (or `stop` is set); survives Redis and database outages."""
    stop = stop or threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("relay: signal %s, stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    interval = get_settings().relay_interval_seconds
    log.info("relay: started, every %.1fs", interval)
    while not stop.is_set():
        try:
            sent = relay_once()
        except Exception:
            log.exception("relay: pass failed; retrying")
            sent = 0
        if sent:
            log.info("relay: sent %d pending job(s)", sent)
        # A full batch means more may be waiting: go again at once.
        if sent < get_settings().relay_batch_size:
            stop.wait(interval)
