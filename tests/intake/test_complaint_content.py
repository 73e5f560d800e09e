"""What the rules require of a complaint (complainant name and address, demand; purchase day
and order number as the 12315 form asks): stored, shown to whom it may be, refused elsewhere."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from core.timeutil import china_today
from routing.tasks import route_complaint
from schemas import Complaint
from schemas.enums import Kind, Role
from schemas.reward import ReporterIdentity
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing
from tests.intake.test_operator import CALL as OPERATOR_CALL

pytestmark = pytest.mark.usefixtures("sqlite_platform")

# A name the scrubber's shapes do not catch (闻人 is not among its surnames) and an address:
# only the platform's own knowledge of them keeps them out of what is published.
NAME = "闻人清和"
ADDRESS = "太原市迎泽区桃园南路88号3单元"
ORDER = "JD-2026030112345"
CONTENT: dict[str, Any] = {
    "complainant_name": NAME,
    "complainant_address": ADDRESS,
    "demand": "退货退款，并赔偿误工费",
    "purchased_on": "2026-03-01",
    "order_number": ORDER,
}


def _file(client: TestClient, **overrides: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/complaints", json=valid_filing(**CONTENT, **overrides))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _row(session: Session, number: str) -> Complaint:
    return session.exec(select(Complaint).where(Complaint.tracking_number == number)).one()


def test_a_complaints_content_is_stored_and_only_the_people_who_call_back_see_who_it_is(
    client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    add_staff(session, "zj", Role.department, "quality")
    add_staff(session, "op", Role.operator)
    with caplog.at_level(logging.DEBUG):
        filed = _file(client)
        row = _row(session, filed["tracking_number"])
        assert route_complaint(row.id).startswith("routed:")
    session.refresh(row)
    assert (row.complainant_name, row.complainant_address, row.order_number) == (
        NAME,
        ADDRESS,
        ORDER,
    )
    assert str(row.purchased_on) == "2026-03-01"

    department = client.get(f"/api/v1/complaints/{row.id}", headers=bearer(client, "zj")).json()
    assert {key: department[key] for key in CONTENT} == CONTENT
    operator = client.get(f"/api/v1/complaints/{row.id}", headers=bearer(client, "op")).json()
    # An operator sees what the complaint asks for, not who asks: a name cannot be masked.
    assert operator["complainant_name"] is operator["complainant_address"] is None
    assert operator["demand"] == CONTENT["demand"]
    assert operator["order_number"] == ORDER
    assert NAME not in str(operator)
    assert ADDRESS not in str(operator)

    tracking = client.get(filed["tracking_url"])
    assert tracking.status_code == 200
    for private in (NAME, ADDRESS, ORDER, CONTENT["demand"]):
        assert private not in tracking.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert NAME not in logged
    assert ADDRESS not in logged
    assert ORDER not in logged


@pytest.mark.parametrize("kind", ["tip", "inquiry"])
@pytest.mark.parametrize("field", list(CONTENT))
def test_a_tip_off_or_an_inquiry_with_a_complaints_field_is_refused_naming_it(
    client: TestClient, session: Session, kind: str, field: str
) -> None:
    body = valid_filing(kind=kind, **{field: CONTENT[field]})
    if kind == "tip":
        del body["contact_phone"]
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == field
    assert "complaints only" in error["reason"]
    assert session.exec(select(func.count()).select_from(Complaint)).one() == 0


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ((china_today() + timedelta(days=1)).isoformat(), "in the future"),
        ("1989-12-31", "before 1990-01-01"),
        ("2026-02-30", "date"),
        ("20260301", "YYYY-MM-DD"),
    ],
)
def test_a_purchase_day_in_the_future_or_long_past_is_refused(
    client: TestClient, session: Session, day: str, reason: str
) -> None:
    answer = client.post("/api/v1/complaints", json=valid_filing(purchased_on=day))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == "purchased_on"
    assert reason in error["reason"]
    assert session.exec(select(func.count()).select_from(Complaint)).one() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("complainant_name", "x" * 61),
        ("complainant_address", "x" * 301),
        ("demand", "x" * 501),
        ("order_number", "x" * 101),
        ("demand", "   "),
    ],
)
def test_overlong_or_empty_content_is_refused(client: TestClient, field: str, value: str) -> None:
    answer = client.post("/api/v1/complaints", json=valid_filing(**{field: value}))
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_the_schema_says_the_rules_require_name_address_and_demand(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ComplaintCreate"]
    for field in ("complainant_name", "complainant_address", "demand"):
        assert "the rules require it for a complaint" in schema["properties"][field]["description"]
    # ...and that other kinds take none of them.
    refused = [
        rule["then"]["properties"]
        for rule in schema["allOf"]
        if rule.get("if", {}).get("properties", {}).get("kind", {}).get("enum")
        == ["tip", "inquiry"]
    ]
    assert refused == [{field: {"type": "null"} for field in CONTENT}]


CALL = OPERATOR_CALL | {"caller_name": NAME}


@pytest.fixture
def operator(client: TestClient, session: Session) -> dict[str, str]:
    add_staff(session, "op", Role.operator)
    return bearer(client, "op")


def test_a_calls_caller_becomes_the_complainant(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    call = CALL | {"caller_address": ADDRESS, "demand": "退货并赔偿"}
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 201, answer.text
    row = session.exec(select(Complaint)).one()
    assert row.kind is Kind.complaint
    assert (row.complainant_name, row.complainant_address, row.demand) == (
        NAME,
        ADDRESS,
        "退货并赔偿",
    )


def test_a_split_calls_tip_off_keeps_the_name_in_the_vault_only(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    call = CALL | {
        "text": "在某超市买的充电器冒烟要求赔偿，另外举报该超市销售三无产品，请依法查处",
        "split": True,
        "caller_address": ADDRESS,
        "demand": "赔偿",
    }
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 201, answer.text
    run_worker_until_idle()
    complaint, tip = session.exec(select(Complaint).order_by(Complaint.id)).all()  # type: ignore[arg-type]
    assert (complaint.kind, complaint.complainant_name, complaint.demand) == (
        Kind.complaint,
        NAME,
        "赔偿",
    )
    assert tip.kind is Kind.tip
    assert [getattr(tip, field) for field in CONTENT] == [None] * len(CONTENT)
    sealed = select(ReporterIdentity).where(ReporterIdentity.complaint_id == tip.id)
    assert session.exec(sealed).one_or_none() is not None  # sealed there


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"kind": "tip", "override_reason": "来电人要举报", "demand": "查处"}, "demand"),
        (
            {
                "text": "请问网购的商品七天无理由退货的运费由谁承担？",
                "business_name": None,
                "caller_address": ADDRESS,
            },
            "caller_address",
        ),
    ],
    ids=["tip", "detected-inquiry"],
)
def test_a_call_that_is_no_complaint_refuses_a_complaints_fields(
    client: TestClient,
    session: Session,
    operator: dict[str, str],
    extra: dict[str, Any],
    field: str,
) -> None:
    call = {key: value for key, value in (CALL | extra).items() if value is not None}
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert session.exec(select(func.count()).select_from(Complaint)).one() == 0


def test_an_inquiry_call_keeps_no_name(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    call = CALL | {"text": "请问网购的商品七天无理由退货的运费由谁承担？"}
    del call["business_name"]
    answer = client.post("/api/v1/operator/calls", json=call, headers=operator)
    assert answer.status_code == 201, answer.text
    row = session.exec(select(Complaint)).one()
    assert row.kind is Kind.inquiry
    assert row.complainant_name is None  # none is needed to answer a question


def test_open_data_publishes_no_complainant_even_where_the_text_names_them(
    client: TestClient, session: Session
) -> None:
    text = f"我是{NAME}，住在{ADDRESS}，在商场买的电热水器漏电，售后拖着不修，订单号{ORDER}。"
    _file(client, text=text)
    run_worker_until_idle()
    published = [
        client.get("/api/v1/open-data/complaints", params={"format": "csv"}).text,
        client.get("/api/v1/open-data/complaints", params={"format": "json"}).text,
        client.get("/open311/v2/requests.json").text,
    ]
    assert all("电热水器漏电" in body for body in published)  # the matter itself is there
    for body in published:
        for private in (NAME, ADDRESS, ORDER, CONTENT["demand"]):
            assert private not in body, (private, body)


def _filing_request(
    root_path: str = "",
    *,
    host: bytes | None = b"12315.example.cn",
    scheme: str = "https",
    server: tuple[str, int] = ("12315.example.cn", 443),
) -> Any:
    """A POST /api/v1/complaints as the platform's app receives it behind 12315.example.cn."""
    from starlette.requests import Request

    from service.app import create_app

    app = create_app()
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "root_path": root_path,
        "path": f"{root_path}/api/v1/complaints",
        "headers": [(b"accept", b"*/*")] + ([(b"host", host)] if host is not None else []),
        "query_string": b"",
        "method": "POST",
        "app": app,
        "router": app.router,
    }
    return Request(scope)


