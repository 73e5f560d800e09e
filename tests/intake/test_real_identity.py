"""SAMR Order 121: a complaint is made under the complainant's real name (policy
intake.complaint_requires_name). Every channel that can carry a name refuses a complaint
without one, naming the field; a tip-off stays anonymous and an inquiry needs none. An SMS
cannot carry a name: its complaint is filed, marked for the department to obtain it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cases.policy import DEFAULT_POLICY, forget_policy
from core.settings import get_settings
from routing.tasks import route_complaint
from schemas import Complaint, ComplaintEvent
from schemas.enums import Kind, Role
from tests.conftest import SMS_PATH_TOKEN
from tests.helpers import add_staff, bearer, form_token, valid_filing
from tests.helpers import sign_in_page as page_sign_in
from tests.intake.test_operator import CALL

pytestmark = pytest.mark.usefixtures("sqlite_sms_platform")

NAMELESS = valid_filing(complainant_name=None)
SMS_TEXT = "我在太原市小店区某某超市买的牛奶过期了，要求退款，商家不给退"


def _complaints(session: Session) -> list[Complaint]:
    return list(session.exec(select(Complaint).order_by(col(Complaint.id))).all())


@pytest.fixture
def names_optional(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The policy with the switch off, as before Order 121."""
    policy = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    policy["intake"]["complaint_requires_name"] = False
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("COMPLAINTS_POLICY_FILE", str(path))
    get_settings.cache_clear()
    forget_policy()
    yield
    forget_policy()


def test_the_api_refuses_a_complaint_without_the_name_and_says_which_field(
    client: TestClient, session: Session
) -> None:
    refused = client.post("/api/v1/complaints", json=NAMELESS)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "complainant_name"
    assert "real name" in error["reason"]
    blank = client.post("/api/v1/complaints", json=valid_filing(complainant_name="   "))
    assert [e["field"] for e in blank.json()["errors"]] == ["complainant_name"]
    assert _complaints(session) == []
    # A tip-off may be anonymous; an inquiry needs no name.
    tip = valid_filing(kind="tip", contact_phone=None)
    assert client.post("/api/v1/complaints", json=tip).status_code == 201
    inquiry = valid_filing(kind="inquiry", text="请问网购商品七天无理由退货从哪天开始算？")
    assert client.post("/api/v1/complaints", json=inquiry).status_code == 201
    assert [c.kind for c in _complaints(session)] == [Kind.tip, Kind.inquiry]


def _requiring(client: TestClient, schema: str, field: str) -> list[Any]:
    """The conditions under which the schema requires `field`."""
    rules = client.get("/openapi.json").json()["components"]["schemas"][schema]["allOf"]
    return [rule["if"] for rule in rules if field in str(rule.get("then", {}).get("allOf", []))]


def test_the_schema_states_the_rule(client: TestClient) -> None:
    for schema, field in (("ComplaintCreate", "complainant_name"), ("OperatorCall", "caller_name")):
        [condition] = _requiring(client, schema, field)
        assert "'complaint'" in str(condition), schema


def test_with_the_switch_off_a_complaint_may_leave_the_name_out(
    names_optional: None, session: Session
) -> None:
    from service.app import create_app

    with TestClient(create_app()) as client:
        assert client.post("/api/v1/complaints", json=NAMELESS).status_code == 201
        assert _requiring(client, "ComplaintCreate", "complainant_name") == []
    [event] = session.exec(select(ComplaintEvent)).all()
    assert "missing" not in event.payload


def test_the_filing_form_shows_the_message_next_to_the_name(
    client: TestClient, session: Session
) -> None:
    form = client.get("/file")
    assert "必填，投诉须实名" in form.text
    data = {k: v for k, v in NAMELESS.items() if k != "region"}
    refused = client.post("/file", data=data | {"csrf_token": form_token(form.text)})
    assert refused.status_code == 422
    assert re.search(r'id="complainant_name-error">[^<]*投诉须实名', refused.text), refused.text
    assert 'aria-describedby="complainant_name-error"' in refused.text
    assert "电梯上个月困人两次" in refused.text  # nothing typed is lost
    assert _complaints(session) == []


@pytest.fixture
def operator(client: TestClient, session: Session) -> dict[str, str]:
    add_staff(session, "op", Role.operator)
    return bearer(client, "op")


@pytest.mark.parametrize(
    "change",
    [{}, {"kind": "complaint"}, {"split": True}],
    ids=["detected", "given", "split"],
)
def test_a_call_for_a_complaint_needs_the_callers_name(
    client: TestClient, session: Session, operator: dict[str, str], change: dict[str, Any]
) -> None:
    call = {k: v for k, v in CALL.items() if k != "caller_name"} | change
    refused = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["caller_name"]
    assert _complaints(session) == []


def test_a_tip_off_call_needs_no_name(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    call = {k: v for k, v in CALL.items() if k != "caller_name"}
    call |= {"kind": "tip", "override_reason": "来电人要举报超市销售不合格产品"}
    filed = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert filed.status_code == 201, filed.text
    assert [c.kind for c in _complaints(session)] == [Kind.tip]


def test_the_console_shows_the_message_next_to_the_callers_name(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "op", Role.operator)
    page_sign_in(client, "op")
    token = form_token(client.get("/staff/operator").text)
    call = {k: v for k, v in CALL.items() if k != "caller_name"}
    refused = client.post("/staff/operator/calls", data=call | {"csrf_token": token})
    assert refused.status_code == 422
    assert re.search(r'id="caller_name-error">[^<]*投诉须实名', refused.text), refused.text
    assert _complaints(session) == []


def _sms(client: TestClient, text: str) -> None:
    body = {"mobile": "13812345678", "nationcode": "86", "sign": "12315", "text": text}
    answer = client.post(f"/api/v1/sms/tencent/{SMS_PATH_TOKEN}", json=body | {"time": 1795000000})
    assert answer.status_code == 200, answer.text


def test_an_sms_complaint_is_filed_without_a_name_and_marked_for_the_department(
    client: TestClient, session: Session
) -> None:
    _sms(client, SMS_TEXT)
    [complaint] = _complaints(session)
    assert (complaint.kind, complaint.complainant_name) == (Kind.complaint, None)
    assert complaint.id is not None
    first = session.exec(select(ComplaintEvent)).first()
    assert first is not None
    assert first.payload["missing"] == ["complainant_name"]
    assert route_complaint(complaint.id)
    add_staff(session, "boss", Role.supervisor)
    page_sign_in(client, "boss")
    desk = client.get(f"/staff/desk/{complaint.id}").text
    assert "缺少必要信息：投诉人姓名（投诉须实名，请联系投诉人补充）" in desk
    # The reply the SMS asked for completes it, and the history says so.
    _sms(client, "姓名王芳")
    session.refresh(complaint)
    assert complaint.complainant_name == "王芳"
    assert "已补充：投诉人姓名" in client.get(f"/staff/desk/{complaint.id}").text
    # A tip-off by SMS is not marked: it may stay anonymous.
    _sms(client, "举报某某厂无证生产电动车充电器，存在起火隐患，请依法查处。")
    tip = session.exec(select(Complaint).where(Complaint.kind == Kind.tip)).one()
    events = session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == tip.id))
    assert all("missing" not in e.payload for e in events)
