"""The reporter's side: follow a tip-off, answer questions, by receipt code, on the web or by SMS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.db import get_engine
from schemas import Complaint, ComplaintEvent, SmsInbound, SmsOutbound
from schemas.enums import Kind, Role
from tests.conftest import RunningGateway, Templates, migrated_platform
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

PATH_TOKEN = "follow-up-path-token"
TEXT = "举报太原市小店区某某电梯维保公司伪造电梯年检报告，涉及十几个小区，请依法查处。"


@pytest.fixture
def desk(
    configure: Callable[..., None],
    sqlite_url: str,
    redis_url: str,
    templates: Templates,
    sms_gateway: RunningGateway,
) -> RunningGateway:
    migrated_platform(
        configure,
        sqlite_url,
        redis_url,
        templates,
        sms_path_token=PATH_TOKEN,
        sms_provider="loopback",
        sms_gateway_url=sms_gateway.url,
    )
    with Session(get_engine()) as session:
        add_staff(session, "zj", Role.department, "quality")
        session.commit()
    return sms_gateway


def _tip(client: TestClient, **reporter: str) -> tuple[str, int, str]:
    body = valid_filing(kind="tip", text=TEXT, business_name="某某电梯维保公司")
    del body["contact_phone"]
    if reporter:
        body["reporter"] = reporter
    created = client.post("/api/v1/complaints", json=body).json()
    run_worker_until_idle()
    with Session(get_engine(read_only=True)) as session:
        complaint = session.exec(
            select(Complaint).where(Complaint.tracking_number == created["tracking_number"])
        ).one()
    assert complaint.id is not None
    return created["receipt_code"], complaint.id, created["tracking_number"]


def test_a_tip_off_is_not_tracked_by_its_number_but_by_its_receipt(
    desk: RunningGateway, client: TestClient
) -> None:
    code, _cid, number = _tip(client)
    hidden = client.get(f"/api/v1/track/{number}")
    assert hidden.status_code == 404
    assert "receipt code" in hidden.json()["detail"]
    view = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code}).json()
    assert view["case"]["status"] == "routed"
    assert view["case"]["department"]["code"] == "quality"
    assert view["questions"] == []
    assert view["reward"] is None
    assert view["identity_on_file"] is False
    # Days only on the reporter's timeline, too.
    assert all(step["at"].endswith("T16:00:00Z") for step in view["case"]["timeline"])


def test_the_department_asks_the_reporter_answers_by_code(
    desk: RunningGateway, client: TestClient, session: Session
) -> None:
    code, cid, _number = _tip(client, phone="13700001234")
    zj = bearer(client, "zj")
    asked = client.post(
        f"/api/v1/complaints/{cid}/actions/ask_reporter",
        json={"question": "请说明伪造报告涉及哪些小区"},
        headers=zj,
    )
    assert asked.status_code == 200, asked.text
    run_worker_until_idle()
    # The reporter who left a number is texted, without the question itself.
    texts = [m for m in desk.inbox.all() if m["to"] == "+8613700001234"]
    assert len(texts) == 1
    assert "回执码" in texts[0]["text"]
    view = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code}).json()
    assert [q["question"] for q in view["questions"]] == ["请说明伪造报告涉及哪些小区"]
    answer = client.post(
        "/api/v1/tipoffs/answers",
        json={"receipt_code": code, "text": "涉及阳光小区和康宁小区，我电话13700001234"},
    )
    assert answer.status_code == 201
    staff_view = client.get(f"/api/v1/complaints/{cid}", headers=zj).json()
    answers = [e for e in staff_view["history"] if e["reason"] == "reporter answered"]
    assert answers[0]["payload"]["text"] == "涉及阳光小区和康宁小区，我电话［已隐去］"
    assert answers[0]["actor"] == "reporter"
    wrong = client.post("/api/v1/tipoffs/answers", json={"receipt_code": "1" * 24, "text": "猜的"})
    assert wrong.status_code == 404


def test_a_reporter_asks_by_sms_with_the_receipt_code(
    desk: RunningGateway, client: TestClient, session: Session
) -> None:
    code, _cid, _number = _tip(client)
    spaced = " ".join(code[i : i + 4] for i in range(0, 24, 4))
    for seq, content in (("q-1", f"查询 {spaced}"), ("q-2", f"查询{'9' * 24}")):
        client.post(
            f"/api/v1/sms/aliyun/{PATH_TOKEN}",
            json=[
                {
                    "phone_number": "13600005555",
                    "content": content,
                    "send_time": "2026-11-28 10:00:00",
                    "dest_code": "12315",
                    "sequence_id": seq,
                }
            ],
        )
    run_worker_until_idle()
    replies = [m["text"] for m in desk.inbox.all() if m["to"] == "+8613600005555"]
    assert any("您的举报：已分派至承办部门" in r for r in replies), replies
    assert any("回执码不正确" in r for r in replies), replies
    # Neither delivery keeps the number, the text (the code) or the time.
    inbound = session.exec(select(SmsInbound).order_by(col(SmsInbound.id))).all()
    assert [(m.sender, m.text, m.outcome) for m in inbound] == [(None, None, "query")] * 2
    outbound = session.exec(select(SmsOutbound)).all()
    assert all(m.to_number is None and m.body is None for m in outbound)
    assert all(m.sealed_ciphertext is None and m.state == "sent" for m in outbound)


def test_a_tip_off_by_sms_gets_its_receipt_code_by_sms(
    desk: RunningGateway, client: TestClient, session: Session
) -> None:
    client.post(
        f"/api/v1/sms/aliyun/{PATH_TOKEN}",
        json=[
            {
                "phone_number": "13500004444",
                "content": TEXT,
                "send_time": "2026-11-28 10:00:00",
                "dest_code": "12315",
                "sequence_id": "tip-1",
            }
        ],
    )
    run_worker_until_idle()
    (reply,) = [m["text"] for m in desk.inbox.all() if m["to"] == "+8613500004444"]
    digits = "".join(ch for ch in reply.split("回执码")[1] if ch.isdigit())[:24]
    tip = session.exec(select(Complaint)).one()
    assert tip.kind is Kind.tip
    assert tip.contact_phone is None
    view = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": digits})
    assert view.status_code == 200, view.text
    events = session.exec(select(ComplaintEvent)).all()
    assert "13500004444" not in repr([e.payload for e in events])


def test_staff_see_a_complainants_number_masked_and_reading_it_is_audited(
    desk: RunningGateway, client: TestClient, session: Session
) -> None:
    from schemas import AuditEntry

    client.post("/api/v1/complaints", json=valid_filing())
    run_worker_until_idle()
    complaint = session.exec(select(Complaint)).one()
    zj = bearer(client, "zj")
    view = client.get(f"/api/v1/complaints/{complaint.id}", headers=zj).json()
    assert view["contact_phone"] == "138****5678"
    full = client.post(f"/api/v1/complaints/{complaint.id}/contact", headers=zj)
    assert full.json() == {"contact_phone": "+8613812345678"}
    reads = session.exec(select(AuditEntry).where(AuditEntry.action == "contact.read")).all()
    assert [(r.username, r.complaint_id) for r in reads] == [("zj", complaint.id)]
