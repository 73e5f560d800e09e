"""Database engines and sessions: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Session, create_engine

from core.settings import get_settings
from core.sqlite_gate import WriterGate, gate_for, leave_any

_engines: dict[str, Engine] = {}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC-aware in Python, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC-aware one is required")
        value = value.astimezone(UTC)
        # SQLite has no time zone column type: store naive UTC, add UTC back on read.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, `process_bind_param` and the column's own text format in one step:
        the two chained were 5 % of what the committer spent on a filing (four timestamps
        each), and this gives the same text (tests/core/test_timestamps.py)."""
        if dialect.name == "sqlite":
            return _sqlite_utc_text
        return super().bind_processor(dialect)


# The last timestamp converted and its text. A filing's rows carry one `now` several times
# (created_at, updated_at, its history entry's and its outbox job's), so most conversions
# are of the very object converted just before. One tuple, read and replaced whole, so a
# thread never pairs one timestamp with another's text; the reference it holds keeps the
# object alive, so its identity cannot be taken by another.
_last_utc_text: tuple[datetime | None, str] = (None, "")


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """What SQLite's DATETIME stores for `value` in UTC: 2026-12-06 04:07:52.432051."""
    global _last_utc_text
    if value is None:
        return None
    last, text = _last_utc_text
    if value is last:
        return text
    zone = value.tzinfo
    if zone is None:
        raise ValueError("naive datetime given where a UTC-aware one is required")
    utc = value if zone is UTC else value.astimezone(UTC)
    text = utc.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"
    _last_utc_text = (value, text)
    return text


def _configure_sqlite(
    engine: Engine, busy_timeout_ms: int, *, immediate: bool, gate: WriterGate | None
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if gate is not None:  # checkpoints after the gate opens (core.sqlite_gate)
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        # Deleted and overwritten content is zeroed, so erased personal data is gone from
        # the file, not merely unlinked (cases.retention).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two processes that read then write
        # wait their turn instead of failing with SQLITE_BUSY on lock upgrade; the gate
        # (core.sqlite_gate) makes that turn a queue rather than SQLite's sleep and retry.
        # A read-only engine opens no transaction: each statement sees the latest commit.
        if not immediate:
            return
        info = connection.connection.info
        if gate is not None:
            gate.enter(info)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            leave_any(info)
            raise

    if gate is not None:
        _release_gate_after_transactions(engine, gate)


def _pool_info(connection: Any) -> dict[str, Any]:
    """The pool entry's info of a proxied connection; {} for one without (the dialect's
    first-connect check), which never holds the gate."""
    try:
        info: dict[str, Any] = connection.info
    except (AttributeError, NotImplementedError):
        return {}
    return info


def _release_gate_after_transactions(engine: Engine, gate: WriterGate) -> None:
    """The gate opens after the COMMIT or ROLLBACK itself (SQLAlchemy's commit and rollback
    events fire before them), and when a connection goes back to the pool or is lost. The
    WAL checkpoint comes after the gate opens (core.sqlite_gate)."""
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        commit(dbapi_connection)  # a failed COMMIT leaves the transaction to its rollback
        leave_any(_pool_info(dbapi_connection))
        # The pool's proxy, or (the dialect's first-connect check) the driver's connection.
        gate.committed(getattr(dbapi_connection, "driver_connection", dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            leave_any(_pool_info(dbapi_connection))

    setattr(dialect, "do_commit", do_commit)  # noqa: B010 (this engine's dialect only)
    setattr(dialect, "do_rollback", do_rollback)  # noqa: B010

    def _connection_gone(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        leave_any(record.info)

    for name in ("checkin", "close", "invalidate"):
        event.listen(engine, name, _connection_gone)


def get_engine(url: str | None = None, *, read_only: bool = False) -> Engine:
    """One engine per database URL per process.

    `read_only` engines (SQLite only differs) run each statement on its own, never taking
    the write lock nor holding an old snapshot: for observers such as test assertions.
    """
    settings = get_settings()
    url = url or settings.effective_database_url
    key = f"{url}#ro" if read_only and url.startswith("sqlite") else url
    engine = _engines.get(key)
    if engine is None:
        # SQLAlchemy's default pool keeps 5 and closes every connection beyond them when it
        # comes back: with 16 requests at once in one API process, most opened a connection
        # of their own (on PostgreSQL a server process forked per request).
        pool = {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
            "pool_timeout": settings.database_pool_timeout_seconds,
        }
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            on_disk = bool(path) and path != ":memory:"
            if on_disk:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # An in-memory database lives in one connection: SQLAlchemy's own pool for it.
            sized = pool if on_disk else {}
            engine = create_engine(url, connect_args={"check_same_thread": False}, **sized)
            gate = (
                gate_for(path, settings.sqlite_busy_timeout_ms / 1000)
                if on_disk and not read_only and settings.sqlite_writer_gate
                else None
            )
            _configure_sqlite(
                engine, settings.sqlite_busy_timeout_ms, immediate=not read_only, gate=gate
            )
        else:
            engine = create_engine(url, pool_pre_ping=True, **pool)
        _engines[key] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def _forget_inherited_connections() -> None:
    # A forked child must never reuse its parent's sockets or SQLite handles.
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session for jobs and commands: the caller commits; an exception rolls back."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def insert_unless_taken(
    session: Session, table: Table, values: dict[str, Any], *, unique: Sequence[str]
) -> Any:
    """`INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id` in the session's transaction:
    the new row's id, or None when a row already holds those unique values.

    No savepoint and no exception: a clash is an answer, not an error, and PostgreSQL's
    transaction stays usable (the caller may try other values). The values go as parameters
    of one statement built once, so SQLAlchemy compiles it once per process.
    """
    dialect = session.get_bind().dialect.name
    statement = _insert_unless_taken(dialect, table, tuple(unique))
    return session.execute(statement, values).scalar_one_or_none()


@lru_cache(maxsize=64)
def _insert_unless_taken(dialect: str, table: Table, unique: tuple[str, ...]) -> Any:
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return builder(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)


_MEMO_KEY = "memo"
_T = TypeVar("_T")


def session_memo(session: Session, key: Hashable, load: Callable[[], _T]) -> _T:
    """`load()` once per transaction of `session`: reference rows a batch reads per item.

    The memo is dropped when the transaction ends (commit or rollback), so it never serves
    rows older than the transaction that read them.
    """
    memo: dict[Hashable, Any] = session.info.setdefault(_MEMO_KEY, {})
    if key not in memo:
        if not event.contains(session, "after_transaction_end", _forget_memo):
            event.listen(session, "after_transaction_end", _forget_memo)
        memo[key] = load()
    return cast(_T, memo[key])


def _forget_memo(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_MEMO_KEY, None)
