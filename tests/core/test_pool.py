"""The engine's pool is sized by settings and keeps its connections across busy moments."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import Session

from core.db import get_engine
from tests.conftest import Templates, migrated_platform

THREADS, ROUNDS = 8, 15


def _connections_opened(rounds: int, threads: int) -> int:
    """Connections the engine opened while `threads` sessions at once, `rounds` times, each
    ran a statement and held it until all had one (as concurrent requests do), and all gave
    theirs back before the next round. Reads: on SQLite a writing session holds the one
    write lock, so only readers can be many at once."""
    engine = get_engine(read_only=True)
    opened = 0
    lock = threading.Lock()

    def count(*_: object) -> None:
        nonlocal opened
        with lock:
            opened += 1

    event.listen(engine, "connect", count)
    all_in, all_out = threading.Barrier(threads), threading.Barrier(threads)
    failures: list[BaseException] = []

    def request() -> None:
        try:
            for _ in range(rounds):
                with Session(engine) as session:
                    session.execute(text("SELECT 1"))
                    all_in.wait(timeout=20)
                all_out.wait(timeout=20)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
            all_in.abort()
            all_out.abort()

    workers = [threading.Thread(target=request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    event.remove(engine, "connect", count)
    assert not failures, failures
    return opened


def test_busy_moments_reuse_the_pool(
    configure: Callable[..., None], database_url: str, redis_url: str
) -> None:
    configure(database_url=database_url, redis_url=redis_url, database_pool_size=str(THREADS))
    assert get_engine(read_only=True).pool.size() == THREADS  # type: ignore[attr-defined]
    # With SQLAlchemy's default pool (5, overflow 10) three of the eight connections were
    # closed at the end of every round and opened again in the next: 5 + 3 × 15 = 50.
    assert _connections_opened(ROUNDS, THREADS) == THREADS


def test_beyond_the_pool_connections_are_opened_for_the_moment(
    configure: Callable[..., None], sqlite_url: str, redis_url: str
) -> None:
    configure(
        database_url=sqlite_url,
        redis_url=redis_url,
        database_pool_size="2",
        database_max_overflow="2",
    )
    # Four at once: two kept, two opened for the round and closed after it.
    assert _connections_opened(3, 4) == 2 + 2 * 3


def test_no_free_connection_in_time_is_a_503_and_passes(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> None:
    migrated_platform(
        configure,
        sqlite_url,
        redis_url,
        templates,
        database_pool_size="1",
        database_max_overflow="0",
        database_pool_timeout_seconds="0.2",
    )
    from service.app import create_app

    with TestClient(create_app()) as client:
        held = get_engine().connect()  # the pool's one connection, taken
        try:
            busy = client.get("/api/v1/track/20261205000000")
        finally:
            held.close()
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert busy.json()["error"] == "ServiceUnavailable"
        assert "busy" in busy.json()["detail"]
        # Given back, the connection serves the next request: unknown number, not busy.
        assert client.get("/api/v1/track/20261205000000").status_code == 404
