"""Department webhooks: signed pushes of every event, retried with backoff, every attempt kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from notify.tasks import deliver_webhook
from notify.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, DeliveryFailed, sign
from schemas import WebhookDelivery
from schemas.enums import Role
from tests.conftest import Templates, migrated_platform
from tests.helpers import add_staff, bearer, run_worker_until_idle, serving, valid_filing
from workers.queues import DELIVER_WEBHOOK

SECRET = "department-shared-secret-1234"


@dataclass
class Receiver:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    state = Receiver(url="")

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        state.received.append({"headers": dict(request.headers), "body": body})
        return Response(status_code=state.fail_with or 204)

    with serving(app) as url:
        state.url = f"{url}/hook"
        yield state


@pytest.fixture
def hooked(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> Iterator[TestClient]:
    migrated_platform(
        configure, sqlite_url, redis_url, templates, webhook_allow_http_localhost="true"
    )
    with Session(get_engine()) as session:
        add_staff(session, "zj", Role.department, "quality")
        add_staff(session, "gs", Role.department, "aic")
        add_staff(session, "boss", Role.supervisor)
        add_staff(session, "root", Role.admin)
    from service.app import create_app

    with TestClient(create_app()) as client:
        yield client


def _register(client: TestClient, url: str, user: str = "zj", code: str = "quality") -> Any:
    return client.put(
        f"/api/v1/departments/{code}/webhook",
        json={"url": url, "secret": SECRET},
        headers=bearer(client, user),
    )


def test_routed_filings_and_updates_are_pushed_signed(
    hooked: TestClient, receiver: Receiver
) -> None:
    assert _register(hooked, receiver.url).status_code == 200
    hooked.post("/api/v1/complaints", json=valid_filing(business_name="某某电梯维保公司"))
    run_worker_until_idle()
    assert len(receiver.received) == 1
    first = receiver.received[0]
    headers, body = first["headers"], first["body"]
    assert headers[SIGNATURE_HEADER.lower()] == sign(
        SECRET, headers[TIMESTAMP_HEADER.lower()], body
    )
    import json

    event = json.loads(body)
    assert event["event"]["to_status"] == "routed"
    complaint_id = event["complaint"]["id"]
    hooked.post(
        f"/api/v1/complaints/{complaint_id}/actions/accept", json={}, headers=bearer(hooked, "zj")
    )
    run_worker_until_idle()
    assert [json.loads(r["body"])["event"]["to_status"] for r in receiver.received] == [
        "routed",
        "accepted",
    ]
    deliveries = hooked.get(
        "/api/v1/departments/quality/webhook/deliveries", headers=bearer(hooked, "zj")
    ).json()
    assert {d["state"] for d in deliveries} == {"delivered"}


def _routed_without_worker(client: TestClient) -> None:
    from routing.tasks import route_complaint

    client.post("/api/v1/complaints", json=valid_filing(business_name="某某电梯维保公司"))
    route_complaint(1)  # the delivery job waits in Redis; the test runs it by hand


def test_a_failing_receiver_is_retried_then_marked_failed(
    hooked: TestClient, receiver: Receiver
) -> None:
    receiver.fail_with = 503
    _register(hooked, receiver.url)
    _routed_without_worker(hooked)
    with Session(get_engine(read_only=True)) as session:
        delivery_id = session.exec(select(WebhookDelivery.id)).one()
    for _ in range(len(DELIVER_WEBHOOK.retry)):
        with pytest.raises(DeliveryFailed):
            deliver_webhook(delivery_id)  # RQ runs the next try after the backoff
    assert deliver_webhook(delivery_id) == "failed"
    with Session(get_engine(read_only=True)) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 6, 503)
        assert [a["status"] for a in delivery.attempt_log] == [503] * 6
    assert len(receiver.received) == 6


def test_a_receiver_that_recovers_gets_the_delivery(hooked: TestClient, receiver: Receiver) -> None:
    receiver.fail_with = 500
    _register(hooked, receiver.url)
    _routed_without_worker(hooked)
    with Session(get_engine(read_only=True)) as session:
        delivery_id = session.exec(select(WebhookDelivery.id)).one()
    with pytest.raises(DeliveryFailed):
        deliver_webhook(delivery_id)
    receiver.fail_with = None
    assert deliver_webhook(delivery_id) == "delivered"
    assert deliver_webhook(delivery_id) == "nothing to do"


@pytest.mark.parametrize(
    ("url", "user", "code", "status"),
    [
        ("ftp://example.com/hook", "zj", "quality", 422),
        ("http://example.com/hook", "zj", "quality", 422),  # plain http only to localhost
        ("https://example.com/hook", "gs", "quality", 404),  # not their department
        ("https://example.com/hook", "zj", "nope", 404),
        # Every event goes where the URL says: a supervisor reads deliveries, never re-points.
        ("https://example.com/hook", "boss", "quality", 404),
        ("https://example.com/hook", "root", "quality", 200),
    ],
)
def test_webhook_registration_is_checked(
    hooked: TestClient, url: str, user: str, code: str, status: int
) -> None:
    assert _register(hooked, url, user, code).status_code == status


def test_a_supervisor_reads_the_deliveries_but_cannot_remove_the_webhook(
    hooked: TestClient,
) -> None:
    assert _register(hooked, "https://example.com/hook").status_code == 200
    boss = bearer(hooked, "boss")
    deliveries = hooked.get("/api/v1/departments/quality/webhook/deliveries", headers=boss)
    assert deliveries.status_code == 200, deliveries.text
    removed = hooked.delete("/api/v1/departments/quality/webhook", headers=boss)
    assert removed.status_code == 404
    assert _register(hooked, "https://example.com/hook").status_code == 200  # still theirs


def test_a_transfer_is_pushed_to_the_department_the_filing_leaves(
    hooked: TestClient, receiver: Receiver
) -> None:
    """The department's own system holds the filing from its first push: it must learn
    that the filing went elsewhere, or it keeps it as its own, actions that now answer 404."""
    import json

    assert _register(hooked, receiver.url).status_code == 200
    hooked.post("/api/v1/complaints", json=valid_filing(business_name="某某电梯维保公司"))
    run_worker_until_idle()
    [routed] = [json.loads(r["body"]) for r in receiver.received]
    assert routed["complaint"]["department"] == "quality"
    complaint_id = routed["complaint"]["id"]
    moved = hooked.post(
        f"/api/v1/complaints/{complaint_id}/actions/transfer",
        json={"department": "aic", "reason": "属于合同纠纷，工商部门管辖"},
        headers=bearer(hooked, "zj"),
    )
    assert moved.status_code == 200, moved.text
    run_worker_until_idle()
    pushed = [json.loads(r["body"]) for r in receiver.received]
    assert [(p["event"]["to_status"], p["complaint"]["department"]) for p in pushed] == [
        ("routed", "quality"),
        ("routed", "aic"),
    ]
    hooked.post(  # aic's own steps are not quality's business any more
        f"/api/v1/complaints/{complaint_id}/actions/accept", json={}, headers=bearer(hooked, "gs")
    )
    run_worker_until_idle()
    assert len(receiver.received) == 2


def test_a_complaints_content_goes_to_the_department_and_a_tip_offs_carries_no_one(
    hooked: TestClient, receiver: Receiver
) -> None:
    """The department's system handles the complaint: it gets the demand, purchase day and
    order number, and the complainant's name and address with the number it already gets.
    A tip-off's push names no one."""
    import json

    from tests.intake.test_complaint_content import CONTENT

    assert _register(hooked, receiver.url).status_code == 200
    filed = hooked.post(
        "/api/v1/complaints", json=valid_filing(business_name="某某电梯维保公司", **CONTENT)
    )
    assert filed.status_code == 201, filed.text
    tip = valid_filing(kind="tip", business_name="某某电梯维保公司", contact_phone=None)
    tip = {key: value for key, value in tip.items() if key not in CONTENT}
    assert hooked.post("/api/v1/complaints", json=tip).status_code == 201
    run_worker_until_idle()
    pushed = {
        body["complaint"]["kind"]: body["complaint"]
        for body in (json.loads(r["body"]) for r in receiver.received)
    }
    assert set(pushed) == {"complaint", "tip"}
    assert {key: pushed["complaint"][key] for key in CONTENT} == CONTENT
    assert pushed["complaint"]["contact_phone"] == "+8613812345678"
    assert {key: pushed["tip"][key] for key in CONTENT} == dict.fromkeys(CONTENT)
    assert pushed["tip"]["contact_phone"] is None
