"""The RQ worker process: warm up what jobs need, then take jobs until told to stop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import TracebackType

from rq import SimpleWorker
from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue

from core import metrics
from core.redis import get_redis
from core.tracebacks import redacted_traceback
from workers.queues import ALL_QUEUES, get_queue

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


class JobFailed(Exception):
    """What RQ records and logs of a failed job: the traceback, without exception messages."""


class PrivateWorker(SimpleWorker):
    """A SimpleWorker that never lets an exception's message into Redis or the logs.

    RQ stores the formatted exception with the failed job (FailedJobRegistry, results) and
    logs it; a message may quote what the job handled (a tip-off's text, a phone number).
    """

    def _finalize_failure(
        self, job: Job, queue: Queue, execution: Execution, exc_info: ExcInfo
    ) -> None:
        error = exc_info[1]
        if error is not None and not isinstance(error, JobFailed):
            exc_info = (JobFailed, JobFailed(redacted_traceback(error)), None)
        super()._finalize_failure(job, queue, execution, exc_info)


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
    worker = PrivateWorker(
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
