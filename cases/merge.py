"""Merging a duplicate into the earlier filing about the same matter; both histories stay."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from accounts.service import Staff
from cases import repository
from cases.lifecycle import Actor, record, transition
from cases.service import visible_complaint
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from schemas.complaint import Complaint
from schemas.duplicate import DuplicateLink
from schemas.enums import Role, Status

_MAY_MERGE = frozenset({Role.department, Role.supervisor, Role.admin})
MERGED_NOTE = "已与反映同一事项的另一件登记合并，由承办部门一并办理"


def merge(
    session: Session, *, staff: Staff, duplicate_id: int, survivor_id: int, reason: str
) -> Complaint:
    """Close `duplicate_id` as merged into `survivor_id` (caller commits)."""
    if staff.role not in _MAY_MERGE:
        raise PermissionDenied("only department staff and supervisors merge filings")
    # Both rows, not only the duplicate's (its compare-and-set guards that one): otherwise two
    # staff merging A into B and B into A at once both win, and the matter is left unhandled.
    repository.lock_complaints(session, [duplicate_id, survivor_id])
    duplicate = visible_complaint(session, staff=staff, complaint_id=duplicate_id)
    if duplicate_id == survivor_id:
        raise InvalidInput("a filing cannot be merged into itself")
    survivor = visible_complaint(session, staff=staff, complaint_id=survivor_id)
    if survivor.status is Status.merged:
        raise Conflict(
            f"filing {survivor_id} is merged into {survivor.merged_into_id}; merge into that",
            current_status=survivor.status.value,
        )
    actor = Actor.staff(staff.username, staff.id)
    transition(
        session,
        complaint=duplicate,
        to_status=Status.merged,
        actor=actor,
        reason=reason,
        # Not the survivor's number: it is another citizen's key to their page and rating.
        public_note=MERGED_NOTE,
        changes={"merged_into_id": survivor_id},
        payload={"survivor": survivor.tracking_number, "survivor_id": survivor_id},
    )
    record(
        session,
        complaint=survivor,
        actor=actor,
        reason=f"merged duplicate {duplicate.tracking_number}: {reason}",
        payload={"duplicate": duplicate.tracking_number, "duplicate_id": duplicate_id},
    )
    link = _link(session, duplicate_id, survivor_id)
    if link is None:
        link = DuplicateLink(
            complaint_id=max(duplicate_id, survivor_id),
            duplicate_of_id=min(duplicate_id, survivor_id),
            similarity=0.0,
            reason="staff",
        )
    link.state = "merged"
    try:
        with session.begin_nested():  # the duplicate search may have just linked the pair
            session.add(link)
    except IntegrityError as exc:
        raise Conflict("the two filings were linked meanwhile; reload and merge again") from exc
    return duplicate


def dismiss(session: Session, *, staff: Staff, complaint_id: int, link_id: int) -> DuplicateLink:
    """Mark a suggested duplicate as not one (caller commits)."""
    visible_complaint(session, staff=staff, complaint_id=complaint_id)
    link = session.get(DuplicateLink, link_id)
    if link is None or complaint_id not in {link.complaint_id, link.duplicate_of_id}:
        raise NotFound(f"no duplicate suggestion {link_id} on filing {complaint_id}")
    if link.state != "suggested":
        raise Conflict(f"the suggestion is already {link.state}")
    link.state = "dismissed"
    session.add(link)
    return link


def _link(session: Session, a: int, b: int) -> DuplicateLink | None:
    return session.exec(
        select(DuplicateLink).where(
            or_(
                (col(DuplicateLink.complaint_id) == a) & (col(DuplicateLink.duplicate_of_id) == b),
                (col(DuplicateLink.complaint_id) == b) & (col(DuplicateLink.duplicate_of_id) == a),
            )
        )
    ).first()
