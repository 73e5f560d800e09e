"""Intake: a filing is stored with its first history entry and its routing job, atomically."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table
from sqlmodel import Session

from cases.lifecycle import Actor, open_complaint
from cases.policy import current_policy
from core import after_commit, metrics, write_behind
from core.errors import InvalidInput, NotFound
from core.timeutil import stamp
from intake import limits, repository
from intake.attachments import attach
from intake.tracking_number import (
    new_tracking_number,
    new_tracking_numbers,
    normalize_tracking_number,
    tracking_day,
)
from products.service import link_filing
from rewards import receipts, vault
from schemas.complaint import (
    COMPLAINT_ONLY,
    COMPLAINTS,
    Complaint,
    ComplaintCreate,
    TrackingView,
    name_required,
)
from schemas.department import DepartmentRef
from schemas.enums import KIND_LABELS, STATUS_LABELS, Channel, Kind
from schemas.event import EventPublic
from schemas.outbox import OUTBOX
from schemas.product import ProductIn
from schemas.reporter import ReporterIdentityIn
from schemas.supervision import InspectionIn, QualitySupervisor, SupervisorInspection
from schemas.validators import mask_phone
from workers.outbox import enqueue_all_after_commit
from workers.queues import FIND_DUPLICATES, ROUTE_COMPLAINT

log = logging.getLogger(__name__)
_ATTEMPTS = 5
_LINES = "filed_log_lines"  # session.info: what to log once the filings are committed
# Tracking numbers checked free, drawn and checked this many at once for the groups of
# filings (intake.group_commit) of a process, per database (engine) and day, and kept for a
# minute at most. Another process may still take one meanwhile (7 random digits a day:
# rarely): the unique index catches it, and the group's filings are filed again one by one.
_NUMBERS_CHECKED = 256
_POOL_SECONDS = 60.0
# The numbers last handed out, never handed out again: until its group commits, a number
# is not in the table, and a new check would find it free.
_HANDED_OUT = 4096


@dataclass
class _Pool:
    day: str = ""
    free: list[str] = field(default_factory=list)
    checked_at: float = 0.0
    handed_out: dict[str, None] = field(default_factory=dict)  # oldest first

    def fresh(self, day: str) -> bool:
        return self.day == day and time.monotonic() - self.checked_at < _POOL_SECONDS

    def hand_out(self) -> str:
        number = self.free.pop()
        self.handed_out[number] = None
        if len(self.handed_out) > _HANDED_OUT:
            del self.handed_out[next(iter(self.handed_out))]
        return number


_pools: WeakKeyDictionary[Engine, _Pool] = WeakKeyDictionary()
_POOLS_LOCK = threading.Lock()
# A forked child would hand out its parent's numbers too (the unique index would refuse
# one of each pair, and the whole group with it).
os.register_at_fork(after_in_child=_pools.clear)
# The ids a filing draws in advance in a group (core.write_behind.reserve_ids): its row
# (cases.repository.insert_new_complaint) and its two jobs (ROUTE_COMPLAINT, FIND_DUPLICATES).
IDS_PER_FILING: dict[Table, int] = {COMPLAINTS: 1, OUTBOX: 2}


@dataclass(frozen=True)
class FilingDraft:
    """A filing's content, already validated by its channel."""

    kind: Kind
    text: str
    contact_phone: str | None = None
    business_name: str | None = None
    business_uscc: str | None = None
    business_address: str | None = None
    region: str | None = None
    # A complaint's only (schemas.complaint.COMPLAINT_ONLY).
    complainant_name: str | None = None
    complainant_address: str | None = None
    demand: str | None = None
    purchased_on: date | None = None
    order_number: str | None = None

    @classmethod
    def of(cls, data: ComplaintCreate) -> FilingDraft:
        # Read off the model, not dumped: the dump walked every field, the four left out
        # too (5 µs a filing under load). A test holds the two field lists together.
        return cls(**{name: getattr(data, name) for name in _DRAFT_FIELDS})


_DRAFT_FIELDS = tuple(f.name for f in fields(FilingDraft))


