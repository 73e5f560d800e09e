"""The supervisor's statistics page: charts drawn in real Chromium (a screenshot is saved),
the map of the province, alerts worked from the page, the CSV, and who may open it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.db import get_engine
from insights.credit import refresh
from insights.detection import detect_surges
from insights.report_csv import from_csv
from insights.statistics import report
from schemas.enums import Role
from schemas.statistics import StatsFilter
from tests.helpers import PASSWORD, add_staff, form_token, sign_in_page
from tests.insights import dataset
from tests.insights.test_surges import _surge
from tests.web.conftest import Production, shot

CHARTS = [
    "chart-trend",
    "chart-map",
    "chart-cities",
    "chart-channel",
    "chart-department",
    "chart-sector",
    "chart-deadlines",
    "chart-timings",
    "chart-satisfaction",
]
SURGE_DAY = date(2026, 3, 20)


def _seed() -> None:
    with Session(get_engine()) as session:
        dataset.store(session, dataset.generate())
        _surge(session, 1000, [SURGE_DAY - timedelta(days=d) for d in range(5)])
        session.commit()
        detect_surges(session, today=SURGE_DAY)
        refresh(session, today=SURGE_DAY)
        session.commit()


def test_the_page_is_for_supervisors_and_says_what_is_wrong_in_chinese(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    _seed()
    add_staff(session, "boss", Role.supervisor)
    add_staff(session, "zj", Role.department, "quality")
    assert client.get("/staff/stats", follow_redirects=False).status_code in {303, 401}
    sign_in_page(client, "zj")
    assert client.get("/staff/stats").status_code == 403
    client.cookies.clear()
    sign_in_page(client, "boss")
    page = client.get("/staff/stats", params={"place": "太原市"})
    assert page.status_code == 200
    assert 'id="chart-map"' in page.text
    assert "/static/vendor/echarts-6.1.0.min.js" in page.text
    assert "太原市某某电动车销售有限公司" in page.text  # the surge alert
    wrong = client.get("/staff/stats", params={"since": "2026-03-01", "until": "2026-01-01"})
    assert wrong.status_code == 422
    assert "开始日期不能晚于结束日期" in wrong.text
    unknown = client.get("/staff/stats", params={"place": "火星"})
    assert "没有认出这个地区" in unknown.text

    exported = client.get("/staff/stats.csv", params={"place": "1401", "bucket": "week"})
    assert exported.status_code == 200
    assert from_csv(exported.content.decode("utf-8-sig")) == report(
        session, chosen=StatsFilter(place="1401", bucket="week")
    )


def test_the_page_says_a_day_out_of_range_in_chinese(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    add_staff(session, "boss", Role.supervisor)
    sign_in_page(client, "boss")
    for path in ("/staff/stats", "/staff/stats.csv"):
        for params in ({"until": "9999-12-31"}, {"since": "0001-01-01"}):
            answer = client.get(path, params=params)
            assert answer.status_code == 422, (path, params, answer.text)
            assert "日期须在" in answer.text


def test_a_forged_alert_id_on_the_page_is_a_422_not_a_500(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    add_staff(session, "boss", Role.supervisor)
    sign_in_page(client, "boss")
    token = form_token(client.get("/staff/stats").text)
    for alert_id in ("1" * 23, "0"):
        closed = client.post(f"/staff/stats/alerts/{alert_id}/close", data={"csrf_token": token})
        assert closed.status_code == 422, closed.text


@pytest.mark.browser
def test_the_statistics_page_draws_its_charts_and_map_in_chromium(
    production: Production, chromium: Any
) -> None:
    _seed()
    with Session(get_engine()) as session:
        add_staff(session, "boss", Role.supervisor)
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{production.url}/staff/login")
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/staff/desk")
    page.get_by_role("link", name="统计分析").click()
    page.wait_for_url("**/staff/stats")
    page.wait_for_selector("#chart-map[data-drawn]", timeout=30_000)
    page.wait_for_selector("#chart-cities[data-drawn]", timeout=30_000)
    for chart in CHARTS:
        assert page.locator(f"#{chart} canvas").count() >= 1, chart
    drawn = page.evaluate(
        """() => {
          const option = echarts.getInstanceByDom(document.getElementById('chart-map')).getOption();
          return {regions: option.series[0].data.length,
                  shaded: option.series[0].data.filter(d => d.value > 0).map(d => d.name)};
        }"""
    )
    assert drawn["regions"] == 117  # every county of Shanxi
    assert {"140105", "140106", "140213", "140403"} <= set(drawn["shaded"])
    trend = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-trend'))"
        ".getOption().xAxis[0].data"
    )
    assert trend == ["2026-01", "2026-02", "2026-03"]
    total = sum(r.recovered_fen or 0 for r in dataset.generate())
    first = page.locator("#outcomes tbody tr").first  # every department together
    assert first.locator("td.recovered").inner_text() == f"{total / 100:,.2f}元"
    assert errors == []
    shot(page, "stats-page")

    alert = page.locator("li.alert.open").first
    alert.locator("input[name=note]").fill("已通知小店区局核查")
    alert.get_by_role("button", name="确认，开始处理").click()
    page.wait_for_selector("#notice")
    assert "已确认预警" in page.locator("#notice").inner_text()
    assert page.locator("li.alert.acknowledged").count() >= 1
    shot(page, "stats-alert-acknowledged")
    context.close()
