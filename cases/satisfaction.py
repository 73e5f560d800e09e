"""Satisfaction: one rating (1–5) per closed filing, by SMS reply or on the tracking page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cases.lifecycle import Actor, record
from cases.policy import current_policy
from core.errors import Conflict, InvalidInput
from core.timeutil import utcnow
from schemas.casework import SatisfactionRating
from schemas.complaint import Complaint
from schemas.department import Department
from schemas.enums import Status
from schemas.event import ComplaintEvent

RATER = Actor(name="citizen")


def closed_at(session: Session, complaint_id: int) -> ComplaintEvent | None:
    return session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .where(ComplaintEvent.to_status == Status.closed)
        .where(col(ComplaintEvent.from_status) != Status.closed)
        .order_by(col(ComplaintEvent.id).desc())
    ).first()


def rating_of(session: Session, complaint_id: int) -> SatisfactionRating | None:
    """The filing's rating, if it has been rated (once only)."""
    return session.exec(
        select(SatisfactionRating).where(SatisfactionRating.complaint_id == complaint_id)
    ).first()


def rate(
    session: Session, *, complaint: Complaint, score: int, comment: str | None, channel: str
) -> SatisfactionRating:
    """Record the citizen's rating (caller commits); only once, only after closing."""
    assert complaint.id is not None
    if not 1 <= score <= 5:
        raise InvalidInput("score must be 1 to 5")
    closed = closed_at(session, complaint.id) if complaint.status is Status.closed else None
    if closed is None:
        raise Conflict(
            "a filing can be rated once it is closed", current_status=complaint.status.value
        )
    window = timedelta(days=current_policy().limits.satisfaction_window_days)
    if utcnow() - closed.at > window:
        raise Conflict("the time for rating this filing has passed")
    rating = SatisfactionRating(
        complaint_id=complaint.id,
        department_id=complaint.department_id,
        score=score,
        comment=comment,
        channel=channel,
    )
    try:
        with session.begin_nested():
            session.add(rating)
    except IntegrityError as exc:
        raise Conflict("this filing has been rated already") from exc
    record(
        session,
        complaint=complaint,
        actor=RATER,
        reason=f"rated {score}/5",
        payload={"score": score, "channel": channel},
        public=True,
        public_note=f"满意度评价：{score}分",
    )
    return rating


def index_by_department(
    session: Session, *, where: Sequence[ColumnElement[bool]] = ()
) -> list[dict[str, object]]:
    """Per department: number of ratings, average score, and the index (average as % of 5).

    `where` narrows the rated filings by conditions on Complaint (insights: period, place).
    """
    query = select(
        Department.code,
        Department.name,
        func.count(col(SatisfactionRating.id)),
        func.avg(SatisfactionRating.score),
    ).join(Department, col(Department.id) == col(SatisfactionRating.department_id))
    if where:
        query = query.join(Complaint, col(Complaint.id) == col(SatisfactionRating.complaint_id))
        query = query.where(*where)
    rows = session.exec(
        query.group_by(col(Department.code), col(Department.name)).order_by(col(Department.code))
    ).all()
    return [
        {
            "department": code,
            "name": name,
            "ratings": int(count),
            "average": round(float(avg), 2),
            "index": round(float(avg) / 5 * 100, 1),
        }
        for code, name, count, avg in rows
    ]
