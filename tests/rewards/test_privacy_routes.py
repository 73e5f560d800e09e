"""Every API route a department user can reach, over tip-offs that are routed, being
verified, with a case opened and decided: no identity field and no canary of the reporter in any answer, nor in
the webhook deliveries and the payloads pushed to the department's own system.

The routes are enumerated from `app.routes`: a route added later without a call here fails
the test. Answers of 403 or 404 cannot make it pass by themselves: every route expected to
answer is checked to have answered 2xx at least once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cases.actions import SPECS
from core.db import get_engine
from notify.service import open_sealed
from rewards.keys import keyring
from schemas import Complaint, SmsOutbound
from schemas.enums import Role
from tests.canaries import (
    BANK_ACCOUNT,
    BANK_NAME,
    CLIENT,
    ID_NUMBER,
    IDENTITY,
    NAME,
    PHONE,
    TIP_PHRASE,
    leaks,
)
from tests.conftest import Templates, migrated_platform
from tests.helpers import (
    PASSWORD,
    add_staff,
    bearer,
    form_token,
    run_worker_until_idle,
    serving,
    valid_filing,
)
from tests.intake.test_attachments_and_limits import png_bytes

PATH_TOKEN = "routes-path-token"
SECRET = "department-shared-secret-1234"
WHO = [*IDENTITY, *CLIENT]
# Keys that would carry who the reporter is: none may hold a value in a department's answer.
IDENTITY_KEYS = {
    "reporter",
    "reporter_name",
    "id_number",
    "id_number_masked",
    "bank_name",
    "bank_account",
    "phone_masked",
    "receipt_code",
    "receipt_code_display",
}
TIP = (
    "举报太原市小店区某某电梯维保公司伪造电梯年检报告，涉及十几个小区，请依法查处。"
    f"我是{NAME}，电话{PHONE}，身份证{ID_NUMBER}，{TIP_PHRASE}。"
)
TWIN = "举报太原市小店区某某电梯维保公司伪造电梯年检报告，涉及十几个小区，请依法严肃查处。"
STATES = ("routed", "verifying", "case_opened", "decided")
PROGRESSION: list[tuple[str, dict[str, Any]]] = [
    ("start_verification", {}),
    ("open_case", {"case_number": "并质监立字〔2026〕7号"}),
    (
        "decide",
        {
            "decision_number": "并质监罚字〔2026〕7号",
            "penalty_fen": 20_000_000,
            "summary": "责令改正并处罚款",
        },
    ),
]
# A valid body for every staff action (cases.actions.SPECS): the test fails on a new one.
ACTION_BODIES: dict[str, dict[str, Any]] = {
    "claim": {},
    "note": {"text": "内部：已调取年检档案"},
    "reply": {"text": "已转交执法人员核查"},
    "accept": {},
    "refuse": {"reason_code": "other", "explanation": "不属于投诉"},
    "refer_to_odr": {},
    "odr_settled": {"summary": "商家已处理", "recovered_fen": 0},
    "odr_failed": {"summary": "商家未处理"},
    "start_mediation": {},
    "request_testing": {
        "lab": "山西省特种设备检验研究院",
        "sample": "电梯年检报告原件",
        "basis": "TSG T7001-2023",
        "items": ["报告真伪"],
        "fee_fen": 0,
        "payer": "regulator",
        "payment_timing": "无",
        "due_on": "2036-12-31",
    },
    "record_test_report": {"outcome": "inconclusive", "summary": "无法判定"},
    "mediation_succeeded": {"agreement": "达成一致", "recovered_fen": 0},
    "end_mediation": {"reason_code": "other", "explanation": "调解终止"},
    "start_verification": PROGRESSION[0][1],
    "open_case": PROGRESSION[1][1],
    "not_open_case": {"reason": "现场核查未发现违法行为"},
    "decide": PROGRESSION[2][1],
    "ask_reporter": {"question": "请提供伪造报告的照片"},
    "answer": {"answer": "咨询已答复"},
    "close": {"summary": "已办结"},
}
REWARD_BODIES: dict[str, dict[str, Any]] = {
    "open": {
        "complaint_id": 1,
        "tier": "1",
        "reporter": {
            "natural_person": True,
            "regulator_staff_or_duty_to_report": False,
            "harmed_party_or_agent": False,
            "paid_to_report": False,
            "information_already_known": False,
        },
    },
    "amounts": {"reason": "复核为二级", "tier": "2"},
    "approvals": {"amount_id": 1},
    "payment": {
        "amount_id": 1,
        "method": "bank_transfer",
        "reference": "回单0001",
        "paid_on": "2026-01-05",
    },
}
# Routes that must have answered 2xx at least once: the department's own work on the tip-off.
MUST_ANSWER = {
    ("POST", "/api/v1/complaints"),
    ("POST", "/api/v1/attachments"),
    ("POST", "/api/v1/sms/aliyun/{path_token}"),
    ("POST", "/api/v1/sms/tencent/{path_token}"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/classify"),
    ("POST", "/api/v1/complaints/{complaint_id}/actions/transfer"),
    ("GET", "/api/v1/queue"),
    ("GET", "/api/v1/complaints/{complaint_id}"),
    ("POST", "/api/v1/complaints/{complaint_id}/actions/merge"),
    ("POST", "/api/v1/complaints/{complaint_id}/actions/dismiss-duplicate"),
    ("POST", "/api/v1/complaints/{complaint_id}/actions/{action}"),
    ("GET", "/api/v1/complaints/{complaint_id}/attachments/{attachment_id}"),
    ("GET", "/api/v1/deadlines/breached"),
    ("PUT", "/api/v1/departments/{code}/webhook"),
    ("DELETE", "/api/v1/departments/{code}/webhook"),
    ("GET", "/api/v1/departments/{code}/webhook/deliveries"),
    # Issue 10: the tip-offs name a product that hurt someone, so the quality department's
    # product-risk case holds them as evidence.
    ("GET", "/api/v1/product-risks"),
    ("GET", "/api/v1/product-risks/{case_id}"),
    ("POST", "/api/v1/product-risks/{case_id}/outcome"),
    ("GET", "/api/v1/products/barcodes/{code}"),
}
# The product the tip-offs name: an injury opens a product-risk case at once.
PRODUCT = {"gtin": "6901234567892", "name": "电梯控制柜", "batch": "B1", "injury": True}
MIN_OK = 90  # 2xx answers over the three tip-offs; about 110 when this was written


@dataclass
class Receiver:
    url: str = ""
    bodies: list[bytes] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The department's own system: takes every webhook delivery."""
    app = FastAPI()
    state = Receiver()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        state.bodies.append(await request.body())
        return Response(status_code=204)

    with serving(app) as url:
        state.url = f"{url}/hook"
        yield state


