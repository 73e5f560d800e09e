"""Writers of one SQLite file take turns in a queue, not in SQLite's busy handler.

SQLite lets one transaction write at a time. The others wait in its busy handler, which
sleeps and retries (1, 2, 5, 10 … then 100 ms at a time): a process that writes back to back,
such as a worker draining batches, takes the lock again before a sleeping request wakes, so
with a worker running, requests waited seconds (bench/e2e.py: p99 3 s at 100 filings/s).

The gate queues writers instead. Before BEGIN IMMEDIATE a thread takes its process's lock
(bounded by the busy timeout; a clear "database is locked" after it), then an exclusive
`flock` on `<database>-writers`, shared by every process using the file; the kernel wakes a
waiter the moment the holder lets go, after its COMMIT or ROLLBACK. One thread per process
waits in the kernel; the rest wait on the process's lock.

A thread that opens a second write transaction while its first is still open is not gated
again (it would wait for itself): SQLite's busy handler decides, as before the gate.

The WAL is copied back into the database file after the gate opens, not inside it. SQLite
checkpoints by itself in the COMMIT that takes the WAL past 1,000 pages: it copies them and
syncs both files before the COMMIT returns, and the gate opens only then, so every writer of
every process waited for that copy. Connections behind a gate turn the automatic checkpoint
off, and the committing thread checkpoints once its gate has opened, after every
`CHECKPOINT_EVERY` commits of its process (a group of filings writes a few dozen pages):
PASSIVE, which copies what no reader still needs and never waits for a reader or a writer.
With two API workers under wrk, the COMMIT of a group took 0.36 ms instead of 0.6 ms and
the gate was held 2.4 ms instead of 2.75 ms per group; filings per second moved within the
runs' noise (2,136-2,378 against 2,139-2,151).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from typing import Any

from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
_HELD = "sqlite_gate_held"  # in the pool entry's info: this connection holds its gate
CHECKPOINT_EVERY = 50  # commits of a process between its checkpoints


class WriterGate:
    def __init__(self, database_path: str, timeout_seconds: float) -> None:
        self.path = f"{database_path}-writers"
        self.timeout_seconds = timeout_seconds
        self._reset()

    def _reset(self) -> None:
        self._threads = threading.Lock()
        self._holder: int | None = None
        self._fd: int | None = None
        self._pid = os.getpid()
        self._commits = 0  # since this process's last checkpoint
        self._counting = threading.Lock()

    def _file(self) -> int:
        """The process's one open file of the gate. Opened once under a lock: two threads
        that each opened their own (the first writes of a new process, at once) held
        two open files, and a flock on one of them waits for the other, in the same
        process, forever (the platform's API workers stopped writing, bench/intake.py)."""
        with _OPENING:
            if self._pid != os.getpid():  # forked: the lock and the open file were the parent's
                self._reset()
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            return self._fd

    def enter(self, info: dict[str, Any]) -> None:
        """Wait for this connection's turn to write (before BEGIN IMMEDIATE)."""
        fd = self._file()
        if self._holder == threading.get_ident():
            return  # a second transaction of the thread that holds the gate: see above
        if not self._threads.acquire(timeout=self.timeout_seconds):
            raise OperationalError(
                "BEGIN IMMEDIATE",
                None,
                sqlite3.OperationalError("database is locked: no turn to write in time"),
            )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # the GIL is released while the kernel waits
        except BaseException:
            self._threads.release()
            raise
        self._holder = threading.get_ident()
        info[_HELD] = self

    def leave(self, info: dict[str, Any]) -> None:
        """After COMMIT or ROLLBACK (or when the connection is lost): the next one's turn."""
        if info.pop(_HELD, None) is not self:
            return
        self._holder = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def committed(self, dbapi_connection: sqlite3.Connection) -> None:
        """After a COMMIT and its gate's opening: checkpoint if this process's turn has come
        (see the module's doc). A failed checkpoint is only logged: the commit stands, and
        the next turn copies what this one did not."""
        with self._counting:
            self._commits += 1
            if self._commits < CHECKPOINT_EVERY:
                return
            self._commits = 0
        try:
            dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed (%s)", exc)


_gates: dict[str, WriterGate] = {}
_OPENING = threading.Lock()  # one gate per file and one open file per gate, per process


def gate_for(database_path: str, timeout_seconds: float) -> WriterGate:
    """One gate per database file per process, whatever the number of engines on it."""
    key = os.path.abspath(database_path)
    with _OPENING:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriterGate(key, timeout_seconds)
        return gate


def leave_any(info: dict[str, Any]) -> None:
    """Release whatever gate this pool entry holds (a connection closed mid-transaction)."""
    gate = info.get(_HELD)
    if isinstance(gate, WriterGate):
        gate.leave(info)
