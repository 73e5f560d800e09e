"""Anonymity that holds: a canary reporter files a tip-off through every channel, and then
the database, the stored files, the logs and the job payloads are searched for them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from core import migrate
from core.db import get_engine
from core.timeutil import as_china
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from schemas import Complaint
from schemas.enums import Kind, Role
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing
from tests.intake.test_attachments_and_limits import png_bytes
from workers.queues import ALL_QUEUES

NAME = "甄金丝雀"
PHONE = "13900007777"
ID_NUMBER = "11010519491231002X"
BANK_ACCOUNT = "6222020200112233445"
AGENT = "CanaryBrowser/9.9 (Mozilla)"
FORWARDED = "203.0.113.77"
PATH_TOKEN = "privacy-path-token"
CANARIES = [NAME, PHONE, "+86" + PHONE, ID_NUMBER, BANK_ACCOUNT, AGENT, FORWARDED, "testclient"]
TIP_TEXT = (
    "举报某某食品厂用过期原料生产月饼，我是该厂员工甄金丝雀，电话13900007777，可以提供进货单。"
)
# Rows about filings carry days only; these tables are about staff and the registry.
NOT_ABOUT_FILINGS = {
    "staff_users",
    "audit_log",
    "registry_loads",
    "departments",
    "offices",
    "department_webhooks",
    "odr_businesses",
    "alembic_version",
}


@pytest.fixture
def private_platform(
    configure: Callable[..., None], database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[Path]:
    configure(database_url=database_url, redis_url=redis_url, sms_path_token=PATH_TOKEN)
    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        add_staff(session, "op", Role.operator)
        add_staff(session, "zj", Role.department, "quality")
        add_staff(session, "gs", Role.department, "aic")
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
        reporter={
            "name": NAME,
            "id_number": ID_NUMBER,
            "bank_name": "中国工商银行",
            "bank_account": BANK_ACCOUNT,
        },
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
                "content": "举报：某某食品厂用过期原料生产月饼，仓库在小店区，请依法查处。",
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
            "text": "来电举报某某食品厂用过期原料生产月饼，来电人不愿公开身份。",
            "business_name": "某某食品厂",
        },
        headers=headers | bearer(client, "op"),
    )
    assert call.status_code == 201, call.text
    return [web.json()["receipt_code"], call.json()["filings"][0]["receipt_code_display"]]


def _job_payloads(redis_url: str) -> list[str]:
    connection = Redis.from_url(redis_url)
    texts = []
    for name in ALL_QUEUES:
        for job_id in Queue(name, connection=connection).job_ids:
            job = Job.fetch(job_id, connection=connection)
            texts.append(repr((job.id, job.description, job.args, job.kwargs, job.meta)))
    return texts


def _dump(session: Session) -> list[tuple[str, str, Any]]:
    """Every value of every column of every table: (table, column, value)."""
    values = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            values += [(table.name, column, value) for column, value in row.items()]
    return values


def _leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


def test_a_canary_reporter_leaves_no_trace(
    private_platform: Path,
    redis_url: str,
    database_url: str,
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    receipts = _file_through_every_channel(client)
    assert all(receipts)
    payloads = _job_payloads(redis_url)
    assert payloads, "jobs were queued"
    assert _leaks("\n".join(payloads)) == []
    assert all("args" not in p or "举报" not in p for p in payloads)

    run_worker_until_idle()
    zj = bearer(client, "zj")
    with Session(get_engine(read_only=True)) as session:
        tips = session.execute(select(Complaint).where(Complaint.kind == Kind.tip)).scalars().all()
        assert len(tips) == 3
        tip_ids = [t.id for t in tips]
        numbers = [t.tracking_number for t in tips]
    for tip_id in tip_ids:  # the department asks; the reporter who left a number is texted
        client.post(
            f"/api/v1/complaints/{tip_id}/actions/ask_reporter",
            json={"question": "请补充进货单照片"},
            headers=zj,
        )
    run_worker_until_idle()

    with Session(get_engine(read_only=True)) as session:
        dump = _dump(session)
    text = "\n".join(f"{t}.{c}={v!r}" for t, c, v in dump)
    assert _leaks(text) == [], "canary in the database"
    for _table, _column, value in dump:
        if isinstance(value, bytes):  # sealed values are ciphertext, nothing readable
            for canary in CANARIES:
                assert canary.encode() not in value
    # Days, never a time of day, on every row about a filing.
    for table, column, value in dump:
        if isinstance(value, datetime) and table not in NOT_ABOUT_FILINGS:
            assert as_china(value).time() == time(0), (table, column, value)
    # The reporter's own words reach the department scrubbed of who they are.
    assert any("［已隐去］" in str(v) for t, c, v in dump if (t, c) == ("complaints", "text"))

    data_dir = private_platform
    for path in data_dir.rglob("*"):
        assert _leaks(path.name) == [], path
        if path.is_file() and "attachments" in path.parts:
            assert _leaks(path.read_bytes().decode("latin-1")) == []
    if database_url.startswith("sqlite"):
        raw = Path(database_url.removeprefix("sqlite:///"))
        for part in (raw, raw.with_name(raw.name + "-wal")):
            if part.exists():
                content = part.read_bytes()
                for canary in CANARIES:
                    assert canary.encode() not in content, (part.name, canary)

    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert _leaks(logged) == [], "canary in the logs"
    for number in numbers:
        assert number not in logged
    for tip_id in tip_ids:
        assert f"complaint {tip_id}" not in logged
    # Finished jobs are gone from Redis: nothing there ties a filing to a time of day.
    connection = Redis.from_url(redis_url)
    assert [k for k in connection.scan_iter("rq:job:*")] == []


def test_department_routes_show_no_identity_of_a_tip_off(
    private_platform: Path, client: TestClient
) -> None:
    _file_through_every_channel(client)
    run_worker_until_idle()
    zj, gs = bearer(client, "zj"), bearer(client, "gs")
    answers: list[Any] = []
    with Session(get_engine(read_only=True)) as session:
        tips = session.execute(select(Complaint).where(Complaint.kind == Kind.tip)).scalars().all()
    for tip in tips:
        assert tip.department_id is not None
        for headers in (zj, gs):
            answers.append(client.get(f"/api/v1/complaints/{tip.id}", headers=headers))
            answers.append(client.get(f"/api/v1/track/{tip.tracking_number}", headers=headers))
        answers.append(
            client.post(
                f"/api/v1/complaints/{tip.id}/actions/note", json={"text": "核查中"}, headers=zj
            )
        )
        answers.append(
            client.post(
                f"/api/v1/complaints/{tip.id}/actions/start_verification", json={}, headers=zj
            )
        )
        detail = client.get(f"/api/v1/complaints/{tip.id}", headers=zj).json()
        for attachment in detail.get("attachments", []):
            answers.append(client.get(attachment["url"], headers=zj))
        answers.append(
            client.post(
                f"/api/v1/vault/tipoffs/{tip.id}/identity",
                json={"reason": "想知道是谁举报的"},
                headers=zj,
            )
        )
    for path in ("/api/v1/queue", "/api/v1/deadlines/breached", "/api/v1/stats/satisfaction"):
        answers.append(client.get(path, headers=zj))
    answers.append(client.get(f"/api/v1/operator/callers/{PHONE}/filings", headers=zj))
    assert any(a.status_code == 200 for a in answers)
    for answer in answers:
        body = answer.content.decode("utf-8", "replace")
        assert _leaks(body) == [], (answer.url, body[:300])
        for field in ("id_number", "bank_account", "bank_name", "reporter", "receipt"):
            assert f'"{field}' not in body, (answer.url, field)
        if answer.headers.get("content-type", "").startswith("application/json"):
            _no_contact(answer.json())


def _no_contact(value: Any) -> None:
    if isinstance(value, dict):
        if value.get("kind") == "tip":
            assert value.get("contact_phone") is None, value
        for inner in value.values():
            _no_contact(inner)
    elif isinstance(value, list):
        for inner in value:
            _no_contact(inner)