@pytest.fixture
def desk(
    configure: Callable[..., None],
    database_url: str,
    redis_url: str,
    templates: Templates,
    tmp_path: Path,
) -> Path:
    migrated_platform(
        configure,
        database_url,
        redis_url,
        templates,
        sms_path_token=PATH_TOKEN,
        webhook_allow_http_localhost="true",
    )
    with Session(get_engine()) as session:
        add_staff(session, "zj", Role.department, "quality")
        session.commit()
    return tmp_path


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route, from app.routes (included routers flattened)."""

    def flatten(routes: Iterable[Any]) -> Iterator[Any]:
        for route in routes:
            nested = getattr(route, "effective_candidates", None)
            if callable(nested):
                yield from flatten(nested())
            else:
                yield route

    return {
        (method, route.path)
        for route in flatten(app.routes)
        if getattr(route, "include_in_schema", False) and route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    }


@dataclass
class Tip:
    id: int
    number: str
    twin_id: int
    attachment_url: str


@dataclass
class Run:
    """The calls made and what came back: (route, status, body)."""

    client: TestClient
    headers: dict[str, str]
    answers: list[tuple[tuple[str, str], int, bytes]] = field(default_factory=list)

    def call(self, route: tuple[str, str], url: str, **kwargs: Any) -> httpx.Response:
        method = route[0]
        headers = {**self.headers, **kwargs.pop("headers", {})}
        answer = self.client.request(method, url, headers=headers, **kwargs)
        self.answers.append((route, answer.status_code, answer.content))
        return answer

    def ok(self) -> set[tuple[str, str]]:
        return {route for route, status, _ in self.answers if 200 <= status < 300}


def _file_tip(client: TestClient) -> Tip:
    upload = client.post(
        "/api/v1/attachments", files={"file": (f"{NAME}.png", png_bytes(), "image/png")}
    )
    assert upload.status_code == 201, upload.text
    body = valid_filing(
        kind="tip",
        text=TIP,
        business_name="太原市小店区某某电梯维保公司",
        contact_phone=PHONE,
        attachments=[upload.json()["id"]],
        reporter={"name": NAME, "id_number": ID_NUMBER, "bank_name": BANK_NAME},
        product=PRODUCT,
    )
    filed = client.post("/api/v1/complaints", json=body)
    assert filed.status_code == 201, filed.text
    twin = valid_filing(kind="tip", text=TWIN, business_name="太原市小店区某某电梯维保公司")
    del twin["contact_phone"]
    twin_filed = client.post("/api/v1/complaints", json=twin)
    assert twin_filed.status_code == 201, twin_filed.text
    run_worker_until_idle()
    with Session(get_engine(read_only=True)) as session:
        ids = [
            session.exec(select(Complaint.id).where(Complaint.tracking_number == number)).one()
            for number in (filed.json()["tracking_number"], twin_filed.json()["tracking_number"])
        ]
    tip_id, twin_id = (i for i in ids if i is not None)
    view = client.get(f"/api/v1/complaints/{tip_id}", headers=bearer(client, "zj")).json()
    assert view["department"]["code"] == "quality", view["department"]
    [attachment] = view["attachments"]
    return Tip(tip_id, filed.json()["tracking_number"], twin_id, attachment["url"])


def _link(run: Run, tip: Tip) -> tuple[int, int]:
    """(filing, link id) of the duplicate suggestion between the tip-off and its twin."""
    for cid in (tip.id, tip.twin_id):
        view = run.client.get(f"/api/v1/complaints/{cid}", headers=run.headers).json()
        for link in view["duplicates"]:
            if link["other_id"] in (tip.id, tip.twin_id) and link["state"] == "suggested":
                return cid, link["link_id"]
    raise AssertionError("the twin was not suggested as a duplicate")


def _every_route(run: Run, tip: Tip, state: str, receiver: Receiver) -> set[tuple[str, str]]:
    """Call every API route as the department user, over the tip-off in `state`; the routes
    called (transfer, which takes the tip-off away, comes in the finale)."""
    cid, key = tip.id, f"{state}-{tip.id}"
    called: set[tuple[str, str]] = set()

    def call(method: str, path: str, url: str, **kwargs: Any) -> httpx.Response:
        called.add((method, path))
        return run.call((method, path), url, **kwargs)

    view = call("GET", "/api/v1/complaints/{complaint_id}", f"/api/v1/complaints/{cid}").json()
    assert view["status"] == state
    call("GET", "/api/v1/queue", "/api/v1/queue")
    call("GET", "/api/v1/queue", "/api/v1/queue?sort=deadline&deadline=soon")
    call("GET", "/api/v1/deadlines/breached", "/api/v1/deadlines/breached")
    call("GET", "/api/v1/stats/satisfaction", "/api/v1/stats/satisfaction")
    call("GET", "/api/v1/audit", f"/api/v1/audit?complaint_id={cid}")
    # What the filings say (issue 9): statistics, alerts and credit are for supervisors and
    # staff; the open-data export is public. None may carry a reporter.
    call("GET", "/api/v1/stats", "/api/v1/stats")
    call("GET", "/api/v1/stats.csv", "/api/v1/stats.csv")
    call("GET", "/api/v1/alerts", "/api/v1/alerts")
    call("GET", "/api/v1/alerts/{alert_id}", "/api/v1/alerts/1")
    call("POST", "/api/v1/alerts/{alert_id}/acknowledge", "/api/v1/alerts/1/acknowledge", json={})
    call("POST", "/api/v1/alerts/{alert_id}/close", "/api/v1/alerts/1/close", json={})
    credit = call("GET", "/api/v1/credit", "/api/v1/credit")
    rows = credit.json() if credit.is_success else []
    rows = rows.get("data", []) if isinstance(rows, dict) else rows
    keys = [row["business_key"] for row in rows if "business_key" in row]
    call(
        "GET",
        "/api/v1/credit/{business_key}",
        f"/api/v1/credit/{keys[0] if keys else 'uscc:91330100799655058B'}",
    )
    call("GET", "/api/v1/open-data/complaints", "/api/v1/open-data/complaints?format=json")
    path = "/api/v1/complaints/{complaint_id}/attachments/{attachment_id}"
    call("GET", path, tip.attachment_url)
    contact = call(
        "POST", "/api/v1/complaints/{complaint_id}/contact", f"/api/v1/complaints/{cid}/contact"
    )
    assert contact.status_code == 404, contact.text  # a tip-off has no contact to give
    call("POST", "/api/v1/classify", "/api/v1/classify", json={"text": view["text"]})
    # A tip-off's number tells nothing, not even that it exists or how far it got.
    tracked = call("GET", "/api/v1/track/{tracking_number}", f"/api/v1/track/{tip.number}")
    rated = call(
        "POST",
        "/api/v1/track/{tracking_number}/rating",
        f"/api/v1/track/{tip.number}/rating",
        json={"score": 1},
    )
    assert (tracked.status_code, rated.status_code) == (404, 404), rated.text
    actions = "/api/v1/complaints/{complaint_id}/actions/{action}"
    for action, body in ACTION_BODIES.items():
        moves = SPECS[action].to is not None
        if moves and action in view["allowed_actions"]:
            continue  # allowed moves are made in the progression and the finale
        call("POST", actions, f"/api/v1/complaints/{cid}/actions/{action}", json=body)
    on, link = _link(run, tip)
    call(
        "POST",
        "/api/v1/complaints/{complaint_id}/actions/dismiss-duplicate",
        f"/api/v1/complaints/{on}/actions/dismiss-duplicate",
        json={"link_id": link},
    )
    call(
        "POST",
        "/api/v1/complaints/{complaint_id}/actions/merge",
        f"/api/v1/complaints/{tip.twin_id}/actions/merge",
        json={"into": cid, "reason": "同一事项"},
    )
    call("GET", "/api/v1/complaints/{complaint_id}", f"/api/v1/complaints/{cid}")  # after it all
    call(
        "GET",
        "/api/v1/operator/callers/{phone}/filings",
        f"/api/v1/operator/callers/{PHONE}/filings",
    )
    call(
        "POST",
        "/api/v1/operator/calls",
        "/api/v1/operator/calls",
        json={"caller_phone": "13800001234", "text": TWIN, "business_name": "某某公司"},
    )
    # Follow-up calls are the operators' and supervisors' (403 here); a tip-off is never one.
    call("GET", "/api/v1/follow-ups", "/api/v1/follow-ups")
    call(
        "POST",
        "/api/v1/follow-ups/{complaint_id}/contact",
        f"/api/v1/follow-ups/{cid}/contact",
    )
    call(
        "POST",
        "/api/v1/follow-ups/{complaint_id}/calls",
        f"/api/v1/follow-ups/{cid}/calls",
        json={"outcome": "no_answer"},
    )
    call(
        "POST",
        "/api/v1/vault/tipoffs/{complaint_id}/identity",
        f"/api/v1/vault/tipoffs/{cid}/identity",
        json={"reason": "想知道是谁举报的"},
    )
    wrong = {"receipt_code": "1" * 24}
    call("POST", "/api/v1/tipoffs/follow-up", "/api/v1/tipoffs/follow-up", json=wrong)
    call(
        "POST", "/api/v1/tipoffs/answers", "/api/v1/tipoffs/answers", json=wrong | {"text": "补充"}
    )
    call(
        "POST",
        "/api/v1/tipoffs/reward-claims",
        "/api/v1/tipoffs/reward-claims",
        json=wrong | {"identity": {"name": "某某"}},
    )
    call("GET", "/api/v1/rewards", "/api/v1/rewards")
    opened = call("POST", "/api/v1/rewards", "/api/v1/rewards", json=REWARD_BODIES["open"])
    assert opened.status_code == 403, opened.text  # a valid body: refused for the role
    call("GET", "/api/v1/rewards/{reward_id}", "/api/v1/rewards/1")
    for step in ("amounts", "approvals", "payment"):
        refused = call(
            "POST",
            f"/api/v1/rewards/{{reward_id}}/{step}",
            f"/api/v1/rewards/1/{step}",
            json=REWARD_BODIES[step],
        )
        assert refused.status_code == 403, refused.text
    hook = {"url": receiver.url, "secret": SECRET}
    call(
        "PUT",
        "/api/v1/departments/{code}/webhook",
        "/api/v1/departments/quality/webhook",
        json=hook,
    )
    call(
        "GET",
        "/api/v1/departments/{code}/webhook/deliveries",
        "/api/v1/departments/quality/webhook/deliveries",
    )
    # Routes anyone may call: a department user files, uploads, texts and signs in too.
    call("POST", "/api/v1/complaints", "/api/v1/complaints", json=valid_filing())
    call(
        "POST",
        "/api/v1/attachments",
        "/api/v1/attachments",
        files={"file": ("x.png", png_bytes(), "image/png")},
    )
    sms_query = f"查询{tip.number}"
    call(
        "POST",
        "/api/v1/sms/aliyun/{path_token}",
        f"/api/v1/sms/aliyun/{PATH_TOKEN}",
        json=[
            {
                "phone_number": "13800009999",
                "content": sms_query,
                "send_time": "2026-11-28 10:00:00",
                "dest_code": "12315",
                "sequence_id": f"routes-{key}",
            }
        ],
    )
    call(
        "POST",
        "/api/v1/sms/tencent/{path_token}",
        f"/api/v1/sms/tencent/{PATH_TOKEN}",
        json={
            "mobile": "13800009998",
            "nationcode": "86",
            "sign": "12315",
            "text": sms_query,
            "time": 1795000000 + cid,
        },
    )
    call(
        "POST",
        "/api/v1/sms/twilio",
        "/api/v1/sms/twilio",
        data={"MessageSid": f"SM{key}", "From": "+8613800009997", "Body": sms_query},
    )
    call(
        "POST",
        "/api/v1/auth/token",
        "/api/v1/auth/token",
        data={"username": "zj", "password": PASSWORD},
        headers={"Authorization": ""},
    )
    call("GET", "/api/v1/auth/me", "/api/v1/auth/me")
    # Issue 10: the product-risk case the tip-offs are evidence in; one outcome per state.
    risks = call("GET", "/api/v1/product-risks", "/api/v1/product-risks").json()["data"]
    case_id = risks[0]["id"] if risks else 1
    case = call("GET", "/api/v1/product-risks/{case_id}", f"/api/v1/product-risks/{case_id}")
    allowed = case.json().get("allowed_outcomes") or ["no_defect"]
    call(
        "POST",
        "/api/v1/product-risks/{case_id}/outcome",
        f"/api/v1/product-risks/{case_id}/outcome",
        json={"outcome": allowed[0], "note": "检验报告"},
    )
    call("GET", "/api/v1/products/barcodes/{code}", "/api/v1/products/barcodes/6901234567892")
    # Quality supervisors' routes are for supervisors and the supervisors themselves: 403.
    appointment = {"name": "王", "phone": "13900000001", "region": "太原", "sectors": ["metrology"]}
    call("POST", "/api/v1/quality-supervisors", "/api/v1/quality-supervisors", json=appointment)
    call("GET", "/api/v1/quality-supervisors", "/api/v1/quality-supervisors")
    one = "/api/v1/quality-supervisors/{supervisor_id}"
    call("GET", one, "/api/v1/quality-supervisors/1")
    call(
        "POST",
        one + "/revocation",
        "/api/v1/quality-supervisors/1/revocation",
        json={"reason": "解聘"},
    )
    call(
        "POST",
        "/api/v1/quality-supervision/filings",
        "/api/v1/quality-supervision/filings",
        json=valid_filing(),
    )
    call("GET", "/api/v1/quality-supervision/me", "/api/v1/quality-supervision/me")
    if state == STATES[-1]:  # once, with every tip-off filed: a number gets a code a minute
        _citizen_routes(call, tip)
    return called


def _citizen_routes(call: Callable[..., httpx.Response], tip: Tip) -> None:
    """Whoever holds the reporter's phone signs in to 'my complaints' with it: the list
    holds none of the tip-offs the number reported, nor does any answer on the way."""
    asked = call("POST", "/api/v1/citizen/code", "/api/v1/citizen/code", json={"phone": PHONE})
    assert asked.status_code == 202, asked.text
    with Session(get_engine(read_only=True)) as session:
        message = session.exec(
            select(SmsOutbound).where(SmsOutbound.template == "citizen_code")
        ).one()
        _, text = open_sealed(keyring(), message)
    code = re.search(r"验证码(\d{6})", text)
    assert code, text
    signed = call(
        "POST",
        "/api/v1/citizen/session",
        "/api/v1/citizen/session",
        json={"phone": PHONE, "code": code.group(1)},
    )
    assert signed.status_code == 200, signed.text
    citizen = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    listed = call("GET", "/api/v1/citizen/filings", "/api/v1/citizen/filings", headers=citizen)
    assert listed.status_code == 200, listed.text
    assert [f for f in listed.json()["filings"] if f["kind"] == "tip"] == []
    assert tip.number not in listed.text
    ended = call("DELETE", "/api/v1/citizen/session", "/api/v1/citizen/session", headers=citizen)
    assert ended.status_code == 204, ended.text


def _desk_pages(client: TestClient, cid: int) -> list[tuple[str, int, str]]:
    """The same department user on the desk pages: the queue, the filing, its contact."""
    form = client.get("/staff/login")
    client.post(
        "/staff/login",
        data={"username": "zj", "password": PASSWORD, "csrf_token": form_token(form.text)},
        follow_redirects=False,
    )
    pages = []
    for url in ("/staff/desk", f"/staff/desk/{cid}"):
        page = client.get(url)
        pages.append((url, page.status_code, page.text))
    token = form_token(pages[-1][2])
    contact = client.post(f"/staff/desk/{cid}/contact", headers={"X-CSRF-Token": token})
    pages.append((f"/staff/desk/{cid}/contact", contact.status_code, contact.text))
    return pages


def _identity_values(value: Any, where: str = "") -> list[str]:
    """Paths in a JSON answer where an identity key holds a value, or a tip-off a contact."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("kind") == "tip" and value.get("contact_phone") is not None:
            found.append(f"{where}.contact_phone")
        for key, inner in value.items():
            if key in IDENTITY_KEYS and inner not in (None, "", [], {}):
                found.append(f"{where}.{key}")
            found += _identity_values(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _identity_values(inner, f"{where}[{index}]")
    return found


def _check(answer_body: bytes, label: object) -> None:
    text = answer_body.decode("utf-8", "replace")
    assert leaks(text, WHO) == [], (label, text[:400])
    assert BANK_ACCOUNT not in text
    try:
        parsed = json.loads(text)
    except ValueError:
        return
    assert _identity_values(parsed) == [], (label, text[:400])


def test_no_route_a_department_can_reach_shows_who_reported(desk: Path, receiver: Receiver) -> None:
    from service.app import create_app

    app = create_app()
    routes = api_routes(app)
    assert routes == {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    }  # the enumeration misses nothing the API documents
    assert set(ACTION_BODIES) == set(SPECS)
    with TestClient(app) as client:
        zj = bearer(client, "zj")
        run = Run(client, zj)
        registered = run.call(
            ("PUT", "/api/v1/departments/{code}/webhook"),
            "/api/v1/departments/quality/webhook",
            json={"url": receiver.url, "secret": SECRET},
        )
        assert registered.status_code == 200, registered.text
        tips: dict[str, Tip] = {}
        called: set[tuple[str, str]] = {("PUT", "/api/v1/departments/{code}/webhook")}
        actions = ("POST", "/api/v1/complaints/{complaint_id}/actions/{action}")
        for depth, state in enumerate(STATES):
            tip = tips[state] = _file_tip(client)
            for action, body in PROGRESSION[:depth]:
                moved = run.call(
                    actions, f"/api/v1/complaints/{tip.id}/actions/{action}", json=body
                )
                assert moved.status_code == 200, moved.text
            called |= _every_route(run, tip, state, receiver)
            run_worker_until_idle()  # webhook deliveries and texts go out
        pages = _desk_pages(TestClient(app), tips["routed"].id)
        # The finale: the moves that take a tip-off elsewhere or end it.
        finale = [
            ("transfer", tips["routed"], {"department": "aic", "reason": "涉及无照经营"}),
            ("not_open_case", tips["verifying"], ACTION_BODIES["not_open_case"]),
            ("close", tips["verifying"], ACTION_BODIES["close"]),
            ("close", tips["decided"], ACTION_BODIES["close"]),
        ]
        for action, tip, body in finale:
            route = (
                ("POST", "/api/v1/complaints/{complaint_id}/actions/transfer")
                if action == "transfer"
                else actions
            )
            done = run.call(route, f"/api/v1/complaints/{tip.id}/actions/{action}", json=body)
            assert done.status_code == 200, (action, done.text)
            called.add(route)
        run_worker_until_idle()
        deliveries = "/api/v1/departments/{code}/webhook/deliveries"
        run.call(("GET", deliveries), "/api/v1/departments/quality/webhook/deliveries?limit=500")
        removed = run.call(
            ("DELETE", "/api/v1/departments/{code}/webhook"), "/api/v1/departments/quality/webhook"
        )
        assert removed.status_code == 204
        called |= {("GET", deliveries), ("DELETE", "/api/v1/departments/{code}/webhook")}

    assert called == routes, sorted(routes - called)  # every route was called
    assert run.ok() >= MUST_ANSWER, sorted(MUST_ANSWER - run.ok())
    ok = sum(1 for _, status, _ in run.answers if 200 <= status < 300)
    assert ok >= MIN_OK, ok
    for route, status, body in run.answers:
        _check(body, (route, status))
    for url, status, html in pages:
        assert status in (200, 404), (url, status)
        _check(html.encode(), url)
    assert [status for _, status, _ in pages][:2] == [200, 200]
    # The department's own system got the tip-offs' events, and nothing of who reported.
    assert len(receiver.bodies) >= 10
    pushed = [json.loads(body) for body in receiver.bodies]
    tip_ids = {tip.id for tip in tips.values()}
    mine = [p for p in pushed if p["complaint"]["id"] in tip_ids]
    assert mine
    assert any(TIP_PHRASE in p["complaint"]["text"] for p in mine)  # the tip, for the department
    for body in receiver.bodies:
        _check(body, "webhook payload")
    assert all(p["complaint"]["contact_phone"] is None for p in mine)
