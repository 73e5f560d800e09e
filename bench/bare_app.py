"""The ceiling bench/intake.py measures against: FastAPI taking the same filing body and
answering 201, with no database, no Redis and no middleware.

Its handler is a coroutine, the fastest way FastAPI serves a route: a plain `def` handler
runs in Starlette's thread pool, one hand-off to a thread and back per request. Served as
bench/intake.py serves it (2 workers, wrk -c32, 2 cores), the `def` handler answered
8,185–8,479 requests/s and this one 15,417–15,455 in the same runs (1.76–1.88×): until
2026-12-06 the ceiling was the `def` handler's, and the platform's share of it looked
that much larger (docs/architecture.md, "The ceiling is an async handler").

FastAPI's native OpenTelemetry is off, as in the platform (service.app.NO_TELEMETRY): left on,
it looks for a configured provider on every request, a cost the platform does not pay."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Body, FastAPI
from fastapi.telemetry import TelemetryConfig

# service.app.NO_TELEMETRY, written out: the ceiling imports nothing of the platform.
TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "auto_configure": False,
}


def create_app() -> FastAPI:
    app = FastAPI(telemetry=TELEMETRY_OFF)

    @app.post("/api/v1/complaints", status_code=201)
    async def file(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        number = f"{secrets.randbelow(10**14):014d}"
        return {"tracking_number": number, "status": "received", "kind": body.get("kind")}

    return app
