"""The ceiling bench/intake.py measures against: FastAPI taking the same filing body and
answering 201, with no database, no Redis and no middleware."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Body, FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/complaints", status_code=201)
    def file(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        number = f"{secrets.randbelow(10**14):014d}"
        return {"tracking_number": number, "status": "received", "kind": body.get("kind")}

    return app
