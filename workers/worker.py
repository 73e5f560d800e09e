"""The RQ worker process: warm up what jobs need, then take jobs until told to stop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from rq import SimpleWorker

from core.redis import get_redis
from workers.queues import ALL_QUEUES, get_queue

log = logging.getLogger(__name__)


def run_worker(
    *,
    queues: Iterable[str] = ALL_QUEUES,
    warm_up: Iterable[Callable[[], object]] = (),
    burst: bool = False,
) -> bool:
    """Run warm-up hooks once, then work. Returns False if it stopped on a failed job in burst.

    SimpleWorker runs jobs in this process instead of forking one child per job, so the
    tokenizer and models loaded by the warm-up serve every job and stay warm.
    """
    for hook in warm_up:
        hook()
    connection = get_redis(blocking=True)
    worker = SimpleWorker([get_queue(name, connection) for name in queues], connection=connection)
    log.info("worker: taking jobs from %s", ", ".join(queues))
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level="WARNING"))
