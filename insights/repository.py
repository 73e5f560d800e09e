"""The statistics' SQL: every figure is a GROUP BY in the database, on SQLite and PostgreSQL.

Times are stored in UTC; periods are China days (Asia/Shanghai has no daylight saving, so
SQLite's '+8 hours' and PostgreSQL's time zone agree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlmodel import Session, col

from core.timeutil import CHINA
from schemas.casework import Deadline
from schemas.complaint import Complaint
from schemas.enums import Kind, Status
from schemas.event import ComplaintEvent
from schemas.statistics import Bucket

ROW = tuple[Any, ...]


@dataclass(frozen=True)
class Scope:
    """Which filings count: received in [start, end) (UTC), about a place under a code prefix."""

    start: datetime | None = None
    end: datetime | None = None
    place_prefix: str | None = None

    @classmethod
    def of(cls, since: date | None, until: date | None, place: str | None) -> Scope:
        def midnight(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=CHINA)

        return cls(
            start=midnight(since) if since else None,
            end=midnight(until + timedelta(days=1)) if until else None,
            place_prefix=place or None,
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.start is not None:
            where.append(col(Complaint.created_at) >= self.start)
        if self.end is not None:
            where.append(col(Complaint.created_at) < self.end)
        if self.place_prefix:
            where.append(col(Complaint.place_code).startswith(self.place_prefix))
        return where


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def period_of(session: Session, column: Any, bucket: Bucket) -> ColumnElement[str]:
    """The China-time bucket of a UTC timestamp: YYYY-MM-DD (day, week's Monday) or YYYY-MM."""
    if _dialect(session) == "postgresql":
        local = func.timezone("Asia/Shanghai", column)
        if bucket == "month":
            return func.to_char(local, "YYYY-MM")
        if bucket == "week":
            return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
        return func.to_char(local, "YYYY-MM-DD")
    if bucket == "month":
        return func.strftime("%Y-%m", column, "+8 hours")
    if bucket == "week":
        return func.strftime("%Y-%m-%d", column, "+8 hours", "weekday 0", "-6 days")
    return func.strftime("%Y-%m-%d", column, "+8 hours")


def days_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def dimension_column(dimension: str) -> KeyedColumnElement[Any] | ColumnElement[Any]:
    """The column a filing is counted by; cities are the county code's first four digits."""
    columns: dict[str, Any] = {
        "channel": col(Complaint.channel),
        "kind": col(Complaint.kind),
        "sector": col(Complaint.sector),
        "department": col(Complaint.department_id),
        "county": col(Complaint.place_code),
    }
    if dimension == "city":
        return func.substr(col(Complaint.place_code), 1, 4)
    return columns[dimension]


def filings_by(
    session: Session, *, scope: Scope, dimension: str, bucket: Bucket | None
) -> Sequence[ROW]:
    """(key, period or None, count) for every key (and period) with filings."""
    key = dimension_column(dimension).label("key")
    period = (
        period_of(session, col(Complaint.created_at), bucket).label("period")
        if bucket
        else literal(None).label("period")
    )
    query = select(key, period, func.count(col(Complaint.id))).where(*scope.conditions())
    query = query.group_by(key, period) if bucket else query.group_by(key)
    return session.execute(query.order_by(key, period)).all()


def place_names(session: Session, *, scope: Scope) -> Sequence[ROW]:
    """(county code, province, city, county) of the places the filings name."""
    return session.execute(
        select(
            col(Complaint.place_code),
            func.max(col(Complaint.place_province)),
            func.max(col(Complaint.place_city)),
            func.max(col(Complaint.place_county)),
        )
        .where(col(Complaint.place_code).is_not(None), *scope.conditions())
        .group_by(col(Complaint.place_code))
    ).all()


def deadline_compliance(session: Session, *, scope: Scope) -> Sequence[ROW]:
    """(department id, step, met, breached, running) for every clock of the filings."""
    state = col(Deadline.state)
    return session.execute(
        select(
            col(Complaint.department_id),
            col(Deadline.step),
            func.sum(case((state == "met", 1), else_=0)),
            func.sum(case((state == "breached", 1), else_=0)),
            func.sum(case((state.in_(["active", "paused"]), 1), else_=0)),
        )
        .join(Complaint, col(Complaint.id) == col(Deadline.complaint_id))
        .where(*scope.conditions())
        .group_by(col(Complaint.department_id), col(Deadline.step))
        .order_by(col(Complaint.department_id), col(Deadline.step))
    ).all()


def first_reached(status: Status) -> Any:
    """complaint id → when the filing first entered `status` (from its history)."""
    return (
        select(
            col(ComplaintEvent.complaint_id).label("complaint_id"),
            func.min(col(ComplaintEvent.at)).label("at"),
        )
        .where(col(ComplaintEvent.to_status) == status)
        .where(col(ComplaintEvent.from_status) != status)
        .group_by(col(ComplaintEvent.complaint_id))
        .subquery()
    )


def average_days_to(
    session: Session, *, scope: Scope, status: Status, per_department: bool
) -> Sequence[ROW]:
    """(department id or None, filings that reached `status`, mean days from filing to it)."""
    reached = first_reached(status)
    days = days_between(session, col(Complaint.created_at), reached.c.at)
    department = col(Complaint.department_id) if per_department else literal(None)
    query = (
        select(department.label("department_id"), func.count(), func.avg(days))
        .select_from(Complaint)
        .join(reached, reached.c.complaint_id == col(Complaint.id))
        .where(*scope.conditions())
    )
    if per_department:
        query = query.group_by(col(Complaint.department_id)).order_by(col(Complaint.department_id))
    return session.execute(query).all()


_DECIDED = [Status.accepted, Status.refused]
_CONCLUDED = [Status.resolved, Status.mediation_ended]


def complaint_outcomes(session: Session, *, scope: Scope, per_department: bool) -> Sequence[ROW]:
    """(department id or None, decided, refused, mediations concluded, succeeded): complaints
    counted once each, by the statuses their history reached."""
    to_status = col(ComplaintEvent.to_status)
    complaint_id = col(Complaint.id)

    def reached(statuses: list[Status]) -> Any:
        return func.count(func.distinct(case((to_status.in_(statuses), complaint_id))))

    department = col(Complaint.department_id) if per_department else literal(None)
    query = (
        select(
            department.label("department_id"),
            reached(_DECIDED),
            reached([Status.refused]),
            reached(_CONCLUDED),
            reached([Status.resolved]),
        )
        .select_from(Complaint)
        .join(ComplaintEvent, col(ComplaintEvent.complaint_id) == complaint_id)
        .where(
            and_(
                col(Complaint.kind) == Kind.complaint,
                to_status.in_(_DECIDED + _CONCLUDED),
                col(ComplaintEvent.from_status) != to_status,
                *scope.conditions(),
            )
        )
    )
    if per_department:
        query = query.group_by(col(Complaint.department_id)).order_by(col(Complaint.department_id))
    return session.execute(query).all()


def recovered(session: Session, *, scope: Scope, per_department: bool) -> Sequence[ROW]:
    """(department id or None, complaints settled with an amount recorded, of them with
    money back, the sum in fen): 挽回经济损失, from mediation agreements and ODR settlements."""
    amount = col(Complaint.recovered_fen)
    department = col(Complaint.department_id) if per_department else literal(None)
    query = select(
        department.label("department_id"),
        func.count(),
        func.count(case((amount > 0, 1))),
        func.coalesce(func.sum(amount), 0),
    ).where(col(Complaint.kind) == Kind.complaint, amount.is_not(None), *scope.conditions())
    if per_department:
        query = query.group_by(col(Complaint.department_id)).order_by(col(Complaint.department_id))
    return session.execute(query).all()
