"""Business quality credit: per business, what its filings came to, and a grade with reasons.

Grades (policy `credit`): 失信 (dishonest) if any of its rules is broken, else 缺信 (lacking)
if any of its rules is, else 诚信 (honest). A rule is broken when the figure is at or above
its number. The mediation rates count only from `min_concluded_mediations` concluded
mediations, so one refusal is not a 100 % rate. A changed grade is recorded with the
figures and reasons that made it (business_credit_changes, append-only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, or_
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from cases.policy import Credit, Policy, current_policy
from core.errors import NotFound
from core.timeutil import CHINA, china_today, utcnow
from insights import repository
from insights.business_keys import assign_business_keys
from schemas.casework import ArbitrationTest, TipCase
from schemas.complaint import Complaint
from schemas.enums import Kind, Status
from schemas.event import ComplaintEvent
from schemas.insights import BusinessCredit, CreditChange, CreditView

GRADES = ("honest", "lacking", "dishonest")
GRADE_LABELS = {"honest": "诚信", "lacking": "缺信", "dishonest": "失信"}
METRIC_LABELS = {
    "complaints": "投诉件数",
    "tips": "举报件数",
    "refusal_to_mediate_rate": "拒绝或不参加调解的比例",
    "failed_mediation_rate": "调解不成的比例",
    "nonconforming_tests": "仲裁检验不合格次数",
    "violations_decided": "举报查实并处罚次数",
    "average_days_to_close": "平均办结天数",
}
_REFUSED_TO_MEDIATE = "party_refused"
_MEDIATION_RATES = frozenset({"refusal_to_mediate_rate", "failed_mediation_rate"})


@dataclass(frozen=True)
class Grading:
    grade: str
    reasons: list[dict[str, Any]]


def _shown(name: str, value: float) -> str:
    return f"{value:.0%}" if name.endswith("_rate") else f"{value:g}"


def grade(metrics: dict[str, Any], rules: Credit) -> Grading:
    """The grade the figures earn, with every broken rule of that grade as a reason."""
    concluded = int(metrics.get("mediations_concluded") or 0)
    for name, ruleset in (("dishonest", rules.dishonest), ("lacking", rules.lacking)):
        reasons = []
        for metric, bar in ruleset.broken().items():
            value = metrics.get(metric)
            if value is None:
                continue
            if metric in _MEDIATION_RATES and concluded < rules.min_concluded_mediations:
                continue
            if float(value) >= bar:
                label = METRIC_LABELS[metric]
                reasons.append(
                    {
                        "rule": metric,
                        "value": value,
                        "threshold": bar,
                        "text": f"{label} {_shown(metric, float(value))} ≥ {_shown(metric, bar)}",
                    }
                )
        if reasons:
            return Grading(grade=name, reasons=reasons)
    return Grading(grade="honest", reasons=[])


def _since(policy: Policy, today: date) -> datetime:
    first = today - timedelta(days=policy.credit.window_days - 1)
    return datetime.combine(first, time.min, tzinfo=CHINA)


def business_metrics(session: Session, *, since: datetime) -> dict[str, dict[str, Any]]:
    """business key → its figures over the filings received since `since` (GROUP BY in SQL)."""
    key = col(Complaint.business_key)
    keyed = [key.is_not(None), key != "", col(Complaint.created_at) >= since]
    found: dict[str, dict[str, Any]] = {}

    def put(business: str, **values: Any) -> None:
        found.setdefault(business, {}).update(values)

    kind = col(Complaint.kind)
    for business, filings, complaints, tips, last_id in session.execute(
        columns(
            key,
            func.count(),
            func.sum(case((kind == Kind.complaint, 1), else_=0)),
            func.sum(case((kind == Kind.tip, 1), else_=0)),
            func.max(col(Complaint.id)),
        )
        .where(*keyed)
        .group_by(key)
    ).all():
        put(business, filings=int(filings), complaints=int(complaints or 0), tips=int(tips or 0))
        put(business, last_filing_id=int(last_id))
    to_status = col(ComplaintEvent.to_status)
    reason = col(ComplaintEvent.payload)["reason_code"].as_string()
    for business, resolved, ended, refused in session.execute(
        columns(
            key,
            func.sum(case((to_status == Status.resolved, 1), else_=0)),
            func.sum(case((to_status == Status.mediation_ended, 1), else_=0)),
            func.sum(
                case(
                    ((to_status == Status.mediation_ended) & (reason == _REFUSED_TO_MEDIATE), 1),
                    else_=0,
                )
            ),
        )
        .join(ComplaintEvent, col(ComplaintEvent.complaint_id) == col(Complaint.id))
        .where(*keyed, to_status.in_([Status.resolved, Status.mediation_ended]))
        .where(col(ComplaintEvent.from_status) != to_status)
        .group_by(key)
    ).all():
        concluded = int(resolved or 0) + int(ended or 0)
        put(
            business,
            mediations_concluded=concluded,
            mediations_succeeded=int(resolved or 0),
            refusals_to_mediate=int(refused or 0),
            refusal_to_mediate_rate=round(int(refused or 0) / concluded, 4),
            failed_mediation_rate=round(int(ended or 0) / concluded, 4),
        )
    outcome = col(ArbitrationTest.outcome)
    for business, tests, nonconforming in session.execute(
        columns(key, func.count(), func.sum(case((outcome == "nonconforming", 1), else_=0)))
        .join(ArbitrationTest, col(ArbitrationTest.complaint_id) == col(Complaint.id))
        .where(*keyed, outcome.is_not(None))
        .group_by(key)
    ).all():
        put(business, tests_reported=int(tests), nonconforming_tests=int(nonconforming or 0))
    penalised = or_(
        col(TipCase.penalty_fen) > 0,
        col(TipCase.confiscation_fen) > 0,
        col(TipCase.crime_transferred),
        col(TipCase.business_suspended),
        col(TipCase.licence_revoked),
    )
    for business, decided in session.execute(
        columns(key, func.count())
        .join(TipCase, col(TipCase.complaint_id) == col(Complaint.id))
        .where(*keyed, col(TipCase.decided_at).is_not(None), penalised)
        .group_by(key)
    ).all():
        put(business, violations_decided=int(decided))
    for status, name in ((Status.accepted, "accept"), (Status.closed, "close")):
        reached = repository.first_reached(status)
        days = repository.days_between(session, col(Complaint.created_at), reached.c.at)
        for business, average in session.execute(
            columns(key, func.avg(days))
            .join(reached, reached.c.complaint_id == col(Complaint.id))
            .where(*keyed, kind == Kind.complaint)
            .group_by(key)
        ).all():
            if average is not None:
                put(business, **{f"average_days_to_{name}": round(float(average), 2)})
    return found


_ZERO = {
    "filings": 0,
    "complaints": 0,
    "tips": 0,
    "mediations_concluded": 0,
    "mediations_succeeded": 0,
    "refusals_to_mediate": 0,
    "tests_reported": 0,
    "nonconforming_tests": 0,
    "violations_decided": 0,
}


@dataclass(frozen=True)
class RefreshReport:
    businesses: int
    changed: int


def refresh(session: Session, *, today: date | None = None) -> RefreshReport:
    """Recompute every business's figures and grade; record grade changes (caller commits)."""
    policy = current_policy()
    assign_business_keys(session)
    found = business_metrics(session, since=_since(policy, today or china_today()))
    stored = {row.business_key: row for row in session.exec(select(BusinessCredit)).all()}
    changed = 0
    for key in sorted(set(found) | set(stored)):
        metrics = {**_ZERO, **found.get(key, {})}
        last_id = metrics.pop("last_filing_id", None)
        grading = grade(metrics, policy.credit)
        row = stored.get(key)
        if row is None:
            latest = session.get(Complaint, last_id) if last_id else None
            if latest is None:
                continue
            row = BusinessCredit(
                business_key=key,
                business_uscc=latest.business_uscc,
                business_name=latest.business_name or "",
                business_address=latest.business_address,
                grade=grading.grade,
                policy_version=policy.version,
            )
        elif last_id:
            latest = session.get(Complaint, last_id)
            if latest is not None and latest.business_name:
                row.business_name, row.business_address = (
                    latest.business_name,
                    latest.business_address,
                )
        before = row.grade if row.id is not None else None
        row.grade, row.reasons, row.metrics = grading.grade, grading.reasons, metrics
        row.policy_version, row.computed_at = policy.version, utcnow()
        session.add(row)
        if before != grading.grade:
            changed += 1
            session.add(
                CreditChange(
                    business_key=key,
                    from_grade=before,
                    to_grade=grading.grade,
                    reasons=grading.reasons,
                    metrics=metrics,
                )
            )
    session.flush()
    return RefreshReport(businesses=len(set(found) | set(stored)), changed=changed)


