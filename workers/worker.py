"""The RQ worker process: warm up what jobs need, then take jobs until told to stop."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterable
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue
from rq.scheduler import RQScheduler

from core import metrics
from core.processes import parent_death_signal
from core.redis import get_redis
from core.tracebacks import redacted_traceback
from workers.queues import ALL_QUEUES, get_queue

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


class JobFailed(Exception):
    """What RQ records and logs of a failed job: the traceback, without exception messages."""


class ChildScheduler(RQScheduler):
    """RQ's scheduler process, which ends when the worker that forked it dies.

    RQ forks it from the worker and never looks back: a worker killed with SIGKILL (the
    OOM killer, a container's hard stop) left it running on its own, holding the queues'
    scheduler locks for ever, so no new worker could schedule retries.
    """

    def work(self) -> None:
        parent = os.getppid()
        parent_death_signal()  # SIGTERM: the scheduler's own handler releases its locks
        if os.getppid() != parent:  # the worker died before the signal was asked for
            return
        super().work()


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

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        """RQ's own, with a scheduler that dies with this worker (see ChildScheduler)."""
        self.scheduler = ChildScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if not burst:
            self.scheduler.start()
            return
        try:
            self.scheduler.register_birth()
            self.scheduler.enqueue_scheduled_jobs()
        finally:
            self.scheduler.release_locks()
            self.scheduler.register_death()


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
    log.info("worker: taking jobs from %s", ", ".join(queues))
    while True:
        worker = PrivateWorker(
            [get_queue(name, connection) for name in queues],
            connection=connection,
            exception_handlers=[_count_failure],
        )
        try:
            worked = bool(worker.work(burst=burst, with_scheduler=True, logging_level="WARNING"))
        except RedisError:  # RQ's own teardown talks to Redis too
            worked = False
        if burst or worker._shutdown_requested_date is not None:  # SIGTERM/SIGINT: stop
            return worked
        # RQ quits its loop on any error it did not expect, such as Redis going away while
        # a job's success is recorded. The jobs are safe (the outbox rows wait in the
        # database); the worker must not be: wait for Redis, then take jobs again.
        log.warning("worker: RQ stopped taking jobs; starting again once Redis answers")
        if not _wait_for_redis(connection, stop_signals=(signal.SIGTERM, signal.SIGINT)):
            return worked


def _wait_for_redis(
    connection: Redis, *, stop_signals: tuple[signal.Signals, ...], pause: float = 1.0
) -> bool:
    """Ping until Redis answers (True), or a stop signal comes (False)."""
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda n, _f: stopping.append(n)) for sig in stop_signals}
    try:
        while not stopping:
            try:
                if connection.ping():
                    return True
            except RedisError:
                pass
            time.sleep(pause)
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _count_failure(
    job: Job, _type: type[BaseException], _value: BaseException, _tb: TracebackType | None
) -> bool:
    metrics.count(metrics.JOB_FAILURES, {"job": job.func_name or "unknown"})
    return True  # go on to RQ's own handling: retry, then the failed registry
