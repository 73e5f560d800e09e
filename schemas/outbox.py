"""The transactional outbox: jobs written with the data they act on, sent after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class OutboxMessage(SQLModel, table=True):
    """One job. Most are handed to RQ one by one (`dispatched_at`: when). A batched job's row
    is its own queue entry: a drainer claims it, does the work and marks it done in the same
    transaction (`dispatched_at`: done), or schedules its retry (`available_at`) and, after
    the last, gives up (`failed_at`)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_pending", "dispatched_at", "id"),
        Index("ix_outbox_batch", "job", "dispatched_at", "id"),
        # SQLite: ids through sqlite_sequence, so a group can draw them before it writes
        # (core.write_behind.reserve_ids; migration 0023).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=200, description="dotted path of the RQ job function")
    queue: str = Field(max_length=50)
    args: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    available_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="a failed batch item's next try"
    )
    failed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="a batch item given up after its retries"
    )


OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
