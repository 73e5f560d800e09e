"""Deferred INSERTs go out together, and the transaction sees no difference."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Time,
    Uuid,
    event,
    func,
    select,
    text,
)
from sqlalchemy.exc import DataError
from sqlmodel import Session, col

from cases.lifecycle import CITIZEN, open_complaint
from core import write_behind
from core.db import get_engine
from core.timeutil import utcnow
from intake.tracking_number import new_tracking_number
from schemas import Complaint, ComplaintEvent
from schemas.complaint import COMPLAINTS
from schemas.enums import Channel, Kind
from schemas.outbox import OUTBOX, OutboxMessage
from tests.conftest import Templates, migrated_platform
from workers.outbox import enqueue_all_after_commit
from workers.queues import ROUTE_COMPLAINT


@pytest.fixture
def inserts(platform: str) -> Iterator[list[tuple[str, int]]]:
    """(table, rows) of every INSERT the engine sends to the database."""
    sent: list[tuple[str, int]] = []
    engine = get_engine()

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            rows = len(params) if isinstance(params, list) else 1
            if "json_to_recordset(" in statement:  # PostgreSQL: the rows as one JSON text
                rows = len(json.loads(params["rows"]))
            elif "unnest(" in statement:  # PostgreSQL: one array of values per column
                rows = len(next(iter(params.values())))
            sent.append((statement.split()[2].strip('"'), rows))

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def _job(n: int) -> dict[str, Any]:
    return {"job": f"job-{n}", "queue": "q", "args": [n], "created_at": utcnow()}


def _defer_jobs(session: Session, numbers: range) -> list[int]:
    ids = write_behind.reserve_ids(session, OUTBOX, len(numbers))
    assert ids is not None
    write_behind.insert_later(
        session, OUTBOX, [{"id": i, **_job(n)} for i, n in zip(ids, numbers, strict=True)]
    )
    return ids


def _jobs(session: Session) -> dict[int, str]:
    return {row.id or 0: row.job for row in session.exec(select(OutboxMessage)).scalars()}


def test_deferred_rows_go_out_in_one_statement_before_anything_reads(
    inserts: list[tuple[str, int]],
) -> None:
    with Session(get_engine()) as session:
        write_behind.defer(session, expected=4)
        ids = _defer_jobs(session, range(3)) + _defer_jobs(session, range(3, 5))
        assert len(set(ids)) == 5
        assert inserts == []  # nothing sent yet
        assert _jobs(session) == {i: f"job-{n}" for n, i in enumerate(ids)}  # the query sees them
        assert inserts == [("outbox_messages", 5)]
        session.commit()
    with Session(get_engine()) as session:
        assert _jobs(session) == {i: f"job-{n}" for n, i in enumerate(ids)}
        assert not write_behind.deferring(session)


def test_a_filing_goes_out_before_the_history_that_points_at_it(
    inserts: list[tuple[str, int]],
) -> None:
    with Session(get_engine(), expire_on_commit=False) as session:
        write_behind.defer(session, expected=3)
        filed = []
        for n in range(3):
            complaint = open_complaint(
                session,
                values={
                    "tracking_number": new_tracking_number(utcnow()),
                    "channel": Channel.web,
                    "kind": Kind.inquiry,
                    "text": f"第{n}个咨询：电热水壶的三包期是多久？",
                },
                actor=CITIZEN,
            )
            assert complaint is not None
            filed.append(complaint)
        session.commit()  # the commit writes what is still deferred
    assert inserts == [("complaints", 3), ("complaint_events", 3)]
    with Session(get_engine()) as session:
        for complaint in filed:
            stored = session.get(Complaint, complaint.id)
            assert stored is not None
            assert stored.tracking_number == complaint.tracking_number
            events = session.exec(
                select(ComplaintEvent).where(col(ComplaintEvent.complaint_id) == complaint.id)
            ).all()
            assert len(events) == 1


def test_rows_written_together_are_stored_as_sqlalchemy_stores_them(
    platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deferred rows go to the driver with SQLAlchemy's conversions applied once per
    column (write_behind._insert_many): the same filing, written either way, is stored as
    the same values, JSON, enums, dates and times and NULLs alike."""
    prepared = write_behind._driver_insert
    driven: list[tuple[str, str | None]] = []

    def recorded(dialect: Any, table: Any, keys: Any) -> Any:
        made = prepared(dialect, table, keys)
        driven.append((table.name, made and made.style))
        return made

    monkeypatch.setattr(write_behind, "_driver_insert", recorded)
    arrays: list[str] = []  # PostgreSQL's fallback for rows JSON cannot carry: none here

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "unnest(" in statement:
            arrays.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    now = utcnow()
    values = {
        "channel": Channel.sms,
        "kind": Kind.complaint,
        "text": "在某某超市买的电热水壶漏电，要求退货。",
        "contact_phone": "+8613812345678",
        "complainant_name": "李秀英",
        "business_name": None,
        "purchased_on": date(2026, 11, 30),
        "routing_hints": {"地区": "小店区", "scores": [0.5, 1], "none": None},
        "created_at": now,
        "updated_at": now,
        "priority": 2,
    }
    payloads = [{"channel": "sms", "引用": ["一", 2]}, {}]
    ids = []
    for deferring in (True, False):
        with Session(get_engine(), expire_on_commit=False) as session:
            if deferring:
                write_behind.defer(session, expected=2)
            for payload in payloads:
                number = {"tracking_number": new_tracking_number(now)}
                complaint = open_complaint(
                    session, values=values | number, actor=CITIZEN, payload=payload
                )
                assert complaint is not None
                ids.append(complaint.id)
                enqueue_all_after_commit(session, [(ROUTE_COMPLAINT, [complaint.id])])
            session.commit()
    event.remove(get_engine(), "before_cursor_execute", record)
    assert arrays == []
    # The intake path's three tables went to the driver, none back to SQLAlchemy's path.
    style = "json" if platform.startswith("postgresql") else "positional"
    assert driven == [
        ("complaints", style),
        ("complaint_events", style),
        ("outbox_messages", style),
    ]

    def stored(complaint_id: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with get_engine().connect() as connection:
            row = connection.execute(
                text("SELECT * FROM complaints WHERE id = :id"), {"id": complaint_id}
            ).one()
            events = connection.execute(
                text("SELECT * FROM complaint_events WHERE complaint_id = :id"),
                {"id": complaint_id},
            ).all()
        unlike = {"id", "tracking_number", "complaint_id"}
        return (
            {k: v for k, v in row._mapping.items() if k not in unlike},
            [{k: v for k, v in e._mapping.items() if k not in unlike} for e in events],
        )

    together, alone = [stored(i) for i in ids[:2]], [stored(i) for i in ids[2:]]
    assert together[0][0]["routing_hints"] is not None
    assert together[0][0]["purchased_on"] is not None
    for written_together, written_alone in zip(together, alone, strict=True):
        row, events = written_together
        assert row == written_alone[0]
        assert [{**e, "id": None} for e in events] == [{**e, "id": None} for e in written_alone[1]]


def test_rows_of_differing_columns_are_written_all_the_same(platform: str) -> None:
    with Session(get_engine()) as session:
        write_behind.defer(session, expected=2)
        write_behind.insert_later(session, OUTBOX, [_job(1)])
        write_behind.insert_later(session, OUTBOX, [{**_job(2), "attempts": 3}])
        session.commit()
    with Session(get_engine()) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.job))).scalars()
        assert [(row.job, row.attempts) for row in rows] == [("job-1", 0), ("job-2", 3)]


