"""The follow-up calls' SQL: which closed complaints wait for a call, and a filing's calls.

A complaint is due for a call when it is closed, a complaint (never a tip-off, never an
inquiry), has a contact number, was not merged into another filing, has no call that reached
the complainant or that they declined, has fewer unreached calls than the policy allows and,
with `skip_if_rated`, was not rated by its citizen (web or SMS). Nothing is stored when a
filing closes: closed filings from before follow-up calls existed are due like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from schemas.casework import SatisfactionRating
from schemas.complaint import Complaint
from schemas.enums import Kind, Status
from schemas.event import ComplaintEvent
from schemas.follow_up import UNREACHED, CallOutcome, CallSatisfaction, FollowUpCall

FOLLOW_UP_CHANNEL = "follow_up"  # a SatisfactionRating given on a call
FINISHING = (CallOutcome.reached, CallOutcome.declined)


def closed_at() -> Any:
    """When the filing was closed: its closing event's time (closed is final: there is one)."""
    return (
        select(col(ComplaintEvent.at))
        .where(col(ComplaintEvent.complaint_id) == col(Complaint.id))
        .where(col(ComplaintEvent.to_status) == Status.closed)
        .where(col(ComplaintEvent.from_status) != Status.closed)
        .order_by(col(ComplaintEvent.id).desc())
        .limit(1)
        .correlate(Complaint)
        .scalar_subquery()
    )


def _calls_with(*outcomes: CallOutcome) -> Any:
    return (
        select(col(FollowUpCall.id))
        .where(col(FollowUpCall.complaint_id) == col(Complaint.id))
        .where(col(FollowUpCall.outcome).in_(outcomes))
        .correlate(Complaint)
    )


def finished() -> ColumnElement[bool]:
    """A call reached the complainant, or they declined to talk: nothing more to do."""
    return exists(_calls_with(*FINISHING))


def unreached_count() -> Any:
    return (
        select(func.count(col(FollowUpCall.id)))
        .where(col(FollowUpCall.complaint_id) == col(Complaint.id))
        .where(col(FollowUpCall.outcome).in_(UNREACHED))
        .correlate(Complaint)
        .scalar_subquery()
    )


def attempts_count() -> Any:
    return (
        select(func.count(col(FollowUpCall.id)))
        .where(col(FollowUpCall.complaint_id) == col(Complaint.id))
        .correlate(Complaint)
        .scalar_subquery()
    )


def rated_by_citizen() -> ColumnElement[bool]:
    """Rated on the tracking page or by SMS (not by a follow-up call)."""
    return exists(
        select(col(SatisfactionRating.id))
        .where(col(SatisfactionRating.complaint_id) == col(Complaint.id))
        .where(col(SatisfactionRating.channel) != FOLLOW_UP_CHANNEL)
        .correlate(Complaint)
    )


def needs_call(*, skip_if_rated: bool) -> list[ColumnElement[bool]]:
    """The complaints a follow-up call is owed to, whether made yet or not."""
    where = [
        col(Complaint.kind) == Kind.complaint,
        col(Complaint.status) == Status.closed,
        col(Complaint.contact_phone).is_not(None),
        col(Complaint.merged_into_id).is_(None),
    ]
    if skip_if_rated:
        where.append(~rated_by_citizen())
    return where


def _waiting(
    *, skip_if_rated: bool, max_attempts: int, since: datetime
) -> list[ColumnElement[bool]]:
    """A complaint waiting for a call: one that needs it, not finished, not unreached too
    often, and closed no earlier than `since` (older ones expired)."""
    return [
        *needs_call(skip_if_rated=skip_if_rated),
        ~finished(),
        unreached_count() < max_attempts,
        closed_at() >= since,
    ]


