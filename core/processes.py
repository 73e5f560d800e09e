"""Processes that must not outlive the one that started them."""

from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def parent_death_signal() -> None:
    """Ask Linux to SIGTERM this process when its parent dies, even by SIGKILL.

    Used before exec by `serve` for its children, and by the worker's forked scheduler.
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: the orderly shutdown still stops the children
        pass
