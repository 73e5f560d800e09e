"""Keyless filings that arrive together share one transaction; none pays for another's fault."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import NoScriptError
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

import intake.group_commit
import intake.repository
import intake.service
from core import after_commit, metrics, write_behind
from core.db import get_engine
from core.timeutil import utcnow
from intake import limits
from schemas import Complaint, ComplaintEvent
from schemas.outbox import OutboxMessage
from service.app import create_app
from tests.conftest import Templates, migrated_platform
from tests.helpers import valid_filing
from workers.queues import INTAKE_QUEUE

LEADER = "13900000000"  # the filing that holds the committer while the others arrive
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class Groups:
    """The size of every group filed together, in order, and how many filings were filed
    alone after their group failed; the leader's filing holds the committer until
    `expected` filings wait for it (and `release` is set)."""

    sizes: list[int] = field(default_factory=list)
    alone: int = 0
    expected: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.release.set()


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> Groups:
    seen = Groups()
    together = intake.group_commit._file_together
    alone = intake.group_commit._file_alone
    file_counted = intake.service.file_counted

    def recorded(filings: Any, **kwargs: Any) -> Any:
        seen.sizes.append(len(filings))
        return together(filings, **kwargs)

    def recorded_alone(filing: Any) -> Any:
        seen.alone += 1
        return alone(filing)

    def waiting() -> int:
        return sum(len(g.waiting) for g in list(intake.group_commit._groups.values()))

    def leader_waits(session: Session, **kwargs: Any) -> Any:
        if kwargs["data"].contact_phone == "+86" + LEADER:
            deadline = time.monotonic() + 10
            while waiting() < seen.expected and time.monotonic() < deadline:
                time.sleep(0.01)
            seen.release.wait(10)
        return file_counted(session, **kwargs)

    monkeypatch.setattr(intake.group_commit, "_file_together", recorded)
    monkeypatch.setattr(intake.group_commit, "_file_alone", recorded_alone)
    monkeypatch.setattr(intake.service, "file_counted", leader_waits)
    return seen


def _post_while_the_leader_files(
    groups: Groups, bodies: list[dict[str, Any]], answered: list[int] | None = None
) -> list[httpx.Response]:
    """The leader's filing, then `bodies` at once while it holds the committer. `answered`
    (one number) counts the answers as they reach the client."""
    groups.expected = len(bodies)
    counted = answered if answered is not None else [0]

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def post(body: dict[str, Any]) -> httpx.Response:
                answer = await client.post("/api/v1/complaints", json=body)
                counted[0] += 1
                return answer

            leader = asyncio.ensure_future(post(valid_filing(contact_phone=LEADER)))
            answers = await asyncio.gather(*(post(body) for body in bodies))
            assert (await leader).status_code == 201
            # Groups answer before their hand-off to Redis; what the test reads of Redis
            # is there once it is done.
            await intake.group_commit.settled()
            return list(answers)

    return asyncio.run(run())


def _an_earlier_filings_number(groups: Groups) -> str:
    """File one filing before the test's own, and forget it: its group, and the numbers its
    process checked free (a pool a mock of the drawing would never see)."""
    with TestClient(create_app()) as client:
        earlier = client.post("/api/v1/complaints", json=valid_filing())
    assert earlier.status_code == 201
    groups.sizes.clear()
    intake.service._pools.clear()
    return str(earlier.json()["tracking_number"])


def _filings_counted(redis: Redis) -> int:
    """The filings metric's count, over all its labels (what the hand-offs have sent)."""
    return sum(int(n) for n in redis.hvals(metrics.COUNTER_PREFIX + metrics.FILINGS))


def _count(table: Any, *where: Any) -> int:
    with Session(get_engine(read_only=True)) as session:
        return int(session.exec(select(func.count()).select_from(table).where(*where)).one())


@pytest.fixture
def platform_on(
    configure: Callable[..., None], redis_url: str, templates: Templates
) -> Callable[..., None]:
    """The platform on a database (with `extra` settings)."""

    def setup(url: str, **extra: str) -> None:
        migrated_platform(configure, url, redis_url, templates, **extra)

    return setup