@pytest.mark.parametrize("root_path", ["", "/platform"])
def test_the_tracking_url_is_the_one_url_for_gives(root_path: str) -> None:
    from intake.api import tracking_url

    request = _filing_request(root_path)
    expected = str(request.url_for("track_complaint", tracking_number="26120512345678"))
    assert tracking_url(request, "26120512345678") == expected
    assert expected == f"https://12315.example.cn{root_path}/api/v1/track/26120512345678"


@pytest.mark.parametrize(
    ("host", "scheme", "server"),
    [
        (b"12315.example.cn:8443", "https", ("10.0.0.5", 8000)),
        (b"[2001:db8::1]:8080", "http", ("10.0.0.5", 8000)),
        (None, "http", ("127.0.0.1", 80)),
        (None, "http", ("::1", 8000)),
        (b"bad host:port:", "http", ("127.0.0.1", 8000)),
    ],
)
def test_the_tracking_url_follows_the_address_the_request_came_to(
    host: bytes | None, scheme: str, server: tuple[str, int]
) -> None:
    """Its base is made once per address (intake.api._base_text), as url_for makes it."""
    from intake.api import tracking_url

    for root_path in ("", "/platform"):
        for _ in range(2):  # made, then remembered
            request = _filing_request(root_path, host=host, scheme=scheme, server=server)
            expected = str(request.url_for("track_complaint", tracking_number="26120512345678"))
            assert tracking_url(request, "26120512345678") == expected


