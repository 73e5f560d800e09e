"""Small helpers the tests share: filing, running the worker, signing in."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from sqlmodel import Session

from accounts.service import create_user
from routing.tasks import warm_up
from schemas.enums import Role
from workers.worker import run_worker

PASSWORD = "correct-horse-battery"
# A complaint is made under the complainant's real name (policy intake.complaint_requires_name).
COMPLAINANT = "李秀英"


def valid_filing(**overrides: Any) -> dict[str, Any]:
    """A filing the JSON API accepts: a complaint by default, with its complainant's name;
    another kind gets no name (a complaint's field), `complainant_name=None` leaves it out."""
    body: dict[str, Any] = {
        "kind": "complaint",
        "text": "我家小区的电梯上个月困人两次，物业一直不修，电梯年检标志也过期了，请质监部门检查。",
        "contact_phone": "13812345678",
        "business_name": "太原市某某物业服务有限公司",
        "business_uscc": "91330100799655058B",
        "business_address": "山西省太原市小店区某某路1号",
        "region": "太原市小店区",
    }
    body.update(overrides)
    if body.get("kind") == "complaint":
        body.setdefault("complainant_name", COMPLAINANT)
    if body.get("complainant_name", "") is None:
        del body["complainant_name"]
    return body


def run_worker_until_idle() -> None:
    assert run_worker(warm_up=[warm_up], burst=True)


def add_staff(
    session: Session,
    username: str,
    role: Role,
    department: str | None = None,
    office: str | None = None,
) -> None:
    create_user(
        session,
        username=username,
        password=PASSWORD,
        role=role,
        department_code=department,
        office_code=office,
    )
    session.commit()


def form_token(html: str) -> str:
    """The CSRF form token a staff page carries."""
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, html[:500]
    return match.group(1)


def sign_in_page(client: TestClient, username: str) -> str:
    """Sign in on the staff pages (any earlier session dropped); returns the form token."""
    client.cookies.clear()
    token = form_token(client.get("/staff/login").text)
    signed = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    return form_token(client.get("/staff/login").text)


def bearer(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run an ASGI app on a free local port in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run_cli(*args: str, typed: str | None = None) -> subprocess.CompletedProcess[str]:
    """`complaints ARGS` in a process of its own, as an administrator runs it, with this
    test's environment; `typed` is what they would type at its prompts."""
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=dict(os.environ),
        input=typed,
        capture_output=True,
        text=True,
        timeout=120,
    )