def test_filings_that_arrive_together_are_committed_together(
    platform_on: Callable[..., None],
    database_url: str,
    redis_url: str,
    groups: Groups,
) -> None:
    platform_on(database_url)
    redis = Redis.from_url(redis_url)
    counted_before = _filings_counted(redis)
    bodies = [valid_filing(contact_phone=f"1381234{n:04d}") for n in range(7)]
    answers = _post_while_the_leader_files(groups, bodies)
    assert [a.status_code for a in answers] == [201] * 7
    assert groups.sizes == [1, 7]  # the leader alone, then everyone who came meanwhile
    numbers = {a.json()["tracking_number"] for a in answers}
    assert len(numbers) == 7
    with Session(get_engine(read_only=True)) as session:
        stored = session.exec(
            select(Complaint).where(col(Complaint.tracking_number).in_(numbers))
        ).all()
        assert sorted(c.contact_phone or "" for c in stored) == sorted(
            "+86" + b["contact_phone"] for b in bodies
        )
        ids = [c.id for c in stored]
    # Each with its first history entry and its two jobs, as a filing of its own would be.
    assert _count(ComplaintEvent, col(ComplaintEvent.complaint_id).in_(ids)) == 7
    assert _count(OutboxMessage) == 2 * 8
    counted = _filings_counted(redis)
    assert counted - counted_before == 8  # the metric counts filings, not transactions


