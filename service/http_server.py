"""uvicorn as the platform runs it: several worker processes on one socket, without Nagle.

With `workers > 1` uvicorn binds the listening socket itself, as `socket.socket(AF_INET)`,
whose protocol number is 0; asyncio then leaves TCP_NODELAY off on the connections it
accepts (it sets it only for sockets that say IPPROTO_TCP). A response goes out as two
writes, headers then body, so the body waited for the client's delayed ACK: every request on
a kept-alive connection took 40 ms more, and 32 connections could never pass ~800
requests/s however fast the app. Linux copies TCP_NODELAY from a listening socket to the
connections it accepts, so setting it once on the socket fixes every worker.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


class _Config(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def serve(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """`uvicorn.run(app, factory=True, …)`, with TCP_NODELAY on the shared socket."""
    config = _Config(app, factory=True, host=host, port=port, workers=workers, **options)
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = uvicorn.Server(config)
    server.run()  # binds through asyncio, which sets TCP_NODELAY itself
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: the app failed to start
