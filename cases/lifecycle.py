"""The filing lifecycle: the allowed moves, and the one function that makes them.

Nothing else assigns `Complaint.status`. A move is a compare-and-set on (status, version),
so two workers or two staff members racing on one filing cannot both succeed, and every
successful move writes exactly one ComplaintEvent in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Update, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from cases import deadlines, repository
from core.errors import Conflict
from core.rows import new_row
from core.timeutil import stamp
from notify import webhooks
from schemas.complaint import COMPLAINTS, Complaint
from schemas.enums import FINAL_STATUSES, Kind, Status
from schemas.event import ComplaintEvent

S = Status
# Moves every kind shares: routing, transfer to another department, back to triage, merge.
_OPEN = frozenset(Status) - FINAL_STATUSES - {S.received}
_COMMON: dict[Status, frozenset[Status]] = {
    S.received: frozenset({S.routed, S.triage}),
    **{status: frozenset({S.routed, S.triage, S.merged}) for status in _OPEN},
}

# Each kind's own path (市场监督管理投诉举报处理办法). from-status → the statuses it may move to.
_PATHS: dict[Kind, dict[Status, frozenset[Status]]] = {
    Kind.complaint: {
        S.routed: frozenset({S.accepted, S.refused, S.odr}),
        S.odr: frozenset({S.closed}),  # settled by the business; unsettled goes back to routed
        S.accepted: frozenset({S.mediating}),
        S.mediating: frozenset({S.testing, S.resolved, S.mediation_ended}),
        S.testing: frozenset({S.mediating}),
        S.resolved: frozenset({S.closed}),
        S.mediation_ended: frozenset({S.closed}),
        S.refused: frozenset({S.closed}),
    },
    Kind.tip: {
        S.routed: frozenset({S.verifying}),
        S.verifying: frozenset({S.case_opened, S.case_not_opened}),
        S.case_opened: frozenset({S.decided}),
        S.decided: frozenset({S.closed}),
        S.case_not_opened: frozenset({S.closed}),
    },
    Kind.inquiry: {
        S.routed: frozenset({S.answered}),
        S.answered: frozenset({S.closed}),
    },
}
# Refused, not-opened and answered filings are done but for closing: no transfer or merge.
_NO_REROUTE = frozenset({S.refused, S.case_not_opened, S.answered, S.decided})
# Where staff may transfer a filing (routing.transfer): before a department has taken it on.
TRANSFERABLE = frozenset({S.routed, S.triage})


def allowed_next(kind: Kind, status: Status) -> list[Status]:
    """Where a filing of `kind` in `status` may move next."""
    common = set() if status in _NO_REROUTE else set(_COMMON.get(status, frozenset()))
    own = set(_PATHS[kind].get(status, frozenset()))
    return sorted(common | own)


# Columns a move may change together with the status (the assignment goes with routing).
_MOVABLE = frozenset(
    {
        "department_id",
        "office_id",
        "place_province",
        "place_city",
        "place_county",
        "place_code",
        "sector",
        "split_suggested",
        "merged_into_id",
        "assignee_id",
        "recovered_fen",
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


def open_complaint(
    session: Session,
    *,
    values: dict[str, Any],
    actor: Actor,
    payload: dict[str, Any] | None = None,
) -> Complaint | None:
    """Write a new filing (`values`: its columns, but the id and the status) with its first
    status and its first history entry (caller commits).

    None when the filing's tracking number is taken: nothing is written, and the caller
    draws another number (the transaction stays usable, on PostgreSQL too).
    """
    if "id" in values or "status" in values:
        raise ValueError("a new filing gets its id from the database and its status here")
    complaint = repository.insert_new_complaint(session, {**values, "status": Status.received})
    if complaint is None:
        return None
    repository.insert_event(
        session,
        {
            "complaint_id": complaint.id,
            "at": complaint.created_at,
            "actor": actor.name,
            "actor_id": actor.staff_id,
            "from_status": None,
            "to_status": Status.received,
            "reason": "filed",
            "public_note": None,
            "payload": {
                "channel": complaint.channel.value,
                "kind": complaint.kind.value,
                **(payload or {}),
            },
            "public": True,
        },
    )
    return complaint


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
    if to_status not in allowed_next(complaint.kind, from_status):
        raise Conflict(
            f"a {complaint.kind.value} cannot move from {from_status.value} to {to_status.value}",
            current_status=from_status.value,
            allowed_next=[s.value for s in allowed_next(complaint.kind, from_status)],
        )
    was_with = complaint.department_id
    now = stamp(coarse=complaint.kind is Kind.tip)  # a tip-off's records carry days only
    values = {"status": to_status, "version": complaint.version + 1, "updated_at": now, **changes}
    day = deadlines.today()
    # Leaving received, the filing has no clock yet: the one this move starts gives its due
    # date, written by this UPDATE rather than by one more after the clocks (the router's).
    leaving_received = from_status is Status.received
    if leaving_received:
        values["deadline_due_on"] = deadlines.due_leaving_received(complaint, to_status, on=day)
    # A Core statement on the session's connection: it neither flushes pending rows first
    # nor runs the ORM's bookkeeping, which a batch of routed filings would pay per filing.
    # Values as parameters of a statement built once per set of columns: literals would be
    # coerced and hashed into a new cache key on every call.
    result = session.connection().execute(
        _compare_and_set(tuple(sorted(values))),
        {
            "was_id": complaint.id,
            "was_status": from_status,
            "was_version": complaint.version,
            **{f"new_{name}": value for name, value in values.items()},
        },
    )
    if result.rowcount != 1:
        session.refresh(complaint)
        raise Conflict(
            "the filing was changed by someone else; reload it",
            current_status=complaint.status.value,
            allowed_next=[s.value for s in allowed_next(complaint.kind, complaint.status)],
        )
    # The row is already written: update the loaded object without marking it dirty.
    for name, value in values.items():
        set_committed_value(complaint, name, value)
    deadlines.on_transition(
        session,
        complaint=complaint,
        to_status=to_status,
        from_status=from_status,
        on=day,
        due_written=leaving_received,
    )
    assert complaint.id is not None
    return _append(
        session,
        complaint,
        new_row(
            ComplaintEvent,
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
        ),
        left_department_id=was_with if was_with != complaint.department_id else None,
    )


@lru_cache(maxsize=64)
def _compare_and_set(columns: tuple[str, ...]) -> Update:
    """UPDATE the filing's `columns` if it still has the status and version it was read with."""
    return (
        update(COMPLAINTS)
        .where(COMPLAINTS.c.id == bindparam("was_id"))
        .where(COMPLAINTS.c.status == bindparam("was_status"))
        .where(COMPLAINTS.c.version == bindparam("was_version"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


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
    return _append(
        session,
        complaint,
        new_row(
            ComplaintEvent,
            complaint_id=complaint.id,
            at=stamp(coarse=complaint.kind is Kind.tip),
            actor=actor.name,
            actor_id=actor.staff_id,
            from_status=complaint.status,
            to_status=complaint.status,
            reason=reason,
            payload=payload or {},
            public=public,
            public_note=public_note,
        ),
    )


def _append(
    session: Session,
    complaint: Complaint,
    event: ComplaintEvent,
    *,
    left_department_id: int | None = None,
) -> ComplaintEvent:
    """Add the event; every event on a filing also goes to its department's webhook, and
    a move away from a department (a transfer) to that department's too.

    Not flushed here: a batch of routed filings then writes its events together.
    """
    session.add(event)
    webhooks.fan_out(
        session, complaint=complaint, event=event, left_department_id=left_department_id
    )
    return event
