"""The platform's own app with the filing's storage taken out: the floor its framework sets.

bench/intake.py serves this beside the bare ceiling and the real platform. It is
`service.app.create_served_app()` (every router, the middleware, the error handlers, the
request log, the settled heap) answering `POST /api/v1/complaints` through the real route:
body validation, the Idempotency-Key header, the same answer built by
`intake.api.filing_created`. Only the filing's own work is gone: no rate limits, no rows,
no commit, no Redis. Its rate is the most intake could reach with a handler that cost
nothing, so it splits the gap to the ceiling into the framework's part and the filing's.
Never served outside the bench.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI


def create_app() -> FastAPI:
    import intake.api
    from core.timeutil import utcnow
    from intake import service
    from intake.idempotency import Answer
    from intake.service import Filed
    from intake.tracking_number import new_tracking_number
    from schemas.complaint import ComplaintCreate
    from schemas.enums import Status
    from service.app import create_served_app as platform_app

    def file_nothing(_session: Any, *, data: ComplaintCreate, **_: Any) -> Filed:
        number = new_tracking_number(utcnow())
        filing = SimpleNamespace(tracking_number=number, kind=data.kind, status=Status.received)
        return Filed(filing)  # type: ignore[arg-type]

    def run_without_commit(_session: Any, *, produce: Callable[[], Answer], **_: Any) -> Answer:
        return produce()

    @contextmanager
    def no_session() -> Iterator[None]:
        yield None

    async def file_without_commit(_limits: Any, work: Callable[[Any], Answer], **_: Any) -> Answer:
        # On the event loop, as the real route's await of its group costs no thread per
        # filing (a filing thread here made the floor 72-81 % of the ceiling, not the
        # framework's cost alone).
        return work(None)

    # This process only: the route looks these names up when it runs.
    intake.api.service = SimpleNamespace(  # type: ignore[assignment]
        file_counted=file_nothing,
        filing_limits=service.filing_limits,
        IDS_PER_FILING=service.IDS_PER_FILING,
    )
    intake.api.run_once = run_without_commit  # type: ignore[assignment]
    intake.api.session_scope = no_session  # type: ignore[assignment]
    intake.api.group_commit = SimpleNamespace(file=file_without_commit)  # type: ignore[assignment]
    return platform_app()
