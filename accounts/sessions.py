"""Browser sessions for the staff pages: a random token in an HttpOnly cookie, its hash here.

The API keeps its bearer tokens; pages use these so that a token never sits in page
script. Signing out deletes the row, so a copied cookie stops working at once. A row also
records the account's credentials version it was started under: a sign-in that raced a new
password, a move or a disable is refused like a bearer token issued before it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from accounts.service import Staff, staff_signed_in_at
from core.errors import NotAuthenticated
from core.settings import get_settings
from core.timeutil import utcnow
from schemas.staff import StaffSession, StaffUser


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, *, user: StaffUser) -> str:
    """A new session for the account (caller commits); returns the cookie's token."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        StaffSession(
            token_hash=_hash(token),
            staff_id=user.id,
            # The version the password was checked under, not the one current at commit: a
            # change committed in between has deleted the account's sessions before this row
            # exists, and must still refuse it (staff_for).
            token_epoch=user.token_epoch,
            created_at=now,
            expires_at=now + timedelta(minutes=get_settings().token_ttl_minutes),
        )
    )
    return token


def staff_for(session: Session, token: str | None) -> Staff:
    if not token:
        raise NotAuthenticated("sign in first")
    row = session.exec(select(StaffSession).where(StaffSession.token_hash == _hash(token))).first()
    if row is None or row.expires_at <= utcnow():
        raise NotAuthenticated("the session has ended; sign in again")
    return staff_signed_in_at(session, session.get(StaffUser, row.staff_id), row.token_epoch)


def end_all(session: Session, staff_id: int) -> None:
    """Every page session of one account (caller commits): a disabled account's cookies."""
    session.execute(delete(StaffSession).where(col(StaffSession.staff_id) == staff_id))


def end(session: Session, token: str | None) -> None:
    """Sign out (caller commits); expired sessions of everyone go at the same time."""
    if token:
        session.execute(delete(StaffSession).where(col(StaffSession.token_hash) == _hash(token)))
    session.execute(delete(StaffSession).where(col(StaffSession.expires_at) <= utcnow()))
