"""Follow-up calls (回访): who is due, the operator's list, and recording a call.

SAMR Order 121 has the regulator call complainants back after handling. Only complaints
(投诉) are called: a tip-off's reporter is protected and its row holds no number; an inquiry
is no case. A filing merged into another is not called: its survivor is, and the survivor's
citizen alone was asked to rate (cases.merge.tell_merged), so one matter gets one call.

A call is due `follow_up.within_working_days` working days after the day of closing. Each
attempt is a row; a call that reached the complainant (or that they declined) finishes the
work; after `max_attempts` unreached calls the filing is unreachable and leaves the list,
as it does, expired, once closed longer ago than `stop_after_days`.
A reached call's satisfaction becomes the filing's SatisfactionRating (channel follow_up)
through cases.satisfaction.rate, the one rating path, when the filing has none yet. rate()
keeps its window (`limits.satisfaction_window_days`): a call after it is still recorded with
its satisfaction (the follow-up figures count it), but makes no rating, so the satisfaction
index means the same for every channel.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from accounts.service import Staff
from cases import follow_up_repository as repository
from cases.audit import audit
from cases.deadlines import calendar_for, today
from cases.lifecycle import Actor, record
from cases.policy import FollowUp, current_policy
from cases.satisfaction import closed_at, rate, rating_of
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.timeutil import CHINA, as_china, utcnow
from schemas.complaint import Complaint
from schemas.department import Department, DepartmentRef
from schemas.enums import Kind, Role, Status
from schemas.follow_up import (
    SATISFACTION_SCORES,
    UNREACHED,
    FollowUpCall,
    FollowUpCallIn,
    FollowUpCallView,
    FollowUpDue,
    FollowUpPage,
)
from schemas.formats import MAX_ID
from schemas.validators import mask_phone

log = logging.getLogger(__name__)

# Hotline operators make the calls; supervisors (and admins) may too, and watch the figures.
CALLERS = frozenset({Role.operator, Role.supervisor, Role.admin})
_CURSOR = re.compile(r"(\d{1,17})_([1-9]\d{0,15})")


class State(StrEnum):
    due = "due"
    done = "done"  # reached, or the complainant declined to talk
    unreachable = "unreachable"  # max_attempts unreached calls
    expired = "expired"  # closed longer ago than stop_after_days, never reached


def require_caller(staff: Staff) -> None:
    if staff.role not in CALLERS:
        raise PermissionDenied("only hotline operators and supervisors make follow-up calls")


def due_on(closed_on: date, rules: FollowUp | None = None) -> date:
    """The last day for the call: the policy's working days after the day of closing."""
    policy = current_policy()
    count = (rules or policy.follow_up).within_working_days
    return calendar_for(policy).add_working_days(closed_on, count)


def overdue_before(on: date | None = None) -> datetime:
    """Filings closed before this instant are overdue on `on` if still not called.

    The due date only grows with the day of closing, so the latest closing day whose due
    date has passed is found by walking back from `on`.
    """
    day = on or today()
    closed_on = day
    while due_on(closed_on) >= day:
        closed_on -= timedelta(days=1)
    return datetime.combine(closed_on + timedelta(days=1), time.min, tzinfo=CHINA)


def expired_before(now: datetime | None = None) -> datetime:
    """Complaints closed before this instant are no longer called (policy stop_after_days)."""
    return (now or utcnow()) - timedelta(days=current_policy().follow_up.stop_after_days)


def waiting_counts(session: Session) -> tuple[int, int]:
    """Complaints waiting for a follow-up call, and how many of them are overdue (for
    /metrics: supervisors watch the backlog, not only each operator's list)."""
    rules = current_policy().follow_up
    return repository.count_waiting(
        session,
        skip_if_rated=rules.skip_if_rated,
        max_attempts=rules.max_attempts,
        closed_since=expired_before(),
        overdue_before=overdue_before(),
    )


def due_list(session: Session, *, staff: Staff, cursor: str | None, limit: int) -> FollowUpPage:
    """A page of the complaints waiting for a call: overdue first, then by due date."""
    require_caller(staff)
    rules = current_policy().follow_up
    rows = repository.due_page(
        session,
        skip_if_rated=rules.skip_if_rated,
        max_attempts=rules.max_attempts,
        closed_since=expired_before(),
        after=_parse_cursor(cursor),
        limit=limit + 1,
    )
    page = rows[:limit]
    closings = repository.closing_payloads(session, [c.id or 0 for c, _, _ in page])
    names = {d.id: d for d in _departments(session, {c.department_id for c, _, _ in page})}
    day = today()
    data = []
    for complaint, closed, attempts in page:
        closed_on = as_china(closed).date()
        due = due_on(closed_on, rules)
        owner = names.get(complaint.department_id)
        outcome = closings.get(complaint.id or 0, {}).get("outcome")
        data.append(
            FollowUpDue(
                complaint_id=complaint.id or 0,
                tracking_number=complaint.tracking_number,
                department=DepartmentRef(code=owner.code, name=owner.name) if owner else None,
                closed_on=closed_on,
                due_on=due,
                overdue=day > due,
                outcome_summary=outcome if isinstance(outcome, str) else None,
                attempts=attempts,
                contact_phone=mask_phone(complaint.contact_phone or ""),
            )
        )
    more = len(rows) > limit and page
    return FollowUpPage(data=data, next_cursor=_cursor(*page[-1][:2]) if more else None)


