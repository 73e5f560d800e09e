"""Batched jobs: many filings per drain job, each item idempotent and isolated."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import pytest
from redis import Redis
from sqlalchemy import func
from sqlmodel import Session, col, select

from cases.lifecycle import Actor
from core.db import get_engine, session_scope
from intake.service import FilingDraft, create_filing
from routing import service as routing_service
from schemas import Complaint, ComplaintEvent, OutboxMessage
from schemas.enums import Channel, Kind, Status
from tests.helpers import run_worker_until_idle
from workers import batches, queues
from workers.queues import INTAKE_QUEUE, ROUTE_COMPLAINT, SEARCH_QUEUE

TEXT = "小区电梯困人两次，物业不修，电梯年检标志过期了，请质监部门检查。"


def _file(count: int) -> list[int]:
    ids = []
    with session_scope() as session:
        for _ in range(count):
            complaint = create_filing(
                session,
                draft=FilingDraft(
                    kind=Kind.complaint,
                    text=TEXT,
                    contact_phone="+8613812345678",
                    business_name="太原市某某电梯维保有限公司",
                    business_address="山西省太原市小店区某某路1号",
                ),
                channel=Channel.web,
                actor=Actor.system("test"),
            )
            assert complaint.id is not None
            ids.append(complaint.id)
        session.commit()
    return ids


def _statuses(ids: list[int]) -> list[Status]:
    with Session(get_engine(read_only=True)) as session:
        rows = session.exec(select(Complaint).where(col(Complaint.id).in_(ids))).all()
        return [c.status for c in sorted(rows, key=lambda c: c.id or 0)]


def _route_rows() -> list[OutboxMessage]:
    with Session(get_engine(read_only=True)) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.job == ROUTE_COMPLAINT.func)
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def _routed_events(ids: list[int]) -> int:
    with Session(get_engine(read_only=True)) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(ComplaintEvent)
                .where(col(ComplaintEvent.complaint_id).in_(ids))
                .where(ComplaintEvent.to_status == Status.routed)
            ).one()
        )


@pytest.mark.usefixtures("platform")
def test_many_filings_wait_for_one_drain_job_and_all_get_routed(
    configure: Callable[..., None], platform: str, redis_url: str
) -> None:
    configure(database_url=platform, redis_url=redis_url, batch_size="40")
    ids = _file(1) + _file(99)  # two commits: the second finds a drain already queued
    # One drain waits per batched job (routing, duplicates), however many filings came in.
    assert Redis.from_url(redis_url).llen(f"rq:queue:{INTAKE_QUEUE}") == 1
    assert Redis.from_url(redis_url).llen(f"rq:queue:{SEARCH_QUEUE}") == 1
    run_worker_until_idle()
    assert _statuses(ids) == [Status.routed] * 100
    assert _routed_events(ids) == 100
    assert all(row.dispatched_at is not None for row in _route_rows())


@pytest.mark.usefixtures("platform")
def test_one_failing_filing_is_retried_alone_and_given_up_after_its_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _file(5)
    bad = ids[2]
    original = routing_service.route_complaint

    def route_or_fail(session: Session, *, complaint_id: int, engine: object) -> object:
        if complaint_id == bad:
            raise RuntimeError("a poisoned filing")
        return original(session, complaint_id=complaint_id, engine=engine)  # type: ignore[arg-type]

    monkeypatch.setattr(routing_service, "route_complaint", route_or_fail)
    spec = dataclasses.replace(ROUTE_COMPLAINT, retry=(0, 0))  # two retries, at once
    monkeypatch.setitem(queues.JOBS, spec.func, spec)

    first = batches.drain_once(spec, connection=None)
    assert (first.done, first.failed) == (4, 1)
    statuses = _statuses(ids)
    assert statuses.count(Status.routed) == 4
    assert statuses[2] is Status.received  # its savepoint rolled back; the rest committed
    failed = next(r for r in _route_rows() if r.args == [bad])
    assert (failed.attempts, failed.failed_at, failed.dispatched_at) == (1, None, None)
    assert "RuntimeError: [message withheld" in (failed.last_error or "")  # where, not what

    assert (batches.drain_once(spec, connection=None).failed) == 1  # retry 1
    assert (batches.drain_once(spec, connection=None).failed) == 1  # retry 2: the last
    given_up = next(r for r in _route_rows() if r.args == [bad])
    assert given_up.attempts == 3
    assert given_up.failed_at is not None
    assert batches.drain_once(spec, connection=None).done == 0  # nothing left to claim
    assert _routed_events(ids) == 4


@pytest.mark.usefixtures("platform")
def test_a_batch_that_dies_commits_nothing_and_the_next_drain_takes_it_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _file(6)
    original = routing_service.route_complaint
    calls = []

    def route_then_die(session: Session, *, complaint_id: int, engine: object) -> object:
        calls.append(complaint_id)
        if len(calls) == 4:
            raise SystemExit("the worker is killed mid-batch")
        return original(session, complaint_id=complaint_id, engine=engine)  # type: ignore[arg-type]

    monkeypatch.setattr(routing_service, "route_complaint", route_then_die)
    with pytest.raises(SystemExit):
        batches.drain_once(ROUTE_COMPLAINT, connection=None)
    assert _statuses(ids) == [Status.received] * 6  # three were routed, none committed
    assert all(row.dispatched_at is None and row.attempts == 0 for row in _route_rows())

    monkeypatch.setattr(routing_service, "route_complaint", original)
    assert batches.drain_once(ROUTE_COMPLAINT, connection=None).done == 6
    assert _statuses(ids) == [Status.routed] * 6
    assert _routed_events(ids) == 6


@pytest.mark.postgres
def test_drains_side_by_side_on_postgres_never_route_a_filing_twice(
    configure: Callable[..., None], postgres_url: str, redis_url: str
) -> None:
    from core import migrate
    from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry

    configure(database_url=postgres_url, redis_url=redis_url, batch_size="25")
    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()
    ids = _file(200)
    results: list[batches.DrainResult] = []
    errors: list[BaseException] = []

    def drain_until_empty() -> None:
        try:
            while (result := batches.drain_once(ROUTE_COMPLAINT, connection=None)).done:
                results.append(result)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain_until_empty) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(r.done for r in results) == 200  # SKIP LOCKED: no row handed out twice
    assert len(results) >= 8  # batches of at most 25
    assert _statuses(ids) == [Status.routed] * 200
    assert _routed_events(ids) == 200
