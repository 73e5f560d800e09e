"""The outbox relay process: sends to Redis whatever the request path could not."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import astuple
from types import FrameType

from core.db import session_scope
from core.redis import get_redis
from core.settings import get_settings
from workers.outbox import Relayed, relay_pending

log = logging.getLogger(__name__)


def relay_once() -> Relayed:
    settings = get_settings()
    with session_scope() as session:
        relayed = relay_pending(
            session,
            connection=get_redis(),
            grace_seconds=settings.relay_grace_seconds,
            limit=settings.relay_batch_size,
        )
        session.commit()
    return relayed


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
            relayed = relay_once()
        except Exception:
            log.exception("relay: pass failed; retrying")
            relayed = Relayed(sent=0, poked=0)
        if relayed:
            log.info("relay: sent %d pending job(s), poked %d drain(s)", *astuple(relayed))
        # A full batch means more may be waiting: go again at once.
        if relayed.sent < get_settings().relay_batch_size:
            stop.wait(interval)
