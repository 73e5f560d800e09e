"""`complaints serve` as a person runs it: one command, embedded Redis, nothing left behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import valid_filing

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _redis_servers_on(socket_path: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "redis-server" in cmdline and str(socket_path) in cmdline:
                pids.append(int(entry.name))
    return pids


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Short: a unix socket path must fit in 108 bytes.
    with tempfile.TemporaryDirectory(prefix="cs-") as path:
        yield Path(path)


def test_serve_routes_a_filing_and_stops_every_child(data_dir: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
    env["COMPLAINTS_DATA_DIR"] = str(data_dir)
    serve = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert serve.stdout is not None
        output = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = serve.stdout.readline()
            output.append(line)
            if "serving on" in line or serve.poll() is not None:
                break
        text = "".join(output)
        assert f"serving on http://127.0.0.1:{port}" in text, text
        password = re.search(r"username admin, password (\S+)", text)
        assert password, text

        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=5) as http:
            # The children import their packages all at once: on a busy 2-core machine the
            # API can take well over 10 s to listen.
            up = time.monotonic() + 90
            while time.monotonic() < up:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            filed = http.post("/api/v1/complaints", json=valid_filing())
            assert filed.status_code == 201, filed.text
            number = filed.json()["tracking_number"]
            tracked: dict[str, object] = {}
            for _ in range(100):
                tracked = http.get(f"/api/v1/track/{number}").json()
                if tracked["status"] != "received":
                    break
                time.sleep(0.1)
            assert tracked["status"] == "routed"
            assert tracked["department"] == {"code": "quality", "name": "质量技术监督部门"}
            token = http.post(
                "/api/v1/auth/token", data={"username": "admin", "password": password.group(1)}
            )
            assert token.status_code == 200

        children = _descendants(serve.pid)
        assert len(children) >= 5  # redis, api, worker, relay, scheduler
        assert _redis_servers_on(data_dir / "redis.sock")
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0
        time.sleep(0.2)
        assert [pid for pid in children if _alive(pid)] == []
        assert _redis_servers_on(data_dir / "redis.sock") == []
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
