"""Past the in-flight limit a request is answered 503 at once: a page for people, JSON for
the API; and a crash shows a friendly page, never a trace."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.overload import OverloadMiddleware


def _call(app: Any, path: str) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await app({"type": "http", "path": path, "headers": []}, receive, send)

    return {"run": run, "sent": sent}


def test_beyond_the_limit_requests_get_a_busy_answer_at_once() -> None:
    release = asyncio.Event()

    async def slow(_scope: Any, _receive: Any, send: Any) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = OverloadMiddleware(slow, max_in_flight=1)

    async def scenario() -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        first, page, api, health = (
            _call(app, "/"),
            _call(app, "/track"),
            _call(app, "/api/v1/queue"),
            _call(app, "/healthz"),
        )
        running = asyncio.create_task(first["run"]())
        await asyncio.sleep(0)
        await page["run"]()
        await api["run"]()
        health_task = asyncio.create_task(health["run"]())
        release.set()
        await running
        await health_task
        return first["sent"], page["sent"], api["sent"], health["sent"]

    # In a thread of its own: a session-wide browser fixture (Playwright) keeps an event loop
    # running in this one, where asyncio.run refuses to start another.
    with ThreadPoolExecutor(1) as pool:
        first, page, api, health = pool.submit(asyncio.run, scenario()).result()
    assert first[0]["status"] == 200
    assert page[0]["status"] == 503
    assert "系统繁忙".encode() in page[1]["body"]
    assert (b"retry-after", b"5") in page[0]["headers"]
    assert api[0]["status"] == 503
    assert b'"error": "ServiceUnavailable"' in api[1]["body"]
    assert health[0]["status"] == 200  # health checks are always answered
    assert app.in_flight == 0


def test_a_crash_on_a_page_is_a_friendly_page_and_on_the_api_json(
    sqlite_platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake import service
    from service.app import create_app

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "public_filing", broken)  # behind both the page and the API
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        page = client.get("/track?n=26112800000000")
        api = client.get("/api/v1/track/26112800000000")
    assert page.status_code == 500
    assert "系统出错了" in page.text
    assert "secret internal detail" not in page.text
    assert "Traceback" not in page.text
    assert api.status_code == 500
    assert api.json()["error"] == "InternalError"
    assert "secret" not in api.text
