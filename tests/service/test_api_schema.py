"""Schemathesis over the OpenAPI schema: every operation, all default checks, bounded time.

The schemathesis CLI generates requests from the schema (examples, coverage, fuzzing) and
sends them to the app on a local port, signed in with the role each area is for, over a
database holding filings of every kind. No answer may be a server error or differ from
what the schema says. It runs once per role, each over that role's operations, each run
a test of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from schemas.enums import Role
from tests.helpers import add_staff, bearer, run_worker_until_idle, serving, valid_filing

pytestmark = [pytest.mark.drill, pytest.mark.timeout(900)]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Each role over the operations it is for (None: every operation the others' runs leave),
# with the seconds its fuzzing phase may take (about in proportion to its operations). One
# test each, so that the suite's workers share them and a failure names its role.
RUNS: dict[str, tuple[Role, str | None, int]] = {
    "operator": (Role.operator, r"^/api/v1/operator/", 30),
    "officer": (Role.reward_officer, r"^/api/v1/(rewards|vault)", 40),
    "supervisor": (Role.supervisor, None, 110),
}
EXAMPLES_PER_OPERATION = 30


def _run(
    url: str, headers: dict[str, str], *, seconds: int, include: str | None, exclude: list[str]
) -> str | None:
    """One schemathesis run; what it printed if it failed, None if it passed."""
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--max-time", str(seconds),
        "--workers", "1",
        "--seed", "20261201",
        "--no-color",
        "-H", f"Authorization: {headers['Authorization']}",
    ]  # fmt: skip
    if include:
        command += ["--include-path-regex", include]
    for pattern in exclude:
        command += ["--exclude-path-regex", pattern]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="tests.service.schemathesis_hooks")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode == 0:
        return None
    return done.stdout[-12000:] + done.stderr[-3000:]


@pytest.mark.parametrize("role", list(RUNS))
def test_every_operation_answers_as_its_schema_says(
    role: str, sqlite_platform: str, client: TestClient, session: Session
) -> None:
    account, paths, seconds = RUNS[role]
    add_staff(session, role, account)
    for body in (
        valid_filing(),
        valid_filing(kind="tip", contact_phone=None),
        valid_filing(kind="inquiry", business_name=None),
    ):
        assert client.post("/api/v1/complaints", json=body).status_code == 201
    run_worker_until_idle()
    headers = bearer(client, role)
    from routing.tasks import warm_up
    from service.app import create_app

    warm_up()  # as a production process does at start: the first /classify is no slower
    others = [] if paths else [pattern for _, pattern, _ in RUNS.values() if pattern]
    with serving(create_app()) as url:
        failed = _run(url, headers, seconds=seconds, include=paths, exclude=others)
    assert failed is None, failed


def test_the_schema_declares_the_error_shape_on_every_error_response() -> None:
    from service.app import create_app

    document = create_app().openapi()
    bare = [
        f"{method.upper()} {path} {status}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.isdigit() and int(status) >= 400 and "content" not in response
    ]
    assert bare == []
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["error", "detail"]
