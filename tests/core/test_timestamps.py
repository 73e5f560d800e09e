from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import Session

from core import migrate
from core.db import get_engine
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
