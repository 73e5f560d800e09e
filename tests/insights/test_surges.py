"""Surge detection on synthetic series: fires on a planted surge, silent on noise and weekly
seasonality, never twice for one surge; alerts carry their evidence and are worked."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cases.policy import DEFAULT_POLICY, Surges, parse_policy
from core.db import get_engine
from core.timeutil import CHINA
from insights.detection import detect_surges
from insights.surges import find_surge, upper_tail, windows_ending
from schemas.complaint import Complaint
from schemas.enums import Channel, Kind, Role, Status
from schemas.insights import Alert, AlertEvent
from tests.helpers import add_staff, bearer

RULES = parse_policy(DEFAULT_POLICY).surges
TODAY = date(2026, 6, 30)
DAYS = 7 * (RULES.baseline_windows + 1)


def series(rates: list[float], seed: int) -> dict[date, int]:
    """Daily Poisson counts with the given daily rates, the last rate on TODAY."""
    rng = np.random.default_rng(seed)
    first = TODAY - timedelta(days=len(rates) - 1)
    return {first + timedelta(days=i): int(rng.poisson(rate)) for i, rate in enumerate(rates)}


def test_the_poisson_tail_is_exact() -> None:
    from scipy.stats import poisson

    assert upper_tail(0, 3.0) == 1.0
    assert upper_tail(1, 3.0) == pytest.approx(1 - np.exp(-3.0))
    assert upper_tail(10, 2.0) == pytest.approx(4.649807501726e-05, rel=1e-9)
    for mean in (0.5, 1.0, 2.0, 4.375, 12.0, 60.0):
        for observed in range(0, 150, 3):
            expected = float(poisson.sf(observed - 1, mean))
            assert upper_tail(observed, mean) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_the_windows_are_whole_weeks_back_from_today() -> None:
    windows = windows_ending(TODAY, RULES)
    assert len(windows) == RULES.baseline_windows + 1
    assert windows[-1].start == TODAY - timedelta(days=6)
    assert windows[-1].end == TODAY
    assert all((w.end - w.start).days == 6 for w in windows)
    assert all(a.end + timedelta(days=1) == b.start for a, b in itertools.pairwise(windows))


@pytest.mark.parametrize("seed", range(20))
def test_a_planted_surge_fires(seed: int) -> None:
    rates = [2.0] * (DAYS - 7) + [7.0] * 7  # the last week at three and a half times the usual
    finding = find_surge(series(rates, seed), today=TODAY, rules=RULES)
    assert finding is not None
    assert finding.observed > 2 * finding.baseline
    assert finding.p_value < RULES.p_value_threshold
    assert len(finding.baseline_counts) == RULES.baseline_windows


def test_noise_at_a_steady_rate_stays_silent() -> None:
    fired = [
        seed
        for seed in range(200)
        if find_surge(series([2.0] * DAYS, seed), today=TODAY, rules=RULES) is not None
    ]
    assert fired == []


def test_false_alarms_on_noise_stay_near_the_policy_threshold() -> None:
    # The baseline is estimated from 8 weeks, so the real rate is a little above 0.001.
    trials = 4000
    fired = sum(
        find_surge(series([2.0] * DAYS, 10_000 + seed), today=TODAY, rules=RULES) is not None
        for seed in range(trials)
    )
    assert fired / trials < 3 * RULES.p_value_threshold


def test_weekly_seasonality_stays_silent_every_day_of_the_week() -> None:
    # Busy Mondays, quiet weekends: a day-by-day test would see Monday as a surge every week.
    weekly = {0: 9.0, 1: 6.0, 2: 5.0, 3: 5.0, 4: 6.0, 5: 0.5, 6: 0.3}
    for seed in range(30):
        first = TODAY - timedelta(days=DAYS + 28)
        rng = np.random.default_rng(seed)
        daily = {
            first + timedelta(days=i): int(
                rng.poisson(weekly[(first + timedelta(days=i)).weekday()])
            )
            for i in range(DAYS + 29)
        }
        for back in range(28):  # tested on every weekday, four weeks running
            day = TODAY - timedelta(days=back)
            assert find_surge(daily, today=day, rules=RULES) is None, (seed, day)


def test_a_few_filings_never_alert_however_rare() -> None:
    quiet = {TODAY - timedelta(days=d): 0 for d in range(DAYS)}
    quiet[TODAY] = RULES.min_count - 1
    assert find_surge(quiet, today=TODAY, rules=RULES) is None
    quiet[TODAY] = RULES.min_count
    assert find_surge(quiet, today=TODAY, rules=RULES) is not None


def test_the_threshold_comes_from_the_policy() -> None:
    daily = series([2.0] * (DAYS - 7) + [4.0] * 7, seed=3)
    finding = find_surge(daily, today=TODAY, rules=Surges(p_value_threshold=0.4))
    assert finding is not None
    assert find_surge(daily, today=TODAY, rules=Surges(p_value_threshold=finding.p_value)) is None


# ---- against the database: alerts with evidence, once per surge ---------------------------


def _filing(session: Session, n: int, day: date, business: str, county: str, text: str) -> None:
    at = datetime.combine(day, time(10, 0), tzinfo=CHINA).astimezone(UTC)
    session.add(
        Complaint(
            tracking_number=f"{n:014d}",
            kind=Kind.complaint,
            channel=Channel.web,
            status=Status.routed,
            text=text,
            business_name=business,
            business_address="山西省太原市",
            sector="product_quality",
            place_code=county,
            place_province="山西省",
            place_city="太原市",
            place_county={"140105": "小店区", "140106": "迎泽区"}[county],
            created_at=at,
            updated_at=at,
        )
    )


def _background(session: Session, start: date, days: int) -> int:
    rng = np.random.default_rng(7)
    n = 0
    for i in range(days):
        for _ in range(int(rng.poisson(3.0))):
            n += 1
            _filing(
                session,
                n,
                start + timedelta(days=i),
                f"太原市第{int(rng.integers(1, 40))}商店",
                "140106",
                "买的衣服质量不好，商店不给退换，要求退款。",
            )
    return n


SURGE_TEXT = "在店里买的电动车电池充电时起火，电动车烧毁，商家不认，要求赔偿。"


def _surge(session: Session, n: int, days: list[date]) -> int:
    for day in days:
        for _ in range(4):
            n += 1
            _filing(session, n, day, "太原市某某电动车销售有限公司", "140105", SURGE_TEXT)
    return n


def test_a_surge_in_the_database_alerts_once_with_its_evidence(platform: str) -> None:
    start = TODAY - timedelta(days=DAYS + 40)
    with Session(get_engine()) as session:
        n = _background(session, start, DAYS + 41)
        n = _surge(session, n, [TODAY - timedelta(days=d) for d in range(5)])
        session.commit()

        quiet = detect_surges(session, today=TODAY - timedelta(days=10))
        assert quiet.raised == []
        run = detect_surges(session, today=TODAY)
        session.commit()
        alerts = session.exec(select(Alert)).all()
        business = [a for a in alerts if a.subject_type == "business"]
        assert len(business) == 1
        alert = business[0]
        assert alert.subject_label == "太原市某某电动车销售有限公司"
        assert alert.observed == 20
        assert alert.evidence["baseline_counts"] == [0] * RULES.baseline_windows
        assert alert.p_value < RULES.p_value_threshold
        assert len(alert.evidence["sample"]) == RULES.sample_size
        terms = {t["term"]: t["filings"] for t in alert.evidence["terms"]}
        assert terms["电动车"] == terms["起火"] == 20  # each filing counted once
        assert {a.subject_type for a in alerts} >= {"business", "place"}
        assert all(a.subject_key != "140106" for a in alerts)  # the steady county is silent
        assert set(run.raised) == {a.id for a in alerts}

        # The same surge, tested again the same day and on the following days: no new alert.
        for later in range(0, 4):
            n = _surge(session, n, [TODAY + timedelta(days=later)])
            session.commit()
            again = detect_surges(session, today=TODAY + timedelta(days=later))
            session.commit()
            assert again.raised == []
            assert alert.id in again.continued
        session.refresh(alert)
        assert alert.window_end == TODAY + timedelta(days=3)
        assert len(session.exec(select(Alert)).all()) == len(alerts)

        # Weeks later, quiet in between, a new surge of the same business is a new alert.
        later_day = TODAY + timedelta(days=60)
        n = _surge(session, n, [later_day - timedelta(days=d) for d in range(5)])
        session.commit()
        fresh = detect_surges(session, today=later_day)
        session.commit()
        new_business = [
            a for a in session.exec(select(Alert)).all() if a.subject_type == "business"
        ]
        assert len(new_business) == 2
        assert new_business[1].id in fresh.raised


def test_supervisors_acknowledge_and_close_an_alert_once(
    platform: str, client: TestClient, session: Session
) -> None:
    with Session(get_engine()) as writer:
        _surge(writer, 0, [TODAY - timedelta(days=d) for d in range(5)])
        writer.commit()
        detect_surges(writer, today=TODAY)
        writer.commit()
    add_staff(session, "boss", Role.supervisor)
    add_staff(session, "zj", Role.department, "quality")
    boss = bearer(client, "boss")
    listed = client.get("/api/v1/alerts", params={"state": "open"}, headers=boss)
    assert listed.status_code == 200
    alert_id = next(a["id"] for a in listed.json() if a["subject_type"] == "business")
    assert client.get("/api/v1/alerts", headers=bearer(client, "zj")).status_code == 403

    acked = client.post(
        f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "已通知小店区局核查"}, headers=boss
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"
    again = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=boss)
    assert again.status_code == 409
    assert again.json()["allowed_next"] == ["closed"]
    closed = client.post(f"/api/v1/alerts/{alert_id}/close", json={"note": "已立案"}, headers=boss)
    assert closed.json()["state"] == "closed"
    history = client.get(f"/api/v1/alerts/{alert_id}", headers=boss).json()["history"]
    assert [(h["from_state"], h["to_state"]) for h in history] == [
        (None, "open"),
        ("open", "acknowledged"),
        ("acknowledged", "closed"),
    ]
    assert history[1]["actor"] == "staff:boss"
    assert history[1]["note"] == "已通知小店区局核查"
    assert client.post(f"/api/v1/alerts/{alert_id}/close", headers=boss).status_code == 409
    assert client.get("/api/v1/alerts/999999", headers=boss).status_code == 404

    from schemas.event import HistoryIsAppendOnly

    with Session(get_engine()) as writer:
        event = writer.exec(select(AlertEvent)).first()
        assert event is not None
        event.note = "rewritten"
        writer.add(event)
        with pytest.raises(HistoryIsAppendOnly):
            writer.flush()


def test_an_alerts_evidence_holds_no_personal_data(platform: str) -> None:
    text = "我叫张伟，电话13912345678，买的电动车电池起火，张伟要求商家赔偿，张伟很着急。"
    with Session(get_engine()) as session:
        n = 0
        for d in range(5):
            for _ in range(4):
                n += 1
                _filing(session, n, TODAY - timedelta(days=d), "太原市某某车行", "140105", text)
        session.commit()
        detect_surges(session, today=TODAY)
        session.commit()
        alert = session.exec(select(Alert).where(Alert.subject_type == "business")).one()
    shown = str(alert.evidence)
    assert "电动车" in shown
    assert "张伟" not in shown
    assert "13912345678" not in shown
