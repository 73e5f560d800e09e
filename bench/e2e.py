"""Sustained filings per second through the whole platform; intake-to-routed latency.

The production shape on this machine, started by this script: the API under uvicorn with 2
workers, one `complaints worker`, the relay; SQLite (or PostgreSQL) and Redis. `hey` offers
RATE filings/s for SECONDS (20 connections, each RATE/20 requests/s). The latency of each
filing is read from the database afterwards: from its intake (the row's created_at) to the
history entry that routed it.

    .venv/bin/python bench/e2e.py [--rate 100] [--seconds 60] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from support import (
    Children,
    answers,
    configure,
    database,
    free_port,
    hey,
    machine,
    percentile,
    wait_for,
)

TARGET_P95 = 1.0


def latencies() -> tuple[int, list[float]]:
    from sqlalchemy import func, select
    from sqlmodel import Session

    from core.db import get_engine
    from schemas import Complaint, ComplaintEvent
    from schemas.enums import Status

    with Session(get_engine(read_only=True)) as session:
        total = int(session.execute(select(func.count()).select_from(Complaint)).scalar_one())
        rows = session.execute(
            select(Complaint.created_at, ComplaintEvent.at)
            .join(ComplaintEvent, ComplaintEvent.complaint_id == Complaint.id)
            .where(ComplaintEvent.from_status == Status.received)
        ).all()
    return total, [(routed - filed).total_seconds() for filed, routed in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    print(f"machine: {machine()}; {args.rate}/s for {args.seconds}s; {args.database}; {logs}")
    with database(args.database) as url:
        env = configure(url, logs / "var")
        children = Children(env, logs)
        port = free_port()
        children.complaints("api", "api", "--port", str(port), "--workers", "2")
        children.complaints("worker", "worker")
        children.complaints("relay", "relay")
        wait_for("the API", lambda: answers(f"http://127.0.0.1:{port}/readyz"), timeout=180)
        load = hey(f"http://127.0.0.1:{port}/api/v1/complaints", args.seconds, args.rate, logs)
        total, _ = latencies()
        wait_for("every filing routed", lambda: len(latencies()[1]) >= total, timeout=600)
        children.stop()
        _, seconds = latencies()
    p50, p95, p99 = (percentile(seconds, q) for q in (50, 95, 99))
    print(f"answered {load['rps']:.0f} filings/s; status codes {load['codes']}; {total} stored")
    print(
        f"intake → routed: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms (target p95 ≤ {TARGET_P95 * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
