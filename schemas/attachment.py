"""Files a citizen attaches (receipts, contracts): stored on disk under their content hash."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True, index=True)  # what the uploader holds
    sha256: str = Field(max_length=64, index=True)
    content_type: str = Field(max_length=50)
    size: int
    filename: str = Field(max_length=120)
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttachmentPublic(SQLModel):
    id: str  # the token, to list in a filing's `attachments`
    content_type: str
    size: int
    sha256: str
    filename: str


class AttachmentStaffView(SQLModel):
    id: int
    content_type: str
    size: int
    filename: str
    url: str
