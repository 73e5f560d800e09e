"""Anonymity that holds: a canary reporter files a tip-off through every channel, the API's
and the pages', answers a question and claims a reward; then every key in Redis (job hashes
decoded), every row of every table, the raw SQLite file, the stored files and the logs
(captured in-process, and the real log of the processes as production runs them) are
searched for who they are, where they wrote from, and what they wrote.

What they wrote must reach the department on the filing (`complaints.text`) and their
answer on its history; nowhere else. Who they are must be nowhere in plaintext.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry
from sqlmodel import Session, select

from core.db import get_engine
from core.timeutil import as_china
from schemas import Complaint
from schemas.enums import Kind, Role
from tests.canaries import (
    AGENT,
    ANSWER_PHRASE,
    ANSWER_TEXT,
    BANK_ACCOUNT,
    BANK_NAME,
    CLIENT,
    FORWARDED,
    ID_NUMBER,
    IDENTITY,
    NAME,
    PHONE,
    TIP_PHRASE,
    TIP_TEXT,
    byte_leaks,
    db_dump,
    files_with,
    leaks,
    not_the_test_client,
    platform_log,
    redis_dump,
)
from tests.conftest import Templates, migrated_platform
from tests.helpers import (
    PASSWORD,
    add_staff,
    bearer,
    form_token,
    run_worker_until_idle,
    valid_filing,
)
from tests.intake.test_attachments_and_limits import png_bytes
from tests.web.conftest import Production, production, wait_for  # noqa: F401  (a fixture)
from workers.queues import ALL_QUEUES

PATH_TOKEN = "privacy-path-token"
WHO = [*IDENTITY, *CLIENT]
WORDS = [TIP_PHRASE, ANSWER_PHRASE]
# Where the reporter's words may be: the filing's text for the department, the answer on
# the filing's history.
WORDS_MAY_BE = {
    TIP_PHRASE: {("complaints", "text")},
    ANSWER_PHRASE: {("complaint_events", "payload")},
}
# Rows about filings carry days only; these tables are about staff and the registry.
NOT_ABOUT_FILINGS = {
    "staff_users",
    "staff_sessions",
    "audit_log",
    "registry_loads",
    "departments",
    "offices",
    "department_webhooks",
    "odr_businesses",
    "alembic_version",
}
CLAIM = {
    "name": NAME,
    "phone": PHONE,
    "id_number": ID_NUMBER,
    "bank_name": BANK_NAME,
    "bank_account": BANK_ACCOUNT,
}


@pytest.fixture
def private_platform(
    configure: Callable[..., None],
    database_url: str,
    redis_url: str,
    templates: Templates,
    tmp_path: Path,
) -> Path:
    migrated_platform(configure, database_url, redis_url, templates, sms_path_token=PATH_TOKEN)
    with Session(get_engine()) as session:
        add_staff(session, "op", Role.operator)
        add_staff(session, "boss", Role.supervisor)
        session.commit()
    return tmp_path / "var"


def _file_through_every_channel(client: TestClient) -> list[str]:
    """Web (with an attachment named after the reporter), SMS and hotline; the receipts."""
    headers = {"User-Agent": AGENT, "X-Forwarded-For": FORWARDED}
    upload = client.post(
        "/api/v1/attachments",
        files={"file": (f"{NAME}身份证{PHONE}.png", png_bytes(), "image/png")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    body = valid_filing(
        kind="tip",
        text=TIP_TEXT,
        contact_phone=PHONE,
        attachments=[upload.json()["id"]],
        reporter={k: v for k, v in CLAIM.items() if k != "phone"},
        # A product that hurt someone: its record and the product-risk case the tip-off
        # opens carry the day only, like every row about it.
        product={"gtin": "6901234567892", "name": "月饼", "batch": "B1", "injury": True},
    )
    web = client.post(
        "/api/v1/complaints", json=body, headers=headers | {"Idempotency-Key": "canary-web"}
    )
    assert web.status_code == 201, web.text
    sms = client.post(
        f"/api/v1/sms/aliyun/{PATH_TOKEN}",
        json=[
            {
                "phone_number": PHONE,
                "content": f"举报：某某食品厂用过期原料生产月饼，{TIP_PHRASE}，请依法查处。",
                "send_time": "2026-11-28 10:00:00",
                "dest_code": "12315",
                "sequence_id": "canary-1",
            }
        ],
        headers=headers,
    )
    assert sms.status_code == 200, sms.text
    call = client.post(
        "/api/v1/operator/calls",
        json={
            "caller_phone": PHONE,
            "caller_name": NAME,
            "kind": "tip",
            "text": f"来电举报某某食品厂用过期原料生产月饼，{TIP_PHRASE}，来电人不愿公开身份。",
            "business_name": "某某食品厂",
        },
        headers=headers | bearer(client, "op"),
    )
    assert call.status_code == 201, call.text
    return [web.json()["receipt_code"], call.json()["filings"][0]["receipt_code_display"]]


def _check_redis(redis_url: str) -> dict[str, bytes]:
    dump = redis_dump(redis_url)
    for key, value in dump.items():
        assert byte_leaks(value, [*WHO, *WORDS]) == [], key
    return dump


def _check_database(session: Session, database_url: str) -> list[tuple[str, str, Any]]:
    dump = db_dump(session)
    for table, column, value in dump:
        text = value.decode("latin-1") if isinstance(value, bytes) else repr(value)
        if isinstance(value, bytes):  # sealed values are ciphertext, nothing readable
            assert byte_leaks(value, [*WHO, *WORDS]) == [], (table, column)
        assert leaks(text, WHO) == [], (table, column, text[:300])
        for phrase, places in WORDS_MAY_BE.items():
            if phrase in text:
                assert (table, column) in places, (table, column, phrase)
        # Days, never a time of day, on every row about a filing.
        if isinstance(value, datetime) and table not in NOT_ABOUT_FILINGS:
            assert as_china(value).time() == clock(0), (table, column, value)
    texts = [v for t, c, v in dump if (t, c) == ("complaints", "text")]
    assert sum(TIP_PHRASE in str(v) for v in texts) >= 2  # the department reads the tip
    assert all(NAME not in str(v) and PHONE not in str(v) for v in texts)
    assert any("［已隐去］" in str(v) for v in texts)  # scrubbed of who wrote it
    if database_url.startswith("sqlite"):
        raw = Path(database_url.removeprefix("sqlite:///"))
        for part in (raw, raw.with_name(raw.name + "-wal")):
            if part.exists():
                assert byte_leaks(part.read_bytes(), WHO) == [], part.name
    return dump


def _check_logs(text: str, *, numbers: list[str], receipts: list[str], ids: list[int]) -> None:
    assert leaks(text, [*WHO, *WORDS]) == [], [
        line for line in text.splitlines() if leaks(line, [*WHO, *WORDS])
    ]
    for secret in [*numbers, *(r.replace(" ", "") for r in receipts), *receipts]:
        assert secret not in text
    for tip_id in ids:
        assert f"complaint {tip_id}" not in text
        assert f"complaints/{tip_id}" not in text


def test_a_canary_reporter_leaves_no_trace(
    private_platform: Path,
    redis_url: str,
    database_url: str,
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with platform_log() as log:
        receipts = _file_through_every_channel(client)
        assert all(receipts)
        queued = _check_redis(redis_url)
        jobs = [v for k, v in queued.items() if k.startswith("rq:job:")]
        # The drains of routing and duplicate search (the filings' ids wait in outbox rows,
        # which the database scan reads) and the texts: the scan decoded them all.
        assert len(jobs) >= 3
        assert all(b"tasks." in job for job in jobs)  # the decoded payload: function and args

        run_worker_until_idle()
        boss = bearer(client, "boss")
        with Session(get_engine(read_only=True)) as session:
            tips = session.exec(select(Complaint).where(Complaint.kind == Kind.tip)).all()
            tip_ids = [t.id for t in tips if t.id is not None]
            numbers = [t.tracking_number for t in tips]
        assert len(tip_ids) == 3
        for tip_id in tip_ids:  # the department asks; a reporter who left a number is texted
            asked = client.post(
                f"/api/v1/complaints/{tip_id}/actions/ask_reporter",
                json={"question": "请补充进货单照片"},
                headers=boss,
            )
            assert asked.status_code == 200, asked.text
        web_code = receipts[0]
        answered = client.post(
            "/api/v1/tipoffs/answers", json={"receipt_code": web_code, "text": ANSWER_TEXT}
        )
        assert answered.status_code == 201, answered.text
        claimed = client.post(
            "/api/v1/tipoffs/reward-claims", json={"receipt_code": web_code, "identity": CLAIM}
        )
        assert claimed.status_code == 201, claimed.text
        followed = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": web_code})
        assert followed.status_code == 200
        assert leaks(followed.text, WHO) == []
        run_worker_until_idle()

    _check_redis(redis_url)
    # Finished jobs are gone from Redis: nothing there ties a filing to a time of day.
    assert [k for k in Redis.from_url(redis_url).scan_iter("rq:job:*")] == []
    with Session(get_engine(read_only=True)) as session:
        dump = _check_database(session, database_url)
    assert any(ANSWER_PHRASE in repr(v) for t, c, v in dump if t == "complaint_events")
    assert files_with(private_platform, [*WHO, *WORDS]) == []
    assert any(private_platform.rglob("attachments/**/*"))  # the upload was stored, and read
    records = [r for r in caplog.records if not_the_test_client(r)]
    logged = "\n".join(
        [log.getvalue(), *(f"{r.getMessage()} {r.args} {r.exc_text}" for r in records)]
    )
    assert "filed a tip-off via" in logged  # the scan saw the intake's lines
    _check_logs(logged, numbers=numbers, receipts=receipts, ids=tip_ids)


# ---- through the pages, against the processes as production runs them ----------------------


def _idle(redis_url: str) -> bool:
    connection = Redis.from_url(redis_url)
    return all(
        Queue(name, connection=connection).count == 0
        and StartedJobRegistry(name, connection=connection).count == 0
        for name in ALL_QUEUES
    )


def _file_on_the_pages(base: str) -> tuple[str, str]:
    """A tip-off on /file (with an attachment) and one through the operator console."""
    headers = {"User-Agent": AGENT, "X-Forwarded-For": FORWARDED}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as citizen:
        token = form_token(citizen.get("/file?kind=tip").text)
        filed = citizen.post(
            "/file",
            data={
                "kind": "tip",
                "text": TIP_TEXT,
                "contact_phone": PHONE,
                "reporter_name": NAME,
                "business_name": "某某食品厂",
                "csrf_token": token,
            },
            files={"attachments": (f"{NAME}身份证{PHONE}.png", png_bytes(), "image/png")},
        )
        assert filed.status_code == 201, filed.text
        receipt = re.search(r'id="receipt">([\d ]+)<', filed.text)
        assert receipt, filed.text
    with httpx.Client(base_url=base, headers=headers, timeout=30) as operator:
        token = form_token(operator.get("/staff/login").text)
        signed = operator.post(
            "/staff/login", data={"username": "op", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303, signed.text
        token = form_token(operator.get("/staff/operator").text)
        call = operator.post(
            "/staff/operator/calls",
            data={
                "caller_phone": PHONE,
                "caller_name": NAME,
                "text": f"举报某某食品厂用过期原料生产月饼，{TIP_PHRASE}，来电人{NAME}不愿公开身份。",
                "business_name": "某某食品厂",
                "csrf_token": token,
                "call_key": "canary-call",
            },
        )
        assert call.status_code == 201, call.text
        spoken = re.search(r'id="receipt-1">([\d ]+)<', call.text)
        assert spoken, call.text
    return receipt.group(1), spoken.group(1)


def _answer_and_claim_on_the_tipoff_page(base: str, receipt: str) -> None:
    headers = {"User-Agent": AGENT, "X-Forwarded-For": FORWARDED}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as reporter:
        token = form_token(reporter.get("/tipoff").text)
        opened = reporter.post("/tipoff", data={"receipt_code": receipt, "csrf_token": token})
        assert opened.status_code == 200, opened.text
        token = form_token(opened.text)
        answered = reporter.post(
            "/tipoff",
            data={"receipt_code": receipt, "answer": ANSWER_TEXT, "csrf_token": token},
        )
        assert "已收到您的答复" in answered.text, answered.text
        claim = {f"claim_{k}": v for k, v in CLAIM.items()}
        claimed = reporter.post(
            "/tipoff", data={"receipt_code": receipt, "csrf_token": token, **claim}
        )
        assert "已收到您的领奖信息" in claimed.text, claimed.text
        assert leaks(claimed.text, WHO) == []


@pytest.mark.browser
def test_tip_offs_filed_on_the_pages_leave_no_trace_in_the_production_processes(
    production: Production,  # noqa: F811  (the fixture, imported from tests/web/conftest.py)
    redis_url: str,
    sqlite_url: str,
) -> None:
    web_receipt, spoken_receipt = _file_on_the_pages(production.url)
    with Session(get_engine(read_only=True)) as session:
        tips = session.exec(select(Complaint).where(Complaint.kind == Kind.tip)).all()
    assert len(tips) == 2
    for receipt in (web_receipt, spoken_receipt):
        _answer_and_claim_on_the_tipoff_page(production.url, receipt)

    def routed_and_idle() -> bool:
        with Session(get_engine(read_only=True)) as session:
            statuses = session.exec(select(Complaint.status)).all()
        return all(s.value != "received" for s in statuses) and _idle(redis_url)

    wait_for(routed_and_idle, timeout=60)
    time.sleep(1)  # the last log lines reach the file

    _check_redis(redis_url)
    with Session(get_engine(read_only=True)) as session:
        dump = _check_database(session, sqlite_url)
        answers = [v for t, c, v in dump if t == "complaint_events" and ANSWER_PHRASE in repr(v)]
    assert len(answers) == 2
    assert files_with(production.log.parent / "var", [*WHO, *WORDS]) == []
    log = production.log.read_text(encoding="utf-8", errors="replace")
    # The log is the processes' own: their request lines are there, so the scan is real.
    assert re.search(r"complaints\.requests: \w+ POST /file 201 ", log), log[-3000:]
    assert "POST /staff/operator/calls 201" in log
    assert re.search(r"routing\.tasks: routed \d+ filing", log), log[-3000:]  # the worker's
    assert "tipoff" not in log  # no request line of the reporter's own pages
    _check_logs(
        log,
        numbers=[t.tracking_number for t in tips],
        receipts=[web_receipt, spoken_receipt],
        ids=[t.id for t in tips if t.id],
    )