def due_page(
    session: Session,
    *,
    skip_if_rated: bool,
    max_attempts: int,
    closed_since: datetime,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[tuple[Complaint, datetime, int]]:
    """(complaint, closed at, attempts so far), in the order they closed, after the keyset
    `after` (closed at, id): the due date only grows with the day of closing, so the overdue
    come first, then the rest by due date."""
    closed = closed_at().label("closed_at")
    query: Select[Any] = select(Complaint, closed, attempts_count().label("attempts")).where(
        *_waiting(skip_if_rated=skip_if_rated, max_attempts=max_attempts, since=closed_since)
    )
    if after is not None:
        when, complaint_id = after
        query = query.where(
            or_(
                closed_at() > when,
                and_(closed_at() == when, col(Complaint.id) > complaint_id),
            )
        )
    query = query.order_by(closed, col(Complaint.id)).limit(limit)
    return [(row[0], row[1], int(row[2])) for row in session.execute(query).all()]


def count_waiting(
    session: Session,
    *,
    skip_if_rated: bool,
    max_attempts: int,
    closed_since: datetime,
    overdue_before: datetime,
) -> tuple[int, int]:
    """How many complaints wait for a call (as `due_page` lists them), and how many of those
    closed before `overdue_before` (overdue)."""
    overdue = case((closed_at() < overdue_before, 1), else_=0)
    query = (
        select(func.count(), func.coalesce(func.sum(overdue), 0))
        .select_from(Complaint)
        .where(
            *_waiting(skip_if_rated=skip_if_rated, max_attempts=max_attempts, since=closed_since)
        )
    )
    waiting, late = session.execute(query).one()
    return int(waiting), int(late)


def closing_payloads(session: Session, complaint_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each filing's closing event's payload (its `outcome` is the closing summary)."""
    if not complaint_ids:
        return {}
    found = session.execute(
        select(col(ComplaintEvent.complaint_id), col(ComplaintEvent.payload))
        .where(col(ComplaintEvent.complaint_id).in_(complaint_ids))
        .where(col(ComplaintEvent.to_status) == Status.closed)
        .where(col(ComplaintEvent.from_status) != Status.closed)
    )
    return {int(complaint_id): dict(payload) for complaint_id, payload in found.all()}


def calls_of(session: Session, complaint_id: int) -> list[FollowUpCall]:
    return list(
        session.execute(
            select(FollowUpCall)
            .where(col(FollowUpCall.complaint_id) == complaint_id)
            .order_by(col(FollowUpCall.attempt))
        ).scalars()
    )


def _any_call(*outcomes: CallOutcome) -> Any:
    return case((exists(_calls_with(*outcomes)), 1), else_=0)


def figures(
    session: Session,
    *,
    where: Sequence[ColumnElement[bool]],
    per_department: bool,
    skip_if_rated: bool,
    max_attempts: int,
    overdue_before: datetime,
    expired_before: datetime,
) -> Sequence[tuple[Any, ...]]:
    """(department id or None, due, done, unreachable, expired, overdue, called, reached)
    over the complaints owed a call that `where` selects (insights: period, place). Reached
    counts a complainant who answered but declined to talk."""
    done = finished()
    per_filing = (
        select(
            col(Complaint.department_id).label("department_id"),
            case((done, 1), else_=0).label("done"),
            case((and_(~done, unreached_count() >= max_attempts), 1), else_=0).label("unreachable"),
            closed_at().label("closed_at"),
            _any_call(*CallOutcome).label("called"),
            _any_call(CallOutcome.reached, CallOutcome.declined).label("reached"),
        )
        .where(*needs_call(skip_if_rated=skip_if_rated), *where)
        .subquery()
    )
    c = per_filing.c
    open_ = and_(c.done == 0, c.unreachable == 0)
    expired = and_(open_, c.closed_at < expired_before)
    overdue = and_(open_, c.closed_at >= expired_before, c.closed_at < overdue_before)
    department = c.department_id if per_department else literal(None)
    query = select(
        department.label("department_id"),
        func.count(),
        func.coalesce(func.sum(c.done), 0),
        func.coalesce(func.sum(c.unreachable), 0),
        func.coalesce(func.sum(case((expired, 1), else_=0)), 0),
        func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
        func.coalesce(func.sum(c.called), 0),
        func.coalesce(func.sum(c.reached), 0),
    )
    if per_department:
        query = query.group_by(c.department_id).order_by(c.department_id)
    return session.execute(query).all()


def satisfaction_counts(
    session: Session, *, where: Sequence[ColumnElement[bool]], per_department: bool
) -> Sequence[tuple[Any, ...]]:
    """(department id or None, satisfaction, calls) over the reached calls on the complaints
    `where` selects."""
    department = col(Complaint.department_id) if per_department else literal(None)
    query = (
        select(department.label("department_id"), col(FollowUpCall.satisfaction), func.count())
        .join(Complaint, col(Complaint.id) == col(FollowUpCall.complaint_id))
        .where(col(FollowUpCall.outcome) == CallOutcome.reached, *where)
        .group_by(col(FollowUpCall.satisfaction))
    )
    if per_department:
        query = query.group_by(col(Complaint.department_id))
    return session.execute(query).all()


def unsatisfied_calls(
    session: Session, *, where: Sequence[ColumnElement[bool]], limit: int
) -> Sequence[tuple[Any, ...]]:
    """(complaint id, tracking number, department id, called at, note) of the calls on which
    the complainant said 不满意, newest first."""
    query = (
        select(
            col(Complaint.id),
            col(Complaint.tracking_number),
            col(Complaint.department_id),
            col(FollowUpCall.called_at),
            col(FollowUpCall.note),
        )
        .join(Complaint, col(Complaint.id) == col(FollowUpCall.complaint_id))
        .where(col(FollowUpCall.satisfaction) == CallSatisfaction.unsatisfied, *where)
        .order_by(col(FollowUpCall.id).desc())
        .limit(limit)
    )
    return session.execute(query).all()
