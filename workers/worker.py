"""The RQ worker process: warm up what jobs need, then take jobs until told to stop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import TracebackType

from rq import SimpleWorker
from rq.job import Job

from core import metrics
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
    worker = SimpleWorker(
        [get_queue(name, connection) for name in queues],
        connection=connection,
        exception_handlers=[_count_failure],
    )
    log.info("worker: taking jobs from %s", ", ".join(queues))
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level="WARNING"))


def _count_failure(
    job: Job, _type: type[BaseException], _value: BaseException, _tb: TracebackType | None
) -> bool:
    metrics.count(metrics.JOB_FAILURES, {"job": job.func_name or "unknown"})
    return True  # go on to RQ's own handling: retry, then the failed registry
