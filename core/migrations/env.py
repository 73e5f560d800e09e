"""Alembic environment: the URL comes from settings unless the caller passes a connection."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection
from sqlmodel import SQLModel

import schemas  # noqa: F401  (registers every table on SQLModel.metadata)
from core.db import get_engine
from core.errors import Conflict

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        with _foreign_keys_off(connection) as checked:
            _run(connection, checked)
        return
    url = config.get_main_option("sqlalchemy.url") or None
    with get_engine(url).connect() as conn, _foreign_keys_off(conn) as checked:
        _run(conn, checked)
        conn.commit()


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[bool]:
    """SQLite alters a table by copying it and dropping the old one. With foreign keys
    enforced, dropping `complaints` while history rows point at it fails, so a database
    with filings could not be migrated past such a copy. As SQLite's own procedure for
    altering a table says, enforcement is off while the migrations run (the pragma does
    nothing inside a transaction, so it is set before theirs begins), and every foreign key
    is checked at the end of each migration, inside its transaction (`_check_foreign_keys`):
    rows left pointing at nothing fail that migration, which is rolled back. Yields whether
    the check is needed; enforcement is back on however the migrations end."""
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield False
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield True
    finally:
        if connection.in_transaction():
            connection.rollback()
        if driver.in_transaction:  # a failed COMMIT leaves the driver's open: the pragma
            driver.rollback()  # would do nothing inside it
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    """Alembic's `on_version_apply`: after a migration's changes, before its commit."""
    connection = ctx.connection
    assert connection is not None
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
    if broken:
        rows = ", ".join(f"{table} row {rowid} → {parent}" for table, rowid, parent, _ in broken)
        raise Conflict(f"the migrations would leave rows pointing at nothing: {rows}")


def _run(connection: object, check_foreign_keys: bool) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        on_version_apply=_check_foreign_keys if check_foreign_keys else None,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
