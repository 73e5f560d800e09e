"""SQLite writers take turns through the gate: held for exactly a write transaction."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from core.db import get_engine


@pytest.fixture
def database(configure: Callable[..., None], sqlite_url: str, redis_url: str) -> Path:
    configure(database_url=sqlite_url, redis_url=redis_url, sqlite_busy_timeout_ms="300")
    with Session(get_engine()) as session:
        session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        session.commit()
    return Path(sqlite_url.split("///", 1)[1])


def _gate_taken(database: Path) -> bool:
    """Whether some connection holds the gate, as another process sees it (flock)."""
    fd = os.open(f"{database}-writers", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own lock, if it got it
    return False


def test_the_gate_is_held_from_begin_to_commit_and_to_rollback(database: Path) -> None:
    with Session(get_engine()) as session:
        assert not _gate_taken(database)
        session.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert _gate_taken(database)
        session.commit()
        assert not _gate_taken(database)
        session.execute(text("INSERT INTO notes (body) VALUES ('b')"))
        assert _gate_taken(database)
        session.rollback()
        assert not _gate_taken(database)


def test_a_session_closed_mid_transaction_or_failing_lets_the_next_writer_in(
    database: Path,
) -> None:
    with Session(get_engine()) as session:
        session.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert _gate_taken(database)
    assert not _gate_taken(database)  # closed without commit: rolled back, gate opened
    with Session(get_engine()) as session:
        with pytest.raises(OperationalError):
            session.execute(text("INSERT INTO no_such_table VALUES (1)"))
        session.rollback()
    assert not _gate_taken(database)
    with Session(get_engine()) as session:
        session.execute(text("INSERT INTO notes (body) VALUES ('c')"))
        session.commit()
        assert session.execute(text("SELECT count(*) FROM notes")).scalar_one() == 1


def test_a_writer_waits_for_the_one_writing_and_goes_as_soon_as_it_commits(
    database: Path,
) -> None:
    engine = get_engine()
    second_wrote_at: list[float] = []

    def second_writer() -> None:
        with Session(engine) as session:
            session.execute(text("INSERT INTO notes (body) VALUES ('second')"))
            second_wrote_at.append(time.monotonic())
            session.commit()

    with Session(engine) as first:
        first.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        other = threading.Thread(target=second_writer)
        other.start()
        time.sleep(0.15)
        assert not second_wrote_at  # waiting for its turn, not failing
        committed_at = time.monotonic()
        first.commit()
    other.join(5)
    assert second_wrote_at
    assert second_wrote_at[0] >= committed_at
    with Session(engine) as session:
        bodies = session.execute(text("SELECT body FROM notes ORDER BY id")).scalars().all()
    assert bodies == ["first", "second"]


def test_a_writer_that_waits_longer_than_the_busy_timeout_gets_a_clear_error(
    database: Path,
) -> None:
    engine = get_engine()
    failures: list[BaseException] = []

    def impatient_writer() -> None:
        try:
            with Session(engine) as session:
                session.execute(text("INSERT INTO notes (body) VALUES ('late')"))
                session.commit()
        except OperationalError as exc:
            failures.append(exc)

    with Session(engine) as first:
        first.execute(text("INSERT INTO notes (body) VALUES ('slow')"))
        other = threading.Thread(target=impatient_writer)
        other.start()
        other.join(5)  # busy timeout 300 ms: it gives up while `first` still writes
        first.commit()
    assert failures
    assert "database is locked" in str(failures[0])
    with Session(engine) as session:
        assert session.execute(text("SELECT body FROM notes")).scalars().all() == ["slow"]


def test_a_second_transaction_in_the_same_thread_is_refused_not_deadlocked(
    database: Path,
) -> None:
    # The thread holding the gate is not made to wait for itself: SQLite's own busy timeout
    # answers, as it did before the gate.
    engine = get_engine()
    with Session(engine) as first, Session(engine) as second:
        first.execute(text("INSERT INTO notes (body) VALUES ('one')"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            second.execute(text("INSERT INTO notes (body) VALUES ('two')"))
        assert time.monotonic() - started < 5
        second.rollback()
        first.commit()
    assert not _gate_taken(database)


def test_threads_writing_at_once_through_a_new_gate_share_one_open_file(tmp_path: Path) -> None:
    # A new process's first writes come at once (a client's kept-alive connections on an
    # API worker just started). Each thread that opened the gate's file itself held a flock
    # on its own open file, which its neighbours' flocks wait for, in the same process,
    # forever: the API stopped writing after a few filings.
    from core.sqlite_gate import WriterGate

    gate = WriterGate(str(tmp_path / "notes.db"), timeout_seconds=2)
    threads, rounds = 16, 20
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer() -> None:
        start.wait()
        try:
            for _ in range(rounds):
                info: dict[str, object] = {}
                gate.enter(info)
                gate.leave(info)
        except BaseException as exc:
            failures.append(exc)

    def opened() -> int:
        gate_file = os.stat(gate.path).st_ino
        return sum(
            1 for fd in os.listdir("/proc/self/fd") if _inode(f"/proc/self/fd/{fd}") == gate_file
        )

    workers = [threading.Thread(target=writer, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 20
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    assert not any(worker.is_alive() for worker in workers), "writers deadlocked at the gate"
    assert not failures
    assert opened() == 1
    assert not _gate_taken(tmp_path / "notes.db")


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _rows_in_the_database_file(database: Path, tmp_path: Path) -> int:
    """The notes a reader of the database file alone sees: what was checkpointed into it,
    none of what waits in the WAL."""
    import shutil
    import sqlite3

    copy = tmp_path / "main-file-only.db"
    shutil.copyfile(database, copy)  # without its -wal: the file as the checkpoints left it
    with sqlite3.connect(copy) as connection:
        return int(connection.execute("SELECT count(*) FROM notes").fetchone()[0])


def test_the_wal_is_checkpointed_after_the_gate_opens_every_few_commits(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's own checkpoint runs inside the COMMIT, while the gate is still held: every
    # other writer waited for its copy and fsyncs. Here it is off, and the committing
    # thread checkpoints once the gate is open.
    import core.sqlite_gate

    monkeypatch.setattr(core.sqlite_gate, "CHECKPOINT_EVERY", 3)
    checkpoints: list[bool] = []  # for each checkpoint: was the gate held?

    def trace(statement: str) -> None:
        if "wal_checkpoint" in statement:
            checkpoints.append(_gate_taken(database))

    with Session(get_engine()) as session:
        driver = session.connection().connection.driver_connection
        assert driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        driver.set_trace_callback(trace)
        try:

            def note(body: str) -> None:
                session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})
                session.commit()

            written = 0
            while not checkpoints:  # this process's count, from wherever it stood
                note(f"before {written}")
                written += 1
            assert written <= 3
            assert _rows_in_the_database_file(database, tmp_path) == written
            note("in the WAL 1")
            note("in the WAL 2")
            assert checkpoints == [False]  # two commits since: not yet
            assert _rows_in_the_database_file(database, tmp_path) == written
            note("the third")
            assert checkpoints == [False, False]  # each one after its gate opened
            assert _rows_in_the_database_file(database, tmp_path) == written + 3
        finally:
            driver.set_trace_callback(None)
