"""Text messages in and out: every delivery a gateway made to us, every message we sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class SmsInbound(SQLModel, table=True):
    """One inbound message; `dedup_key` is unique, so a replayed delivery is seen as such."""

    __tablename__ = "sms_inbound"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    dedup_key: str = Field(max_length=100, unique=True, index=True)
    # Emptied (None) when the message was a tip-off: the reporter's number lives in the vault.
    sender: str | None = Field(default=None, max_length=20, index=True)
    recipient: str | None = Field(default=None, max_length=30)
    text: str | None = Field(default=None, sa_type=Text)
    outcome: str = Field(max_length=20)  # filed | query | reply | too_short | rate_limited
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id", index=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SmsOutbound(SQLModel, table=True):
    """One message to a citizen, sent by the notify.tasks.send_sms job."""

    __tablename__ = "sms_outbound"

    id: int | None = Field(default=None, primary_key=True)
    # A message to a tip-off's reporter keeps neither number nor text in the clear: both are
    # sealed (rewards.sealing) until sent, then erased; to_number, params and body stay empty.
    to_number: str | None = Field(default=None, max_length=20, index=True)
    template: str = Field(max_length=40)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    body: str | None = Field(default=None, sa_type=Text)
    sealed_key_id: str | None = Field(default=None, max_length=40)
    sealed_nonce: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sealed_ciphertext: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    state: str = Field(default="queued", max_length=20)  # queued | sent | failed | over_budget
    provider: str | None = Field(default=None, max_length=20)
    provider_message_id: str | None = Field(default=None, max_length=100)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