def _departments(session: Session, ids: set[int | None]) -> list[Department]:
    return [d for i in ids if i is not None and (d := session.get(Department, i)) is not None]


def _cursor(complaint: Complaint, closed: datetime) -> str:
    micros = round(closed.timestamp() * 1_000_000)
    return f"{micros}_{complaint.id}"


def _parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """(closed at, id) from `_cursor`; anything else is refused before the database."""
    if not cursor:
        return None
    match = _CURSOR.fullmatch(cursor)
    if match is None or int(match[2]) > MAX_ID:
        raise InvalidInput("cursor must be the next_cursor of a previous page")
    closed = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(match[1]))
    return closed, int(match[2])


def _callable(session: Session, complaint_id: int) -> tuple[Complaint, list[FollowUpCall]]:
    """The complaint if a follow-up call is due on it now; else why not (422 or 409)."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"no filing {complaint_id}")
    if complaint.kind is not Kind.complaint:
        raise InvalidInput(
            "follow-up calls are for complaints only: a tip-off's reporter is protected and "
            "an inquiry is no case",
            kind=complaint.kind.value,
        )
    if complaint.status is Status.merged:
        raise Conflict(
            "this complaint was merged into another filing: its survivor is called back",
            current_status=complaint.status.value,
        )
    if complaint.status is not Status.closed:
        raise Conflict(
            "a complaint is called back once it is closed", current_status=complaint.status.value
        )
    if not complaint.contact_phone:
        raise Conflict("this complaint has no contact number (never given, or purged)")
    rules = current_policy().follow_up
    calls = repository.calls_of(session, complaint_id)
    if any(call.outcome not in UNREACHED for call in calls):
        raise Conflict("the follow-up call on this complaint is done already", state=State.done)
    if sum(call.outcome in UNREACHED for call in calls) >= rules.max_attempts:
        raise Conflict(
            f"the complainant was not reached in {rules.max_attempts} calls: unreachable",
            state=State.unreachable,
        )
    closing = closed_at(session, complaint_id)
    if closing is not None and closing.at < expired_before():
        raise Conflict(
            f"closed more than {rules.stop_after_days} days ago: no longer called",
            state=State.expired,
        )
    rating = rating_of(session, complaint_id)
    if rules.skip_if_rated and rating is not None:
        raise Conflict("the citizen rated this complaint already: no call is needed")
    return complaint, calls


def record_call(
    session: Session, *, staff: Staff, complaint_id: int, call: FollowUpCallIn
) -> FollowUpCallView:
    """Store one attempt, rate the filing from a reached call, write the history and the
    audit trail (caller commits). Two operators recording at once: one gets a Conflict."""
    require_caller(staff)
    complaint, calls = _callable(session, complaint_id)
    row = FollowUpCall(
        complaint_id=complaint_id,
        attempt=len(calls) + 1,
        outcome=call.outcome,
        satisfaction=call.satisfaction,
        note=call.note,
        staff_id=staff.id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise Conflict("another call on this complaint was just recorded; reload the list") from exc
    score = SATISFACTION_SCORES[call.satisfaction] if call.satisfaction else None
    if score is not None and rating_of(session, complaint_id) is None:
        try:
            rating = rate(
                session,
                complaint=complaint,
                score=score,
                comment=None,
                channel=repository.FOLLOW_UP_CHANNEL,
            )
        except Conflict:  # the rating window has passed: the call keeps its satisfaction
            rating = None
        if rating is not None:
            session.flush()
            row.rating_id = rating.id
            session.add(row)
    record(
        session,
        complaint=complaint,
        actor=Actor.staff(staff.username, staff.id),
        reason=f"follow-up call {row.attempt}: {call.outcome.value}",
        payload={
            "follow_up_attempt": row.attempt,
            "outcome": call.outcome.value,
            "satisfaction": call.satisfaction.value if call.satisfaction else None,
        },
        public=False,
    )
    audit(
        session,
        staff=staff,
        action="follow_up:call",
        complaint_id=complaint_id,
        detail={"attempt": row.attempt, "outcome": call.outcome.value},
    )
    log.info("follow-up call %d on filing %d: %s", row.attempt, complaint_id, call.outcome.value)
    return FollowUpCallView(
        complaint_id=complaint_id,
        tracking_number=complaint.tracking_number,
        attempt=row.attempt,
        outcome=call.outcome,
        satisfaction=call.satisfaction,
        score=score,
        rated=row.rating_id is not None,
        state=_state_after(row, calls),
        called_at=row.called_at,
    )


def _state_after(row: FollowUpCall, before: list[FollowUpCall]) -> State:
    if row.outcome not in UNREACHED:
        return State.done
    unreached = 1 + sum(call.outcome in UNREACHED for call in before)
    return State.unreachable if unreached >= current_policy().follow_up.max_attempts else State.due


def contact_for_call(session: Session, *, staff: Staff, complaint_id: int) -> str:
    """The full number to dial, only while the complaint waits for its call; audited."""
    require_caller(staff)
    complaint, _ = _callable(session, complaint_id)
    audit(session, staff=staff, action="follow_up:contact.read", complaint_id=complaint_id)
    return complaint.contact_phone or ""
