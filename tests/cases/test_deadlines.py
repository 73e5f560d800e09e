"""Clocks on the working-day calendar: a frozen clock walks a filing through National Day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlmodel import Session, col, select

from cases import deadlines
from cases.sweeps import sweep_deadlines
from core.db import get_engine
from schemas import Complaint, ComplaintEvent, Deadline, OdrBusiness
from schemas.enums import Role, Status
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing


class FrozenDay:
    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Iterator[FrozenDay]:
    frozen = FrozenDay(date(2026, 9, 30))
    monkeypatch.setattr(deadlines, "today", frozen)
    return frozen


@pytest.fixture
def zj(sqlite_platform: str, client: TestClient, session: Session) -> dict[str, str]:
    add_staff(session, "zj", Role.department, "quality")
    add_staff(session, "boss", Role.supervisor)
    return bearer(client, "zj")


def _file_on(client: TestClient, day: date, **changes: Any) -> int:
    """File and route a complaint as if it arrived on `day` (10:00 Beijing time)."""
    body = valid_filing(**{"business_name": "某某电梯维保公司"} | changes)
    number = client.post("/api/v1/complaints", json=body).json()["tracking_number"]
    with Session(get_engine()) as session:
        session.execute(
            update(Complaint)
            .where(col(Complaint.tracking_number) == number)
            .values(created_at=datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))
        )
        session.commit()
    run_worker_until_idle()
    with Session(get_engine(read_only=True)) as session:
        return int(
            session.exec(select(Complaint.id).where(Complaint.tracking_number == number)).one()
        )


# Arbitration testing requested with the report due on 30 November 2026.
TESTING = {
    "lab": "省质检院",
    "sample": "样品一件",
    "basis": "强制性国家标准",
    "items": ["安全"],
    "fee_fen": 1000,
    "payer": "business",
    "payment_timing": "检验前",
    "due_on": "2026-11-30",
}


def _clock(cid: int, step: str) -> Deadline:
    with Session(get_engine(read_only=True)) as session:
        return session.exec(
            select(Deadline).where(Deadline.complaint_id == cid).where(Deadline.step == step)
        ).one()


def _act(
    client: TestClient,
    headers: dict[str, str],
    cid: int,
    action: str,
    body: dict[str, Any] | None = None,
) -> Any:
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/{action}", json=body or {}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_acceptance_clock_skips_national_day_and_counts_the_make_up_saturday(
    zj: dict[str, str], client: TestClient, today: FrozenDay
) -> None:
    cid = _file_on(client, date(2026, 9, 30))
    clock = _clock(cid, "accept_decision")
    # 1-7 October off; 8 (Thu), 9 (Fri), 10 (make-up Sat), 12, 13, 14, 15 October work.
    assert (clock.started_on, clock.due_on) == (date(2026, 9, 30), date(2026, 10, 15))
    queue = client.get("/api/v1/queue", params={"sort": "deadline"}, headers=zj).json()["data"]
    assert queue[0]["deadline_due_on"] == "2026-10-15"
    assert queue[0]["deadline_badge"] == "ok"


def test_routing_writes_the_due_date_with_the_move_itself(
    zj: dict[str, str], client: TestClient, today: FrozenDay
) -> None:
    """Leaving received, a filing has no clock yet: the move's own UPDATE carries the due
    date of the clock it starts, and no second UPDATE of the filing follows."""
    updates: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE COMPLAINTS"):
            updates.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        cid = _file_on(client, date(2026, 9, 30))
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)
    clock = _clock(cid, "accept_decision")
    with Session(get_engine(read_only=True)) as session:
        row = session.get(Complaint, cid)
        assert row is not None
        assert (row.status, row.deadline_due_on) == (Status.routed, clock.due_on)
    # _file_on's own back-dating, then the router's move: one UPDATE, with the due date.
    assert len(updates) == 2
    assert "deadline_due_on" in updates[1]


def test_testing_stops_the_mediation_clock_and_it_resumes_after(
    zj: dict[str, str], client: TestClient, today: FrozenDay
) -> None:
    today.day = date(2026, 11, 2)  # Monday
    cid = _file_on(client, today.day)
    _act(client, zj, cid, "accept")
    _act(client, zj, cid, "start_mediation")
    due = _clock(cid, "mediation").due_on
    assert due == deadlines.calendar_for(deadlines.current_policy()).add_working_days(
        date(2026, 11, 2), 45
    )
    today.day = date(2026, 11, 9)  # Monday a week later
    _act(
        client,
        zj,
        cid,
        "request_testing",
        TESTING,
    )
    assert _clock(cid, "mediation").state == "paused"
    today.day = date(2026, 11, 16)  # testing took 5 working days
    _act(client, zj, cid, "record_test_report", {"outcome": "conforming", "summary": "合格"})
    clock = _clock(cid, "mediation")
    assert clock.state == "active"
    calendar = deadlines.calendar_for(deadlines.current_policy())
    assert clock.due_on == calendar.add_working_days(due, 5)


def test_the_mediation_limit_counts_from_acceptance(
    zj: dict[str, str], client: TestClient, today: FrozenDay
) -> None:
    # 自投诉受理之日起四十五个工作日内: the clock runs from acceptance, not from mediation's start.
    today.day = date(2026, 11, 2)  # Monday
    cid = _file_on(client, today.day)
    _act(client, zj, cid, "accept")
    due = deadlines.calendar_for(deadlines.current_policy()).add_working_days(today.day, 45)
    assert (_clock(cid, "mediation").started_on, _clock(cid, "mediation").due_on) == (
        today.day,
        due,
    )
    queue = client.get("/api/v1/queue", headers=zj).json()["data"]
    assert queue[0]["deadline_due_on"] == due.isoformat()  # accepted, not yet mediating
    today.day = date(2026, 11, 16)  # mediation starts 10 working days after acceptance
    _act(client, zj, cid, "start_mediation")
    clock = _clock(cid, "mediation")
    assert (clock.state, clock.due_on) == ("active", due)


def test_the_sweep_warns_once_then_escalates_once(
    zj: dict[str, str], client: TestClient, today: FrozenDay, session: Session
) -> None:
    cid = _file_on(client, date(2026, 11, 2))  # due 11 November (7 working days)
    assert _clock(cid, "accept_decision").due_on == date(2026, 11, 11)
    assert sweep_deadlines(session, on=date(2026, 11, 5)).warned == 0  # 4 working days left
    first = sweep_deadlines(session, on=date(2026, 11, 9))  # 2 left: warn
    again = sweep_deadlines(session, on=date(2026, 11, 10))
    assert (first.warned, again.warned) == (1, 0)
    today.day = date(2026, 11, 10)
    soon = client.get("/api/v1/queue", params={"deadline": "soon"}, headers=zj).json()["data"]
    assert [item["id"] for item in soon] == [cid]
    assert soon[0]["deadline_badge"] == "warning"

    breached = sweep_deadlines(session, on=date(2026, 11, 12))
    assert breached.breached == 1
    assert sweep_deadlines(session, on=date(2026, 11, 13)).breached == 0
    reasons = [
        e.reason
        for e in session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid))
    ]
    assert any(r.startswith("time limit near: accept_decision") for r in reasons)
    assert any(r.startswith("time limit passed: accept_decision") for r in reasons)
    escalations = client.get("/api/v1/deadlines/breached", headers=bearer(client, "boss")).json()
    assert [(e["complaint_id"], e["step"]) for e in escalations] == [(cid, "accept_decision")]
    today.day = date(2026, 11, 13)
    overdue = client.get("/api/v1/queue", params={"deadline": "overdue"}, headers=zj).json()["data"]
    assert overdue[0]["deadline_badge"] == "overdue"
    # Accepting late closes the clock; it stays on record as breached.
    _act(client, zj, cid, "accept")
    clock = _clock(cid, "accept_decision")
    assert (clock.state, clock.closed_at is not None) == ("breached", True)
    assert client.get("/api/v1/deadlines/breached", headers=bearer(client, "boss")).json() == []


def test_odr_goes_to_the_business_first_and_its_days_do_not_count(
    zj: dict[str, str], client: TestClient, today: FrozenDay, session: Session
) -> None:
    session.add(OdrBusiness(business_uscc="91330100799655058B", name="某某电梯维保公司"))
    session.commit()
    today.day = date(2026, 11, 2)
    cid = _file_on(client, today.day)
    with Session(get_engine(read_only=True)) as s:
        assert s.get(Complaint, cid).status is Status.odr  # type: ignore[union-attr]
    accept_due = _clock(cid, "accept_decision").due_on
    assert _clock(cid, "accept_decision").state == "paused"
    assert _clock(cid, "odr").due_on == date(2026, 11, 16)
    today.day = date(2026, 11, 12)  # 8 working days with the business
    back = _act(client, zj, cid, "odr_failed", {"summary": "经营者未在期限内和解"})
    assert back["status"] == "routed"
    clock = _clock(cid, "accept_decision")
    assert clock.state == "active"
    calendar = deadlines.calendar_for(deadlines.current_policy())
    assert clock.due_on == calendar.add_working_days(accept_due, 8)
    assert _clock(cid, "odr").state == "met"


def test_an_unsettled_odr_comes_back_to_the_regulator_by_itself(
    zj: dict[str, str], client: TestClient, today: FrozenDay, session: Session
) -> None:
    session.add(OdrBusiness(business_uscc="91330100799655058B", name="某某电梯维保公司"))
    session.commit()
    today.day = date(2026, 11, 2)
    cid = _file_on(client, today.day)
    assert _clock(cid, "odr").due_on == date(2026, 11, 16)
    sweep_deadlines(session, on=date(2026, 11, 16))
    with Session(get_engine(read_only=True)) as s:
        assert s.get(Complaint, cid).status is Status.odr  # type: ignore[union-attr]
    today.day = date(2026, 11, 17)
    sweep_deadlines(session, on=today.day)
    with Session(get_engine(read_only=True)) as s:
        assert s.get(Complaint, cid).status is Status.routed  # type: ignore[union-attr]
    assert _clock(cid, "odr").state == "met"
    assert _clock(cid, "accept_decision").state == "active"


def test_a_limit_met_late_is_breached_though_no_sweep_saw_it(
    zj: dict[str, str], client: TestClient, today: FrozenDay, session: Session
) -> None:
    # The scheduler was down (or had not swept yet since midnight): the decision still came
    # after the limit, and the supervisor's compliance figure must say so.
    from insights.statistics import report
    from schemas.statistics import StatsFilter

    cid = _file_on(client, date(2026, 11, 2))  # due 11 November
    today.day = date(2026, 11, 12)
    _act(client, zj, cid, "accept")
    clock = _clock(cid, "accept_decision")
    assert (clock.state, clock.closed_at is not None) == ("breached", True)
    assert clock.breached_at is not None
    rows = report(session, chosen=StatsFilter()).deadlines
    row = next(r for r in rows if r.step == "accept_decision")
    assert (row.met, row.breached, row.compliance) == (0, 1, 0.0)


def test_a_limit_met_on_its_last_day_or_while_paused_is_met(
    zj: dict[str, str], client: TestClient, today: FrozenDay
) -> None:
    today.day = date(2026, 11, 2)
    cid = _file_on(client, today.day)
    survivor = _file_on(client, today.day)
    today.day = date(2026, 11, 11)  # the acceptance limit's last day
    _act(client, zj, cid, "accept")
    assert _clock(cid, "accept_decision").state == "met"
    _act(client, zj, cid, "start_mediation")
    due = _clock(cid, "mediation").due_on
    _act(
        client,
        zj,
        cid,
        "request_testing",
        TESTING,
    )
    # Testing outlasts the mediation limit as it stood; its days do not count, so a merge
    # now ends the clock within its limit.
    today.day = date.fromordinal(due.toordinal() + 3)
    _act(client, zj, cid, "merge", {"into": survivor, "reason": "同一投诉人就同一事项重复投诉"})
    assert _clock(cid, "mediation").state == "met"