@pytest.mark.parametrize("kind", [Kind.complaint, Kind.tip])
def test_the_filing_answer_is_what_its_model_would_dump(kind: Kind) -> None:
    """intake.api.filing_created builds the answer's JSON itself; it is the documented
    ComplaintCreated, dumped."""
    from types import SimpleNamespace

    from intake.api import filing_created, tracking_url
    from schemas.complaint import ComplaintCreated
    from schemas.enums import Status

    request = _filing_request()
    filing = SimpleNamespace(tracking_number="26120512345678", status=Status.received, kind=kind)
    code = "3" * 24 if kind is Kind.tip else None  # a receipt code: 24 digits
    answer = filing_created(request, filing, receipt_code=code)  # type: ignore[arg-type]
    model = ComplaintCreated(
        tracking_number=filing.tracking_number,
        tracking_number_display="2612 0512 3456 78",
        status=filing.status,
        tracking_url=None if kind is Kind.tip else tracking_url(request, filing.tracking_number),
        receipt_code=code,
        receipt_code_display=" ".join(["3333"] * 6) if code else None,
    )
    assert answer == model.model_dump(mode="json")
    assert json.loads(json.dumps(answer)) == answer


def test_a_draft_takes_every_field_of_the_filing_but_its_attachments_and_parts() -> None:
    """FilingDraft.of reads the fields by name: a field added to the body and not to the
    draft would otherwise be dropped without a word."""
    from datetime import date

    from intake.service import _DRAFT_FIELDS, FilingDraft
    from schemas.complaint import ComplaintCreate

    parts = {"attachments", "reporter", "product", "inspection"}
    assert set(ComplaintCreate.model_fields) - parts == set(_DRAFT_FIELDS)
    data = ComplaintCreate.model_validate(
        valid_filing(
            complainant_address="太原市小店区某某路2号",
            demand="退货退款",
            purchased_on="2026-11-30",
            order_number="A-1",
            region="140105",
        )
    )
    draft = FilingDraft.of(data)
    assert draft == FilingDraft(**data.model_dump(exclude=parts))
    assert draft.purchased_on == date(2026, 11, 30)
    assert draft.kind is Kind.complaint
