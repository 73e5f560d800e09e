"""The supervisor's statistics page under /staff/stats: charts (Apache ECharts, vendored), the
province map, surge alerts to acknowledge and close, and businesses whose credit is poor.

Thin handlers over insights.statistics, insights.alerts and insights.credit, the services
the JSON API uses. The page's script (static/stats.js) only draws what the handler put in
the page as JSON; it computes nothing.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from accounts.service import Staff
from cases.deadlines import STEPS
from core.deps import SessionDep
from core.errors import Conflict
from core.timeutil import FIRST_DAY, LAST_DAY, out_of_range
from insights import alerts, credit, statistics
from insights.report_csv import to_csv
from routing.engine import current_engine
from routing.repository import latest_registry_load
from schemas.enums import Role
from schemas.formats import MAX_ID
from schemas.statistics import StatsFilter
from web.render import render
from web.security import CsrfChecked, PageStaff, require_page_role

router = APIRouter(prefix="/staff/stats", include_in_schema=False)

MAPS = Path(__file__).resolve().parent / "static" / "maps"
BUCKETS = {"month": "按月", "week": "按周", "day": "按日"}
STEP_LABELS = {
    "accept_decision": "决定是否受理",
    "odr": "经营者先行和解",
    "mediation": "调解",
    "mediation_end_notice": "告知终止调解",
    "tip_verification": "核查举报",
    "case_decision": "立案后处理决定",
    "inquiry_answer": "答复咨询",
}
DONE = {"acknowledged": "已确认预警，请跟进处理。", "closed": "已关闭预警。"}


def _supervisor(request: Request, staff: Staff) -> None:
    request.state.staff = staff
    require_page_role(staff, Role.supervisor, Role.admin)


def _place_prefix(session: Session, typed: str) -> str | None:
    """An administrative code prefix (14, 1401, 140105) or a place name (太原市小店区)."""
    if re.fullmatch(r"\d{2,6}", typed):
        return typed
    place = current_engine(session).places.locate(typed)
    if place is None or not place.code:
        return None
    if place.level == "county":
        return place.code
    return place.code[:4] if place.level == "city" else place.code[:2]


def _province_map(session: Session) -> dict[str, str] | None:
    """The registry's province and its vendored boundary files, if there are any."""
    load = latest_registry_load(session)
    if load is None or not load.home_province:
        return None
    place = current_engine(session).places.locate(load.home_province)
    code = place.code if place and place.code else ""
    if not (MAPS / f"{code}-counties.json").exists():
        return None
    return {
        "name": load.home_province,
        "code": code,
        "counties": f"/static/maps/{code}-counties.json",
        "cities": f"/static/maps/{code}-cities.json",
    }


def _parse(
    session: Session, since: str, until: str, place: str, bucket: str
) -> tuple[StatsFilter | None, dict[str, str], list[str]]:
    chosen = {"since": since.strip(), "until": until.strip(), "place": place.strip()}
    chosen["bucket"] = bucket.strip() or "month"
    problems: list[str] = []
    days: dict[str, date | None] = {}
    for name in ("since", "until"):
        try:
            days[name] = date.fromisoformat(chosen[name]) if chosen[name] else None
        except ValueError:
            days[name] = None
            problems.append("请按“年-月-日”填写日期，例如 2026-01-31。")
    if any(out_of_range(day) for day in days.values()):
        problems.append(f"日期须在 {FIRST_DAY} 至 {LAST_DAY} 之间。")
    if days["since"] and days["until"] and days["since"] > days["until"]:
        problems.append("开始日期不能晚于结束日期。")
    if chosen["bucket"] not in BUCKETS:
        problems.append("请从列表中选择统计周期。")
    prefix = _place_prefix(session, chosen["place"]) if chosen["place"] else None
    if chosen["place"] and prefix is None:
        problems.append("没有认出这个地区：请填写市、区县名称（如“太原市小店区”）或行政区划代码。")
    if problems:
        return None, chosen, problems
    return (
        StatsFilter(
            since=days["since"],
            until=days["until"],
            place=prefix,
            bucket=chosen["bucket"],
        ),
        chosen,
        [],
    )


@router.get("", response_class=HTMLResponse)
def stats_page(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    place: Annotated[str, Query(max_length=60)] = "",
    bucket: Annotated[str, Query(max_length=10)] = "month",
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    _supervisor(request, staff)
    chosen, typed, problems = _parse(session, since, until, place, bucket)
    context: dict[str, Any] = {
        "chosen": typed,
        "buckets": BUCKETS,
        "problems": problems,
        "notice": DONE.get(done),
        "report": None,
        "chart_data": None,
        "query": request.url.query,
    }
    if chosen is None:
        return render(request, "stats/page.html", context, status_code=422)
    report = statistics.report(session, chosen=chosen)
    open_alerts = [
        alerts.view(session, a, with_history=False)
        for state in ("open", "acknowledged")
        for a in alerts.alerts(session, state=state, limit=20)
    ]
    poor = [
        credit.view(session, row)
        for grade in ("dishonest", "lacking")
        for row in credit.listing(session, grade_is=grade, name=None, limit=20)
    ]
    context.update(
        report=report,
        chart_data={
            "report": report.model_dump(mode="json"),
            "steps": {name: STEP_LABELS.get(name, name) for name in STEPS},
            "map": _province_map(session),
        },
        alerts=open_alerts,
        alert_states=alerts.STATE_LABELS,
        subjects=alerts.SUBJECT_LABELS,
        poor_credit=poor,
        step_labels=STEP_LABELS,
    )
    return render(request, "stats/page.html", context)


@router.get(".csv")
def stats_csv(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    place: Annotated[str, Query(max_length=60)] = "",
    bucket: Annotated[str, Query(max_length=10)] = "month",
) -> Response:
    _supervisor(request, staff)
    chosen, typed, problems = _parse(session, since, until, place, bucket)
    if chosen is None:
        context = {"chosen": typed, "buckets": BUCKETS, "problems": problems, "report": None}
        return render(request, "stats/page.html", context, status_code=422)
    body = to_csv(statistics.report(session, chosen=chosen))
    return Response(
        content=("\ufeff" + body).encode("utf-8"),  # the BOM makes Excel read it as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="statistics.csv"'},
    )


@router.post("/alerts/{alert_id}/{action}")
def work_alert(
    request: Request,
    alert_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],  # as the API's (insights.api)
    action: str,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    _supervisor(request, staff)
    to_state = {"acknowledge": "acknowledged", "close": "closed"}.get(action)
    if to_state is None:
        raise Conflict("这项操作不存在。")
    alerts.move(session, alert_id=alert_id, to_state=to_state, staff=staff, note=note)
    session.commit()
    return RedirectResponse(f"/staff/stats?done={to_state}#alerts", status_code=303)
