from collections.abc import Callable
from contextlib import ExitStack

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Connection, insert, inspect, text
from sqlmodel import SQLModel, col, select

import schemas  # noqa: F401
from core import migrate
from core.db import get_engine
from core.errors import Conflict
from core.timeutil import utcnow
from schemas.event import ComplaintEvent

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


def test_0015_takes_the_other_filings_number_out_of_old_merged_notes(
    platform: str, client: TestClient
) -> None:
    from tests.helpers import valid_filing

    client.post("/api/v1/complaints", json=valid_filing())
    engine = get_engine()
    old = "与受理编号26112865638191为同一事项，合并办理"
    with engine.begin() as connection:
        connection.execute(
            insert(ComplaintEvent.__table__),  # type: ignore[attr-defined]
            [
                {"complaint_id": 1, "at": utcnow(), "actor": "zj", "reason": "同一事项",
                 "public_note": note, "payload": {}, "public": True, "to_status": status}
                for note, status in ((old, "merged"), ("与受理编号无关的说明", "closed"))
            ],
        )  # fmt: skip
    migrate.downgrade(revision="0014")
    migrate.upgrade()
    with engine.connect() as connection:
        notes = connection.execute(
            select(ComplaintEvent.public_note).where(col(ComplaintEvent.actor) == "zj")
        ).scalars()
        assert sorted(notes) == sorted(
            ["已与反映同一事项的另一件登记合并，由承办部门一并办理", "与受理编号无关的说明"]
        )


def _account_row(connection: Connection, username: str) -> None:
    """A staff account as SQL of an older schema writes it (no column added since 0016)."""
    connection.execute(
        text(
            "INSERT INTO staff_users (username, password_hash, role, active, created_at) "
            "VALUES (:username, 'x', 'admin', :yes, :now)"
        ),
        {"username": username, "yes": True, "now": utcnow()},
    )


def _one(sql: str) -> object:
    with get_engine().connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def test_0017_starts_existing_accounts_at_credentials_version_0(platform: str) -> None:
    """Version 0 is what a token issued before 0017 (no version claim) is read as: an account
    that existed at the upgrade keeps its signed-in staff until its first change."""
    engine = get_engine()
    migrate.downgrade(revision="0016")
    with engine.begin() as connection:
        _account_row(connection, "before")
    migrate.upgrade()
    assert _one("SELECT token_epoch FROM staff_users WHERE username = 'before'") == 0


def test_0022_gives_open_page_sessions_their_accounts_current_version(platform: str) -> None:
    """Nobody signed in at the upgrade is signed out by it: an open session takes the version
    its account has, so only a later change refuses it."""
    engine = get_engine()
    migrate.downgrade(revision="0021")
    now = utcnow()
    with engine.begin() as connection:
        _account_row(connection, "moved")
        connection.execute(text("UPDATE staff_users SET token_epoch = 3"))
        connection.execute(
            text(
                "INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) "
                "SELECT 'h', id, :now, :now FROM staff_users WHERE username = 'moved'"
            ),
            {"now": now},
        )
    migrate.upgrade()
    assert _one("SELECT token_epoch FROM staff_sessions WHERE token_hash = 'h'") == 3


def test_a_database_with_filings_migrates_across_copies_of_complaints(
    platform: str, client: TestClient
) -> None:
    """SQLite alters `complaints` by copying it and dropping the old table (0013 among
    others); with history rows pointing at it, the drop failed on a foreign key and a
    database with filings could not be downgraded or upgraded across it."""
    from tests.helpers import valid_filing

    for _ in range(3):
        assert client.post("/api/v1/complaints", json=valid_filing()).status_code == 201
    before = _counts()
    migrate.downgrade(revision="0012")
    migrate.upgrade()
    assert _counts() == before
    with get_engine().connect() as connection:
        if connection.dialect.name == "sqlite":  # enforcement is back for the app
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_rows_left_pointing_at_nothing_fail_the_upgrade_and_change_nothing(
    sqlite_platform: str,
) -> None:
    engine = get_engine()
    migrate.downgrade(revision="0012")
    with engine.connect() as connection:
        connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA foreign_keys=OFF"
        )
        connection.execute(
            text(
                "INSERT INTO complaint_events (complaint_id, at, actor, reason, payload, public) "
                "VALUES (999, :now, 'x', 'r', '{}', :yes)"
            ),
            {"now": utcnow(), "yes": True},
        )
        connection.commit()
        connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA foreign_keys=ON"
        )
    with pytest.raises(Conflict, match="complaint_events row 1 → complaints"):
        migrate.upgrade()
    assert _one("SELECT version_num FROM alembic_version") == "0012"
    assert "quality_supervisors" not in inspect(engine).get_table_names()
    # Every pooled connection (the migration's among them) enforces foreign keys again,
    # holds no transaction, and can write.
    with ExitStack() as stack:
        idle = engine.pool.checkedin()  # type: ignore[attr-defined]
        for connection in [stack.enter_context(engine.connect()) for _ in range(idle)]:
            driver = connection.connection.driver_connection  # no BEGIN of SQLAlchemy's
            assert not driver.in_transaction  # type: ignore[union-attr]
            assert driver.execute("PRAGMA foreign_keys").fetchone() == (1,)  # type: ignore[union-attr]
    _account_row_committed("after")


def _account_row_committed(username: str) -> None:
    with get_engine().begin() as connection:
        _account_row(connection, username)
    assert _one(f"SELECT count(*) FROM staff_users WHERE username = '{username}'") == 1  # noqa: S608


def _counts() -> tuple[object, ...]:
    return tuple(
        _one(f"SELECT count(*) FROM {table}")  # noqa: S608 (names from this test)
        for table in ("complaints", "complaint_events", "outbox_messages")
    )
