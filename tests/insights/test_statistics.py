"""Statistics on a generated data set with known answers, per filter; the CSV round-trips."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.db import get_engine
from core.errors import InvalidInput
from insights.report_csv import from_csv, to_csv
from insights.statistics import report
from schemas.enums import Role
from schemas.statistics import DIMENSIONS, StatsFilter, StatsReport
from tests.helpers import add_staff, bearer
from tests.insights import dataset

FILTERS = [
    StatsFilter(),
    StatsFilter(since=date(2026, 2, 1), until=date(2026, 2, 28)),
    StatsFilter(place="1401"),
    StatsFilter(since=date(2026, 1, 15), until=date(2026, 3, 10), place="140213"),
]


@pytest.fixture
def records(platform: str) -> list[dataset.Record]:
    generated = dataset.generate()
    with Session(get_engine()) as session:
        dataset.store(session, generated)
    return generated


@pytest.mark.parametrize("chosen", FILTERS, ids=["all", "february", "taiyuan", "datong-period"])
def test_every_figure_matches_the_generated_answers(
    records: list[dataset.Record], session: Session, chosen: StatsFilter
) -> None:
    mine = dataset.chosen(records, chosen.since, chosen.until, chosen.place)
    assert mine, "the filter must leave filings to count"
    got = report(session, chosen=chosen)

    for dimension in DIMENSIONS:
        counted = {
            (row.key, row.period): row.count for row in got.filings if row.dimension == dimension
        }
        assert counted == dataset.expected_counts(mine, dimension), dimension
        totals = {row.key: row.count for row in got.totals if row.dimension == dimension}
        assert sum(totals.values()) == len(mine)

    deadlines = {(r.department, r.step): (r.met, r.breached, r.running) for r in got.deadlines}
    assert deadlines == dataset.expected_deadlines(mine)
    for row in got.deadlines:
        assert row.compliance == (
            round(row.met / (row.met + row.breached), 4) if row.met + row.breached else None
        )

    timings = {row.department: row for row in got.timings}
    for department in [None, "quality", "housing", "aic"]:
        expected = dataset.expected_timings(mine, department)
        row = timings.get(department)
        if row is None:
            assert expected["accepted"] == expected["closed"] == 0
            continue
        assert (row.accepted, row.closed) == (expected["accepted"], expected["closed"])
        for name in ("average_days_to_accept", "average_days_to_close"):
            if expected[name] is None:
                assert getattr(row, name) is None
            else:
                assert getattr(row, name) == pytest.approx(expected[name], abs=0.006)

    outcomes = {row.department: row for row in got.outcomes}
    for department in [None, "quality", "housing", "aic"]:
        expected = dataset.expected_outcomes(mine, department)
        if not any(expected.values()):
            assert department not in outcomes
            continue
        row = outcomes[department]
        assert row.decided == expected["decided"]
        assert row.refused == expected["refused"]
        assert row.mediations_concluded == expected["mediations_concluded"]
        assert row.mediations_succeeded == expected["mediations_succeeded"]
        assert (row.settled, row.settled_with_money, row.recovered_fen) == (
            expected["settled"],
            expected["settled_with_money"],
            expected["recovered_fen"],
        )
        assert row.refusal_rate == (round(row.refused / row.decided, 4) if row.decided else None)

    satisfaction = {row.department: (row.ratings, row.average) for row in got.satisfaction}
    expected_ratings = dataset.expected_satisfaction(mine)
    assert set(satisfaction) == set(expected_ratings)
    for department, (count, average) in expected_ratings.items():
        assert satisfaction[department][0] == count
        assert satisfaction[department][1] == pytest.approx(average, abs=0.006)


def test_months_are_china_time(records: list[dataset.Record], session: Session) -> None:
    # 17:30 UTC on 31 January is 01:30 on 1 February in China: a February filing.
    late = [r for r in records if r.created_at.strftime("%m-%d %H:%M") == "01-31 17:30"]
    assert late
    got = report(session, chosen=StatsFilter(since=date(2026, 2, 1), until=date(2026, 2, 1)))
    assert sum(r.count for r in got.totals if r.dimension == "kind") == len(
        dataset.chosen(records, date(2026, 2, 1), date(2026, 2, 1), None)
    )


def test_weeks_and_days_bucket_by_china_monday_and_day(
    records: list[dataset.Record], session: Session
) -> None:
    from collections import Counter
    from datetime import timedelta

    for bucket in ("week", "day"):
        got = report(session, chosen=StatsFilter(bucket=bucket))  # type: ignore[arg-type]
        counted = {
            r.period: r.count for r in got.filings if r.dimension == "kind" and r.key == "tip"
        }
        expected = Counter(
            (
                rec.china_day - timedelta(days=rec.china_day.weekday())
                if bucket == "week"
                else rec.china_day
            ).isoformat()
            for rec in records
            if rec.kind.value == "tip"
        )
        assert counted == dict(expected)


def test_the_csv_export_reads_back_into_the_same_report(
    records: list[dataset.Record], session: Session
) -> None:
    for chosen in FILTERS:
        got = report(session, chosen=chosen)
        assert from_csv(to_csv(got)) == got


def test_a_broken_csv_is_refused_naming_the_line() -> None:
    text = to_csv(
        StatsReport(
            filter=StatsFilter(),
            filings=[],
            totals=[],
            deadlines=[],
            timings=[],
            outcomes=[],
            satisfaction=[],
        )
    )
    with pytest.raises(InvalidInput, match="header"):
        from_csv("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="line 3"):
        from_csv(text + "filings" + "," * (text.splitlines()[0].count(",")) + "\r\n")


def test_supervisors_read_the_report_and_its_csv_and_others_may_not(
    records: list[dataset.Record], client: TestClient, session: Session
) -> None:
    add_staff(session, "boss", Role.supervisor)
    add_staff(session, "zj", Role.department, "quality")
    params = {"since": "2026-02-01", "until": "2026-02-28", "place": "14", "bucket": "week"}
    answer = client.get("/api/v1/stats", params=params, headers=bearer(client, "boss"))
    assert answer.status_code == 200, answer.text
    as_json = StatsReport.model_validate(answer.json())
    assert as_json == report(session, chosen=StatsFilter.model_validate(params))
    csv_answer = client.get("/api/v1/stats.csv", params=params, headers=bearer(client, "boss"))
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert from_csv(csv_answer.text) == as_json

    assert client.get("/api/v1/stats", headers=bearer(client, "zj")).status_code == 403
    assert client.get("/api/v1/stats").status_code == 401
    bad = client.get(
        "/api/v1/stats",
        params={"since": "2026-03-01", "until": "2026-02-01"},
        headers=bearer(client, "boss"),
    )
    assert bad.status_code == 422
    assert "since" in bad.json()["detail"]
    assert (
        client.get(
            "/api/v1/stats", params={"place": "太原"}, headers=bearer(client, "boss")
        ).status_code
        == 422
    )
    # A day is YYYY-MM-DD, as the schema's format says: not Unix seconds (found by schemathesis).
    for day in ("0", "1764547200", "2026-2-1", "20260201"):
        for path in ("/api/v1/stats", "/api/v1/stats.csv", "/api/v1/open-data/complaints"):
            answer = client.get(path, params={"until": day}, headers=bearer(client, "boss"))
            assert answer.status_code == 422, (path, day, answer.text)
            assert "YYYY-MM-DD" in answer.text
    # An alert id past a 64-bit column is refused, not a crash in the driver.
    alerts = client.get(
        "/api/v1/alerts", params={"before_id": 2**80}, headers=bearer(client, "boss")
    )
    assert alerts.status_code == 422, alerts.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"until": "9999-12-31"}, "until"),
        ({"since": "0001-01-01"}, "since"),
        ({"since": "0001-01-01", "until": "2026-01-01"}, "since"),
        ({"since": "1899-12-31"}, "since"),
    ],
)
def test_days_the_clock_cannot_reach_are_a_422_naming_the_field(
    sqlite_platform: str,
    client: TestClient,
    session: Session,
    params: dict[str, str],
    field: str,
) -> None:
    add_staff(session, "boss", Role.supervisor)
    boss = bearer(client, "boss")
    for url in ("/api/v1/stats", "/api/v1/stats.csv"):
        answer = client.get(url, params=params, headers=boss)
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["field"] == field, answer.json()
    ends = {"since": "1900-01-01", "until": "9998-12-31"}
    assert client.get("/api/v1/stats", params=ends, headers=boss).status_code == 200
