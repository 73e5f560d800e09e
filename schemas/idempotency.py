"""Idempotency keys: the first answer to a request, replayed for its retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=80)  # whose key: staff:<id>, or a keyed hash of the client
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)  # sha256 of the request's validated content
    state: str = Field(max_length=12)  # in_flight | done
    response_status: int | None = None
    response_body: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
