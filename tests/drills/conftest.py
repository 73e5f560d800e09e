"""Real processes and a Redis of the drill's own, so that one can be killed and restarted."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    what: str,
    check: Callable[[], bool],
    *,
    timeout: float,
    every: float = 0.1,
    explain: Callable[[], str] | None = None,
) -> None:
    """Poll `check` until true; past `timeout` fail, with what `explain` tells of the state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    detail = f"\n{explain()}" if explain is not None else ""
    raise AssertionError(f"{what}: not within {timeout:.0f}s{detail}")


@dataclass
class OwnRedis:
    """A redis-server on a port of its own, configured as production wants it."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--maxmemory-policy", "noeviction",
             "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for("redis-server answers", self.answers, timeout=10, every=0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def answers(self) -> bool:
        try:
            return bool(Redis.from_url(self.url, socket_timeout=0.5).ping())
        except RedisError:
            return False


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    redis = OwnRedis(port=free_port(), log=tmp_path / "redis.log")
    redis.start()
    yield redis
    redis.stop()


@dataclass
class Processes:
    """The platform's own commands as child processes, each logging to a file."""

    env: dict[str, str]
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "service", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def log_of(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop_all(self) -> None:
        # Every process group, even one whose leader is gone (a drill's kill -9): what the
        # leader forked must not live on into later tests.
        for process in self.started:
            _signal_group(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        deadline = time.monotonic() + 15
        while any(_group_alive(p.pid) for p in self.started) and time.monotonic() < deadline:
            time.sleep(0.1)
        for process in self.started:
            _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., Processes]]:
    made: list[Processes] = []

    def _make(*, database_url: str, redis_url: str, **extra: str) -> Processes:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
        env |= {
            "COMPLAINTS_DATA_DIR": str(tmp_path / "var"),
            "COMPLAINTS_DATABASE_URL": database_url,
            "COMPLAINTS_REDIS_URL": redis_url,
            "COMPLAINTS_SECRET_KEY": "drill-secret-key-" + "x" * 32,
            "COMPLAINTS_RATE_LIMIT_FILINGS_PER_IP_PER_HOUR": "1000000",
            "COMPLAINTS_RATE_LIMIT_FILINGS_PER_PHONE_PER_DAY": "1000000",
            "COMPLAINTS_RELAY_INTERVAL_SECONDS": "0.2",
            "COMPLAINTS_RELAY_GRACE_SECONDS": "1",
        }
        env |= {f"COMPLAINTS_{k.upper()}": v for k, v in extra.items()}
        logs = tmp_path / "logs"
        logs.mkdir(exist_ok=True)
        made.append(Processes(env=env, logs=logs))
        return made[-1]

    yield _make
    for group in made:
        group.stop_all()
