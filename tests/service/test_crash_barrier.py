"""A crash (500) while a tip-off is handled: the person gets a plain answer, the log gets a
traceback with no exception messages, and a tip-off path's line carries no time of day."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from schemas import Complaint
from tests.canaries import (
    ANSWER_TEXT,
    BANK_ACCOUNT,
    IDENTITY,
    NAME,
    PHONE,
    TIP_PHRASE,
    TIP_TEXT,
    leaks,
    platform_log,
)
from tests.helpers import form_token, serving, valid_filing

CANARIES = [*IDENTITY, TIP_PHRASE, "月饼"]
TIME_OF_DAY = re.compile(r"\d{2}:\d{2}:\d{2}")


def _tip_body() -> dict[str, object]:
    return valid_filing(
        kind="tip",
        text=TIP_TEXT,
        contact_phone=PHONE,
        reporter={"name": NAME, "bank_name": "中国工商银行", "bank_account": BANK_ACCOUNT},
    )


def _crash_storing_the_receipt(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a database error looks like: its message quotes the statement's parameters."""

    def broken(_session: Session, *, complaint_id: int) -> str:
        raise IntegrityError(
            "INSERT INTO complaints (text, reporter) VALUES (?, ?)",
            (TIP_TEXT, f"{NAME} {PHONE}"),
            ValueError(f"UNIQUE constraint failed near {TIP_PHRASE}"),
        )

    monkeypatch.setattr("rewards.receipts.issue", broken)


@pytest.mark.usefixtures("sqlite_platform")
def test_a_crash_filing_a_tip_off_answers_500_and_logs_no_canary(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_storing_the_receipt(monkeypatch)
    with platform_log() as log:
        answer = client.post("/api/v1/complaints", json=_tip_body())
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "InternalError",
        "detail": "something went wrong on our side; try again",
    }
    assert leaks(answer.text, CANARIES) == []
    assert session.exec(select(Complaint)).all() == []  # nothing half-stored
    text = log.getvalue()
    assert "unhandled sqlalchemy.exc.IntegrityError on POST /api/v1/complaints" in text
    assert "receipts.issue(session, complaint_id=complaint.id)" in text  # where it broke
    assert "[message withheld" in text
    assert leaks(text, CANARIES) == [], text


@pytest.mark.usefixtures("sqlite_platform")
def test_a_crash_on_a_tip_off_path_is_logged_without_path_or_time_of_day(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"could not store {ANSWER_TEXT} for {NAME}")

    monkeypatch.setattr("rewards.follow_up.receipts.verify", broken)
    with platform_log() as log:
        api = client.post(
            "/api/v1/tipoffs/answers", json={"receipt_code": "1" * 24, "text": ANSWER_TEXT}
        )
        token = form_token(client.get("/tipoff").text)
        page = client.post(
            "/tipoff",
            data={"receipt_code": "1" * 24, "answer": ANSWER_TEXT, "csrf_token": token},
        )
    assert api.status_code == 500
    assert api.json()["error"] == "InternalError"
    assert page.status_code == 500
    assert "系统出错了" in page.text
    assert "Traceback" not in page.text
    text = log.getvalue()
    assert leaks(text, [*CANARIES, ANSWER_TEXT]) == [], text
    crashes = [line for line in text.splitlines() if "unhandled RuntimeError" in line]
    assert len(crashes) == 2
    for line in crashes:
        assert "on POST a tip-off path" in line
        assert "/tipoff" not in line
        assert TIME_OF_DAY.search(line) is None, line  # the day only
        assert re.match(r"\d{4}-\d{2}-\d{2} ERROR ", line), line


def test_the_server_itself_logs_nothing_of_a_crash(
    sqlite_platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under uvicorn, as in production: no "Exception in ASGI application" with its message."""
    from service.app import create_app

    _crash_storing_the_receipt(monkeypatch)
    with serving(create_app()) as url, platform_log("uvicorn", "uvicorn.error") as log:
        answer = httpx.post(f"{url}/api/v1/complaints", json=_tip_body(), timeout=30)
    assert answer.status_code == 500
    text = log.getvalue()
    assert "unhandled sqlalchemy.exc.IntegrityError" in text
    assert "Exception in ASGI application" not in text
    assert leaks(text, CANARIES) == [], text
