"""Staff accounts and the tokens they sign in with."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow
from schemas.enums import Role, stored_as_text


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    role: Role = Field(sa_type=stored_as_text(Role))
    department_id: int | None = Field(default=None, foreign_key="departments.id")
    # A department user tied to an office sees that office's area only (a city office its
    # counties too); without one, the whole department.
    office_id: int | None = Field(default=None, foreign_key="offices.id")
    active: bool = Field(default=True)
    # The credentials version: raised by a new password or a new role/department/office.
    # Bearer tokens carry the version they were issued under and are refused once it is
    # not the current one, so a leaked password or a move cuts off tokens already out.
    token_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffSession(SQLModel, table=True):
    """A browser sign-in: the cookie holds a random token, this row its SHA-256."""

    __tablename__ = "staff_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff_users.id", index=True)
    # The account's credentials version when the session started: refused once the account's
    # version moves on, so a sign-in that raced a new password or a disable (its row written
    # after the change deleted the account's sessions) does not outlive it.
    token_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class TokenPublic(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int


class StaffPublic(SQLModel):
    id: int
    username: str
    role: Role
    department: str | None
