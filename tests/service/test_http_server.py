"""The API's listening sockets: one per worker on the shared port, spreading connections
over the workers, each handing out connections with Nagle's algorithm off."""

from __future__ import annotations

import asyncio.base_events as base_events
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from service.http_server import hold_port, server_config, worker_listener

ROOT = Path(__file__).resolve().parents[2]


def test_a_plain_listening_socket_would_leave_nagle_on() -> None:
    # The control: a socket made as worker_listener makes it, without TCP_NODELAY. asyncio
    # sets it only for sockets that say IPPROTO_TCP, so a body written after its headers
    # waited 40 ms for the client's delayed ACK. If asyncio ever sets it here, this fails and
    # worker_listener need not.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        assert listener.proto == 0
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                base_events._set_nodelay(accepted)  # what asyncio does on accepting
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0


def test_each_workers_own_listener_hands_out_connections_with_tcp_nodelay() -> None:
    with hold_port("127.0.0.1", 0) as holder:
        port = holder.getsockname()[1]
        listener = worker_listener("127.0.0.1", port, 16)
        with listener, socket.create_connection(("127.0.0.1", port), timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_port_something_else_listens_on_is_refused() -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # even one that shares
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(OSError, match="in use"):
            hold_port("127.0.0.1", other.getsockname()[1])


def test_the_platform_is_served_by_uvloop_and_httptools() -> None:
    # uvicorn falls back to asyncio's loop and h11's pure-Python parser without a word; the
    # platform asks for the C ones by name, so a missing one stops start-up instead.
    config = server_config(
        "tests.service.test_http_server:pid_app", host="127.0.0.1", port=0, workers=1
    )
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    assert config.loop == "uvloop"
    # Asked for otherwise, it is served otherwise.
    plain = server_config(
        "tests.service.test_http_server:pid_app", host="127.0.0.1", port=0, workers=1, http="h11"
    )
    plain.load()
    assert plain.http_protocol_class.__name__ == "H11Protocol"


@contextmanager
def served(app: str, *, workers: int) -> Iterator[int]:
    """`app` (a factory in this module) served as the platform serves, in a process of its
    own; its port."""
    with hold_port("127.0.0.1", 0) as probe:
        port = probe.getsockname()[1]
    code = (
        "from service.http_server import serve; "
        f"serve('tests.service.test_http_server:{app}', host='127.0.0.1', port={port}, "
        f"workers={workers}, log_level='warning')"
    )
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        yield port
    finally:
        server.terminate()
        server.wait(30)


def test_a_served_worker_runs_on_uvloop() -> None:
    # The loop the served app's requests run on (a worker process of its own).
    with served("loop_app", workers=1) as port:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/loop", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.1)
        assert answer.json() == "uvloop"


def loop_app() -> object:
    import asyncio

    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/loop")
    async def loop() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    return app


def pid_app() -> object:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/pid")
    def pid() -> int:
        return os.getpid()

    return app


@pytest.mark.slow
def test_kept_alive_connections_are_spread_over_the_workers() -> None:
    # With one socket shared by the workers, the first to wake accepted every waiting
    # connection: under wrk -c32 one worker did all the work and the other idled.
    with served("pid_app", workers=2) as port:
        # Both workers up: a fresh connection lands on each within a few tries.
        seen: set[int] = set()

        def both_answer() -> bool:
            try:
                seen.add(int(httpx.get(f"http://127.0.0.1:{port}/pid", timeout=2).json()))
            except httpx.HTTPError:
                return False
            return len(seen) == 2

        deadline = time.monotonic() + 60
        while not both_answer():
            assert time.monotonic() < deadline, f"workers answering: {seen}"
            time.sleep(0.1)
        # 32 connections made at once, as a load generator or a proxy opens them, then
        # each asked twice.
        connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(32)]
        try:
            pids = [_ask_pid(connection) for connection in connections]
            again = [_ask_pid(connection) for connection in connections]
        finally:
            for connection in connections:
                connection.close()
        assert pids == again  # kept alive: each connection stays with its worker
        shares = sorted(pids.count(pid) for pid in set(pids))
        assert len(shares) == 2, shares
        assert shares[0] >= 4, shares
        # A worker killed is replaced by uvicorn, and the new one listens on its own socket.
        dead = pids[0]
        os.kill(dead, signal.SIGKILL)
        seen.clear()
        deadline = time.monotonic() + 60
        while not both_answer():
            assert time.monotonic() < deadline, f"workers answering: {seen}"
            time.sleep(0.1)
        assert dead not in seen


def _ask_pid(connection: socket.socket) -> int:
    connection.sendall(b"GET /pid HTTP/1.1\r\nHost: test\r\n\r\n")
    answer = b""
    while True:
        head, _, body = answer.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head) if _ else None
        if length and len(body) >= int(length.group(1)):
            return int(body[: int(length.group(1))])
        chunk = connection.recv(4096)
        assert chunk, "connection closed"
        answer += chunk
