"""The scheduler's list: `complaints scheduler` runs it, and running it erases personal data
of filings finished longer ago than the retention period."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col
from typer.testing import CliRunner

from cases.retention import PURGED_TEXT
from cases.tasks import retention
from core.db import get_engine
from core.settings import get_settings
from core.timeutil import day_start
from schemas import Complaint
from schemas.enums import Role
from service.schedule import periodic_jobs
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing
from tests.rewards.test_vault import complaint_id
from workers import scheduler
from workers.scheduler import Periodic

OLD_TEXT = "我家小区的电梯上个月困人两次，物业一直不修，电梯年检标志也过期了，请质监部门检查。"
OPEN_TEXT = "小区的电梯这个月又困人了，物业还是不修，年检标志也过期了，请质监部门尽快检查。"


def test_the_scheduler_command_runs_the_list_with_retention_in_it(
    sqlite_platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.cli import app as cli_app

    ran: list[list[Periodic]] = []
    monkeypatch.setattr(scheduler, "run_scheduler", ran.append)
    # The command configures this process's logging; the test session keeps its own.
    monkeypatch.setattr("service.cli.configure_logging", lambda *_args: None)
    result = CliRunner().invoke(cli_app, ["scheduler"])
    assert result.exit_code == 0, result.output
    [jobs] = ran
    settings = get_settings()
    assert [(j.name, j.every_seconds) for j in jobs] == [
        ("deadline sweep", settings.sweep_interval_seconds),
        ("purge", settings.purge_interval_seconds),
        ("retention", settings.purge_interval_seconds),
        ("surges", settings.surge_interval_seconds),
        ("credit", settings.credit_interval_seconds),
    ]
    assert jobs[2].run is retention
    assert [j.name for j in periodic_jobs(settings)] == [j.name for j in jobs]


def test_the_scheduler_erases_a_filing_past_retention(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    add_staff(session, "boss", Role.supervisor)
    numbers = [
        client.post("/api/v1/complaints", json=valid_filing(text=text)).json()["tracking_number"]
        for text in (OLD_TEXT, OPEN_TEXT)
    ]
    run_worker_until_idle()
    old, still_open = (complaint_id(number) for number in numbers)
    headers = bearer(client, "boss")
    for action, body in (
        ("refuse", {"reason_code": "other", "explanation": "不属于本机关职责"}),
        ("close", {"summary": "已告知投诉人"}),
    ):
        answer = client.post(
            f"/api/v1/complaints/{old}/actions/{action}", json=body, headers=headers
        )
        assert answer.status_code == 200, answer.text
    with Session(get_engine()) as db:  # finished 1,200 days ago: past the 1,095 of the policy
        db.execute(
            update(Complaint)
            .where(col(Complaint.id).in_([old, still_open]))
            .values(updated_at=day_start() - timedelta(days=1200))
        )
        db.commit()

    stop = threading.Event()
    loop = threading.Thread(
        target=scheduler.run_scheduler,
        args=(periodic_jobs(get_settings()),),
        kwargs={"tick_seconds": 0.1, "stop": stop},
    )
    loop.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _complaint(old).personal_data_purged_on is None:
            time.sleep(0.2)
    finally:
        stop.set()
        loop.join(timeout=30)
    erased = _complaint(old)
    assert erased.personal_data_purged_on is not None, "the scheduler did not run the purge"
    assert (erased.text, erased.contact_phone) == (PURGED_TEXT, None)
    kept = _complaint(still_open)  # old, but not finished: left alone
    assert (kept.text, kept.personal_data_purged_on) == (OPEN_TEXT, None)


def _complaint(cid: int) -> Complaint:
    with Session(get_engine(read_only=True)) as db:
        found = db.get(Complaint, cid)
    assert found is not None
    return found
