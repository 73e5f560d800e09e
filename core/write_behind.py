"""Write-behind INSERTs: a group's new rows written together, one statement per table.

Group commit (intake.group_commit) files many filings in one transaction, and each filing
is three INSERTs (the filing, its first history entry, its outbox rows). Executed one by
one they were a third of what an API process spent on a filing: SQLAlchemy's per-statement
work, not the database's. Here a session's transaction can defer its INSERTs instead: the
rows wait in the session, and go out as one executemany per table, in the order their
tables were first used (a filing before the rows that point at it).

Deferring must not change what the transaction does, so the rows are written before any
other statement runs on the session's connection (a query, an UPDATE, the ORM's flush),
and before the commit: whatever follows sees them, as if each had been written at once.
Rows deferred in a savepoint that is rolled back go with it. A deferred row has no
database-made id, so a table whose ids are needed at once (the filing's: its history and
jobs point at it) draws them in advance, `reserve_ids`: from the PostgreSQL sequence, many
in one round trip; on SQLite, above the table's highest id, which is safe because the
transaction holds the write lock from its BEGIN IMMEDIATE (core.db). A failed write
surfaces at the next statement or at the commit, and the caller's transaction is rolled
back as for any failed statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, event, func, insert, select, text
from sqlalchemy.sql.expression import (
    ReleaseSavepointClause,
    RollbackToSavepointClause,
    SavepointClause,
)
from sqlmodel import Session

_KEY = "write_behind"
_SAVEPOINT_CLAUSES = (SavepointClause, RollbackToSavepointClause, ReleaseSavepointClause)


@dataclass
class _Deferred:
    connection: Connection
    expected: int  # how many filings (or such) the caller expects: ids drawn for all at once
    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    ids: dict[Table, list[int]] = field(default_factory=dict)
    writing: bool = False
    # SQLite: another statement ran since the ids were drawn, and may have taken some.
    stale: bool = False

    def before_execute(self, _connection: Connection, statement: Any, *_args: Any) -> None:
        # Not before a SAVEPOINT the session opens late, at its first statement: rows
        # deferred since its begin_nested() belong inside it (see _savepoint_begins).
        if not self.writing and not isinstance(statement, _SAVEPOINT_CLAUSES):
            self.stale = True
            self.flush()

    def flush(self) -> None:
        if self.writing:
            return
        self.writing = True
        try:
            while self.rows:  # tables in the order they were first used
                table = next(iter(self.rows))
                self.connection.execute(insert(table), self.rows.pop(table))
        finally:
            self.writing = False


def defer(session: Session, *, expected: int = 1) -> None:
    """Defer `insert_later`'s rows in the session's current transaction (until it ends)."""
    if _KEY in session.info:
        return
    connection = session.connection()
    deferred = _Deferred(connection=connection, expected=max(1, expected))
    session.info[_KEY] = deferred
    event.listen(connection, "before_execute", deferred.before_execute)
    for name, listener in _SESSION_EVENTS:
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def deferring(session: Session) -> bool:
    return _KEY in session.info


def insert_later(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (each with the same keys) into `table` now, or with the other deferred
    rows of `table` when the session defers."""
    if not rows:
        return
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is None:
        session.execute(insert(table), rows)
    else:
        deferred.rows.setdefault(table, []).extend(rows)


def reserve_ids(session: Session, table: Table, n: int) -> list[int] | None:
    """`n` ids for new rows of `table` that no other row will take, for deferred rows; None
    when the session does not defer (the INSERT makes the id, as usual). Defer the rows
    before running another statement: on SQLite, one that inserts may take the same ids."""
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is None:
        return None
    free = deferred.ids.setdefault(table, [])
    if deferred.stale and deferred.connection.dialect.name == "sqlite":
        free.clear()
    deferred.stale = False
    if len(free) < n:
        # Enough for every filing the caller expects, if each asks for as many.
        free.extend(_draw(deferred, table, max(n - len(free), deferred.expected * n)))
    taken, deferred.ids[table] = free[:n], free[n:]
    return taken


def write_now(session: Session) -> None:
    """Write the deferred rows (the commit does this too)."""
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is not None:
        deferred.flush()


def _draw(deferred: _Deferred, table: Table, n: int) -> list[int]:
    connection = deferred.connection
    deferred.writing = True
    try:
        if connection.dialect.name == "postgresql":
            drawn = connection.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": n},
            )
            return sorted(int(i) for (i,) in drawn)
        # SQLite gives a new row the highest id + 1 (no AUTOINCREMENT): ids above both the
        # table's and its rows still deferred are free while this transaction writes.
        highest = int(
            connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        )
        waiting = [int(row["id"]) for row in deferred.rows.get(table, []) if "id" in row]
        highest = max([highest, *waiting, *deferred.ids.get(table, [])])
        return list(range(highest + 1, highest + 1 + n))
    finally:
        deferred.writing = False


def _savepoint_begins(session: Session, transaction: Any) -> None:
    """What was deferred before a savepoint is written before it; what is deferred from
    here on is the savepoint's, and goes if it is rolled back."""
    if transaction.nested:
        write_now(session)


def _soft_rollback(session: Session, previous_transaction: Any) -> None:
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is not None and previous_transaction.nested:
        deferred.rows.clear()  # the innermost savepoint's rows (see _savepoint_begins)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:  # a savepoint: the transaction goes on
        return
    deferred: _Deferred | None = session.info.pop(_KEY, None)
    if deferred is not None and event.contains(
        deferred.connection, "before_execute", deferred.before_execute
    ):
        event.remove(deferred.connection, "before_execute", deferred.before_execute)


_SESSION_EVENTS = (
    ("before_commit", write_now),
    ("after_transaction_create", _savepoint_begins),
    ("after_soft_rollback", _soft_rollback),
    ("after_transaction_end", _after_transaction_end),
)
