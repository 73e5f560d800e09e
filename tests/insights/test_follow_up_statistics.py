"""The supervisor's follow-up figures (回访): due, done, unreachable, overdue, reach rate,
what complainants said, and the list of those who said 不满意, on both databases."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.timeutil import china_today
from insights.report_csv import from_csv
from insights.statistics import report
from schemas import Complaint
from schemas.statistics import StatsFilter, StatsReport
from tests.cases.test_follow_ups import Headers, call, closed_complaint, move_closing, staff

__all__ = ["staff"]  # the fixture, shared with the follow-up call tests


def test_follow_up_figures_and_the_unsatisfied_list(
    staff: Headers, client: TestClient, session: Session
) -> None:
    op = staff["op"]
    pleased, displeased, unreachable, late, declined, rated, waiting, forgotten = (
        closed_complaint(client, staff) for _ in range(8)
    )
    assert call(client, op, pleased, outcome="reached", satisfaction="satisfied").status_code == 201
    note = "商家至今未退款，要求重新处理"
    answer = call(client, op, displeased, outcome="reached", satisfaction="unsatisfied", note=note)
    assert answer.status_code == 201
    for _ in range(3):
        assert call(client, op, unreachable, outcome="no_answer").status_code == 201
    move_closing(late, days_ago=20)
    move_closing(forgotten, days_ago=61)  # past stop_after_days: expired, not overdue
    assert call(client, op, declined, outcome="declined").status_code == 201
    number = session.get(Complaint, rated)
    assert number is not None
    rating = client.post(f"/api/v1/track/{number.tracking_number}/rating", json={"score": 5})
    assert rating.status_code == 201
    assert waiting  # closed today, not called yet: waiting, not overdue

    got = client.get("/api/v1/stats", headers=staff["boss"])
    assert got.status_code == 200, got.text
    body = StatsReport.model_validate(got.json())
    rows = {row.department: row for row in body.follow_ups}
    assert set(rows) == {None, "quality"}
    for row in rows.values():
        figures = (row.due, row.done, row.unreachable, row.expired, row.waiting, row.overdue)
        assert figures == (7, 3, 1, 1, 2, 1)
        # The complainant who declined to talk answered the phone: reached.
        assert (row.called, row.reached, row.reach_rate) == (4, 3, 0.75)
        assert (row.satisfied, row.basically_satisfied, row.unsatisfied) == (1, 0, 1)
        assert row.satisfaction_rate == 0.5
    [listed] = body.unsatisfied_calls
    assert (listed.complaint_id, listed.department, listed.note) == (displeased, "quality", note)
    assert listed.called_on == china_today()

    csv = client.get("/api/v1/stats.csv", headers=staff["boss"])
    assert from_csv(csv.text) == body
    assert client.get("/api/v1/stats", headers=staff["op"]).status_code == 403

    later = StatsFilter(since=china_today() + timedelta(days=1))
    nothing = report(session, chosen=later)
    assert (nothing.follow_ups, nothing.unsatisfied_calls) == ([], [])
