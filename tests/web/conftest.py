"""The app as it runs in production, for the browser tests: uvicorn and an RQ worker as
processes of their own (`complaints api`, `complaints worker`), real Redis, a SQLite file;
and Debian's Chromium driven by Playwright. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from core.db import dispose_engines, get_engine
from schemas.enums import Role
from tests.conftest import Templates, migrated_platform
from tests.helpers import add_staff

ROOT = Path(__file__).resolve().parents[2]
COMPLAINTS = ROOT / ".venv" / "bin" / "complaints"
ARTIFACTS = Path(os.environ.get("COMPLAINTS_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM = "/usr/bin/chromium"
STAFF = [
    ("op", Role.operator, None),
    ("zj", Role.department, "quality"),
    ("gs", Role.department, "aic"),
    ("ro1", Role.reward_officer, None),
    ("ro2", Role.reward_officer, None),
]


@dataclass
class Production:
    url: str
    env: dict[str, str]
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def production(
    configure: object, sqlite_url: str, redis_url: str, templates: Templates, tmp_path: Path
) -> Iterator[Production]:
    """API (uvicorn, 2 workers), one RQ worker and the relay, as production runs them."""
    assert callable(configure)
    migrated_platform(configure, sqlite_url, redis_url, templates)
    with Session(get_engine()) as session:
        for username, role, department in STAFF:
            add_staff(session, username, role, department)
        session.commit()
    dispose_engines()
    port = _free_port()
    env = {
        **os.environ,
        "COMPLAINTS_DATA_DIR": str(tmp_path / "var"),
        "COMPLAINTS_DATABASE_URL": sqlite_url,
        "COMPLAINTS_REDIS_URL": redis_url,
        "COMPLAINTS_SECRET_KEY": os.environ["COMPLAINTS_SECRET_KEY"],
        "COMPLAINTS_WARM_UP": "false",
    }
    log = tmp_path / "processes.log"
    with log.open("ab") as out:
        api = subprocess.Popen(
            [str(COMPLAINTS), "api", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [str(COMPLAINTS), "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        # The relay sends what missed Redis at commit time and re-pokes batch drains: a
        # platform without it is not the one production runs.
        relay = subprocess.Popen(
            [str(COMPLAINTS), "relay"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or api.poll() is not None:
                sys.stderr.write(log.read_text(errors="replace"))
                raise RuntimeError("the API did not start")
            time.sleep(0.2)
        yield Production(url=url, env=env, log=log)
    finally:
        for process in (api, worker, relay):
            process.terminate()
        for process in (api, worker, relay):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run scripts/browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def shot(page: object, name: str) -> Path:
    """Save a full-page screenshot as an artifact for a person to look at."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def wait_for(check: object, timeout: float = 30.0) -> None:
    """Poll `check()` until it is true (the worker routes in the background)."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.3)
