"""POST /api/v1/complaints: what it accepts, what it refuses and why, and that refusals store nothing."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from schemas import Complaint, ComplaintEvent, OutboxMessage
from tests.helpers import valid_filing

pytestmark = pytest.mark.usefixtures("sqlite_platform")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _stored(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.exec(select(func.count()).select_from(table)).one()
        for table in (Complaint, ComplaintEvent, OutboxMessage)
    )


def test_a_valid_filing_is_stored_with_its_first_event_and_routing_job(
    client: TestClient, session: Session
) -> None:
    answer = client.post("/api/v1/complaints", json=valid_filing())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "received"
    assert len(body["tracking_number"]) == 14
    assert body["tracking_number_display"].replace(" ", "") == body["tracking_number"]
    assert body["tracking_url"].endswith(f"/api/v1/track/{body['tracking_number']}")
    assert _stored(session) == (1, 1, 2)
    complaint = session.exec(select(Complaint)).one()
    assert complaint.contact_phone == "+8613812345678"
    assert complaint.channel == "web"
    jobs = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
    assert [(j.job, j.args) for j in jobs] == [
        ("routing.tasks.route_complaint", [complaint.id]),
        ("intake.tasks.find_duplicates", [complaint.id]),
    ]


def test_an_anonymous_tip_off_needs_no_phone(client: TestClient) -> None:
    body = valid_filing(kind="tip")
    del body["contact_phone"]
    assert client.post("/api/v1/complaints", json=body).status_code == 201


def test_an_inquiry_needs_no_business(client: TestClient) -> None:
    body = valid_filing(kind="inquiry", text="请问网购的商品七天无理由退货的运费由谁承担？")
    for field in ("business_name", "business_uscc", "business_address"):
        del body[field]
    assert client.post("/api/v1/complaints", json=body).status_code == 201


BAD_VALUES: list[tuple[str, Any, str]] = [
    ("kind", "complaint_and_tip", "kind"),
    ("kind", None, "kind"),
    ("kind", 1, "kind"),
    ("text", "太短了", "10–5000 characters"),
    ("text", "          " + "短文本" + "          ", "10–5000 characters"),
    ("text", "长" * 5001, "10–5000 characters"),
    ("text", None, "text"),
    ("text", ["列表不是文本也不行的"], "text"),
    ("contact_phone", "123", "too few or too many digits"),
    ("contact_phone", "12345678901", "not a valid Chinese"),
    ("contact_phone", "+14155552671", "mainland China"),
    ("contact_phone", "138-abcd-5678", "only digits"),
    ("contact_phone", 13812345678, "contact_phone"),
    ("business_name", "", "business_name"),
    ("business_name", "名" * 201, "business_name"),
    ("business_uscc", "91330100799655058C", "check digit"),
    ("business_uscc", "9133010079965505", "18 characters"),
    ("business_address", "址" * 301, "business_address"),
    ("region", "区" * 101, "region"),
]


@pytest.mark.parametrize(("field", "value", "reason"), BAD_VALUES)
def test_each_bad_value_is_refused_with_its_reason_and_nothing_is_stored(
    client: TestClient, session: Session, field: str, value: Any, reason: str
) -> None:
    answer = client.post("/api/v1/complaints", json=valid_filing(**{field: value}))
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "InvalidInput"
    assert any(e["field"] == field for e in body["errors"]), body
    assert reason in answer.text
    assert _stored(session) == (0, 0, 0)


@pytest.mark.parametrize(
    "field", ["status", "department", "department_id", "tracking_number", "id", "channel", "colour"]
)
def test_server_owned_and_unknown_fields_are_refused(
    client: TestClient, session: Session, field: str
) -> None:
    answer = client.post("/api/v1/complaints", json=valid_filing(**{field: "routed"}))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == field
    assert "unknown field" in answer.json()["errors"][0]["reason"]
    assert _stored(session) == (0, 0, 0)


@pytest.mark.parametrize(
    ("kind", "missing", "reason"),
    [
        ("complaint", "contact_phone", "contact_phone is required"),
        ("inquiry", "contact_phone", "contact_phone is required"),
        ("complaint", "business_name", "business_name is required"),
        ("tip", "business_name", "business_name is required"),
    ],
)
def test_what_each_kind_requires(
    client: TestClient, session: Session, kind: str, missing: str, reason: str
) -> None:
    body = valid_filing(kind=kind)
    del body[missing]
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 422
    assert reason in answer.json()["detail"]
    # The error names the field left out, as it names a wrong one (it said "body").
    assert [e["field"] for e in answer.json()["errors"]] == [missing]
    assert _stored(session) == (0, 0, 0)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [("not json", "application/json"), ("[]", "application/json"), ("kind=tip", "text/plain")],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    client: TestClient, session: Session, content: str, content_type: str
) -> None:
    answer = client.post(
        "/api/v1/complaints", content=content, headers={"content-type": content_type}
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "InvalidInput"
    assert _stored(session) == (0, 0, 0)


def test_unknown_tracking_number_is_404_with_a_reason(client: TestClient) -> None:
    answer = client.get("/api/v1/track/26112865638191")
    assert answer.status_code == 404
    assert answer.json()["error"] == "NotFound"
    assert client.get("/api/v1/track/not-a-number").status_code == 404


def test_a_tracking_number_with_a_superscript_digit_is_an_unknown_number(
    client: TestClient,
) -> None:
    lenient = TestClient(client.app, raise_server_exceptions=False)
    number = "261128656381²1"  # "²".isdigit() is True, int("²") raises
    assert lenient.get(f"/api/v1/track/{number}").status_code == 404
    assert lenient.get("/track", params={"n": number}).status_code == 404
    rating = lenient.post(f"/api/v1/track/{number}/rating", json={"score": 5})
    assert rating.status_code == 404
    assert rating.json()["error"] == "NotFound"


def test_a_tracking_number_typed_in_full_width_digits_finds_the_filing(
    client: TestClient,
) -> None:
    number = client.post("/api/v1/complaints", json=valid_filing()).json()["tracking_number"]
    full_width = number.translate(FULL_WIDTH)
    assert client.get(f"/api/v1/track/{full_width}").json()["tracking_number"] == number
    assert client.get("/track", params={"n": full_width}).status_code == 200
