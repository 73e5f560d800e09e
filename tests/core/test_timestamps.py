from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from core import migrate
from core.db import UTCDateTime, get_engine
from schemas import OutboxMessage


def test_timestamps_come_back_utc_aware_on_both_databases(
    configure: Callable[..., None], database_url: str, redis_url: str
) -> None:
    configure(database_url=database_url, redis_url=redis_url)
    migrate.upgrade()
    beijing = datetime(2026, 10, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    with Session(get_engine()) as session:
        row = OutboxMessage(job="x", queue="q", args=[], created_at=beijing)
        session.add(row)
        session.commit()
        row_id = row.id
    with Session(get_engine()) as session:
        stored = session.get(OutboxMessage, row_id)
        assert stored is not None
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at == datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


def test_naive_timestamps_are_refused(
    configure: Callable[..., None], sqlite_url: str, redis_url: str
) -> None:
    configure(database_url=sqlite_url, redis_url=redis_url)
    migrate.upgrade()
    with Session(get_engine()) as session:
        session.add(OutboxMessage(job="x", queue="q", args=[], created_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def _chained_sqlite_processor() -> Callable[[datetime | None], object]:
    """What SQLAlchemy would make of UTCDateTime on SQLite without its own bind_processor:
    process_bind_param, then the DATETIME column's text format."""
    dialect = sqlite.dialect()
    column_type = UTCDateTime()
    to_text = column_type.impl_instance.dialect_impl(dialect).bind_processor(dialect)
    assert to_text is not None

    def chained(value: datetime | None) -> object:
        return to_text(column_type.process_bind_param(value, dialect))

    return chained


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 6, 4, 7, 52, 432051, tzinfo=UTC),
        datetime(2026, 12, 6, 4, 7, 52, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 10, 1, 8, 0, 0, 1, tzinfo=timezone(timedelta(hours=8))),
        datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=45))),
        datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=UTC),  # a year of three digits, padded
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        None,
    ],
)
def test_sqlite_timestamps_are_written_as_the_chained_conversion_would(
    value: datetime | None,
) -> None:
    dialect = sqlite.dialect()
    fused = UTCDateTime().bind_processor(dialect)
    assert fused is not None
    assert fused(value) == _chained_sqlite_processor()(value)


def test_the_sqlite_conversion_refuses_a_naive_timestamp() -> None:
    fused = UTCDateTime().bind_processor(sqlite.dialect())
    assert fused is not None
    with pytest.raises(ValueError, match="naive datetime"):
        fused(datetime(2026, 1, 1))


def test_the_sqlite_conversion_reuses_text_only_for_the_same_timestamp() -> None:
    """It keeps the last timestamp's text (a filing's rows convert one `now` several times):
    another timestamp, even an equal one in another zone, is converted afresh."""
    fused = UTCDateTime().bind_processor(sqlite.dialect())
    chained = _chained_sqlite_processor()
    assert fused is not None
    first = datetime(2026, 12, 6, 4, 7, 52, 432051, tzinfo=UTC)
    same_instant = first.astimezone(timezone(timedelta(hours=8)))
    later = datetime(2026, 12, 6, 4, 7, 53, tzinfo=UTC)
    for value in (first, first, same_instant, later, first, later, later, None, first):
        assert fused(value) == chained(value)
    with pytest.raises(ValueError, match="naive datetime"):
        fused(first.replace(tzinfo=None))  # not mistaken for the `first` just converted
