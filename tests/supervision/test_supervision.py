"""Quality supervisors: appointed and revoked by supervisors, filing with identity attached
through the web, SMS and the hotline, and a track record that counts what happened."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cases.lifecycle import Actor, transition
from core.db import get_engine
from schemas import AuditEntry, Complaint, SupervisorInspection
from schemas.enums import Role, Status
from tests.conftest import SMS_PATH_TOKEN
from tests.helpers import add_staff, bearer, valid_filing
from tests.intake.test_complaint_content import CONTENT

PHONE = "13900000001"
APPOINTMENT = {
    "username": "qs1",
    "name": "王监督",
    "phone": PHONE,
    "region": "太原市小店区",
    "sectors": ["product_quality", "special_equipment"],
}
TEXT = "我在小店区某商场买的电热水壶用了两天就坏了，商家不给退货，要求退款赔偿。"
TIP_TEXT = "在小店区某商场巡查时发现在售电热水壶无3C认证标志，铭牌信息不全，请依法检查处理。"


ON_BOTH = pytest.mark.usefixtures("sms_platform")
ON_SQLITE = pytest.mark.usefixtures("sqlite_sms_platform")


@pytest.fixture
def boss(client: TestClient, session: Session) -> dict[str, str]:
    add_staff(session, "boss", Role.supervisor)
    add_staff(session, "qs1", Role.quality_supervisor)
    return bearer(client, "boss")


def _appoint(client: TestClient, boss: dict[str, str], **changes: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/quality-supervisors", json=APPOINTMENT | changes, headers=boss)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _sms(client: TestClient, text: str, time: int) -> None:
    body = {"mobile": PHONE, "nationcode": "86", "sign": "12315", "text": text, "time": time}
    assert client.post(f"/api/v1/sms/tencent/{SMS_PATH_TOKEN}", json=body).status_code == 200


def _supervisor_filing(**changes: Any) -> dict[str, Any]:
    defaults = {
        "text": TEXT,
        "contact_phone": PHONE,
        "product": {"gtin": "6901234567892", "batch": "B7"},
        "inspection": {"place": "小店区某商场二楼", "inspected_at": "2026-12-01T10:30:00+08:00"},
    }
    return valid_filing(**(defaults | changes))


@ON_SQLITE
def test_a_supervisor_files_on_every_channel_with_identity_and_priority(
    client: TestClient, session: Session, boss: dict[str, str]
) -> None:
    appointed = _appoint(client, boss)
    assert (appointed["active"], appointed["appointed_by"]) == (True, "boss")
    assert appointed["phone"] == "139****0001"
    mine = bearer(client, "qs1")
    web = client.post(
        "/api/v1/quality-supervision/filings", json=_supervisor_filing(**CONTENT), headers=mine
    )
    assert web.status_code == 201, web.text
    _sms(client, TEXT, 1795000000)
    add_staff(session, "op", Role.operator)
    call = {"caller_phone": PHONE, "caller_name": "王监督", "text": TEXT, "business_name": "某商场"}
    hotline = client.post("/api/v1/operator/calls", json=call, headers=bearer(client, "op"))
    assert hotline.status_code == 201, hotline.text
    client.post("/api/v1/complaints", json=valid_filing(text=TEXT))  # an ordinary citizen
    filings = session.exec(select(Complaint).order_by(col(Complaint.id))).all()
    marked = [(c.channel.value, c.quality_supervisor_id, c.priority) for c in filings]
    assert marked == [
        ("web", appointed["id"], 1),
        ("sms", appointed["id"], 1),
        ("hotline", appointed["id"], 1),
        ("web", None, 0),
    ]
    # The supervisor's complaint carries its content as a citizen's does.
    assert {key: str(getattr(filings[0], key)) for key in CONTENT} == CONTENT
    inspection = session.exec(select(SupervisorInspection)).one()
    assert inspection.place == "小店区某商场二楼"
    assert inspection.inspected_at is not None
    assert inspection.inspected_at.hour == 2  # 10:30 China time, stored in UTC
    staff_view = client.get(f"/api/v1/complaints/{filings[0].id}", headers=boss).json()
    assert (staff_view["quality_supervisor_id"], staff_view["priority"]) == (appointed["id"], 1)
    assert staff_view["inspection"]["place"] == "小店区某商场二楼"
    assert staff_view["product"]["gtin"] == "06901234567892"
    home = client.get("/api/v1/quality-supervision/me", headers=mine).json()
    assert home["supervisor"]["record"]["filings"] == 3
    assert [f["channel"] for f in home["filings"]] == ["hotline", "sms", "web"]


@ON_SQLITE
def test_a_tip_off_is_marked_only_when_filed_openly_on_the_supervisors_route(
    client: TestClient, session: Session, boss: dict[str, str]
) -> None:
    appointed = _appoint(client, boss)
    tip = _supervisor_filing(kind="tip", text=TIP_TEXT)
    filed = client.post(
        "/api/v1/quality-supervision/filings", json=tip, headers=bearer(client, "qs1")
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["tracking_url"] is None
    _sms(client, TIP_TEXT, 1795000000)  # texted: an ordinary, anonymous tip-off
    web, sms = session.exec(select(Complaint).order_by(col(Complaint.id))).all()
    assert (web.kind.value, web.quality_supervisor_id, web.contact_phone) == (
        "tip",
        appointed["id"],
        None,
    )
    assert (sms.kind.value, sms.quality_supervisor_id, sms.contact_phone) == ("tip", None, None)


@ON_SQLITE
def test_a_revoked_supervisor_no_longer_files_as_one(
    client: TestClient, session: Session, boss: dict[str, str]
) -> None:
    appointed = _appoint(client, boss)
    mine = bearer(client, "qs1")
    revoked = client.post(
        f"/api/v1/quality-supervisors/{appointed['id']}/revocation",
        json={"reason": "本人申请辞去监督员"},
        headers=boss,
    )
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["active"], revoked.json()["revoked_by"]) == (False, "boss")
    again = client.post(
        f"/api/v1/quality-supervisors/{appointed['id']}/revocation",
        json={"reason": "重复"},
        headers=boss,
    )
    assert again.status_code == 409
    web = client.post(
        "/api/v1/quality-supervision/filings", json=_supervisor_filing(), headers=mine
    )
    assert web.status_code == 403
    assert "no longer" in web.json()["detail"]
    _sms(client, TEXT, 1795000100)  # filed, as an ordinary citizen's text
    sms = session.exec(select(Complaint)).one()
    assert (sms.quality_supervisor_id, sms.priority) == (None, 0)
    actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert actions == ["appoint_quality_supervisor", "revoke_quality_supervisor"]
    # Appointed anew: a new record, and the number files as a supervisor's again.
    _appoint(client, boss)
    _sms(client, TEXT, 1795000200)
    latest = session.exec(select(Complaint).order_by(col(Complaint.id).desc())).first()
    assert latest is not None
    assert latest.quality_supervisor_id is not None


@ON_BOTH
def test_the_track_record_counts_match(
    client: TestClient, session: Session, boss: dict[str, str]
) -> None:
    appointed = _appoint(client, boss)
    mine = bearer(client, "qs1")
    for _ in range(4):
        answer = client.post(
            "/api/v1/quality-supervision/filings", json=_supervisor_filing(), headers=mine
        )
        assert answer.status_code == 201
    staff = Actor.system("test")
    with Session(get_engine()) as work:
        first, second, third, _fourth = work.exec(select(Complaint).order_by(col(Complaint.id)))
        for complaint, path in (
            (first, [Status.routed, Status.accepted]),
            (second, [Status.routed, Status.refused, Status.closed]),
            (third, [Status.routed, Status.accepted, Status.mediating, Status.resolved]),
        ):
            for status in path:
                transition(work, complaint=complaint, to_status=status, actor=staff, reason="t")
        work.commit()
    record = client.get(f"/api/v1/quality-supervisors/{appointed['id']}", headers=boss).json()
    counts = {k: v for k, v in record["record"].items() if k != "average_handling_days"}
    assert counts == {"filings": 4, "confirmed": 2, "refused": 1, "closed": 1}
    # Closed within the test: well under a minute from filing to closing.
    assert 0 <= record["record"]["average_handling_days"] < 1 / (24 * 60)
    listed = client.get("/api/v1/quality-supervisors?active=true", headers=boss).json()
    assert listed["count"] == 1
    assert listed["data"][0]["record"]["filings"] == 4
    assert client.get("/api/v1/quality-supervision/me", headers=mine).status_code == 200


@ON_SQLITE
def test_only_supervisors_appoint_and_bad_input_says_why(
    client: TestClient, session: Session, boss: dict[str, str]
) -> None:
    add_staff(session, "clerk", Role.department, department="quality")
    clerk = bearer(client, "clerk")
    denied = client.post("/api/v1/quality-supervisors", json=APPOINTMENT, headers=clerk)
    assert denied.status_code == 403
    assert client.get("/api/v1/quality-supervisors", headers=clerk).status_code == 403
    unknown = client.post(
        "/api/v1/quality-supervisors", json=APPOINTMENT | {"sectors": ["spaceships"]}, headers=boss
    )
    assert unknown.status_code == 422
    assert "spaceships" in unknown.json()["detail"]
    wrong_role = client.post(
        "/api/v1/quality-supervisors", json=APPOINTMENT | {"username": "clerk"}, headers=boss
    )
    assert wrong_role.status_code == 422
    assert "role quality_supervisor" in wrong_role.json()["detail"]
    _appoint(client, boss)
    twice = client.post("/api/v1/quality-supervisors", json=APPOINTMENT, headers=boss)
    assert twice.status_code == 409
    mine = bearer(client, "qs1")
    tip = _supervisor_filing(kind="tip", text=TIP_TEXT, reporter={"name": "王监督"})
    refused = client.post("/api/v1/quality-supervision/filings", json=tip, headers=mine)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reporter"
    nameless = _supervisor_filing(complainant_name=None)  # a complaint names its complainant
    refused = client.post("/api/v1/quality-supervision/filings", json=nameless, headers=mine)
    assert [e["field"] for e in refused.json()["errors"]] == ["complainant_name"]
    bad_code = _supervisor_filing(product={"gtin": "12345678"})
    answer = client.post("/api/v1/quality-supervision/filings", json=bad_code, headers=mine)
    assert answer.status_code == 422
    assert "check digit" in answer.text
    assert session.exec(select(Complaint)).all() == []
