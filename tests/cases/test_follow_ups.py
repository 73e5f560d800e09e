"""Follow-up calls (回访) through the API on both databases: who is due, recording a call,
the attempts cap, the refusals, the rating it makes, and two operators at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlmodel import Session, col, select

from cases.follow_ups import due_on, overdue_before
from cases.policy import DEFAULT_POLICY
from cases.retention import purge_due
from core.db import get_engine
from core.timeutil import utcnow
from schemas import AuditEntry, Complaint, ComplaintEvent, SatisfactionRating
from schemas.enums import Role, Status
from schemas.follow_up import FollowUpCall
from tests.cases.test_workflow import _act, _routed
from tests.helpers import add_staff, bearer, serving

PHONE = "13812345678"
Headers = dict[str, dict[str, str]]


@pytest.fixture
def staff(platform: str, client: TestClient, session: Session) -> Headers:
    add_staff(session, "zj", Role.department, "quality")
    add_staff(session, "op", Role.operator)
    add_staff(session, "op2", Role.operator)
    add_staff(session, "boss", Role.supervisor)
    return {name: bearer(client, name) for name in ("zj", "op", "op2", "boss")}


def closed_complaint(client: TestClient, staff: Headers, **changes: Any) -> int:
    cid = _routed(client, **changes)
    _act(client, staff["zj"], cid, "refuse", {"reason_code": "time_barred", "explanation": "过期"})
    _act(client, staff["zj"], cid, "close", {"summary": "不予受理，已告知投诉人"})
    return cid


def move_closing(cid: int, days_ago: int) -> None:
    """Set-up: the filing closed `days_ago` days ago (the history is append-only for the app)."""
    with Session(get_engine()) as db:
        db.execute(
            update(ComplaintEvent)
            .where(col(ComplaintEvent.complaint_id) == cid)
            .where(col(ComplaintEvent.to_status) == Status.closed)
            .values(at=utcnow() - timedelta(days=days_ago))
        )
        db.commit()


def due(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/follow-ups", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def due_ids(client: TestClient, headers: dict[str, str]) -> list[int]:
    return [row["complaint_id"] for row in due(client, headers)["data"]]


def call(client: TestClient, headers: dict[str, str], cid: int, **body: Any) -> httpx.Response:
    return client.post(f"/api/v1/follow-ups/{cid}/calls", json=body, headers=headers)


def test_the_due_date_counts_working_days_from_the_day_of_closing(sqlite_platform: str) -> None:
    assert due_on(date(2026, 12, 4)) == date(2026, 12, 11)  # Friday: the next Friday
    # Over National Day 2026: 1–7 October off, Saturday 10 October worked (调休).
    assert due_on(date(2026, 9, 30)) == date(2026, 10, 13)
    # Closed on 30 September or in the holiday, the call is overdue from 14 October (its due
    # date 13 October passed); on 13 October only what closed by 29 September is.
    assert overdue_before(date(2026, 10, 14)).date() == date(2026, 10, 8)
    assert overdue_before(date(2026, 10, 13)).date() == date(2026, 9, 30)


def test_a_closed_complaint_is_due_and_a_reached_call_rates_it_and_leaves_the_list(
    staff: Headers, client: TestClient, session: Session
) -> None:
    cid = closed_complaint(client, staff)
    page = due(client, staff["op"])
    assert page["next_cursor"] is None
    [row] = page["data"]
    assert row["complaint_id"] == cid
    assert row["department"]["code"] == "quality"
    assert row["outcome_summary"] == "不予受理，已告知投诉人"
    assert row["attempts"] == 0
    assert row["overdue"] is False
    assert row["contact_phone"] == "138****5678"  # masked; dialled through the contact route
    assert due(client, staff["boss"])["data"] == page["data"]
    assert client.get("/api/v1/follow-ups", headers=staff["zj"]).status_code == 403

    number = client.post(f"/api/v1/follow-ups/{cid}/contact", headers=staff["op"])
    assert number.json() == {"contact_phone": "+86" + PHONE}

    answer = call(
        client, staff["op"], cid, outcome="reached", satisfaction="basically", note="还行"
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["attempt"], body["score"], body["rated"], body["state"]) == (1, 4, True, "done")
    rating = session.exec(select(SatisfactionRating)).one()
    assert (rating.score, rating.channel) == (4, "follow_up")
    assert due_ids(client, staff["op"]) == []

    again = call(client, staff["op"], cid, outcome="reached", satisfaction="satisfied")
    assert again.status_code == 409
    assert "done already" in again.json()["detail"]
    assert len(session.exec(select(FollowUpCall)).all()) == 1

    history = client.get(f"/api/v1/complaints/{cid}", headers=staff["zj"]).json()["history"]
    followed = [e for e in history if e["reason"].startswith("follow-up call")]
    assert [e["reason"] for e in followed] == ["follow-up call 1: reached"]
    tracked = client.get(f"/api/v1/track/{body['tracking_number']}").json()
    assert "follow-up" not in str(tracked)  # internal
    actions = [
        a.action for a in session.exec(select(AuditEntry).where(AuditEntry.complaint_id == cid))
    ]
    assert {"follow_up:contact.read", "follow_up:call"} <= set(actions)


def test_tip_offs_inquiries_open_merged_and_rated_filings_are_never_due(
    staff: Headers, client: TestClient, session: Session
) -> None:
    tip = _routed(
        client,
        kind="tip",
        text="举报某某厂生产的电动车充电器没有3C认证，存在起火隐患，请依法查处。",
    )
    _act(client, staff["zj"], tip, "start_verification")
    _act(client, staff["zj"], tip, "not_open_case", {"reason": "证据不足，不予立案"})
    _act(client, staff["zj"], tip, "close", {"summary": "不予立案"})
    with Session(get_engine()) as db:  # even one carrying a number (it never should) is not
        db.execute(update(Complaint).where(col(Complaint.id) == tip).values(contact_phone=PHONE))
        db.commit()
    inquiry = _routed(client, kind="inquiry", text="请问电梯年检标志过期了应该找哪个部门？")
    _act(client, staff["zj"], inquiry, "answer", {"answer": "质量技术监督部门负责"})
    _act(client, staff["zj"], inquiry, "close", {"summary": "已答复"})
    still_open = _routed(client)
    rated = closed_complaint(client, staff)
    number = session.get(Complaint, rated)
    assert number is not None
    assert (
        client.post(f"/api/v1/track/{number.tracking_number}/rating", json={"score": 3}).status_code
        == 201
    )
    duplicate = _routed(client)
    survivor = closed_complaint(client, staff)
    merged = client.post(
        f"/api/v1/complaints/{duplicate}/actions/merge",
        json={"into": survivor, "reason": "同一事项"},
        headers=staff["zj"],
    )
    assert merged.status_code == 200, merged.text

    assert due_ids(client, staff["op"]) == [survivor]
    for cid in (tip, inquiry):
        refused = call(client, staff["op"], cid, outcome="no_answer")
        assert refused.status_code == 422
        assert "complaints only" in refused.json()["detail"]
    refused = call(client, staff["op"], still_open, outcome="no_answer")
    assert refused.status_code == 409
    assert refused.json()["current_status"] == "routed"
    refused = call(client, staff["op"], duplicate, outcome="no_answer")
    assert refused.status_code == 409
    assert "merged" in refused.json()["detail"]
    refused = call(client, staff["op"], rated, outcome="no_answer")
    assert refused.status_code == 409
    assert "rated" in refused.json()["detail"]
    assert (
        client.post(f"/api/v1/follow-ups/{still_open}/contact", headers=staff["op"]).status_code
        == 409
    )
    assert call(client, staff["op"], 999_999, outcome="no_answer").status_code == 404
    assert session.exec(select(FollowUpCall)).all() == []


def test_bad_calls_are_refused_and_store_nothing(
    staff: Headers, client: TestClient, session: Session
) -> None:
    cid = closed_complaint(client, staff)
    for body in (
        {"outcome": "reached"},  # no satisfaction
        {"outcome": "no_answer", "satisfaction": "satisfied"},
        {"outcome": "hung_up"},
        {"outcome": "reached", "satisfaction": "satisfied", "note": "x" * 501},
    ):
        answer = call(client, staff["op"], cid, **body)
        assert answer.status_code == 422, body
        assert answer.json()["detail"]
    assert call(client, staff["zj"], cid, outcome="no_answer").status_code == 403
    bad = client.get("/api/v1/follow-ups", params={"cursor": "abc"}, headers=staff["op"])
    assert bad.status_code == 422
    assert session.exec(select(FollowUpCall)).all() == []


def test_after_the_last_unreached_attempt_the_complaint_is_unreachable(
    staff: Headers, client: TestClient, session: Session
) -> None:
    cid = closed_complaint(client, staff)
    states = []
    for outcome in ("no_answer", "busy", "wrong_number"):
        answer = call(client, staff["op"], cid, outcome=outcome)
        assert answer.status_code == 201, answer.text
        states.append(answer.json()["state"])
        if answer.json()["state"] == "due":
            assert due(client, staff["op"])["data"][0]["attempts"] == answer.json()["attempt"]
    assert states == ["due", "due", "unreachable"]
    assert due_ids(client, staff["op"]) == []
    fourth = call(client, staff["op"], cid, outcome="no_answer")
    assert fourth.status_code == 409
    assert "unreachable" in fourth.json()["detail"]
    assert len(session.exec(select(FollowUpCall)).all()) == 3
    assert session.exec(select(SatisfactionRating)).all() == []


def test_policy_sets_attempts_and_whether_a_rated_complaint_is_called(
    staff: Headers,
    client: TestClient,
    session: Session,
    configure: Callable[..., None],
    platform: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data["follow_up"] = {"within_working_days": 2, "max_attempts": 1, "skip_if_rated": False}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    configure(database_url=platform, redis_url=redis_url, policy_file=str(path))
    rated = closed_complaint(client, staff)
    number = session.get(Complaint, rated)
    assert number is not None
    client.post(f"/api/v1/track/{number.tracking_number}/rating", json={"score": 2})
    other = closed_complaint(client, staff)
    assert due_ids(client, staff["op"]) == [rated, other]
    assert call(client, staff["op"], other, outcome="no_answer").json()["state"] == "unreachable"
    # Reached: the online rating stays the filing's one rating, the call keeps its answer.
    answer = call(client, staff["op"], rated, outcome="reached", satisfaction="satisfied")
    assert answer.json()["rated"] is False
    assert [r.score for r in session.exec(select(SatisfactionRating))] == [2]
    assert due_ids(client, staff["op"]) == []


def test_a_call_after_the_rating_window_is_recorded_without_a_rating(
    staff: Headers, client: TestClient, session: Session
) -> None:
    cid = closed_complaint(client, staff)
    move_closing(cid, days_ago=40)  # past the 30-day window, and long overdue
    [row] = due(client, staff["op"])["data"]
    assert row["overdue"] is True
    answer = call(client, staff["op"], cid, outcome="reached", satisfaction="unsatisfied")
    assert answer.status_code == 201, answer.text
    assert (answer.json()["rated"], answer.json()["score"]) == (False, 2)
    assert session.exec(select(SatisfactionRating)).all() == []
    stored = session.exec(select(FollowUpCall)).one()
    assert (stored.satisfaction, stored.rating_id) == ("unsatisfied", None)


def test_a_complaint_closed_longer_ago_than_the_policy_allows_is_no_longer_called(
    staff: Headers, client: TestClient
) -> None:
    """After an upgrade, years of closed complaints must not bury the ones a call can still
    rate: past stop_after_days (60) a complaint leaves the list and a call is refused."""
    old, recent = closed_complaint(client, staff), closed_complaint(client, staff)
    move_closing(old, days_ago=61)
    move_closing(recent, days_ago=59)
    assert due_ids(client, staff["op"]) == [recent]
    refused = call(client, staff["op"], old, outcome="reached", satisfaction="satisfied")
    assert refused.status_code == 409
    assert refused.json()["state"] == "expired"
    assert call(client, staff["op"], recent, outcome="no_answer").status_code == 201


def test_the_list_is_overdue_first_then_by_due_date_in_bounded_pages(
    staff: Headers, client: TestClient
) -> None:
    first, second, third = (closed_complaint(client, staff) for _ in range(3))
    move_closing(third, days_ago=20)  # closed earliest: overdue, first
    move_closing(first, days_ago=1)
    page = due(client, staff["op"], limit=2)
    assert [r["complaint_id"] for r in page["data"]] == [third, first]
    assert [r["overdue"] for r in page["data"]] == [True, False]
    rest = due(client, staff["op"], limit=2, cursor=page["next_cursor"])
    assert [r["complaint_id"] for r in rest["data"]] == [second]
    assert rest["next_cursor"] is None
    # Supervisors see the same backlog on /metrics: three waiting, one of them overdue.
    figures = {
        tuple(sample.labels.values()): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        if family.name == "complaints_follow_ups_waiting"
        for sample in family.samples
    }
    assert figures == {("waiting",): 3, ("overdue",): 1}


def test_two_operators_recording_at_once_add_one_attempt(
    staff: Headers, client: TestClient, session: Session
) -> None:
    cid = closed_complaint(client, staff)
    from service.app import create_app

    barrier = threading.Barrier(2)
    statuses: list[int] = []
    with serving(create_app()) as url:

        def record(who: str) -> None:
            barrier.wait()
            answer = httpx.post(
                f"{url}/api/v1/follow-ups/{cid}/calls",
                json={"outcome": "reached", "satisfaction": "satisfied"},
                headers=staff[who],
                timeout=30,
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=record, args=(who,)) for who in ("op", "op2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [201, 409]
    assert len(session.exec(select(FollowUpCall)).all()) == 1
    assert len(session.exec(select(SatisfactionRating)).all()) == 1


def test_no_phone_number_reaches_the_log(
    staff: Headers, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    cid = closed_complaint(client, staff)
    with caplog.at_level(logging.DEBUG):
        due(client, staff["op"])
        client.post(f"/api/v1/follow-ups/{cid}/contact", headers=staff["op"])
        assert call(client, staff["op"], cid, outcome="no_answer").status_code == 201
    assert "follow-up call 1" in caplog.text
    assert PHONE not in caplog.text
    assert PHONE[-8:] not in caplog.text


def test_retention_erases_what_the_complainant_said_on_a_call(
    staff: Headers, client: TestClient, session: Session
) -> None:
    cid = closed_complaint(client, staff)
    note = f"王建国说商家没退款，电话{PHONE}"
    answer = call(
        client, staff["op"], cid, outcome="reached", satisfaction="unsatisfied", note=note
    )
    assert answer.status_code == 201
    with Session(get_engine()) as db:  # closed longer ago than the retention period
        db.execute(
            update(Complaint)
            .where(col(Complaint.id) == cid)
            .values(updated_at=utcnow() - timedelta(days=1200))
        )
        db.commit()
    with Session(get_engine()) as db:
        assert purge_due(db).filings == 1
    stored = session.exec(select(FollowUpCall)).one()
    assert (stored.note, stored.satisfaction) == (None, "unsatisfied")  # the figure stays
