"""The API's listening socket hands out connections with Nagle's algorithm off."""

from __future__ import annotations

import asyncio.base_events as base_events
import socket

import uvicorn

from service.http_server import _Config


def test_connections_accepted_on_the_workers_socket_have_tcp_nodelay() -> None:
    # uvicorn binds the socket it shares between workers with protocol 0, and asyncio then
    # leaves TCP_NODELAY off on accepted connections: a body written after its headers
    # waited 40 ms for the client's delayed ACK. Set on the listener, Linux copies it.
    listener = _Config("service.app:create_app", host="127.0.0.1", port=0).bind_socket()
    try:
        assert listener.proto == 0  # what makes asyncio skip it: the reason for _Config
        listener.listen()
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


def test_plain_uvicorn_socket_would_leave_nagle_on() -> None:
    # The control: the same socket without the fix. If a future uvicorn binds with
    # IPPROTO_TCP (or asyncio stops checking), this fails and service.http_server can go.
    listener = uvicorn.Config("service.app:create_app", host="127.0.0.1", port=0).bind_socket()
    try:
        listener.listen()
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                base_events._set_nodelay(accepted)  # what asyncio does on accepting
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        listener.close()
