"""Child processes of `serve`: started so that they die with it, stopped in order."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.processes import parent_death_signal

log = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    command: Sequence[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(
            list(self.command),
            env=self.env,
            stdin=subprocess.DEVNULL,
            preexec_fn=parent_death_signal,
        )
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def may_restart(self, *, limit: int = 5, window: float = 60.0) -> bool:
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < window] + [now]
        return len(self.restarts) <= limit


def stop_all(processes: Sequence[subprocess.Popen[bytes]], *, grace: float = 10.0) -> None:
    """SIGTERM each, wait up to `grace` seconds for all, then SIGKILL what is left."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            log.warning("pid %d did not stop in %.0fs; killing it", process.pid, grace)
            process.kill()
            process.wait()
