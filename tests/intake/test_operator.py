"""The hotline operator's call: history, suggestion, overrides with reasons, split filings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from routing.corrections import labelled_examples
from schemas import Complaint, ComplaintEvent, RoutingCorrection
from schemas.enums import Channel, Kind, Role, Status
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

pytestmark = pytest.mark.usefixtures("sqlite_platform")

CALLER = "13812345678"
CALLER_E164 = "+8613812345678"
CALL = {
    "caller_phone": CALLER,
    "caller_name": "李秀英",  # a complaint's complainant, who must be named
    "text": "来电人反映在小店区某超市买的电动车充电器用了两天就冒烟，要求退货赔偿。",
    "business_name": "某某超市",
    "business_address": "太原市小店区亲贤北街8号",
}


@pytest.fixture
def operator(client: TestClient, session: Session) -> dict[str, str]:
    add_staff(session, "op", Role.operator)
    return bearer(client, "op")


def test_an_operator_sees_the_callers_earlier_filings(
    client: TestClient, operator: dict[str, str]
) -> None:
    web = client.post("/api/v1/complaints", json=valid_filing(contact_phone=CALLER)).json()
    client.post("/api/v1/complaints", json=valid_filing(contact_phone="13900001111"))
    history = client.get(f"/api/v1/operator/callers/{CALLER}/filings", headers=operator).json()
    assert history["caller_phone"] == "+8613812345678"
    assert [f["tracking_number"] for f in history["data"]] == [web["tracking_number"]]
    assert history["data"][0]["channel"] == "web"
    bad = client.get("/api/v1/operator/callers/12345/filings", headers=operator)
    assert bad.status_code == 422


def test_a_call_is_filed_on_the_hotline_channel_and_routed_by_the_suggestion(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    suggestion = client.post(
        "/api/v1/classify", json={"text": CALL["text"]}, headers=operator
    ).json()
    answer = client.post("/api/v1/operator/calls", json=CALL, headers=operator)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind_detected"] == "complaint"
    [filed] = body["filings"]
    run_worker_until_idle()
    complaint = session.exec(select(Complaint)).one()
    assert complaint.channel is Channel.hotline
    assert complaint.contact_phone == "+8613812345678"
    first = session.exec(select(ComplaintEvent).order_by(col(ComplaintEvent.id))).first()
    assert first is not None
    assert (first.actor, first.payload["operator"]) == ("staff:op", "op")
    tracked = client.get(f"/api/v1/track/{filed['tracking_number']}").json()
    assert tracked["department"]["code"] == suggestion["department"]["code"]
    assert session.exec(select(RoutingCorrection)).all() == []


def test_a_call_asking_how_to_report_is_filed_as_an_inquiry_not_a_tip_off(
    client: TestClient, operator: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/operator/calls",
        json={"caller_phone": CALLER, "text": "请问一下怎么举报传销组织？"},
        headers=operator,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["kind_detected"] == "inquiry"


def test_an_override_routes_where_the_operator_says_and_teaches_the_classifier(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    call = CALL | {
        "department": "aic",
        "place": "山西省大同市",
        "override_reason": "来电人补充：商家在大同，主要是虚假宣传",
    }
    number = client.post("/api/v1/operator/calls", json=call, headers=operator).json()["filings"][
        0
    ]["tracking_number"]
    run_worker_until_idle()
    tracked = client.get(f"/api/v1/track/{number}").json()
    assert tracked["department"]["code"] == "aic"
    assert tracked["office"] == "大同市工商行政管理局"
    correction = session.exec(select(RoutingCorrection)).one()
    assert (correction.to_department, correction.source) == ("aic", "operator")
    assert correction.from_department == "quality"  # what the classifier alone would have done
    complaint = session.exec(select(Complaint)).one()
    assert complaint.routing_hints["reason"] == "来电人补充：商家在大同，主要是虚假宣传"


def test_an_operator_confirming_the_suggestion_gives_a_labelled_example(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    suggested = client.post("/api/v1/classify", json={"text": CALL["text"]}, headers=operator)
    assert suggested.json()["department"]["code"] == "quality"
    call = CALL | {"department": "quality", "override_reason": "来电人确认是充电器质量问题"}
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 201, answer.text
    run_worker_until_idle()
    correction = session.exec(select(RoutingCorrection)).one()
    assert (correction.from_department, correction.to_department, correction.source) == (
        "quality",
        "quality",
        "operator_confirmed",
    )
    assert [label for _, label in labelled_examples(session)] == ["quality"]


def test_an_operator_sending_a_call_to_triage_teaches_no_triage_label(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    call = CALL | {"department": "triage", "override_reason": "来电人说不清楚，交分拣"}
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 201, answer.text
    run_worker_until_idle()
    assert session.exec(select(Complaint)).one().status is Status.triage
    assert session.exec(select(RoutingCorrection)).all() == []
    assert labelled_examples(session) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"department": "aic"}, "override_reason is required"),
        ({"place": "大同市"}, "override_reason is required"),
        ({"kind": "inquiry"}, "give override_reason"),
        ({"department": "nope", "override_reason": "理由"}, "no active department"),
        ({"split": True, "kind": "tip"}, "leave kind out"),
        ({"caller_phone": "123"}, "caller_phone"),
        ({"status": "routed"}, "unknown field"),
    ],
)
def test_bad_calls_are_refused_and_nothing_is_filed(
    client: TestClient,
    operator: dict[str, str],
    session: Session,
    changes: dict[str, object],
    message: str,
) -> None:
    answer = client.post("/api/v1/operator/calls", json=CALL | changes, headers=operator)
    assert answer.status_code == 422, answer.text
    assert message in answer.text
    assert session.exec(select(Complaint)).all() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "complaint"},
        {},  # detected as a complaint
        {"kind": "tip", "override_reason": "来电人要求查处"},
        {"split": True},
    ],
    ids=["complaint", "detected-complaint", "tip", "split"],
)
def test_a_hotline_complaint_or_tip_off_needs_the_business_as_a_web_one_does(
    client: TestClient, operator: dict[str, str], session: Session, changes: dict[str, object]
) -> None:
    web = client.post("/api/v1/complaints", json=valid_filing(business_name=None))
    assert web.status_code == 422  # business_name is required for a complaint or a tip-off
    call = {k: v for k, v in CALL.items() if k != "business_name"} | changes
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "business_name", answer.json()
    assert session.exec(select(Complaint)).all() == []


def test_a_hotline_inquiry_needs_no_business(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    call = {
        "caller_phone": CALLER,
        "text": "请问在网上买的衣服七天无理由退货，运费应该由谁承担？怎么申请？",
        "kind": "inquiry",
        "override_reason": "来电人只是咨询",
    }
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 201, answer.text
    assert session.exec(select(Complaint)).one().kind is Kind.inquiry


def test_a_kind_override_with_a_reason_is_kept(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    call = CALL | {"kind": "inquiry", "override_reason": "来电人只是想问问怎么退货"}
    assert client.post("/api/v1/operator/calls", json=call, headers=operator).status_code == 201
    complaint = session.exec(select(Complaint)).one()
    assert complaint.kind is Kind.inquiry


def test_a_mixed_call_is_split_into_a_complaint_and_a_tip_off(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    call = CALL | {
        "text": "在某超市买的充电器冒烟要求赔偿，另外举报该超市销售三无产品，请依法查处",
        "split": True,
    }
    body = client.post("/api/v1/operator/calls", json=call, headers=operator).json()
    assert sorted(f["kind"] for f in body["filings"]) == ["complaint", "tip"]
    run_worker_until_idle()
    filings = session.exec(select(Complaint).order_by(col(Complaint.id))).all()
    assert [f.kind for f in filings] == [Kind.complaint, Kind.tip]
    assert all(f.status is Status.routed for f in filings)
    links = session.exec(
        select(ComplaintEvent).where(col(ComplaintEvent.reason).contains("split"))
    ).all()
    assert sorted(e.complaint_id for e in links) == [filings[0].id, filings[1].id]
    # No cross-reference: the complaint carries the caller's number; the tip-off must not
    # lead its department to it. The caller's number is in the vault, not on the tip-off.
    assert all("pair" not in e.payload for e in links)
    assert filings[0].contact_phone == CALLER_E164
    assert filings[1].contact_phone is None
    tip_ref = next(f for f in body["filings"] if f["kind"] == "tip")
    assert len(tip_ref["receipt_code_display"].replace(" ", "")) == 24
    assert all(f["receipt_code_display"] is None for f in body["filings"] if f["kind"] != "tip")


def test_only_operators_and_supervisors_take_calls(client: TestClient, session: Session) -> None:
    add_staff(session, "zj", Role.department, "quality")
    headers = bearer(client, "zj")
    assert client.post("/api/v1/operator/calls", json=CALL, headers=headers).status_code == 403
    assert (
        client.get(f"/api/v1/operator/callers/{CALLER}/filings", headers=headers).status_code == 403
    )
    assert client.post("/api/v1/operator/calls", json=CALL).status_code == 401
    assert session.exec(select(Complaint)).all() == []


def test_an_operator_retry_with_the_same_key_files_once(
    client: TestClient, operator: dict[str, str], session: Session
) -> None:
    headers = operator | {"Idempotency-Key": "call-1"}
    first = client.post("/api/v1/operator/calls", json=CALL, headers=headers)
    again = client.post("/api/v1/operator/calls", json=CALL, headers=headers)
    assert first.json() == again.json()
    assert len(session.exec(select(Complaint)).all()) == 1


@pytest.mark.parametrize("key", ["", "x" * 201])
def test_an_operator_call_with_a_malformed_key_is_refused_and_files_nothing(
    client: TestClient, operator: dict[str, str], session: Session, key: str
) -> None:
    answer = client.post(
        "/api/v1/operator/calls", json=CALL, headers=operator | {"Idempotency-Key": key}
    )
    assert answer.status_code == 422
    assert "Idempotency-Key" in answer.json()["detail"]
    assert session.exec(select(Complaint)).all() == []