def create_filing(
    session: Session,
    *,
    draft: FilingDraft,
    channel: Channel,
    actor: Actor,
    payload: dict[str, Any] | None = None,
    routing_hints: dict[str, Any] | None = None,
    supervisor: QualitySupervisor | None = None,
    product: ProductIn | None = None,
    inspection: InspectionIn | None = None,
) -> Complaint:
    """Add the filing, its first Event and its routing job to the caller's transaction.

    The routing job reaches Redis right after the caller commits, or later via the relay.
    A quality supervisor's filing is marked and starts at the policy's priority; a named
    product links the filing to its product record (and may open a product-risk case).
    """
    if supervisor is not None and draft.kind is Kind.tip and draft.contact_phone:
        raise ValueError("a tip-off's row holds no contact, a supervisor's neither")
    if draft.kind is not Kind.complaint and any(getattr(draft, f) for f in COMPLAINT_ONLY):
        # Every channel checks this on its input; here so that no new one can forget it.
        raise ValueError("only a complaint's row holds a complainant, demand or purchase")
    marked: dict[str, Any] = {}
    if supervisor is not None:
        marked = {
            "quality_supervisor_id": supervisor.id,
            "priority": current_policy().quality_supervisors.starting_priority,
        }
    for attempt in range(1, _ATTEMPTS + 1):
        # A tip-off's records carry the day it came in, never the time (no metadata).
        now = stamp(coarse=draft.kind is Kind.tip)
        number = _tracking_number(session, now)
        values = {
            "tracking_number": number,
            "channel": channel,
            "created_at": now,
            "updated_at": now,
            "routing_hints": dict(routing_hints or {}),
            **marked,
            **{name: getattr(draft, name) for name in _DRAFT_FIELDS},
        }
        extra = dict(payload or {})
        if not draft.complainant_name and name_required(draft.kind):
            # Every channel that can carry a name refuses a complaint without one; an SMS
            # cannot, and is filed all the same, marked for the department to obtain it
            # (refusal ground `incomplete` if it cannot be had).
            extra["missing"] = ["complainant_name"]
        if supervisor is not None:
            extra["quality_supervisor_id"] = supervisor.id
        complaint = open_complaint(session, values=values, actor=actor, payload=extra)
        if complaint is None:
            log.warning("tracking number collision on attempt %d", attempt)
            continue
        assert complaint.id is not None
        if supervisor is not None and supervisor.id is not None and inspection is not None:
            session.add(
                SupervisorInspection(
                    complaint_id=complaint.id,
                    quality_supervisor_id=supervisor.id,
                    place=inspection.place,
                    inspected_at=inspection.inspected_at,
                )
            )
        if product is not None:
            link_filing(session, complaint=complaint, product=product)
        if draft.kind is not Kind.tip:
            # A tip-off counted now would be dated by the next scrape; /metrics counts
            # tip-offs from their rows once their day is over (service.metrics).
            metrics.count_after_commit(
                session, metrics.FILINGS, {"channel": channel.value, "kind": draft.kind.value}
            )
        enqueue_all_after_commit(
            session, [(ROUTE_COMPLAINT, [complaint.id]), (FIND_DUPLICATES, [complaint.id])]
        )
        if complaint.kind is Kind.tip:
            # No number: no time to tie it to.
            _log_once_committed(session, "filed a tip-off via %s", channel.value)
        else:
            _log_once_committed(
                session,
                "filed %s %s via %s from %s",
                complaint.kind.value,
                number,
                channel.value,
                mask_phone(complaint.contact_phone) if complaint.contact_phone else "anonymous",
            )
        return complaint
    raise RuntimeError("could not draw a free tracking number")


def _log_once_committed(session: Session, message: str, *args: object) -> None:
    """Log `message` when the session's transaction commits, in the caller's context (its
    request id): a group of filings rolled back and filed again one by one
    (intake.group_commit) must not leave lines for numbers that were never stored."""
    lines = after_commit.pending(session, _LINES, _log_committed)
    lines.append((contextvars.copy_context(), message, args))


def _log_committed(session: Session) -> None:
    """An after-commit contributor with nothing for Redis: it only writes the lines."""
    for context, message, args in session.info.pop(_LINES, []):
        context.run(log.info, message, *args)


def _tracking_number(session: Session, now: datetime) -> str:
    """A new filing's number. A group's filings, whose INSERTs wait to go out together
    (core.write_behind), take numbers checked free in advance, many in one query: a taken
    one would only show when the group is written, and fail all of it."""
    if not write_behind.deferring(session):
        return new_tracking_number(now)
    day = tracking_day(now)
    engine = session.get_bind().engine
    with _POOLS_LOCK:
        pool = _pools.setdefault(engine, _Pool())
        if pool.free and pool.fresh(day):
            return pool.hand_out()
    drawn = set(new_tracking_numbers(now, _NUMBERS_CHECKED))
    # Checked against what is committed, outside the group's transaction on SQLite (not
    # under the write lock); the unique index stays the guard against the rest.
    with write_behind.reader(session) as reading:
        free = drawn - repository.taken_tracking_numbers(reading, sorted(drawn))
    with _POOLS_LOCK:
        # Replaced, not merged: a refill made meanwhile by another thread may hold the
        # same numbers.
        pool.day, pool.checked_at = day, time.monotonic()
        pool.free = sorted(free - pool.handed_out.keys())
        if not pool.free:
            raise RuntimeError("could not draw a free tracking number")
        return pool.hand_out()


@dataclass(frozen=True)
class Filed:
    complaint: Complaint
    receipt_code: str | None = None  # a tip-off's, to show once; never stored


