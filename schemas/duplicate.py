"""Near-duplicate filings: text signatures for LSH look-up, and the links staff decide on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class TextSignature(SQLModel, table=True):
    """A filing's MinHash signature."""

    __tablename__ = "text_signatures"

    complaint_id: int = Field(foreign_key="complaints.id", primary_key=True)
    minhash: list[int] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SignatureBand(SQLModel, table=True):
    """One LSH band of a signature: filings sharing a band are candidate duplicates."""

    __tablename__ = "signature_bands"
    __table_args__ = (Index("ix_signature_bands_lookup", "band_hash", "complaint_id"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)
    band: int
    band_hash: str = Field(max_length=16)


class DuplicateLink(SQLModel, table=True):
    """`complaint_id` looks like a repeat of the earlier `duplicate_of_id`."""

    __tablename__ = "duplicate_links"
    __table_args__ = (
        UniqueConstraint("complaint_id", "duplicate_of_id", name="uq_duplicate_pair"),
    )

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)
    duplicate_of_id: int = Field(foreign_key="complaints.id", index=True)
    similarity: float
    reason: str = Field(max_length=40)  # same_complainant | same_business
    state: str = Field(default="suggested", max_length=12)  # suggested | merged | dismissed
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DuplicateSuggestion(SQLModel):
    link_id: int
    other_id: int
    other_tracking_number: str
    similarity: float
    reason: str
    state: str
