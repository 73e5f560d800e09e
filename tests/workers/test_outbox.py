"""The hand-off to Redis survives Redis being down, and a rolled-back intake sends nothing."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlmodel import Session, select

from core import migrate
from core.db import get_engine
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from schemas import Complaint, OutboxMessage
from schemas.enums import Status
from tests.helpers import run_worker_until_idle, valid_filing
from workers.outbox import Relayed, enqueue_after_commit
from workers.queues import (
    FIND_DUPLICATES,
    INTAKE_QUEUE,
    NOTIFY_QUEUE,
    ROUTE_COMPLAINT,
    SEARCH_QUEUE,
    SEND_SMS,
)
from workers.relay import relay_once

UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


def _migrated(configure: Callable[..., None], database_url: str, redis_url: str) -> None:
    configure(database_url=database_url, redis_url=redis_url, relay_grace_seconds="0")
    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()


@pytest.mark.parametrize(
    "database", ["sqlite_url", pytest.param("postgres_url", marks=pytest.mark.postgres)]
)
def test_redis_down_at_intake_still_files_and_routes_once_redis_is_back(
    configure: Callable[..., None],
    redis_url: str,
    request: pytest.FixtureRequest,
    database: str,
) -> None:
    database_url = request.getfixturevalue(database)
    _migrated(configure, database_url, UNREACHABLE_REDIS)
    from service.app import create_app

    with TestClient(create_app()) as client:
        answers = [client.post("/api/v1/complaints", json=valid_filing()) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    with Session(get_engine()) as session:
        pending = session.exec(select(OutboxMessage)).all()
        assert [m.dispatched_at for m in pending] == [None] * 6  # route + duplicates each

    # Redis is back: the relay pokes the two batched jobs' drains, the worker routes them.
    configure(database_url=database_url, redis_url=redis_url, relay_grace_seconds="0")
    assert relay_once() == Relayed(sent=0, poked=2)
    assert not relay_once()  # their drains are already waiting
    run_worker_until_idle()
    with Session(get_engine()) as session:
        statuses = [c.status for c in session.exec(select(Complaint)).all()]
        assert statuses == [Status.routed] * 3
        assert all(m.dispatched_at for m in session.exec(select(OutboxMessage)).all())


def test_a_committed_filing_is_sent_at_once_without_the_relay(
    sqlite_platform: str, client: TestClient, redis_url: str
) -> None:
    client.post("/api/v1/complaints", json=valid_filing())
    # Its two batched jobs' drains are queued at commit (routing first, the duplicate
    # search in a queue of its own, taken after routing); the rows wait for them.
    assert Redis.from_url(redis_url).llen(f"rq:queue:{INTAKE_QUEUE}") == 1
    assert Redis.from_url(redis_url).llen(f"rq:queue:{SEARCH_QUEUE}") == 1
    with Session(get_engine()) as session:
        rows = session.exec(select(OutboxMessage)).all()
        assert {m.job for m in rows} == {ROUTE_COMPLAINT.func, FIND_DUPLICATES.func}
    assert not relay_once()
    run_worker_until_idle()
    with Session(get_engine()) as session:
        assert all(m.dispatched_at for m in session.exec(select(OutboxMessage)).all())


def test_a_job_sent_one_by_one_is_marked_sent_at_commit(
    sqlite_platform: str, redis_url: str
) -> None:
    with Session(get_engine()) as session:
        enqueue_after_commit(session, SEND_SMS, 1)
        session.commit()
    assert Redis.from_url(redis_url).llen(f"rq:queue:{NOTIFY_QUEUE}") == 1
    with Session(get_engine()) as session:
        assert all(m.dispatched_at for m in session.exec(select(OutboxMessage)).all())


def test_a_rolled_back_transaction_enqueues_nothing(sqlite_platform: str, redis_url: str) -> None:
    with Session(get_engine()) as session:
        enqueue_after_commit(session, ROUTE_COMPLAINT, 12345)
        enqueue_after_commit(session, SEND_SMS, 12345)
        session.rollback()
        session.commit()  # a later commit of the same session must not send the forgotten job
    assert Redis.from_url(redis_url).llen(f"rq:queue:{INTAKE_QUEUE}") == 0
    assert Redis.from_url(redis_url).llen(f"rq:queue:{NOTIFY_QUEUE}") == 0
    with Session(get_engine()) as session:
        assert session.exec(select(OutboxMessage)).all() == []
    assert not relay_once()


def test_the_relay_leaves_young_rows_to_their_request(
    configure: Callable[..., None], sqlite_url: str, redis_url: str
) -> None:
    configure(database_url=sqlite_url, redis_url=UNREACHABLE_REDIS)
    migrate.upgrade()
    with Session(get_engine()) as session:
        enqueue_after_commit(session, SEND_SMS, 1)
        enqueue_after_commit(session, ROUTE_COMPLAINT, 1)
        session.commit()
    configure(database_url=sqlite_url, redis_url=redis_url, relay_grace_seconds="60")
    assert not relay_once()
    configure(database_url=sqlite_url, redis_url=redis_url, relay_grace_seconds="0")
    assert relay_once() == Relayed(sent=1, poked=1)


def test_savepoints_neither_send_early_nor_drop_the_outer_jobs(
    sqlite_platform: str, redis_url: str
) -> None:
    queue = Redis.from_url(redis_url)
    with Session(get_engine()) as session:
        enqueue_after_commit(session, SEND_SMS, 1)
        with session.begin_nested():
            enqueue_after_commit(session, SEND_SMS, 2)
        assert queue.llen(f"rq:queue:{NOTIFY_QUEUE}") == 0  # released savepoint: not yet
        try:
            with session.begin_nested():
                enqueue_after_commit(session, SEND_SMS, 3)
                raise RuntimeError("undo this savepoint")
        except RuntimeError:
            pass
        session.commit()
    assert queue.llen(f"rq:queue:{NOTIFY_QUEUE}") == 2  # jobs 1 and 2, sent at commit
    with Session(get_engine()) as session:
        assert sorted(m.args[0] for m in session.exec(select(OutboxMessage)).all()) == [1, 2]
