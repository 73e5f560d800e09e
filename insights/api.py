"""Supervisor routes: statistics (JSON and CSV), surge alerts; business credit for officials."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from accounts.deps import require_roles
from accounts.service import Staff
from core.deps import SessionDep
from insights import alerts, credit, statistics
from insights.report_csv import to_csv
from schemas.enums import OFFICIALS, Role
from schemas.formats import MAX_ID, ReportDay
from schemas.insights import AlertNote, AlertView, CreditView
from schemas.statistics import Bucket, StatsFilter, StatsReport

router = APIRouter(prefix="/api/v1", tags=["insights"])

Supervisor = Annotated[Staff, Depends(require_roles(Role.supervisor, Role.admin))]
AlertID = Annotated[int, Path(ge=1, le=MAX_ID)]
# Credit records (a business's tip-offs and violations) are for officials: not for quality
# supervisors, citizens who volunteer, nor for the hotline's operators.
Official = Annotated[Staff, Depends(require_roles(*OFFICIALS))]
_SUPERVISORS: dict[int | str, dict[str, Any]] = {403: {"description": "not a supervisor"}}
_OFFICIALS: dict[int | str, dict[str, Any]] = {403: {"description": "not an official"}}
_FILTER_ERRORS = _SUPERVISORS | {422: {"description": "a filter is invalid"}}


def stats_filter(
    since: Annotated[
        ReportDay | None, Query(description="first day (China time), included")
    ] = None,
    until: Annotated[ReportDay | None, Query(description="last day, included")] = None,
    place: Annotated[
        str | None, Query(pattern=r"^\d{2,6}$", description="administrative code prefix")
    ] = None,
    bucket: Annotated[Bucket, Query(description="period of the time series")] = "month",
) -> StatsFilter:
    return statistics.check_filter(
        StatsFilter(since=since, until=until, place=place, bucket=bucket)
    )


Filter = Annotated[StatsFilter, Depends(stats_filter)]


@router.get("/stats", response_model=StatsReport, responses=_FILTER_ERRORS)
def read_statistics(session: SessionDep, _staff: Supervisor, chosen: Filter) -> StatsReport:
    """Filings by channel, kind, sector, department, city and county over time; deadline
    compliance; days to accept and to close; refusal and mediation rates; satisfaction."""
    return statistics.report(session, chosen=chosen)


@router.get(
    "/stats.csv",
    response_class=Response,
    responses=_FILTER_ERRORS | {200: {"content": {"text/csv": {}}}},
)
def export_statistics(session: SessionDep, _staff: Supervisor, chosen: Filter) -> Response:
    """The same report as one CSV (a `section` column; reads back into the same report)."""
    body = to_csv(statistics.report(session, chosen=chosen))
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="statistics.csv"'},
    )


@router.get("/alerts", response_model=list[AlertView], responses=_SUPERVISORS)
def list_alerts(
    session: SessionDep,
    _staff: Supervisor,
    state: Annotated[Literal["open", "acknowledged", "closed"] | None, Query()] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AlertView]:
    """Surge alerts, newest first, with their evidence."""
    found = alerts.alerts(session, state=state, before_id=before_id, limit=limit)
    return [alerts.view(session, alert, with_history=False) for alert in found]


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertView,
    responses=_SUPERVISORS | {404: {"description": "no such alert"}},
)
def read_alert(alert_id: AlertID, session: SessionDep, _staff: Supervisor) -> AlertView:
    return alerts.view(session, alerts.get_alert(session, alert_id))


_MOVE_ERRORS = _SUPERVISORS | {
    404: {"description": "no such alert"},
    409: {"description": "not possible in the alert's state"},
}


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertView, responses=_MOVE_ERRORS)
def acknowledge_alert(
    alert_id: AlertID, session: SessionDep, staff: Supervisor, body: AlertNote | None = None
) -> AlertView:
    """Someone is on it."""
    alert = alerts.move(
        session, alert_id=alert_id, to_state="acknowledged", staff=staff, note=_note(body)
    )
    session.commit()
    return alerts.view(session, alert)


@router.post("/alerts/{alert_id}/close", response_model=AlertView, responses=_MOVE_ERRORS)
def close_alert(
    alert_id: AlertID, session: SessionDep, staff: Supervisor, body: AlertNote | None = None
) -> AlertView:
    """Done: what was found or done goes in the note."""
    alert = alerts.move(
        session, alert_id=alert_id, to_state="closed", staff=staff, note=_note(body)
    )
    session.commit()
    return alerts.view(session, alert)


def _note(body: AlertNote | None) -> str:
    return body.note if body else ""


@router.get("/credit", response_model=list[CreditView], responses=_OFFICIALS)
def list_credit(
    session: SessionDep,
    _staff: Official,
    grade: Annotated[Literal["honest", "lacking", "dishonest"] | None, Query()] = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CreditView]:
    """Businesses' quality credit, worst grades first."""
    rows = credit.listing(session, grade_is=grade, name=name, limit=limit)
    return [credit.view(session, row) for row in rows]


@router.get(
    "/credit/{business_key}",
    response_model=CreditView,
    responses=_OFFICIALS | {404: {"description": "no credit record for this business"}},
)
def read_credit(
    business_key: Annotated[str, Path(max_length=40)], session: SessionDep, _staff: Official
) -> CreditView:
    """One business: its grade, the reasons, the figures and every change of grade."""
    return credit.view(session, credit.by_key(session, business_key), with_changes=True)