def test_columns_of_every_shape_are_written_as_sqlalchemy_writes_them(platform: str) -> None:
    """A default written as SQL sends the rows SQLAlchemy's way (the driver's statement
    would leave the column out); names that need quoting or escaping and a collated text
    column go the driver's way, on PostgreSQL as arrays."""
    postgresql = get_engine().dialect.name == "postgresql"
    meta = MetaData()
    by_sql = Table(
        "write_behind_sql_default",
        meta,
        Column("id", Integer, primary_key=True),
        Column("v", Integer),
        Column("n", Integer, default=text("42")),
    )
    named = Table(
        "write_behind_odd_names",
        meta,
        Column("id", Integer, primary_key=True),
        Column("v", Integer),
        Column("my col", String(10)),
        Column("a(b)%", String(10)),
        Column("c", String(10, collation="C" if postgresql else "NOCASE")),
    )
    engine = get_engine()
    meta.create_all(engine)
    try:
        assert write_behind._driver_insert(engine.dialect, by_sql, ("v",)) is None
        keys = ("v", "my col", "a(b)%", "c")
        assert write_behind._driver_insert(engine.dialect, named, keys) is not None
        with Session(engine) as session:
            write_behind.defer(session, expected=2)
            write_behind.insert_later(session, by_sql, [{"v": 1}, {"v": 2}])
            write_behind.insert_later(
                session,
                named,
                [
                    {"v": 1, "my col": "x", "a(b)%": "y", "c": "z"},
                    {"v": 2, "my col": None, "a(b)%": "50%", "c": None},
                ],
            )
            session.commit()
        with engine.connect() as connection:
            assert connection.execute(select(by_sql.c.v, by_sql.c.n).order_by("v")).all() == [
                (1, 42),
                (2, 42),
            ]
            columns = [named.c[key] for key in keys]
            assert connection.execute(select(*columns).order_by(named.c.v)).all() == [
                (1, "x", "y", "z"),
                (2, None, "50%", None),
            ]
    finally:
        meta.drop_all(engine)


