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
in one round trip; on SQLite, by raising the table's sqlite_sequence (its ids are
AUTOINCREMENT, migration 0023), which every INSERT honours. A failed write surfaces at the
next statement or at the commit, and the caller's transaction is rolled back as for any
failed statement.

On SQLite a deferring session takes no connection until it must: its transaction, and
with it the database's one write lock (BEGIN IMMEDIATE, core.db), begins when the rows go
out or another statement runs, not when the group's work begins. Ids are then drawn in a
short transaction of their own, and reads that need not see the transaction (`reader`:
the tracking numbers already taken) run on a read-only connection. Two API processes
filing at once no longer hold the lock for each other's Python work, only for the writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Table,
    bindparam,
    column,
    event,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy import table as sql_table
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.expression import (
    ReleaseSavepointClause,
    RollbackToSavepointClause,
    SavepointClause,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from core.db import get_engine

_KEY = "write_behind"
_SAVEPOINT_CLAUSES = (SavepointClause, RollbackToSavepointClause, ReleaseSavepointClause)


@dataclass
class _Deferred:
    session: Session
    expected: int  # how many filings (or such) the caller expects: ids drawn for all at once
    # Ids the caller announced it will draw, per table: drawn together at the first draw.
    announced: dict[Table, int] = field(default_factory=dict)
    connection: Connection | None = None  # SQLite: none until the transaction must begin
    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    ids: dict[Table, list[int]] = field(default_factory=dict)
    writing: bool = False

    def attach(self, connection: Connection) -> None:
        if self.connection is None:
            self.connection = connection
            _attached[connection] = self

    def flush(self) -> None:
        if self.writing or not self.rows:
            return
        connection = self.connection or self.session.connection()  # begins: attaches
        self.writing = True
        try:
            while self.rows:  # tables in the order they were first used
                table = next(iter(self.rows))
                _insert_many(connection, table, self.rows.pop(table))
        finally:
            self.writing = False


def _insert_many(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """`connection.execute(insert(table), rows)`, with the statement's text and its
    parameters' conversions looked up once per table and columns: SQLAlchemy's own per-row
    work (a parameter dict built per row, then turned into the driver's) was a tenth of
    what a group spent on a filing. Rows with other columns than the first go in a
    statement of their own (executemany takes the first row's columns for all).

    On PostgreSQL the rows go as one statement whose one parameter is the rows as JSON text
    (INSERT … SELECT FROM json_to_recordset(…), each field cast to its column's type):
    psycopg's executemany sends, and converts in Python, one statement per row (a fifth of
    a filing's CPU in the API process, and the server's parse, bind and execute of each),
    and an array per column (INSERT … SELECT FROM unnest(…), before) is converted element
    by element in Python too: 45 against 13 µs of the client's CPU a row of 25 columns,
    the server's the same (17 and 17-20 µs). Rows JSON cannot carry (bytes, a float that
    is not a number) still go as arrays."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(row), []).append(row)
    for columns, same in by_columns.items():
        driver = _driver_insert(connection.dialect, table, columns)
        if driver is None:
            connection.execute(insert(table), same)
        else:
            connection.exec_driver_sql(*driver.statement(same))


@dataclass(frozen=True)
class _DriverInsert:
    sql: str
    # "positional" (SQLite): a tuple per row; "json" (PostgreSQL): the rows as one JSON
    # text, or as `arrays_sql` takes them (one array per column) where JSON cannot.
    style: str
    # Per parameter, in order: its row key, its name in `sql`, SQLAlchemy's conversion.
    columns: tuple[tuple[str, str, Callable[[Any], Any] | None], ...]
    defaults: dict[str, Any]  # the columns' constant defaults, for the rows that leave them out
    arrays_sql: str = ""

    def statement(self, rows: list[dict[str, Any]]) -> tuple[str, Any]:
        """The SQL and its parameters for `rows`."""
        if self.style == "json":
            try:
                return self.sql, {"rows": self.json_text(rows)}
            except (TypeError, ValueError):  # bytes, NaN, a type JSON has no text for
                return self.arrays_sql, self.arrays(rows)
        return self.sql, self.parameters(rows)

    def json_text(self, rows: list[dict[str, Any]]) -> str:
        """The rows as `sql`'s JSON: an object per row, its values under c0, c1, … as
        SQLAlchemy's conversions give them; dates and times in ISO 8601, decimals as text."""
        # Built here, not from `parameters`' tuples: a dict straight from each row is 10 %
        # less CPU (the hot path; `arrays` is the rare one).
        keys = [(f"c{i}", key, to) for i, (key, _, to) in enumerate(self.columns)]
        defaults = self.defaults
        objects = []
        for row in rows:
            if defaults:
                row = defaults | row
            objects.append({c: row[key] if to is None else to(row[key]) for c, key, to in keys})
        return json.dumps(objects, ensure_ascii=False, allow_nan=False, default=_json_scalar)

    def arrays(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """`arrays_sql`'s parameters: one list per column."""
        by_column = zip(*self.parameters(rows), strict=True)
        names = [name for _, name, _ in self.columns]
        return {name: list(values) for name, values in zip(names, by_column, strict=True)}

    def parameters(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row's values in `columns`' order, defaults filled and converted."""
        columns = self.columns
        if self.defaults:
            rows = [self.defaults | row for row in rows]
        return [
            tuple(row[key] if to is None else to(row[key]) for key, _, to in columns)
            for row in rows
        ]


@lru_cache(maxsize=128)
def _driver_insert(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _DriverInsert | None:
    """The INSERT of `keys` into `table` as the driver takes it, the columns' constant
    defaults added; None when SQLAlchemy would add to the statement itself (a default made
    per row, or written as SQL), on PostgreSQL a column's type takes no array cast, or the
    driver takes named parameters (neither SQLite's nor psycopg's way here)."""
    defaults = {}  # the columns the rows leave out, whose default is a constant
    for left_out in table.columns:
        if left_out.key in keys or left_out.default is None:
            continue
        if not getattr(left_out.default, "is_scalar", False):
            return None  # a function's (per row) or a SQL expression's
        defaults[left_out.key] = left_out.default.arg  # type: ignore[attr-defined]
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    if set(names) != set(keys) | set(defaults):
        return None
    escaped: dict[str, str] = compiled.escaped_bind_names or {}
    columns = []
    for name in names:
        convert = compiled._bind_processors.get(name)  # what execute() applies to it
        if convert is not None and not callable(convert):  # a tuple's: not in an INSERT
            return None
        columns.append((name, escaped.get(name, name), convert))
    if dialect.name == "postgresql" and dialect.paramstyle == "pyformat":
        unnest = _unnest_insert(dialect, table, [(key, name) for key, name, _ in columns])
        if unnest is None:
            return None
        from_json = _json_insert(dialect, table, [key for key, _, _ in columns])
        return _DriverInsert(from_json, "json", tuple(columns), defaults, arrays_sql=unnest)
    if not compiled.positional:
        return None
    return _DriverInsert(compiled.string, "positional", tuple(columns), defaults)


def _unnest_insert(dialect: Dialect, table: Table, parameters: list[tuple[str, str]]) -> str | None:
    """INSERT INTO table (a, b) SELECT * FROM unnest(%(a)s::type_a[], %(b)s::type_b[]) for
    the (column key, parameter name) pairs; None if a column's type has no array cast."""
    quote = dialect.identifier_preparer
    targets, arrays = [], []
    for key, name in parameters:
        target = table.c[key]
        element = _array_element(target.type, dialect)
        if element is None:
            return None
        targets.append(quote.format_column(target))
        arrays.append(f"%({name})s::{element}[]")
    # Names from the table's metadata, values as parameters.
    into = f"INSERT INTO {quote.format_table(table)} ({', '.join(targets)})"
    return f"{into} SELECT * FROM unnest({', '.join(arrays)})"  # noqa: S608


def _json_insert(dialect: Dialect, table: Table, keys: list[str]) -> str:
    """INSERT INTO table (a, b) SELECT r.c0, r.c1::json FROM json_to_recordset(%(rows)s)
    AS r(c0 type_a, c1 text): the columns (by key) from the rows' JSON objects, each field
    as its column's type; a JSON column's field is the text SQLAlchemy made of its value,
    cast to the column's type. Only for columns `_array_element` gives a type for."""
    quote = dialect.identifier_preparer
    targets, fields, selected = [], [], []
    for i, key in enumerate(keys):
        target = table.c[key]
        element = _array_element(target.type, dialect)
        assert element is not None  # _unnest_insert made a statement for these columns
        targets.append(quote.format_column(target))
        if _is_json(target.type):
            fields.append(f"c{i} TEXT")
            selected.append(f"r.c{i}::{element}")
        else:
            fields.append(f"c{i} {element}")
            selected.append(f"r.c{i}")
    into = f"INSERT INTO {quote.format_table(table)} ({', '.join(targets)})"
    rows = f"json_to_recordset(%(rows)s::json) AS r({', '.join(fields)})"
    return f"{into} SELECT {', '.join(selected)} FROM {rows}"  # noqa: S608


def _is_json(type_: Any) -> bool:
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return isinstance(type_, sqltypes.JSON)


def _json_scalar(value: Any) -> str:
    """JSON's text for what `json.dumps` has none for and PostgreSQL reads back as the
    column's value: dates and times in ISO 8601, decimals and UUIDs as text, and a JSON
    column's value (SQLAlchemy hands psycopg a wrapper) as the text psycopg would send."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    # Here, not at the top: this module is imported by every process, on SQLite too, and
    # psycopg's import is 0.07 s of it; only PostgreSQL's rows come this way.
    from psycopg.types.json import Json, Jsonb

    if isinstance(value, Json | Jsonb):
        text = (value.dumps or json.dumps)(value.obj)  # psycopg's default: json.dumps
        return text if isinstance(text, str) else bytes(text).decode()
    raise TypeError(f"{type(value).__name__} has no JSON text here")


def _array_element(type_: Any, dialect: Dialect) -> str | None:
    """The type an array of a column's values is cast to: its own, without a length or
    precision (an explicit cast to VARCHAR(n) cuts a longer text short, where the INSERT
    refuses it); None where that would change the values (arrays, native enums, ...)."""
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, sqltypes.Enum) and type_.native_enum:
        return None  # text has no assignment cast to an enum type
    if isinstance(type_, sqltypes.String):
        return "TEXT"
    if isinstance(type_, sqltypes.Numeric) and not isinstance(type_, sqltypes.Float):
        return "NUMERIC"
    compiled = str(type_.compile(dialect=dialect))
    if any(mark in compiled.upper() for mark in ("(", "[", "COLLATE", "ARRAY")):
        return None
    return compiled


def defer(session: Session, *, expected: int = 1, ids: Mapping[Table, int] | None = None) -> None:
    """Defer `insert_later`'s rows in the session's current transaction (until it ends).

    `ids`: how many ids of each table the transaction's callers will reserve, all told;
    they are drawn together at the first `reserve_ids` (on SQLite one short transaction
    instead of one per table). A hint only: a caller that asks for more gets more.
    """
    if _KEY in session.info:
        return
    announced = {table: n for table, n in (ids or {}).items() if n > 0}
    deferred = _Deferred(session=session, expected=max(1, expected), announced=announced)
    session.info[_KEY] = deferred
    begun = session.get_transaction()
    if begun is None:
        # The session's transaction, so that its commit or rollback ends the deferring; on
        # SQLite it takes a connection (and the write lock) only at its first statement or
        # when the rows go out.
        begun = session.begin()
    if begun.connections:
        deferred.attach(next(iter(begun.connections)))
    elif session.get_bind().dialect.name != "sqlite":
        session.connection()  # attached by _connection_begins


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
    when the session does not defer (the INSERT makes the id, as usual)."""
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is None:
        return None
    free = deferred.ids.setdefault(table, [])
    if len(free) < n:
        wanted = {table: 0, **deferred.announced}
        deferred.announced = {}  # drawn now, once
        # Enough for every filing the caller expects, if each asks for as many.
        wanted[table] = max(wanted[table] - len(free), deferred.expected * n)
        for drawn_for, drawn in _draw(deferred, wanted).items():
            deferred.ids.setdefault(drawn_for, []).extend(drawn)
        free = deferred.ids[table]
    taken, deferred.ids[table] = free[:n], free[n:]
    return taken


@contextmanager
def reader(session: Session) -> Iterator[Session | Connection]:
    """Where a deferring session reads what need not be read inside its transaction (what
    other transactions committed): on SQLite before its transaction began, a read-only
    connection, so the read does not take the write lock; otherwise the session itself."""
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is None or deferred.connection is not None:
        yield session
        return
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    with get_engine(url, read_only=True).connect() as connection:
        yield connection


def write_now(session: Session) -> None:
    """Write the deferred rows (the commit does this too)."""
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is not None:
        deferred.flush()


def _draw(deferred: _Deferred, wanted: Mapping[Table, int]) -> dict[Table, list[int]]:
    postgresql = deferred.session.get_bind().dialect.name == "postgresql"
    if postgresql or deferred.connection is not None:
        # In the transaction (on SQLite it holds the write lock already); the rows waiting
        # stay waiting.
        connection = deferred.connection or deferred.session.connection()
        deferred.writing = True
        try:
            if postgresql:
                return _from_sequences(connection, wanted)
            return {t: _from_sqlite_sequence(connection, t, n) for t, n in wanted.items()}
        finally:
            deferred.writing = False
    # A transaction of its own: a few statements under the lock, not the group's work.
    with deferred.session.get_bind().engine.connect() as connection:
        drawn = {table: _from_sqlite_sequence(connection, table, n) for table, n in wanted.items()}
        connection.commit()
    return drawn


def _from_sequences(connection: Connection, wanted: Mapping[Table, int]) -> dict[Table, list[int]]:
    """`n` ids from each table's sequence, every table's in one round trip, at the driver. A
    group draws its filings' and its jobs' ids: drawn in two statements through SQLAlchemy,
    10 filings' ids took 191 µs of CPU and 310 µs of wall time, in one at the driver 85 and
    193 (in-process, best of 5)."""
    tables = list(wanted)
    parameters: dict[str, Any] = {}
    for i, table in enumerate(tables):
        parameters |= {f"t{i}": table.name, f"n{i}": wanted[table]}
    drawn: dict[Table, list[int]] = {table: [] for table in tables}
    for i, value in connection.exec_driver_sql(_sequences_sql(len(tables)), parameters):
        drawn[tables[i]].append(int(value))
    return {table: sorted(ids) for table, ids in drawn.items()}


@lru_cache(maxsize=8)
def _sequences_sql(tables: int) -> str:
    # Only numbers are formatted in; the tables' names are parameters.
    draws = [
        f"SELECT {i}, nextval(pg_get_serial_sequence(%(t{i})s, 'id')) "  # noqa: S608
        f"FROM generate_series(1, %(n{i})s)"
        for i in range(tables)
    ]
    return " UNION ALL ".join(draws)


def _from_sqlite_sequence(connection: Connection, table: Table, n: int) -> list[int]:
    """Raise the table's sqlite_sequence by `n`: SQLite gives a new row of an AUTOINCREMENT
    table an id above it, so the `n` below it are this caller's alone."""
    values = {"name": table.name, "n": n}
    raise_by, first_row = _sqlite_sequence_statements(table)
    # Compiled once per table, run at the driver: nothing built or compiled per group.
    top = connection.exec_driver_sql(raise_by.sql, raise_by.parameters(values)).scalar()
    if top is None:  # no row of the table was ever written
        top = connection.exec_driver_sql(first_row.sql, first_row.parameters(values)).scalar_one()
    return list(range(int(top) - n + 1, int(top) + 1))


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the positional parameters' names, in order

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.names)


@lru_cache
def _sqlite_sequence_statements(table: Table) -> tuple[_Compiled, _Compiled]:
    sequence = sql_table("sqlite_sequence", column("name"), column("seq"))
    # The table's own highest id counts too, should a row ever have been written above it.
    highest = select(func.coalesce(func.max(table.c.id), literal_column("0"))).scalar_subquery()
    raise_by = (
        update(sequence)
        .where(sequence.c.name == bindparam("name"))
        .values(seq=func.max(sequence.c.seq, highest) + bindparam("n"))
        .returning(sequence.c.seq)
    )
    first_row = (
        insert(sequence)
        .values(name=bindparam("name"), seq=highest + bindparam("n"))
        .returning(sequence.c.seq)
    )
    dialect = sqlite.dialect(paramstyle="qmark")
    compiled = [statement.compile(dialect=dialect) for statement in (raise_by, first_row)]
    made = [_Compiled(str(c), tuple(c.positiontup or ())) for c in compiled]
    return made[0], made[1]


def _savepoint_begins(session: Session, transaction: Any) -> None:
    """What was deferred before a savepoint is written before it; what is deferred from
    here on is the savepoint's, and goes if it is rolled back."""
    if not transaction.nested:
        return
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is not None and deferred.rows and deferred.connection is None:
        # The outer transaction begins here, so the rows go out before the SAVEPOINT.
        deferred.attach(transaction.parent.connection(None))
    write_now(session)


def _connection_begins(session: Session, _transaction: Any, connection: Connection) -> None:
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is not None:
        deferred.attach(connection)


def _soft_rollback(session: Session, previous_transaction: Any) -> None:
    deferred: _Deferred | None = session.info.get(_KEY)
    if deferred is not None and previous_transaction.nested:
        deferred.rows.clear()  # the innermost savepoint's rows (see _savepoint_begins)
        # Ids drawn inside it on SQLite went back with its sqlite_sequence: an INSERT may
        # take them now. Those drawn before it are only wasted.
        deferred.ids.clear()


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:  # a savepoint: the transaction goes on
        return
    deferred: _Deferred | None = session.info.pop(_KEY, None)
    if deferred is not None and deferred.connection is not None:
        _attached.pop(deferred.connection, None)


def _before_execute(connection: Connection, statement: Any, *_args: Any) -> None:
    """Any statement on a deferring session's connection sees its rows: they go first.
    Not before a SAVEPOINT the session opens late, at its first statement: rows deferred
    since its begin_nested() belong inside it (see _savepoint_begins)."""
    deferred = _attached.get(connection)
    if deferred is None or deferred.writing or isinstance(statement, _SAVEPOINT_CLAUSES):
        return
    deferred.flush()


# Listened to once for every session and engine, not per group: each listen and remove
# was a sixth of what a group's own bookkeeping cost. The listeners return at once for a
# session that does not defer, and for a connection no deferring session holds.
_attached: WeakKeyDictionary[Connection, _Deferred] = WeakKeyDictionary()
for _name, _listener in (
    ("before_commit", write_now),
    ("after_begin", _connection_begins),
    ("after_transaction_create", _savepoint_begins),
    ("after_soft_rollback", _soft_rollback),
    ("after_transaction_end", _after_transaction_end),
):
    event.listen(OrmSession, _name, _listener)
event.listen(Engine, "before_execute", _before_execute)
