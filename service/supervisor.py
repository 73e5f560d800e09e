"""`complaints serve`: the whole platform from one command, on embedded defaults.

Starts the embedded Redis (unless COMPLAINTS_REDIS_URL is set), prepares the database,
then runs the API, one RQ worker and the outbox relay as child processes, restarting one
that crashes. SIGINT or SIGTERM stops the children first, then Redis: nothing is left.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

import httpx
import typer

from core.settings import get_settings
from service.bootstrap import DEMO_ADMIN, prepare
from service.children import Child, stop_all
from service.embedded_redis import start_embedded_redis

log = logging.getLogger(__name__)


def serve(host: str, port: int) -> None:
    settings = get_settings()
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("serve: signal %d, shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    redis_process: subprocess.Popen[bytes] | None = None
    children: list[Child] = []
    try:
        if settings.uses_embedded_redis:
            redis_process = start_embedded_redis(data_dir, settings.embedded_redis_socket)
            log.info("embedded Redis on %s", settings.embedded_redis_socket)
        prepared = prepare(settings.registry_file)
        if prepared.registry:
            typer.echo(
                f"loaded department registry {prepared.registry.version} "
                f"({len(prepared.registry.added)} departments)"
            )
        if prepared.admin_password:
            typer.echo(
                f"demo admin created: username {DEMO_ADMIN}, password {prepared.admin_password} "
                "(shown once; create your own accounts with `complaints users create`)"
            )
        env = dict(os.environ)
        env["COMPLAINTS_DATA_DIR"] = str(data_dir)
        env["COMPLAINTS_REDIS_URL"] = settings.effective_redis_url
        if "sms_provider" not in settings.model_fields_set:
            # No gateway configured: text citizens through the app's own loopback inbox.
            env["COMPLAINTS_SMS_PROVIDER"] = "loopback"
            env["COMPLAINTS_SMS_GATEWAY_URL"] = f"http://{_local(host)}:{port}/dev/sms"
        cli = [sys.executable, "-m", "service"]
        children = [
            Child("api", [*cli, "api", "--host", host, "--port", str(port)], env),
            Child("worker", [*cli, "worker"], env),
            Child("relay", [*cli, "relay"], env),
            Child("scheduler", [*cli, "scheduler"], env),
        ]
        for child in children:
            child.start()
        _watch(children, redis_process, stop, ready=_Readiness(host, port))
    finally:
        stop_all([c.process for c in children if c.process is not None])
        if redis_process is not None:
            stop_all([redis_process])
        log.info("serve: stopped")


class _Readiness:
    """Says "serving on" once the API answers /readyz: a browser opened then gets a page."""

    def __init__(self, host: str, port: int) -> None:
        self.url = f"http://{_local(host)}:{port}/readyz"
        self.message = f"serving on http://{host}:{port}  (Ctrl-C stops everything)"
        self.announced = False

    def check(self) -> None:
        if self.announced:
            return
        try:
            answered = httpx.get(self.url, timeout=1.0).status_code == 200
        except httpx.TransportError:
            return
        if answered:
            typer.echo(self.message)
            self.announced = True


def _local(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104


def _watch(
    children: list[Child],
    redis_process: subprocess.Popen[bytes] | None,
    stop: threading.Event,
    *,
    ready: _Readiness,
) -> None:
    while not stop.wait(0.25):
        ready.check()
        if redis_process is not None and redis_process.poll() is not None:
            log.error("embedded Redis exited with code %s; stopping", redis_process.returncode)
            raise typer.Exit(1)
        for child in children:
            code = child.exited()
            if code is None:
                continue
            if not child.may_restart():
                log.error("%s keeps exiting (last code %s); stopping", child.name, code)
                raise typer.Exit(1)
            log.warning("%s exited with code %s; restarting it", child.name, code)
            child.start()
