"""A loopback SMS gateway for development and tests: it accepts messages and shows them.

Messages are appended to a JSON-lines file, so every API process and a test see the same
inbox. `complaints serve` mounts it at /dev/sms and sends through it by default;
`complaints sms-gateway` runs it alone.
"""

from __future__ import annotations

import fcntl
import json
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict

from core.timeutil import utcnow


class OutgoingMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str
    text: str


class LoopbackInbox:
    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, message: OutgoingMessage) -> dict[str, Any]:
        record = {"id": uuid.uuid4().hex, "to": message.to, "text": message.text}
        record["at"] = utcnow().isoformat()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record

    def all(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            return [json.loads(line) for line in handle if line.strip()]

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def loopback_router(inbox: LoopbackInbox) -> APIRouter:
    router = APIRouter(tags=["dev: loopback SMS gateway"])

    @router.post("/messages", status_code=201)
    def accept(message: OutgoingMessage) -> dict[str, Any]:
        return inbox.add(message)

    @router.get("/messages")
    def list_messages() -> list[dict[str, Any]]:
        return inbox.all()

    @router.delete("/messages", status_code=204)
    def clear() -> None:
        inbox.clear()

    return router


def loopback_app(inbox: LoopbackInbox) -> FastAPI:
    app = FastAPI(title="loopback SMS gateway")
    app.include_router(loopback_router(inbox))
    return app
