"""What a durable row itself costs on this stack: the bare ceiling's app plus one row.

bench/intake.py serves this beside the bare ceiling and the real platform. It is
bench/bare_app.py's FastAPI app and route, whose handler also stores the filing's row in
the platform's database before it answers: the `complaints` row only (no history, no
outbox, no rate limits, no Redis, no ORM, no middleware), built from the platform's own
column defaults, written by the platform's fastest INSERT (`core.write_behind`'s driver
statement, one per group) on the platform's engine (its SQLite write gate and checkpoints,
or PostgreSQL), in a group commit of the filings that arrived meanwhile, as
`intake.group_commit` does. Its rate shows what a durable row itself costs on this stack, so
that the rest of the platform's gap to the ceiling is known to be its other work (history,
outbox, rate limits, the hand-off to Redis, the ORM, the middleware), not the database.
Never served outside the bench.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections import deque
from typing import Any

from fastapi import Body, FastAPI


class _Committer:
    """One thread per process writing the waiting rows in one transaction, group by group."""

    def __init__(self) -> None:
        from sqlalchemy import Engine

        from core.db import get_engine

        self.engine: Engine = get_engine()
        self.waiting: deque[tuple[dict[str, Any], asyncio.Future[None], Any]] = deque()
        self.wake = threading.Condition()
        threading.Thread(target=self._run, daemon=True, name="committer").start()

    def file(self, row: dict[str, Any]) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self.wake:
            self.waiting.append((row, future, loop))
            self.wake.notify()
        return future

    def _run(self) -> None:
        from core.write_behind import _driver_insert
        from schemas.complaint import COMPLAINTS

        while True:
            with self.wake:
                while not self.waiting:
                    self.wake.wait()
                group = list(self.waiting)
                self.waiting.clear()
            rows = [row for row, _, _ in group]
            error: BaseException | None = None
            try:
                insert = _driver_insert(self.engine.dialect, COMPLAINTS, tuple(rows[0]))
                assert insert is not None
                with self.engine.begin() as connection:
                    connection.exec_driver_sql(*insert.statement(rows))
            except Exception as exc:  # every request of the group gets it
                error = exc
            for _, future, loop in group:
                loop.call_soon_threadsafe(_settle, future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def create_app() -> FastAPI:
    from bench.bare_app import TELEMETRY_OFF
    from cases.repository import _new_complaint_row
    from core.timeutil import utcnow
    from schemas.enums import Channel, Kind, Status

    app = FastAPI(telemetry=TELEMETRY_OFF)  # as the ceiling's and the platform's
    committer = _Committer()
    # Unique without a query: this process's id and a counter (the bench's run is short).
    numbers = itertools.count()
    prefix = f"{os.getpid() % 100000:05d}"

    @app.post("/api/v1/complaints", status_code=201)
    async def file(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        now = utcnow()
        number = f"{prefix}{next(numbers):09d}"
        row = _new_complaint_row(
            {
                "tracking_number": number,
                "kind": Kind(body.get("kind", "complaint")),
                "channel": Channel.web,
                "status": Status.received,
                "text": str(body.get("text", "")),
                "contact_phone": body.get("contact_phone"),
                "complainant_name": body.get("complainant_name"),
                "business_name": body.get("business_name"),
                "business_address": body.get("business_address"),
                "created_at": now,
                "updated_at": now,
                "routing_hints": {},
            }
        )
        await committer.file(row)
        return {"tracking_number": number, "status": "received", "kind": body.get("kind")}

    return app