def view(session: Session, row: BusinessCredit, *, with_changes: bool = False) -> CreditView:
    changes: list[dict[str, Any]] = []
    if with_changes:
        changes = [
            {
                "at": change.at,
                "from_grade": change.from_grade,
                "to_grade": change.to_grade,
                "reasons": change.reasons,
            }
            for change in session.exec(
                select(CreditChange)
                .where(CreditChange.business_key == row.business_key)
                .order_by(col(CreditChange.id))
            ).all()
        ]
    return CreditView(
        business_key=row.business_key,
        business_uscc=row.business_uscc,
        business_name=row.business_name,
        business_address=row.business_address,
        grade=row.grade,
        grade_label=GRADE_LABELS[row.grade],
        reasons=row.reasons,
        metrics=row.metrics,
        policy_version=row.policy_version,
        computed_at=row.computed_at,
        changes=changes,
    )


def listing(
    session: Session, *, grade_is: str | None, name: str | None, limit: int
) -> Sequence[BusinessCredit]:
    """Worst grades first, then most complaints."""
    query = select(BusinessCredit)
    if grade_is:
        query = query.where(col(BusinessCredit.grade) == grade_is)
    if name:
        query = query.where(col(BusinessCredit.business_name).contains(name))
    order = case(
        (col(BusinessCredit.grade) == "dishonest", 0),
        (col(BusinessCredit.grade) == "lacking", 1),
        else_=2,
    )
    return session.exec(query.order_by(order, col(BusinessCredit.id)).limit(limit)).all()


def by_key(session: Session, key: str) -> BusinessCredit:
    row = session.exec(select(BusinessCredit).where(BusinessCredit.business_key == key)).first()
    if row is None:
        raise NotFound(f"no credit record for {key!r}")
    return row
