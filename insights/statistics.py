"""The supervisor's statistics report: filings by dimension over time, deadline compliance,
times to accept and close, refusal and mediation rates, money recovered for consumers,
satisfaction; one period and place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from cases import follow_up_repository, follow_ups, satisfaction
from cases.deadlines import STEPS
from cases.policy import current_policy
from core.errors import InvalidInput
from core.timeutil import as_china, check_period
from insights import repository
from insights.repository import Scope
from routing.repository import latest_registry_load
from schemas.department import Department
from schemas.enums import KIND_LABELS, Channel, Kind, Status
from schemas.follow_up import CallSatisfaction
from schemas.statistics import (
    DIMENSIONS,
    DeadlineCompliance,
    FilingCount,
    FollowUps,
    Outcomes,
    Satisfaction,
    StatsFilter,
    StatsReport,
    Timing,
    UnsatisfiedCall,
)

CHANNEL_LABELS = {
    Channel.web: "网上提交",
    Channel.sms: "短信",
    Channel.hotline: "12315 电话",
    Channel.open311: "开放接口（Open311）",
}
NOT_STATED = "未注明"
UNSATISFIED_LISTED = 200  # the most recent 不满意 calls the report lists
ALL_DEPARTMENTS = "全部承办部门"


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _days(value: Any) -> float | None:
    return round(float(value), 2) if value is not None else None


class Labels:
    """Names for the codes a report counts by: departments, sectors, places, kinds."""

    def __init__(self, session: Session, scope: Scope) -> None:
        departments = session.exec(select(Department)).all()
        self.department_codes = {d.id: d.code for d in departments}
        self.department_names = {d.code: d.name for d in departments}
        load = latest_registry_load(session)
        self.sectors: dict[str, str] = {
            k: str(v) for k, v in (load.sectors if load else {}).items()
        }
        self.places: dict[str, str] = {}
        for code, province, city, county in repository.place_names(session, scope=scope):
            self.places[code] = "".join(p for p in (city, county) if p) or province or code
            if city:
                self.places.setdefault(code[:4], city)

    def department(self, department_id: int | None) -> tuple[str | None, str]:
        code = self.department_codes.get(department_id) if department_id else None
        return code, (self.department_names.get(code, code) if code else NOT_STATED)

    def row_department(
        self, department_id: int | None, per_department: bool
    ) -> tuple[str | None, str]:
        """A row's department code and label: every department together unless per department."""
        return self.department(department_id) if per_department else (None, ALL_DEPARTMENTS)

    def key(self, dimension: str, raw: Any) -> tuple[str | None, str]:
        if raw is None:
            return None, NOT_STATED
        if dimension == "department":
            return self.department(int(raw))
        value = str(raw.value if hasattr(raw, "value") else raw)
        if dimension == "kind":
            return value, KIND_LABELS[Kind(value)]
        if dimension == "channel":
            return value, CHANNEL_LABELS.get(Channel(value), value)
        if dimension == "sector":
            return value, self.sectors.get(value, value)
        return value, self.places.get(value, value)  # city (4 digits) or county (6)


def check_filter(chosen: StatsFilter) -> StatsFilter:
    check_period(chosen.since, chosen.until)
    if chosen.place is not None and not (chosen.place.isdigit() and 2 <= len(chosen.place) <= 6):
        raise InvalidInput(
            "place must be an administrative code prefix of 2–6 digits", field="place"
        )
    return chosen


def report(session: Session, *, chosen: StatsFilter) -> StatsReport:
    """Every figure for the filings received in the period about the place."""
    chosen = check_filter(chosen)
    scope = Scope.of(chosen.since, chosen.until, chosen.place)
    labels = Labels(session, scope)
    return StatsReport(
        filter=chosen,
        filings=_counts(session, scope, labels, chosen),
        totals=_counts(session, scope, labels, None),
        deadlines=_deadlines(session, scope, labels),
        timings=_timings(session, scope, labels),
        outcomes=_outcomes(session, scope, labels),
        follow_ups=_follow_ups(session, scope, labels),
        unsatisfied_calls=_unsatisfied_calls(session, scope, labels),
        satisfaction=[
            Satisfaction(
                department=str(row["department"]),
                department_label=str(row["name"]),
                ratings=int(str(row["ratings"])),
                average=float(str(row["average"])),
                index=float(str(row["index"])),
            )
            for row in satisfaction.index_by_department(session, where=scope.conditions())
        ],
    )


def _counts(
    session: Session, scope: Scope, labels: Labels, chosen: StatsFilter | None
) -> list[FilingCount]:
    rows: list[FilingCount] = []
    for dimension in DIMENSIONS:
        found = repository.filings_by(
            session, scope=scope, dimension=dimension, bucket=chosen.bucket if chosen else None
        )
        for raw, period, count in found:
            key, label = labels.key(dimension, raw)
            rows.append(
                FilingCount(
                    dimension=dimension,
                    key=key,
                    label=label,
                    period=period,
                    count=int(count),
                )
            )
    return rows


