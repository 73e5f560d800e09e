"""The audit trail: every time staff open or change a filing, who, when and what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from accounts.service import Staff
from core.errors import PermissionDenied
from schemas.casework import AuditEntry
from schemas.enums import Role


def audit(
    session: Session,
    *,
    staff: Staff,
    action: str,
    complaint_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add the entry to the caller's transaction (it commits with what it records)."""
    session.add(
        AuditEntry(
            staff_id=staff.id,
            username=staff.username,
            complaint_id=complaint_id,
            action=action,
            detail=detail or {},
        )
    )


def search(
    session: Session,
    *,
    staff: Staff,
    complaint_id: int | None,
    username: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> Sequence[AuditEntry]:
    """Newest first, keyset-paginated; for supervisors and admins only."""
    if staff.role not in {Role.supervisor, Role.admin}:
        raise PermissionDenied("only supervisors read the audit trail")
    query = select(AuditEntry)
    if complaint_id is not None:
        query = query.where(AuditEntry.complaint_id == complaint_id)
    if username:
        query = query.where(AuditEntry.username == username)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    return session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)).all()
