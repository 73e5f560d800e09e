"""uvicorn as the platform runs it: several worker processes, each with its own listening
socket on the port (SO_REUSEPORT), without Nagle.

One shared socket: uvicorn binds it in the parent and every worker accepts from it. asyncio
accepts every connection waiting at once when its socket becomes readable, so the first
worker to wake took all of a client's kept-alive connections, and the others idled: under
`wrk -c32` one of two workers did all the work (15.9 s of CPU in 15 s, the other 0), and
intake managed 250-450 filings/s, whichever worker happened to win. With SO_REUSEPORT each
worker listens on a socket of its own and the kernel spreads new connections over them by
their addresses. The parent holds the port (bound, not listening: a process without
SO_REUSEPORT cannot take it, and port 0 becomes one port for every worker) after checking
that nothing else listens on it (another SO_REUSEPORT server would otherwise share its
connections with this one).

Nagle: a socket made as `socket.socket(AF_INET)` has protocol number 0, and asyncio then
leaves TCP_NODELAY off on the connections it accepts (it sets it only for sockets that say
IPPROTO_TCP). A response goes
out as two writes, headers then body, so the body waited for the client's delayed ACK: every
request on a kept-alive connection took 40 ms more. Linux copies TCP_NODELAY from a listening
socket to the connections it accepts, so it is set once on each listening socket.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def worker_listener(host: str, port: int, backlog: int) -> socket.socket:
    """A worker's own listening socket on the shared port (made in the worker process)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # see above
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class _ListenerInWorker:
    """Stands in the list of sockets uvicorn hands to each worker process it spawns (and
    re-spawns): unpickled there, it is that worker's own listening socket."""

    def __init__(self, host: str, port: int, backlog: int) -> None:
        self.address = (host, port, backlog)

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        return (worker_listener, self.address)


def hold_port(host: str, port: int) -> socket.socket:
    """Bound, never listening: the port this server's workers share. OSError (address in
    use) if anything else has it, whether or not that one uses SO_REUSEPORT."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))  # no SO_REUSEPORT: fails while any socket listens there
        port = probe.getsockname()[1]
    holder = socket.socket(_family(host), socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((host, port))
    except OSError:
        holder.close()
        raise
    return holder


def server_config(
    app: str, *, host: str, port: int, workers: int, **options: Any
) -> uvicorn.Config:
    """How the platform serves `app` (a factory): uvloop and httptools unless told otherwise."""
    options = {"loop": "uvloop", "http": "httptools"} | options
    return uvicorn.Config(app, factory=True, host=host, port=port, workers=workers, **options)


def serve(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """`uvicorn.run(app, factory=True, …)`: one listening socket per worker, TCP_NODELAY."""
    config = server_config(app, host=host, port=port, workers=workers, **options)
    if workers > 1:
        with hold_port(host, port) as holder:
            bound = holder.getsockname()[1]
            listeners: Any = [_ListenerInWorker(host, bound, config.backlog)]
            Multiprocess(config, sockets=listeners).run()
        return
    server = uvicorn.Server(config)
    server.run()  # binds through asyncio, which sets TCP_NODELAY itself
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: the app failed to start
