"""The filing lifecycle: the allowed moves, and the one function that makes them.

Nothing else assigns `Complaint.status`. A move is a compare-and-set on (status, version),
so two workers or two staff members racing on one filing cannot both succeed, and every
successful move writes exactly one ComplaintEvent in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from core.errors import Conflict
from core.timeutil import utcnow
from schemas.complaint import Complaint
from schemas.enums import Status
from schemas.event import ComplaintEvent

# from-status → the statuses it may move to. The first status is set by open_complaint.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.received: frozenset({Status.routed, Status.triage}),
    Status.triage: frozenset({Status.routed, Status.merged}),
    Status.routed: frozenset({Status.triage, Status.routed, Status.merged}),
    Status.merged: frozenset(),
}

# Columns a move may change together with the status (the assignment goes with routing).
_MOVABLE = frozenset(
    {
        "department_id",
        "office_id",
        "place_province",
        "place_city",
        "place_county",
        "place_code",
        "split_suggested",
        "merged_into_id",
    }
)


@dataclass(frozen=True)
class Actor:
    """Who causes a change: shown in the history, never the citizen's identity."""

    name: str
    staff_id: int | None = None

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(name=f"system:{component}")

    @classmethod
    def staff(cls, username: str, staff_id: int) -> Actor:
        return cls(name=f"staff:{username}", staff_id=staff_id)


CITIZEN = Actor(name="citizen")


def allowed_next(status: Status) -> list[Status]:
    return sorted(ALLOWED.get(status, frozenset()))


def open_complaint(session: Session, *, complaint: Complaint, actor: Actor) -> ComplaintEvent:
    """Give a new filing its first status and its first history entry (caller commits)."""
    if complaint.id is not None:
        raise Conflict("the filing already exists")
    complaint.status = Status.received
    session.add(complaint)
    session.flush()
    assert complaint.id is not None
    event = ComplaintEvent(
        complaint_id=complaint.id,
        at=complaint.created_at,
        actor=actor.name,
        actor_id=actor.staff_id,
        from_status=None,
        to_status=Status.received,
        reason="filed",
        payload={"channel": complaint.channel.value, "kind": complaint.kind.value},
    )
    session.add(event)
    return event


def transition(
    session: Session,
    *,
    complaint: Complaint,
    to_status: Status,
    actor: Actor,
    reason: str,
    payload: dict[str, Any] | None = None,
    public: bool = True,
    public_note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> ComplaintEvent:
    """Move `complaint` to `to_status` if the table allows it; write the Event (caller commits).

    Raises Conflict, changing nothing, when the move is not allowed from the current status
    or when someone else changed the filing since it was read.
    """
    changes = dict(changes or {})
    unknown = set(changes) - _MOVABLE
    if unknown:
        raise ValueError(f"a status change cannot also set {sorted(unknown)}")
    from_status = complaint.status
    if to_status not in ALLOWED.get(from_status, frozenset()):
        raise Conflict(
            f"cannot move from {from_status.value} to {to_status.value}",
            current_status=from_status.value,
            allowed_next=[s.value for s in allowed_next(from_status)],
        )
    now = utcnow()
    values = {"status": to_status, "version": complaint.version + 1, "updated_at": now, **changes}
    result = session.execute(
        update(Complaint)
        .where(col(Complaint.id) == complaint.id)
        .where(col(Complaint.status) == from_status)
        .where(col(Complaint.version) == complaint.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(complaint)
        raise Conflict(
            "the filing was changed by someone else; reload it",
            current_status=complaint.status.value,
            allowed_next=[s.value for s in allowed_next(complaint.status)],
        )
    # The row is already written: update the loaded object without marking it dirty.
    for name, value in values.items():
        set_committed_value(complaint, name, value)
    assert complaint.id is not None
    event = ComplaintEvent(
        complaint_id=complaint.id,
        at=now,
        actor=actor.name,
        actor_id=actor.staff_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        payload=payload or {},
        public=public,
        public_note=public_note,
    )
    session.add(event)
    return event


def record(
    session: Session,
    *,
    complaint: Complaint,
    actor: Actor,
    reason: str,
    payload: dict[str, Any] | None = None,
    public: bool = False,
    public_note: str | None = None,
) -> ComplaintEvent:
    """A history entry that changes no status: a note, a citizen's reply, a message sent."""
    assert complaint.id is not None
    event = ComplaintEvent(
        complaint_id=complaint.id,
        at=utcnow(),
        actor=actor.name,
        actor_id=actor.staff_id,
        from_status=complaint.status,
        to_status=complaint.status,
        reason=reason,
        payload=payload or {},
        public=public,
        public_note=public_note,
    )
    session.add(event)
    return event