def test_values_of_every_type_are_stored_as_sqlalchemy_stores_them(platform: str) -> None:
    """Each kind of value the driver's statement carries (on PostgreSQL as JSON text, and
    as arrays for what JSON cannot carry: bytes, a float that is not a number) reads back
    as the same rows written SQLAlchemy's own way."""
    meta = MetaData()
    shapes = Table(
        "write_behind_shapes",
        meta,
        Column("id", Integer, primary_key=True),
        Column("way", String(10)),
        Column("n", Numeric(10, 2)),
        Column("f", Float),
        Column("ok", Boolean),
        Column("day", Date),
        Column("at", DateTime(timezone=True)),
        Column("clock", Time),
        Column("u", Uuid),
        Column("doc", JSON),
        Column("raw", LargeBinary),
        Column("words", String(40)),
    )
    rows = [
        {
            "n": Decimal("12.50"),
            "f": 0.1,
            "ok": True,
            "day": date(2026, 12, 6),
            "at": datetime(2026, 12, 6, 9, 30, 1, 250000, tzinfo=UTC),
            "clock": time(23, 59, 58),
            "u": uuid.UUID(int=7),
            "doc": {"地区": "小店区", "n": [1, 2.5, None], "ok": False},
            "raw": None,
            "words": 'quote " and \\ back\nslash 完',
        },
        {key: None for key in ("n", "f", "ok", "day", "at", "clock", "u", "doc", "raw", "words")},
        {  # JSON cannot carry these: the rows go as arrays
            "n": Decimal("-0.01"),
            "f": math.inf,
            "ok": False,
            "day": date(2000, 1, 1),
            "at": datetime(2000, 1, 1, tzinfo=UTC),
            "clock": time(0, 0),
            "u": uuid.UUID(int=8),
            "doc": [],
            "raw": b"\x00\xff",
            "words": "",
        },
    ]
    engine = get_engine()
    meta.create_all(engine)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "write_behind_shapes" in statement:
            sent.append("json" if "json_to_recordset" in statement else "other")

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            write_behind.defer(session, expected=2)
            deferred = [{**row, "way": "deferred"} for row in rows]
            write_behind.insert_later(session, shapes, deferred[:2])
            session.execute(select(1))  # the first two go out
            write_behind.insert_later(session, shapes, deferred[2:])
            session.execute(shapes.insert(), [{**row, "way": "sqlalchemy"} for row in rows])
            session.commit()
        if engine.dialect.name == "postgresql":
            assert sent == ["json", "other", "other"]  # the third row, then SQLAlchemy's
        columns = [c for c in shapes.columns if c.key not in ("id", "way")]
        with engine.connect() as connection:
            stored = {
                way: connection.execute(
                    select(*columns).where(shapes.c.way == way).order_by(shapes.c.id)
                ).all()
                for way in ("deferred", "sqlalchemy")
            }
        assert stored["deferred"] == stored["sqlalchemy"]
        assert len(stored["deferred"]) == 3
        assert stored["deferred"][0][-3] == rows[0]["doc"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
        meta.drop_all(engine)


@pytest.mark.postgres
def test_a_value_too_long_for_its_column_is_refused_not_cut(
    configure: Callable[..., None], postgres_url: str, redis_url: str, templates: Templates
) -> None:
    """PostgreSQL gets a group's rows as JSON, each field typed as its column without a
    length (write_behind._json_insert): a cast to the column's length would cut a long
    value short."""
    migrated_platform(configure, postgres_url, redis_url, templates)
    with Session(get_engine()) as session:
        write_behind.defer(session, expected=2)
        ids = write_behind.reserve_ids(session, OUTBOX, 2)
        assert ids is not None
        rows = [{"id": i, **_job(i), "attempts": 0} for i in ids]
        rows[1]["queue"] = "q" * 51  # VARCHAR(50)
        sent = write_behind._driver_insert(get_engine().dialect, OUTBOX, tuple(rows[0]))
        assert sent is not None
        assert sent.style == "json"
        write_behind.insert_later(session, OUTBOX, rows)
        with pytest.raises(DataError):
            session.commit()
    with Session(get_engine()) as session:
        assert _jobs(session) == {}


def test_ids_drawn_in_advance_never_meet_a_row_written_meanwhile(platform: str) -> None:
    """Another INSERT in the same transaction (autoincrement) between two draws."""
    with Session(get_engine()) as session:
        write_behind.defer(session, expected=2)
        first = _defer_jobs(session, range(2))
        plain = OutboxMessage(**_job(9))
        session.add(plain)
        session.flush()  # writes the deferred rows first, then this one
        assert plain.id is not None
        assert plain.id not in first
        later = _defer_jobs(session, range(2, 4))
        assert not set(later) & {*first, plain.id}
        session.commit()
    with Session(get_engine()) as session:
        assert len(_jobs(session)) == 5


def test_a_rollback_drops_the_deferred_rows_and_the_next_transaction_writes_at_once(
    inserts: list[tuple[str, int]],
) -> None:
    with Session(get_engine()) as session:
        write_behind.defer(session)
        _defer_jobs(session, range(2))
        session.rollback()
        assert not write_behind.deferring(session)
        # The same pooled connection: nothing left over is written before this statement.
        write_behind.insert_later(session, OUTBOX, [_job(7)])
        assert write_behind.reserve_ids(session, OUTBOX, 1) is None
        session.commit()
    assert inserts == [("outbox_messages", 1)]
    with Session(get_engine()) as session:
        assert list(_jobs(session).values()) == ["job-7"]


def test_rows_deferred_in_a_savepoint_rolled_back_are_not_written(platform: str) -> None:
    with Session(get_engine()) as session:
        write_behind.defer(session)
        kept = _defer_jobs(session, range(1))
        savepoint = session.begin_nested()  # opened in the database at its first statement
        _defer_jobs(session, range(1, 3))
        savepoint.rollback()
        assert write_behind.deferring(session)  # the transaction goes on deferring
        also_kept = _defer_jobs(session, range(3, 4))
        savepoint = session.begin_nested()
        _defer_jobs(session, range(4, 6))
        assert len(_jobs(session)) == 4  # a statement in the savepoint: written inside it
        savepoint.rollback()
        session.commit()
    with Session(get_engine()) as session:
        assert _jobs(session) == {kept[0]: "job-0", also_kept[0]: "job-3"}


def test_a_failed_write_fails_the_transaction_and_stores_nothing(platform: str) -> None:
    with Session(get_engine()) as session:
        write_behind.defer(session)
        ids = _defer_jobs(session, range(1))
        write_behind.insert_later(session, OUTBOX, [{"id": ids[0], **_job(1)}])  # its id again
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            session.commit()
        session.rollback()
    with Session(get_engine()) as session:
        assert session.execute(select(func.count()).select_from(OUTBOX)).scalar_one() == 0


def test_on_sqlite_the_write_lock_waits_for_the_writes(sqlite_platform: str) -> None:
    """Ids drawn and rows deferred hold no lock: another writer commits in between, its
    rows take ids above the drawn ones, and the deferred rows go out at the commit."""
    engine = get_engine()
    with Session(engine) as session:
        write_behind.defer(session, expected=2)
        drawn = _defer_jobs(session, range(2))
        assert not session.get_transaction().connections  # type: ignore[union-attr]

        def other_writer() -> int:
            with Session(engine) as other:
                plain = OutboxMessage(**_job(9))
                other.add(plain)
                other.commit()
                assert plain.id is not None
                return plain.id

        with ThreadPoolExecutor(1) as pool:  # would wait for this session's lock, in vain
            plain_id = pool.submit(other_writer).result(timeout=10)
        assert plain_id > max(drawn)
        session.commit()
    with Session(engine) as session:
        assert _jobs(session) == {drawn[0]: "job-0", drawn[1]: "job-1", plain_id: "job-9"}


def test_a_draw_inside_a_begun_sqlite_transaction_takes_ids_no_insert_can(
    sqlite_platform: str,
) -> None:
    with Session(get_engine()) as session:
        session.add(OutboxMessage(**_job(1)))
        session.flush()  # the transaction holds the write lock from here
        write_behind.defer(session)
        drawn = _defer_jobs(session, range(2, 4))
        session.commit()
    with Session(get_engine()) as session:
        plain = OutboxMessage(**_job(5))
        session.add(plain)
        session.commit()
        assert plain.id is not None
        assert plain.id > max(drawn)
        assert sorted(_jobs(session).values()) == ["job-1", "job-2", "job-3", "job-5"]


def test_tracking_numbers_are_checked_outside_a_group_transaction_on_sqlite(
    sqlite_platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake import service
    from intake.service import _tracking_number

    drawn = iter(f"261205{n:08d}" for n in range(1, 10_000))
    monkeypatch.setattr(service, "new_tracking_number", lambda _now: next(drawn))

    with Session(get_engine()) as session:
        open_complaint(
            session,
            values={"tracking_number": "26120500000001", "kind": Kind.complaint,
                    "channel": Channel.web, "text": "t", "created_at": utcnow(),
                    "updated_at": utcnow(), "routing_hints": {}},
            actor=CITIZEN,
        )  # fmt: skip
        session.commit()
    with Session(get_engine()) as session:
        write_behind.defer(session, expected=3)
        numbers = {_tracking_number(session, utcnow()) for _ in range(3)}
        assert len(numbers) == 3
        assert "26120500000001" not in numbers  # taken: seen on the read-only connection
        assert not session.get_transaction().connections  # type: ignore[union-attr]


def test_ids_announced_for_several_tables_are_drawn_together(sqlite_platform: str) -> None:
    """A group that says what its filings draw takes every table's ids in one short
    transaction; a caller asking past the announcement gets more all the same."""
    statements: list[str] = []
    engine = get_engine()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            write_behind.defer(session, expected=2, ids={COMPLAINTS: 2, OUTBOX: 4})
            complaint_ids = write_behind.reserve_ids(session, COMPLAINTS, 1)
            assert statements == ["BEGIN", "UPDATE", "UPDATE"]  # both tables, one transaction
            jobs = _defer_jobs(session, range(4))  # announced: nothing more to draw
            more = _defer_jobs(session, range(4, 5))  # past it: drawn then
            assert statements[3:] == ["BEGIN", "UPDATE"]
            write_behind.reserve_ids(session, COMPLAINTS, 1)
            assert len(statements) == 5
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert complaint_ids is not None
    assert len(set(jobs + more)) == 5
    with Session(engine) as session:
        assert set(_jobs(session)) == set(jobs + more)


@pytest.mark.postgres
def test_on_postgresql_every_tables_ids_come_in_one_statement(
    configure: Callable[..., None], postgres_url: str, redis_url: str, templates: Templates
) -> None:
    """Ids announced for the filings and their jobs: one SELECT of both sequences, each
    table's ids its own, ascending, and never drawn again."""
    migrated_platform(configure, postgres_url, redis_url, templates)
    statements: list[str] = []
    engine = get_engine()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        drawn = []
        for _ in range(2):
            with Session(engine) as session:
                write_behind.defer(session, expected=3, ids={COMPLAINTS: 3, OUTBOX: 6})
                complaints = write_behind.reserve_ids(session, COMPLAINTS, 3)
                jobs = write_behind.reserve_ids(session, OUTBOX, 6)
                session.commit()
            assert complaints is not None
            assert jobs is not None
            drawn.append((complaints, jobs))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert sum("nextval" in statement for statement in statements) == 2  # one per group
    (first_complaints, first_jobs), (then_complaints, then_jobs) = drawn
    for ids in (first_complaints, first_jobs, then_complaints, then_jobs):
        assert ids == sorted(set(ids))
    assert len(first_complaints) == len(then_complaints) == 3
    assert len(first_jobs) == len(then_jobs) == 6
    assert min(then_complaints) > max(first_complaints)
    assert min(then_jobs) > max(first_jobs)


def test_a_table_without_a_sqlite_sequence_row_gets_one_above_its_rows(
    sqlite_platform: str,
) -> None:
    engine = get_engine()
    with Session(engine) as session:
        session.add(OutboxMessage(**_job(1)))
        session.commit()
    with engine.connect() as connection:
        connection.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'outbox_messages'")
        connection.commit()
    with Session(engine) as session:
        write_behind.defer(session)
        drawn = _defer_jobs(session, range(2, 4))
        session.commit()
    with Session(engine) as session:
        assert min(drawn) > max(_jobs(session).keys() - set(drawn))
        assert len(_jobs(session)) == 3
        seq = session.execute(
            text("SELECT seq FROM sqlite_sequence WHERE name = 'outbox_messages'")
        )
        assert seq.scalar_one() == max(drawn)


def test_ids_drawn_in_a_savepoint_rolled_back_are_not_used_again(platform: str) -> None:
    """On SQLite the savepoint's rollback takes back the raised sqlite_sequence, so a later
    INSERT may take those ids: they are forgotten with it."""
    with Session(get_engine()) as session:
        session.add(OutboxMessage(**_job(0)))
        session.flush()  # the transaction has begun: draws happen inside it
        write_behind.defer(session, expected=3)
        savepoint = session.begin_nested()
        session.execute(select(func.count()).select_from(OUTBOX))  # the SAVEPOINT is sent
        write_behind.reserve_ids(session, OUTBOX, 1)  # and two more kept for later
        savepoint.rollback()
        session.add_all([OutboxMessage(**_job(1)), OutboxMessage(**_job(2))])
        session.flush()
        later = _defer_jobs(session, range(3, 4))
        session.commit()
    with Session(get_engine()) as session:
        assert sorted(_jobs(session).values()) == ["job-0", "job-1", "job-2", "job-3"]
        assert later[0] in _jobs(session)