def _deadlines(session: Session, scope: Scope, labels: Labels) -> list[DeadlineCompliance]:
    rows = []
    for department_id, step, met, breached, running in repository.deadline_compliance(
        session, scope=scope
    ):
        code, label = labels.department(department_id)
        met, breached = int(met or 0), int(breached or 0)
        rows.append(
            DeadlineCompliance(
                department=code,
                department_label=label,
                step=step,
                met=met,
                breached=breached,
                running=int(running or 0),
                compliance=_rate(met, met + breached),
            )
        )
    return [r for r in rows if r.step in STEPS]


def _timings(session: Session, scope: Scope, labels: Labels) -> list[Timing]:
    def figures(per_department: bool) -> dict[int | None, dict[str, Any]]:
        found: dict[int | None, dict[str, Any]] = {}
        for name, status in (("accept", Status.accepted), ("close", Status.closed)):
            for department_id, count, average in repository.average_days_to(
                session, scope=scope, status=status, per_department=per_department
            ):
                found.setdefault(department_id, {})[name] = (int(count), _days(average))
        return found

    rows = []
    for per_department in (False, True):
        for department_id, values in sorted(
            figures(per_department).items(), key=lambda item: item[0] or 0
        ):
            code, label = labels.row_department(department_id, per_department)
            accepted = values.get("accept", (0, None))
            closed = values.get("close", (0, None))
            rows.append(
                Timing(
                    department=code,
                    department_label=label,
                    accepted=accepted[0],
                    average_days_to_accept=accepted[1],
                    closed=closed[0],
                    average_days_to_close=closed[1],
                )
            )
    return rows


def _outcomes(session: Session, scope: Scope, labels: Labels) -> list[Outcomes]:
    rows = []
    for per_department in (False, True):
        found: Sequence[Any] = repository.complaint_outcomes(
            session, scope=scope, per_department=per_department
        )
        money = {
            department_id: (int(settled), int(with_money), int(fen))
            for department_id, settled, with_money, fen in repository.recovered(
                session, scope=scope, per_department=per_department
            )
        }
        counted = {department_id: rest for department_id, *rest in found}
        for department_id in sorted(counted.keys() | money.keys(), key=lambda d: d or 0):
            decided, refused, concluded, succeeded = counted.get(department_id, (0, 0, 0, 0))
            settled, with_money, fen = money.get(department_id, (0, 0, 0))
            code, label = labels.row_department(department_id, per_department)
            if not per_department and not decided and not concluded and not settled:
                continue
            rows.append(
                Outcomes(
                    department=code,
                    department_label=label,
                    decided=int(decided),
                    refused=int(refused),
                    refusal_rate=_rate(int(refused), int(decided)),
                    mediations_concluded=int(concluded),
                    mediations_succeeded=int(succeeded),
                    mediation_success_rate=_rate(int(succeeded), int(concluded)),
                    settled=settled,
                    settled_with_money=with_money,
                    recovered_fen=fen,
                )
            )
    return rows


def _follow_ups(session: Session, scope: Scope, labels: Labels) -> list[FollowUps]:
    """Calls due, done, unreachable, overdue today, reach rate and what was said, overall
    and per department (the overall row only when a call was owed)."""
    rules = current_policy().follow_up
    where = scope.conditions()
    cutoff = follow_ups.overdue_before()
    expired = follow_ups.expired_before()
    rows = []
    for per_department in (False, True):
        said: dict[tuple[int | None, str], int] = {
            (department_id, str(answer)): int(count)
            for department_id, answer, count in follow_up_repository.satisfaction_counts(
                session, where=where, per_department=per_department
            )
        }
        found = follow_up_repository.figures(
            session,
            where=where,
            per_department=per_department,
            skip_if_rated=rules.skip_if_rated,
            max_attempts=rules.max_attempts,
            overdue_before=cutoff,
            expired_before=expired,
        )
        for department_id, due, done, unreachable, lapsed, overdue, called, reached in found:
            if not due:
                continue
            code, label = labels.row_department(department_id, per_department)
            counts = [said.get((department_id, answer.value), 0) for answer in CallSatisfaction]
            rows.append(
                FollowUps(
                    department=code,
                    department_label=label,
                    due=int(due),
                    done=int(done),
                    unreachable=int(unreachable),
                    expired=int(lapsed),
                    waiting=int(due) - int(done) - int(unreachable) - int(lapsed),
                    overdue=int(overdue),
                    called=int(called),
                    reached=int(reached),
                    reach_rate=_rate(int(reached), int(called)),
                    satisfied=counts[0],
                    basically_satisfied=counts[1],
                    unsatisfied=counts[2],
                    satisfaction_rate=_rate(counts[0] + counts[1], sum(counts)),
                )
            )
    return rows


def _unsatisfied_calls(session: Session, scope: Scope, labels: Labels) -> list[UnsatisfiedCall]:
    found = follow_up_repository.unsatisfied_calls(
        session, where=scope.conditions(), limit=UNSATISFIED_LISTED
    )
    rows = []
    for complaint_id, number, department_id, called_at, note in found:
        code, label = labels.department(department_id)
        rows.append(
            UnsatisfiedCall(
                complaint_id=int(complaint_id),
                tracking_number=str(number),
                department=code,
                department_label=label,
                called_on=as_china(called_at).date(),
                note=note,
            )
        )
    return rows