def file_tip(
    session: Session,
    *,
    draft: FilingDraft,
    reporter: ReporterIdentityIn,
    channel: Channel,
    actor: Actor,
    payload: dict[str, Any] | None = None,
    routing_hints: dict[str, Any] | None = None,
    product: ProductIn | None = None,
) -> Filed:
    """A tip-off: the reporter's identity goes to the vault, out of the text; a receipt code.

    The filing itself keeps no contact and no time of day (see core.timeutil.stamp).
    """
    if draft.contact_phone and reporter.phone and draft.contact_phone != reporter.phone:
        # The vault seals one number per reporter; dropping either would leave it unsealed
        # in the text or lose the way to reach them.
        raise InvalidInput(
            "a tip-off takes one phone number: contact_phone and reporter.phone differ"
        )
    if draft.contact_phone and not reporter.phone:
        reporter = reporter.model_copy(update={"phone": draft.contact_phone})
    safe = replace(draft, contact_phone=None, text=vault.scrub(draft.text, reporter))
    complaint = create_filing(
        session,
        draft=safe,
        channel=channel,
        actor=actor,
        payload=payload,
        routing_hints=routing_hints,
        product=product,
    )
    assert complaint.id is not None
    vault.store(session, complaint_id=complaint.id, identity=reporter)
    return Filed(complaint, receipts.issue(session, complaint_id=complaint.id))


def file_complaint(
    session: Session,
    *,
    data: ComplaintCreate,
    channel: Channel,
    actor: Actor,
    also_limited_by: Sequence[limits.Limit] = (),
) -> Filed:
    """A web filing with its attachments, added to the caller's transaction.

    Counted against its contact number's daily limit and the caller's other limits (the
    client address's), all in one round trip to Redis.
    """
    limits.check_all(filing_limits(data, also_limited_by))
    return file_counted(session, data=data, channel=channel, actor=actor)


def filing_limits(
    data: ComplaintCreate, also_limited_by: Sequence[limits.Limit]
) -> list[limits.Limit]:
    """The limits a web filing counts against: the caller's, and its contact number's."""
    counted = list(also_limited_by)
    if data.contact_phone:
        counted.append(limits.phone_limit(data.contact_phone))
    return counted


def file_counted(
    session: Session, *, data: ComplaintCreate, channel: Channel, actor: Actor
) -> Filed:
    """`file_complaint` for a filing already counted against its limits (intake.group_commit
    counts a group's filings in one round trip before their transaction)."""
    draft = FilingDraft.of(data)
    if data.kind is Kind.tip:
        filed = file_tip(
            session,
            draft=draft,
            reporter=data.reporter or ReporterIdentityIn(),
            channel=channel,
            actor=actor,
            product=data.product,
        )
    else:
        filed = Filed(
            create_filing(session, draft=draft, channel=channel, actor=actor, product=data.product)
        )
    assert filed.complaint.id is not None
    attach(
        session,
        complaint_id=filed.complaint.id,
        tokens=data.attachments,
        private=data.kind is Kind.tip,
    )
    return filed


def find_by_tracking_number(session: Session, raw_number: str) -> Complaint | None:
    number = normalize_tracking_number(raw_number)
    return repository.complaint_by_tracking_number(session, number) if number else None


def public_filing(session: Session, raw_number: str) -> Complaint:
    """The filing a citizen follows (and rates) by its tracking number; NotFound otherwise.

    A tip-off's progress is not public: its reporter follows it with the receipt code, and
    its number answers as an unknown one.
    """
    complaint = find_by_tracking_number(session, raw_number)
    if complaint is None or complaint.kind is Kind.tip:
        raise NotFound(
            "no filing has this tracking number; check the digits "
            "(a tip-off is followed with its receipt code)"
        )
    return complaint


def tracking_view(session: Session, *, raw_number: str) -> TrackingView:
    """The public view of a filing: status, department and public steps; no personal data."""
    return public_view(session, public_filing(session, raw_number))


def public_view(session: Session, complaint: Complaint) -> TrackingView:
    """Status, department, office and the public steps of one filing."""
    assert complaint.id is not None
    department = repository.department(session, complaint.department_id)
    office = repository.office(session, complaint.office_id)
    return TrackingView(
        tracking_number=complaint.tracking_number,
        kind=complaint.kind,
        kind_label=KIND_LABELS[complaint.kind],
        status=complaint.status,
        status_label=STATUS_LABELS[complaint.status],
        department=DepartmentRef(code=department.code, name=department.name)
        if department
        else None,
        office=office.name if office else None,
        filed_at=complaint.created_at,
        current_step_due_on=complaint.deadline_due_on,
        timeline=[
            EventPublic(
                at=event.at,
                status=event.to_status,
                label=STATUS_LABELS[event.to_status] if event.to_status else event.reason,
                note=event.public_note,
            )
            for event in repository.public_events(session, complaint.id)
        ],
    )
