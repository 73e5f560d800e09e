"""Idempotency-Key: retries get the first answer; 50 concurrent retries make one filing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from core.db import get_engine
from core.timeutil import utcnow
from intake.idempotency import MAX_KEY_LENGTH, client_scope, fingerprint
from schemas import Complaint, IdempotencyKey
from service.app import create_app
from tests.helpers import serving, valid_filing


def _complaints() -> int:
    with Session(get_engine(read_only=True)) as session:
        return int(session.exec(select(func.count()).select_from(Complaint)).one())


@pytest.mark.usefixtures("sqlite_platform")
class TestOneClient:
    def test_a_retry_with_the_same_key_gets_the_first_answer(self, client: TestClient) -> None:
        headers = {"Idempotency-Key": "k-1"}
        first = client.post("/api/v1/complaints", json=valid_filing(), headers=headers)
        again = client.post("/api/v1/complaints", json=valid_filing(), headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert _complaints() == 1

    def test_key_order_and_spacing_do_not_change_the_request(self, client: TestClient) -> None:
        body = valid_filing()
        reordered = dict(reversed(list(body.items())))
        headers = {"Idempotency-Key": "k-2"}
        first = client.post("/api/v1/complaints", json=body, headers=headers)
        again = client.post(
            "/api/v1/complaints", json=reordered | {"text": f"  {body['text']} "}, headers=headers
        )
        assert again.json() == first.json()
        assert _complaints() == 1

    def test_the_same_key_with_another_body_is_refused(self, client: TestClient) -> None:
        headers = {"Idempotency-Key": "k-3"}
        client.post("/api/v1/complaints", json=valid_filing(), headers=headers)
        changed = valid_filing(
            text="同一个小区的另一部电梯也经常停运，物业说等配件，一个月了还没修好。"
        )
        other = client.post("/api/v1/complaints", json=changed, headers=headers)
        assert other.status_code == 422
        assert "different request body" in other.json()["detail"]
        assert _complaints() == 1

    def test_without_a_key_every_post_files(self, client: TestClient) -> None:
        client.post("/api/v1/complaints", json=valid_filing())
        client.post("/api/v1/complaints", json=valid_filing())
        assert _complaints() == 2

    def test_a_request_in_flight_makes_a_retry_wait_409(
        self, client: TestClient, session: Session
    ) -> None:
        body = valid_filing()
        scope = client_scope(staff_id=None, client_address="testclient")
        now = utcnow()
        session.add(
            IdempotencyKey(
                scope=scope,
                key="k-4",
                fingerprint=fingerprint(_validated(body)),
                state="in_flight",
                created_at=now,
                expires_at=now + timedelta(hours=24),
            )
        )
        session.commit()
        answer = client.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": "k-4"})
        assert answer.status_code == 409
        assert _complaints() == 0
        # A claim whose request died long ago is taken over.
        row = session.exec(select(IdempotencyKey)).one()
        row.created_at = now - timedelta(minutes=5)
        session.add(row)
        session.commit()
        retried = client.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": "k-4"})
        assert retried.status_code == 201
        assert _complaints() == 1

    def test_a_failed_request_releases_its_key(self, client: TestClient) -> None:
        headers = {"Idempotency-Key": "k-5"}
        bad = valid_filing(attachments=["0" * 32])  # unknown attachment: refused in the service
        assert client.post("/api/v1/complaints", json=bad, headers=headers).status_code == 422
        good = client.post(
            "/api/v1/complaints", json=valid_filing(), headers={"Idempotency-Key": "k-6"}
        )
        assert good.status_code == 201
        with Session(get_engine(read_only=True)) as session:
            keys = {k.key: k.state for k in session.exec(select(IdempotencyKey)).all()}
        assert keys == {"k-6": "done"}

    @pytest.mark.parametrize("key", ["", " ", "x" * 201])
    def test_malformed_keys_are_refused(self, client: TestClient, key: str) -> None:
        answer = client.post(
            "/api/v1/complaints", json=valid_filing(), headers={"Idempotency-Key": key}
        )
        assert answer.status_code == 422
        assert _complaints() == 0


def _validated(body: dict[str, object]) -> dict[str, object]:
    from schemas.complaint import ComplaintCreate

    return ComplaintCreate.model_validate(body).model_dump(mode="json")


def test_keys_are_scoped_per_client() -> None:
    assert client_scope(staff_id=7, client_address=None) == "staff:7"
    a = client_scope(staff_id=None, client_address="10.0.0.1")
    b = client_scope(staff_id=None, client_address="10.0.0.2")
    assert a != b
    assert "10.0.0.1" not in a  # the address itself is never stored


@pytest.fixture
def live_app(platform: str) -> Iterator[str]:
    from service.app import create_app

    with serving(create_app()) as url:
        yield url


def test_fifty_concurrent_posts_with_one_key_make_one_filing(live_app: str) -> None:
    body = valid_filing()

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_app, timeout=30) as http:
            return http.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": "storm"})

    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(post, range(50)))
    codes = sorted({a.status_code for a in answers})
    assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in {201, 409}]
    numbers = {a.json()["tracking_number"] for a in answers if a.status_code == 201}
    assert len(numbers) == 1
    assert _complaints() == 1
    # Once the first has finished, every retry gets its answer.
    with httpx.Client(base_url=live_app) as http:
        late = http.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": "storm"})
    assert late.json()["tracking_number"] in numbers
    different = httpx.post(
        f"{live_app}/api/v1/complaints",
        json=valid_filing(region="太原市迎泽区"),
        headers={"Idempotency-Key": "storm"},
    )
    assert different.status_code == 422
    assert _complaints() == 1


def test_the_fingerprint_ignores_key_order() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


@pytest.mark.parametrize(
    "path", ["/api/v1/complaints", "/api/v1/operator/calls", "/api/v1/quality-supervision/filings"]
)
def test_the_filing_routes_document_the_key_they_read_themselves(
    sqlite_platform: str, path: str
) -> None:
    """The routes read the header (intake.idempotency.key_of), so FastAPI does not document
    it for them: their OpenAPI must, with the limits run_once applies."""
    operation = create_app().openapi()["paths"][path]["post"]
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert header["required"] is False
    text = next(s for s in header["schema"]["anyOf"] if s["type"] == "string")
    assert text == {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"}
