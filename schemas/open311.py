"""Open311 GeoReport v2: the API keys of systems allowed to post requests."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class Open311Key(SQLModel, table=True):
    """A client system's key: only its SHA-256 is kept (the key is 32 random bytes)."""

    __tablename__ = "open311_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
