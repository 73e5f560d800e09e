"""Filings classified and routed per second by one worker process, against one RQ job per item.

The reference, in the same run on the same Redis: trivial jobs (`abs(1)`), one RQ job each,
worked by the same kind of worker (RQ's SimpleWorker, as `complaints worker` runs it): what
any design that sends one job per filing could reach at best. Then filings are filed as
intake files them (row, history, outbox rows; one commit for all) and one `complaints
worker` process routes them: drain jobs claim COMPLAINTS_BATCH_SIZE rows at a time,
classify (the keyword classifier, or COMPLAINTS_CLASSIFIER_MODEL), find place and office,
write the decision, the history and the clocks. The outbox relay runs beside it, as in
production (it pokes a drain whose job went missing). Each worker is started and warmed up first
(one item through it), so the figures are steady-state rates, start-up left out.

Two figures: routing alone (the duplicate-search rows are set aside), and routing with the
duplicate search that the same worker also runs for every filing.

    .venv/bin/python bench/routing.py [--filings 3000] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from support import Children, configure, database, file_filings, machine, wait_for

TARGET = 1_000.0
WORKER = "from workers.worker import run_worker; run_worker(queues=['bench-trivial'])"


def trivial_rq_ceiling(env: dict[str, str], logs: Path, n: int) -> float:
    from rq import Queue

    from core.redis import get_redis

    queue = Queue("bench-trivial", connection=get_redis())
    children = Children(env, logs)
    children.start("trivial", sys.executable, "-c", WORKER)
    queue.enqueue("builtins.abs", 1, result_ttl=0)
    wait_for("the trivial worker is up", lambda: queue.count == 0, timeout=120)
    with get_redis().pipeline() as pipe:
        for _ in range(n):
            queue.enqueue("builtins.abs", 1, result_ttl=0, pipeline=pipe)
        pipe.execute()
    wait_for("it starts", lambda: queue.count < n, timeout=60, every=0.005)
    started = time.perf_counter()
    wait_for("it is done", lambda: queue.count == 0, timeout=600, every=0.01)
    elapsed = time.perf_counter() - started
    children.stop()
    return n / elapsed


def routed(ids: list[int]) -> int:
    from sqlalchemy import func, select
    from sqlmodel import Session, col

    from core.db import get_engine
    from schemas import Complaint
    from schemas.enums import Status

    with Session(get_engine(read_only=True)) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(Complaint)
                .where(col(Complaint.id).in_(ids))
                .where(Complaint.status != Status.received)
            ).scalar_one()
        )


def searches_left() -> int:
    from sqlalchemy import func, select
    from sqlmodel import Session, col

    from core.db import get_engine
    from schemas import OutboxMessage
    from workers.queues import FIND_DUPLICATES

    with Session(get_engine(read_only=True)) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.job == FIND_DUPLICATES.func)
                .where(col(OutboxMessage.dispatched_at).is_(None))
            ).scalar_one()
        )


def route(env: dict[str, str], logs: Path, n: int, *, with_duplicates: bool) -> float:
    from sqlalchemy import delete
    from sqlmodel import Session

    from core.db import get_engine
    from schemas import OutboxMessage
    from workers.queues import FIND_DUPLICATES

    children = Children(env, logs)
    children.complaints("worker", "worker")
    # Beside the worker, as `complaints serve` runs it. Once in about seven runs a drain
    # job was lost between one phase's worker and the next (most likely popped by the
    # stopping worker just as SIGTERM came, before RQ marked it started): its flag then
    # blocks new pokes for 30 s, and only the relay pokes again after that. Without one
    # the bench waited its full 30 minutes.
    children.complaints("relay", "relay")
    warm = file_filings(1, progress=False)
    wait_for("the worker is up", lambda: routed(warm) == 1, timeout=180)
    ids = file_filings(n, per_transaction=n)  # one commit: the drains start at once
    if not with_duplicates:
        with Session(get_engine()) as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.job == FIND_DUPLICATES.func))
            session.commit()
    wait_for("it starts", lambda: routed(ids) > 0, timeout=120, every=0.01)
    started = time.perf_counter()
    wait_for("every filing routed", lambda: routed(ids) == n, timeout=1800, every=0.05)
    if with_duplicates:  # a queue of its own, taken after routing: wait for it too
        wait_for("every filing searched", lambda: searches_left() == 0, timeout=1800, every=0.05)
    elapsed = time.perf_counter() - started
    children.stop()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=3000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    n = args.filings
    logs = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    print(f"machine: {machine()}; {n} items each; database {args.database}; logs in {logs}")
    with database(args.database) as url:
        env = configure(url, logs / "var")
        from core.settings import get_settings

        batch = get_settings().batch_size
        ceiling = trivial_rq_ceiling(env, logs, n)
        print(f"one trivial RQ job per item:  {ceiling:7.0f} items/s   (the reference)")
        alone = route(env, logs, n, with_duplicates=False)
        print(
            f"routing, batches of {batch}:     {alone:7.0f} filings/s = {alone / ceiling:.1f}× "
            f"the reference (target ≥ {TARGET:.0f}/s, {alone / TARGET:.2f} of it)"
        )
        both = route(env, logs, n, with_duplicates=True)
        print(
            f"routing and duplicate search: {both:6.0f} filings/s = {both / ceiling:.1f}× "
            "the reference"
        )


if __name__ == "__main__":
    main()
