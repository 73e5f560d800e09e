"""Alembic environment: the URL comes from settings unless the caller passes a connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection, event
from sqlmodel import SQLModel

import schemas  # noqa: F401  (registers every table on SQLModel.metadata)
from core.db import get_engine
from core.errors import Conflict

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        with _foreign_keys_checked_at_end(connection):
            _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or None
    with get_engine(url).connect() as conn, _foreign_keys_checked_at_end(conn):
        _run(conn)
        conn.commit()


@contextmanager
def _foreign_keys_checked_at_end(connection: Connection) -> Iterator[None]:
    """SQLite alters a table by copying it and dropping the old one. With foreign keys
    enforced, dropping `complaints` while history rows point at it fails, so a database
    with filings could not be migrated past such a copy. As SQLite's own procedure for
    altering a table says, enforcement is off while the migrations run (the pragma does
    nothing inside a transaction, so it is set before theirs begins), and every foreign key
    is checked before their transaction commits: rows left pointing at nothing fail the
    upgrade, and it is rolled back."""
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    event.listen(connection, "commit", _check_foreign_keys)
    try:
        yield
    finally:
        event.remove(connection, "commit", _check_foreign_keys)
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
    if broken:
        rows = ", ".join(f"{table} row {rowid} → {parent}" for table, rowid, parent, _ in broken)
        raise Conflict(f"the migrations would leave rows pointing at nothing: {rows}")


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