def test_a_group_draws_free_tracking_numbers_and_is_not_failed_by_a_taken_one(
    platform_on: Callable[..., None],
    database_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A group's rows go out together (core.write_behind), so a taken number would fail all
    of them at the end; its numbers are checked free first, in one query. (On SQLite the
    leader's group of one takes its number from the same pool: it defers too.)"""
    platform_on(database_url)
    taken = _an_earlier_filings_number(groups)
    draw_many = intake.service.new_tracking_numbers
    drawn: list[list[str]] = []

    def with_a_taken_number(now: Any, n: int) -> list[str]:
        drawn.append([taken] * 3 + draw_many(now, n - 3))
        return drawn[-1]

    monkeypatch.setattr(intake.service, "new_tracking_numbers", with_a_taken_number)
    bodies = [valid_filing(contact_phone=f"1371234{n:04d}") for n in range(5)]
    answers = _post_while_the_leader_files(groups, bodies)
    assert [a.status_code for a in answers] == [201] * 5
    assert groups.sizes == [1, 5]
    assert groups.alone == 0  # each group was written once, as it was
    numbers = {a.json()["tracking_number"] for a in answers}
    assert len(numbers) == 5
    assert taken not in numbers
    assert len(drawn) == 1  # one check for the groups' numbers
    assert drawn[0].count(taken) == 3  # the taken number was drawn, three times
    assert _count(Complaint) == 7


def test_a_lone_filing_whose_number_was_taken_meanwhile_is_filed_again(
    platform_on: Callable[..., None],
    database_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On SQLite a group of one defers its INSERTs too: a number another process took after
    the pool's check fails it only when its rows go out. It is then filed again alone,
    drawing a new number, as a larger group would be."""
    platform_on(database_url)
    taken = _an_earlier_filings_number(groups)
    with TestClient(create_app()) as client:
        # Every number the pool draws is the taken one, and its check misses it.
        monkeypatch.setattr(intake.service, "new_tracking_numbers", lambda _now, n: [taken] * n)
        monkeypatch.setattr(intake.repository, "taken_tracking_numbers", lambda *_: set())
        answer = client.post("/api/v1/complaints", json=valid_filing(contact_phone="13712340000"))
    assert answer.status_code == 201
    assert answer.json()["tracking_number"] != taken
    assert groups.sizes == [1]
    assert groups.alone == (1 if database_url.startswith("sqlite") else 0)
    assert _count(Complaint) == 2


def test_a_lone_filing_with_its_own_error_gets_it_at_once(
    platform_on: Callable[..., None],
    database_url: str,
    groups: Groups,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Deferred or not, a lone filing whose own work fails (an unknown upload) is not filed
    a second time: only a constraint its rows meet when they go out sends it back."""
    platform_on(database_url)
    caplog.set_level(logging.WARNING, logger="intake.group_commit")
    with TestClient(create_app()) as client:
        answer = client.post("/api/v1/complaints", json=valid_filing(attachments=["0" * 32]))
    assert answer.status_code == 422
    assert "unknown or already used" in answer.json()["detail"]
    assert (groups.sizes, groups.alone) == ([1], 0)
    assert not [r for r in caplog.records if "filing each alone" in r.getMessage()]
    assert _count(Complaint) == 0


def test_the_taken_numbers_of_a_pools_draw_are_found_on_either_database(
    platform_on: Callable[..., None], database_url: str
) -> None:
    """The pool's check (on PostgreSQL one array, elsewhere a list of parameters)."""
    platform_on(database_url)
    with TestClient(create_app()) as client:
        filed = [
            client.post("/api/v1/complaints", json=valid_filing()).json()["tracking_number"]
            for _ in range(3)
        ]
    drawn = sorted(set(intake.service.new_tracking_numbers(utcnow(), 300)) | set(filed[:2]))
    with get_engine(read_only=True).connect() as connection:
        assert intake.repository.taken_tracking_numbers(connection, drawn) == set(filed[:2])
    with Session(get_engine()) as session:
        assert intake.repository.taken_tracking_numbers(session, filed) == set(filed)
        assert intake.repository.taken_tracking_numbers(session, []) == set()


def test_groups_draw_from_one_pool_of_numbers_checked_free_per_day(
    platform_on: Callable[..., None], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The numbers one check finds free serve the process's later groups too, until the
    day ends: each number of a new day begins with that day."""
    platform_on(database_url)
    checks: list[int] = []
    taken = intake.repository.taken_tracking_numbers

    def counted(session: Any, numbers: Any) -> set[str]:
        checks.append(len(numbers))
        return taken(session, numbers)

    monkeypatch.setattr(intake.repository, "taken_tracking_numbers", counted)
    today = datetime(2026, 12, 4, 15, 59, tzinfo=UTC)  # 23:59 in China
    numbers = []
    for moment in (today, today, today + timedelta(minutes=1)):
        with Session(get_engine()) as session:
            write_behind.defer(session, expected=2)
            numbers += [intake.service._tracking_number(session, moment) for _ in range(2)]
    assert [n[:6] for n in numbers] == ["261204"] * 4 + ["261205"] * 2
    assert len(set(numbers)) == 6
    assert len(checks) == 2  # one per day, not per group


def test_a_number_handed_out_is_never_handed_out_again(
    platform_on: Callable[..., None], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until its group commits, a number is not in the table: a new check finds it free,
    and the pool must not hand it out a second time. A pool older than a minute is drawn
    and checked again (here at once)."""
    platform_on(database_url)
    monkeypatch.setattr(intake.service, "_POOL_SECONDS", 0.0)
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    same = intake.service.new_tracking_numbers(now, 2)  # drawn again at every refill
    monkeypatch.setattr(intake.service, "new_tracking_numbers", lambda *_: list(same))
    with Session(get_engine()) as session:
        write_behind.defer(session, expected=3)
        first = intake.service._tracking_number(session, now)
        second = intake.service._tracking_number(session, now)
        assert sorted([first, second]) == sorted(same)
        with pytest.raises(RuntimeError, match="could not draw a free tracking number"):
            intake.service._tracking_number(session, now)


def test_a_filing_that_fails_in_its_group_fails_alone(
    platform_on: Callable[..., None],
    sqlite_url: str,
    groups: Groups,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two filings of one group name the same upload: the first takes it, the second gets
    422, and the rest of the group is filed; the retry counts no rate limit twice."""
    platform_on(sqlite_url, rate_limit_filings_per_phone_per_day="3")
    caplog.set_level(logging.INFO, logger="intake.service")
    with TestClient(create_app()) as client:
        upload = client.post(
            "/api/v1/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}
        )
    token = [upload.json()["id"]]
    bodies = [
        valid_filing(contact_phone="13700000001"),
        valid_filing(contact_phone="13600000001", attachments=token),
        valid_filing(contact_phone="13600000002", attachments=token),
        valid_filing(contact_phone="13700000001"),
        valid_filing(),
    ]
    answers = _post_while_the_leader_files(groups, bodies)
    codes = [a.status_code for a in answers]
    assert codes == [201, 201, 422, 201, 201]
    assert "unknown or already used" in answers[2].json()["detail"]
    assert groups.sizes == [1, 5]  # tried together once,
    assert groups.alone == 5  # then each alone
    assert _count(Complaint) == 5  # the leader and four; nothing of the refused one
    # The log names each stored filing once, and no number of the rolled-back group.
    with Session(get_engine(read_only=True)) as session:
        stored = sorted(session.exec(select(Complaint.tracking_number)).all())
    logged = [r.args[1] for r in caplog.records if r.getMessage().startswith("filed complaint")]
    assert sorted(logged) == stored  # type: ignore[type-var]
    taken = answers[1].json()["tracking_number"]
    with Session(get_engine(read_only=True)) as session:
        owner = session.exec(select(Complaint).where(Complaint.tracking_number == taken)).one()
        assert owner.contact_phone == "+8613600000001"
    # 13700000001 was counted twice (once each), not four times: a third filing still fits.
    with TestClient(create_app()) as client:
        third = client.post("/api/v1/complaints", json=valid_filing(contact_phone="13700000001"))
        assert third.status_code == 201
        fourth = client.post("/api/v1/complaints", json=valid_filing(contact_phone="13700000001"))
        assert fourth.status_code == 429


TROUBLED = "13500000009"


class Deadlock(Exception):
    """What psycopg raises for a deadlock (its SQLSTATE)."""

    sqlstate = "40P01"


def _three_with_trouble(
    groups: Groups, monkeypatch: pytest.MonkeyPatch, trouble: Callable[[], Exception | None]
) -> list[int]:
    """Three filings together after the leader's; the middle one's work raises what
    `trouble()` gives (None: it goes through). The answers' status codes."""
    file_counted = intake.service.file_counted  # the fixture's, which holds the leader

    def troubled(session: Session, **kwargs: Any) -> Any:
        if kwargs["data"].contact_phone == "+86" + TROUBLED and (exc := trouble()):
            raise exc
        return file_counted(session, **kwargs)

    monkeypatch.setattr(intake.service, "file_counted", troubled)
    bodies = [
        valid_filing(contact_phone=phone) for phone in ("13500000001", TROUBLED, "13500000002")
    ]
    return [a.status_code for a in _post_while_the_leader_files(groups, bodies)]


def test_a_bug_in_one_filing_of_a_group_is_its_own_500_and_not_logged_with_its_data(
    platform_on: Callable[..., None],
    sqlite_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    platform_on(sqlite_url)
    codes = _three_with_trouble(
        groups, monkeypatch, lambda: RuntimeError(f"bug while filing for +86{TROUBLED}")
    )
    assert codes == [201, 500, 201]
    assert groups.sizes == [1, 3]
    assert groups.alone == 3
    assert _count(Complaint) == 3
    warned = [r.getMessage() for r in caplog.records if "filing each alone" in r.getMessage()]
    assert warned == ["a group of 3 filings failed (RuntimeError); filing each alone"]
    assert TROUBLED not in caplog.text  # nor in the crash barrier's redacted traceback


def test_a_refused_filing_gets_its_429_and_the_rest_of_its_group_is_filed(
    platform_on: Callable[..., None],
    sqlite_url: str,
    groups: Groups,
) -> None:
    platform_on(sqlite_url, rate_limit_filings_per_phone_per_day="2")
    bodies = [valid_filing(contact_phone=f"1370000000{n % 2}") for n in range(6)]
    answers = _post_while_the_leader_files(groups, bodies)
    codes = [a.status_code for a in answers]
    assert sorted(codes) == [201] * 4 + [429] * 2
    assert groups.sizes == [1, 4]  # the refused two never reached the transaction
    assert groups.alone == 0
    for answer in answers:
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) > 0
            assert "filings from this phone number" in answer.json()["detail"]
    assert _count(Complaint) == 5


def test_when_the_database_fails_every_filing_of_the_group_gets_503(
    platform_on: Callable[..., None],
    sqlite_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform_on(sqlite_url)
    real = intake.group_commit.get_engine
    # The leader is filed; the group after it finds its database gone (nothing listens).
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/gone")
    engines = iter([real()])
    monkeypatch.setattr(intake.group_commit, "get_engine", lambda: next(engines, unreachable))
    answers = _post_while_the_leader_files(groups, [valid_filing() for _ in range(4)])
    assert [a.status_code for a in answers] == [503] * 4
    assert all(a.json()["detail"] for a in answers)
    assert groups.sizes == [1, 4]
    assert groups.alone == 0  # no one-by-one retry against a database that is down
    assert _count(Complaint) == 1
    monkeypatch.setattr(intake.group_commit, "get_engine", real)
    again = _post_while_the_leader_files(groups, [valid_filing()])
    assert [a.status_code for a in again] == [201]  # recovered without a restart


def test_a_deadlock_in_a_group_is_retried_alone_and_every_filing_is_filed(
    platform_on: Callable[..., None],
    sqlite_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deadlock (PostgreSQL 40P01) is one transaction's trouble, not a database that is
    down: the group is filed again one by one, and the filing that met it succeeds alone."""
    platform_on(sqlite_url)
    deadlocks = [OperationalError("INSERT …", {}, Deadlock("deadlock detected"))]
    codes = _three_with_trouble(groups, monkeypatch, lambda: deadlocks.pop() if deadlocks else None)
    assert codes == [201, 201, 201]
    assert groups.sizes == [1, 3]
    assert groups.alone == 3
    assert _count(Complaint) == 4


def test_a_failing_after_commit_step_never_files_a_group_twice(
    platform_on: Callable[..., None],
    sqlite_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The transaction committed; a contributor to the after-commit pipeline that raises
    (here the metric's) must not make the committer think otherwise."""
    platform_on(sqlite_url)

    def broken(_session: Session) -> None:
        raise RuntimeError("metric contributor broke")

    monkeypatch.setattr(metrics, "_committed", broken)
    answers = _post_while_the_leader_files(groups, [valid_filing() for _ in range(7)])
    assert [a.status_code for a in answers] == [201] * 7
    assert groups.alone == 0
    assert _count(Complaint) == 8
    assert _count(OutboxMessage) == 16  # and the jobs were still handed over once each


def test_under_load_a_group_is_answered_before_its_hand_off_to_redis(
    platform_on: Callable[..., None],
    database_url: str,
    redis_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each group's hand-off (the drains' flags, the metric) waits here until the group's
    requests have their answers: it must not be what they wait for. Then it is sent all
    the same."""
    platform_on(database_url)
    redis = Redis.from_url(redis_url)
    counted_before = _filings_counted(redis)
    answered = [0]
    seen: list[tuple[int, int]] = []  # at each hand-off: the answers out, the group's due
    deliver = after_commit._deliver

    def after_the_answers(contributions: Any) -> None:
        due = sum(groups.sizes[: len(seen) + 1])  # every filing of this group and before
        deadline = time.monotonic() + 5
        while answered[0] < due and time.monotonic() < deadline:
            time.sleep(0.005)
        seen.append((answered[0], due))
        deliver(contributions)

    monkeypatch.setattr(after_commit, "_deliver", after_the_answers)
    bodies = [valid_filing(contact_phone=f"1381234{n:04d}") for n in range(5)]
    answers = _post_while_the_leader_files(groups, bodies, answered)
    assert [a.status_code for a in answers] == [201] * 5
    assert groups.sizes == [1, 5]
    # The leader's group had others waiting, the next one holds five: both answered first.
    assert seen == [(1, 1), (6, 6)]
    counted = _filings_counted(redis)
    assert counted - counted_before == 6
    assert redis.llen(f"rq:queue:{INTAKE_QUEUE}") == 1  # the routing drain, queued once


def test_a_lone_filing_with_none_waiting_is_handed_off_before_its_answer(
    platform_on: Callable[..., None],
    sqlite_url: str,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing waits for a lone filing's round trip, so it keeps the plain order: a client
    finds the drain's job and the metric in Redis as soon as it has its answer."""
    platform_on(sqlite_url)
    redis = Redis.from_url(redis_url)
    answered = threading.Event()
    handed_off_after_answer: list[bool] = []
    deliver = after_commit._deliver

    def recorded(contributions: Any) -> None:
        handed_off_after_answer.append(answered.is_set())
        deliver(contributions)

    monkeypatch.setattr(after_commit, "_deliver", recorded)
    with TestClient(create_app()) as client:
        for n in range(3):
            assert client.post("/api/v1/complaints", json=valid_filing()).status_code == 201
            answered.set()
            assert redis.llen(f"rq:queue:{INTAKE_QUEUE}") == 1
            assert _filings_counted(redis) == n + 1
            answered.clear()
    assert handed_off_after_answer == [False] * 3


def test_settled_waits_for_the_hand_offs_of_groups_already_answered(
    platform_on: Callable[..., None],
    sqlite_url: str,
    redis_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the app's shutdown awaits: the leader's group answered (two filings wait), its
    hand-off held up here."""
    platform_on(sqlite_url)
    groups.expected = 2
    redis = Redis.from_url(redis_url)
    release = threading.Event()
    deliver = after_commit._deliver

    def held_up(contributions: Any) -> None:
        release.wait(10)
        deliver(contributions)

    monkeypatch.setattr(after_commit, "_deliver", held_up)

    async def run() -> None:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            bodies = [valid_filing(contact_phone=LEADER), valid_filing(), valid_filing()]
            posts = [client.post("/api/v1/complaints", json=body) for body in bodies]
            first, *_ = await asyncio.wait(
                [asyncio.ensure_future(p) for p in posts], return_when=asyncio.FIRST_COMPLETED
            )
            assert all(answer.result().status_code == 201 for answer in first)
            settling = asyncio.ensure_future(intake.group_commit.settled())
            await asyncio.sleep(0.2)
            assert not settling.done()  # a hand-off is still held up
            assert _filings_counted(redis) == 0
            release.set()
            await asyncio.wait_for(settling, 10)
            assert _filings_counted(redis) == 3

    asyncio.run(run())


def test_a_hand_off_that_fails_after_the_answers_leaves_the_group_filed_for_the_relay(
    platform_on: Callable[..., None],
    sqlite_url: str,
    groups: Groups,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    platform_on(sqlite_url)

    def broken(_contributions: Any) -> None:
        raise RuntimeError("hand-off broke")

    monkeypatch.setattr(after_commit, "_deliver", broken)
    with caplog.at_level(logging.WARNING, logger="intake.group_commit"):
        answers = _post_while_the_leader_files(groups, [valid_filing() for _ in range(4)])
    assert [a.status_code for a in answers] == [201] * 4
    assert groups.alone == 0
    assert _count(Complaint) == 5
    # Their jobs wait in the outbox, where the relay finds the rows no hand-off announced.
    assert _count(OutboxMessage, col(OutboxMessage.dispatched_at).is_(None)) == 10
    assert "hand-off of a group of filings failed" in caplog.text


def test_a_request_that_gives_up_while_waiting_is_not_filed(
    platform_on: Callable[..., None], sqlite_url: str, groups: Groups
) -> None:
    platform_on(sqlite_url)
    groups.expected, groups.release = 2, threading.Event()

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            leader = asyncio.ensure_future(
                client.post("/api/v1/complaints", json=valid_filing(contact_phone=LEADER))
            )
            waiting = [
                asyncio.ensure_future(
                    client.post("/api/v1/complaints", json=valid_filing(contact_phone=phone))
                )
                for phone in ("13500000001", "13500000002")
            ]
            while sum(len(g.waiting) for g in intake.group_commit._groups.values()) < 2:
                await asyncio.sleep(0.01)
            waiting[0].cancel()  # the client hung up before the committer came to it
            await asyncio.sleep(0.05)
            groups.release.set()
            assert (await leader).status_code == 201
            answers = await asyncio.gather(*waiting, return_exceptions=True)
            assert isinstance(answers[0], asyncio.CancelledError)
            assert not isinstance(answers[1], BaseException)
            return [answers[1].status_code]

    assert asyncio.run(run()) == [201]
    assert groups.sizes == [1, 1]
    with Session(get_engine(read_only=True)) as session:
        phones = set(session.exec(select(Complaint.contact_phone)).all())
    assert phones == {"+86" + LEADER, "+8613500000002"}


def test_check_each_counts_a_group_in_one_call_and_once_after_redis_lost_the_script(
    configure: Callable[..., None],
    redis_url: str,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every try of a group in one EVALSHA; a Redis that lost the script (a restart)
    answers NOSCRIPT having run nothing, and the one call is sent again: each try counted
    once. The first call gets that answer here: flushing the server's scripts would race
    with the other test process, whose next call may load the script again first."""
    configure(database_url=sqlite_url, redis_url=redis_url)
    sent: list[int] = []
    real_evalsha = Redis.evalsha

    def counted_evalsha(self: Redis, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        sent.append(numkeys)
        if len(sent) == 1:
            raise NoScriptError("No matching script. Please use EVAL.")
        return real_evalsha(self, sha, numkeys, *keys_and_args)

    monkeypatch.setattr(Redis, "evalsha", counted_evalsha)
    one = [
        limits.Limit("ip", f"10.0.1.{n}", limit=1, window_seconds=3600, what="x") for n in range(3)
    ]
    assert limits.check_each([[one[0]], [one[1]], [one[2]]]) == [None, None, None]
    assert sent == [3, 3]  # refused for NOSCRIPT, then run
    # Each was counted once: a second try is over its limit of 1, for all three alike.
    again = limits.check_each([[one[0]], [one[1]], [one[2]]])
    assert all(isinstance(refusal, limits.TooManyRequests) for refusal in again)
    assert sent == [3, 3, 3]


def test_a_counter_redis_refuses_leaves_its_own_try_unchecked_and_counts_the_others(
    configure: Callable[..., None], redis_url: str, sqlite_url: str
) -> None:
    configure(database_url=sqlite_url, redis_url=redis_url)
    connection = Redis.from_url(redis_url)
    broken = limits.Limit("ip", "10.0.2.1", limit=1, window_seconds=3600, what="visits")
    fine = limits.Limit("ip", "10.0.2.2", limit=1, window_seconds=3600, what="visits")
    phone = limits.Limit("phone", "13800000001", limit=5, window_seconds=3600, what="calls")
    window = int(time.time()) // 3600
    # A counter that is not a number (a key of another type): Redis refuses its INCR.
    connection.rpush(f"{limits._bucket('ip', '10.0.2.1')}:{window}", "x")
    outcome = limits.check_each([[broken, phone], [fine], [fine]])
    assert outcome[0] is None  # unchecked, as when Redis is down: the filing goes on
    assert outcome[1] is None
    assert isinstance(outcome[2], limits.TooManyRequests)  # the others counted all the same
    # The refused try stopped there, as a failed script call stopped it: its phone number's
    # window was not counted.
    assert not connection.exists(f"{limits._bucket('phone', '13800000001')}:{window}")


def test_check_each_counts_every_try_as_check_all_would(
    configure: Callable[..., None], redis_url: str, sqlite_url: str
) -> None:
    configure(database_url=sqlite_url, redis_url=redis_url)
    tight = limits.Limit("phone", "13800000000", limit=1, window_seconds=3600, what="calls")
    loose = limits.Limit("ip", "10.0.0.1", limit=10, window_seconds=3600, what="visits")
    other = limits.Limit("ip", "10.0.0.2", limit=1, window_seconds=3600, what="visits")
    Redis.from_url(redis_url).script_flush()  # a restarted Redis has lost the script
    outcome = limits.check_each([[tight, loose], [tight, other], [], [loose]])
    assert outcome[0] is None
    assert outcome[2] is None
    assert outcome[3] is None
    refused = outcome[1]
    assert isinstance(refused, limits.TooManyRequests)
    assert "too many calls" in str(refused)
    # The second try stopped at the limit it exceeded: 10.0.0.2 was not counted.
    assert limits.check_all([other])
    assert limits.check_each([[loose]] * 8) == [None] * 8  # 10.0.0.1's 3rd to 10th
    assert isinstance(limits.check_each([[loose]])[0], limits.TooManyRequests)  # the 11th


def test_a_forked_child_starts_without_its_parents_tracking_numbers(platform: str) -> None:
    """Both would hand the same numbers out, and the unique index refuse one group."""
    with Session(get_engine()) as session:
        write_behind.defer(session, expected=1)
        intake.service._tracking_number(session, utcnow())
    assert any(pool.free for pool in intake.service._pools.values())
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's exit code is the assertion)
        os._exit(0 if not intake.service._pools else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
