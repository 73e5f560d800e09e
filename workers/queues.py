"""Queue names and the jobs the platform sends through them.

Jobs are named by dotted path so that writing an outbox row never imports the domain
package that runs it (intake does not load jieba to file a complaint).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from rq import Queue, Retry

INTAKE_QUEUE = "intake"  # new filings waiting to be classified and routed
NOTIFY_QUEUE = "notify"  # messages to citizens and departments
SEARCH_QUEUE = "search"  # duplicate search: may wait behind routing and notices
# In the order a worker takes them: a routing drain never queues behind a duplicate search.
ALL_QUEUES = (INTAKE_QUEUE, NOTIFY_QUEUE, SEARCH_QUEUE)


@dataclass(frozen=True)
class JobSpec:
    func: str
    queue: str
    timeout_seconds: int
    retry: tuple[int, ...]  # seconds to wait before each retry
    # Batched jobs are not sent to RQ one by one: a drainer (workers.batches) takes many rows
    # at a time and hands each to this class (dotted path; see workers.batches.BatchHandler).
    batch_handler: str | None = None
    # At most this many rows per drain (and the settings' batch_size): a slow job's drains
    # stay short, so the queues before it wait little and SQLite's write lock is freed soon.
    max_batch: int | None = None


ROUTE_COMPLAINT = JobSpec(
    func="routing.tasks.route_complaint",
    queue=INTAKE_QUEUE,
    timeout_seconds=60,
    retry=(2, 10, 60),
    batch_handler="routing.tasks.RouteBatch",
)

FIND_DUPLICATES = JobSpec(
    func="intake.tasks.find_duplicates",
    queue=SEARCH_QUEUE,
    timeout_seconds=60,
    retry=(5, 30, 120),
    batch_handler="intake.tasks.DuplicateBatch",
    max_batch=20,  # a search costs several milliseconds; routing one costs under one
)

SEND_SMS = JobSpec(
    func="notify.tasks.send_sms",
    queue=NOTIFY_QUEUE,
    timeout_seconds=30,
    retry=(10, 60, 300, 1800),
)

DELIVER_WEBHOOK = JobSpec(
    func="notify.tasks.deliver_webhook",
    queue=NOTIFY_QUEUE,
    timeout_seconds=30,
    retry=(10, 60, 300, 1800, 7200),
)

JOBS: dict[str, JobSpec] = {
    spec.func: spec for spec in (ROUTE_COMPLAINT, FIND_DUPLICATES, SEND_SMS, DELIVER_WEBHOOK)
}
BATCHED: tuple[JobSpec, ...] = tuple(spec for spec in JOBS.values() if spec.batch_handler)


def get_queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection)


def enqueue_job(connection: Redis, spec: JobSpec, args: list[object], job_id: str) -> None:
    get_queue(spec.queue, connection).enqueue(
        spec.func,
        *args,
        job_id=job_id,
        job_timeout=spec.timeout_seconds,
        retry=Retry(max=len(spec.retry), interval=list(spec.retry)),
        # The description is what RQ logs: the function, never the arguments. A finished
        # job is deleted at once (result_ttl=0): a job names a filing and carries the time
        # it ran, and a tip-off's filing must not be tied to a time of day.
        description=spec.func,
        result_ttl=0,
        failure_ttl=7 * 24 * 3600,
    )
