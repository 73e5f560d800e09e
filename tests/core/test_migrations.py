from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import schemas  # noqa: F401
from core import migrate
from core.db import get_engine

TABLES = {
    "complaints",
    "complaint_events",
    "departments",
    "staff_users",
    "outbox_messages",
    "registry_loads",
}


def test_migrations_apply_from_empty_and_match_the_models(
    configure: Callable[..., None], database_url: str, redis_url: str
) -> None:
    configure(database_url=database_url, redis_url=redis_url)
    engine = get_engine()
    assert set(inspect(engine).get_table_names()) == set()

    migrate.upgrade()
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []

    migrate.downgrade()
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade()
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(
    configure: Callable[..., None], sqlite_url: str, redis_url: str
) -> None:
    configure(database_url=sqlite_url, redis_url=redis_url, sqlite_busy_timeout_ms="4321")
    with get_engine().connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
