"""Filings run in a few threads of their own, not in the thread pool every route shares.

Each filing is a short burst of Python around three INSERTs and a COMMIT, all into one
database. Under a flood, Starlette's pool (40 threads) had dozens of them runnable at once
in each API process: they took turns at the GIL, and the one holding SQLite's write lock
(or a PostgreSQL transaction) waited behind the others between its statements, so every
filing held the lock longer. Two threads per process filed more per second than forty on
both databases (bench/intake.py; docs/architecture.md). Filings past the threads wait on
the event loop, which costs nothing; other routes keep the shared pool, so a flood of
filings does not queue a department's page behind it, nor a slow export the filings.

These threads take the filings that need a transaction of their own: those with an
Idempotency-Key, tip-offs, and the SMS webhooks' filings. Keyless web filings are written
in groups by each process's committer thread instead (intake.group_commit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

import anyio.to_thread
from anyio import CapacityLimiter

from core.settings import get_settings

T = TypeVar("T")

# A limiter belongs to the event loop it was made on (tests start one loop per client).
_limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = WeakKeyDictionary()


def _limiter() -> CapacityLimiter:
    """This event loop's filing threads (intake.group_commit has a committer of its own)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(get_settings().filing_threads)
    return limiter


async def run_filing(work: Callable[[], T]) -> T:
    """`work()` in one of the filing threads, waiting for a free one."""
    return await anyio.to_thread.run_sync(work, limiter=_limiter())
