"""Receipt codes: shown once, kept as a hash, and guessing them gets nowhere."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from core.errors import NotFound
from intake.limits import TooManyRequests
from rewards import receipts
from schemas import TipReceipt
from tests.helpers import valid_filing

WINDOW = 10  # seconds: the lockout and the global window, short for the test


@pytest.fixture
def throttled(configure: Callable[..., None], sqlite_url: str, redis_url: str) -> None:
    from core import migrate
    from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry

    configure(
        database_url=sqlite_url,
        redis_url=redis_url,
        receipt_lockout_seconds=str(WINDOW),
        receipt_global_window_seconds=str(WINDOW),
    )
    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()


def _tip(client: TestClient) -> str:
    body = valid_filing(
        kind="tip", text="举报某某厂无证生产电动车充电器，仓库里堆了上千个，请依法查处。"
    )
    del body["contact_phone"]
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    code = created["receipt_code"]
    assert len(code) == receipts.CODE_DIGITS
    assert code.isdigit()
    assert created["receipt_code_display"].replace(" ", "") == code
    assert created["tracking_url"] is None
    return str(code)


def test_the_code_is_stored_only_as_an_argon2_hash(
    throttled: None, client: TestClient, session: Session
) -> None:
    code = _tip(client)
    row = session.exec(select(TipReceipt)).one()
    assert row.code_hash.startswith("$argon2")
    assert code not in row.code_hash
    assert row.locator == code[: receipts.LOCATOR_DIGITS]
    assert code[receipts.LOCATOR_DIGITS :] not in repr(row.model_dump())


def test_ten_thousand_wrong_guesses_find_nothing_and_the_right_code_works_after(
    throttled: None, client: TestClient
) -> None:
    code = _tip(client)
    locator = code[: receipts.LOCATOR_DIGITS]
    rng = random.Random(12315)
    hits = throttled_count = checked = 0
    started = time.monotonic()
    with Session(get_engine()) as session:
        for i in range(10_000):
            # Half aim at the real locator with a guessed secret, half are random codes.
            if i % 2:
                guess = locator + "".join(rng.choice("0123456789") for _ in range(16))
            else:
                guess = "".join(rng.choice("0123456789") for _ in range(24))
            if guess == code:
                continue
            try:
                receipts.verify(session, guess)
                hits += 1
            except TooManyRequests:
                throttled_count += 1
            except NotFound:
                checked += 1
    elapsed = time.monotonic() - started
    assert hits == 0
    # Throttling engaged: at most the global allowance per window was ever checked.
    windows = elapsed / WINDOW + 2
    assert checked <= 60 * windows, (checked, elapsed)
    assert throttled_count >= 10_000 - 60 * windows - 1
    # While throttled, even the right code waits (it says so, and when to come back).
    locked = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    time.sleep(WINDOW + 0.5)
    opened = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
    assert opened.status_code == 200, opened.text
    assert opened.json()["case"]["kind"] == "tip"


def test_a_wrong_code_is_a_404_with_a_reason_and_a_locked_code_a_429(
    throttled: None, client: TestClient
) -> None:
    code = _tip(client)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    for _ in range(5):
        answer = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": wrong})
        assert answer.status_code == 404
        assert "receipt code" in answer.json()["detail"]
    answer = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
    assert answer.status_code == 429  # this code's locator is locked, for a while
    malformed = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": "12ab"})
    assert malformed.status_code == 404
    extra = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code, "x": 1})
    assert extra.status_code == 422


def test_a_retry_with_the_same_key_does_not_show_the_code_again(
    throttled: None, client: TestClient
) -> None:
    body = valid_filing(
        kind="tip", text="举报某某厂无证生产电动车充电器，仓库里堆了上千个，请依法查处。"
    )
    headers = {"Idempotency-Key": "tip-1"}
    first = client.post("/api/v1/complaints", json=body, headers=headers).json()
    again = client.post("/api/v1/complaints", json=body, headers=headers).json()
    assert first["receipt_code"]
    assert again["receipt_code"] is None
    assert again["tracking_number"] == first["tracking_number"]


def test_redis_down_refuses_lookups_rather_than_unthrottling(
    configure: Callable[..., None], sqlite_url: str
) -> None:
    from core import migrate

    configure(database_url=sqlite_url, redis_url="redis://127.0.0.1:1/0")
    migrate.upgrade()
    from core.errors import ServiceUnavailable

    with Session(get_engine()) as session, pytest.raises(ServiceUnavailable):
        receipts.verify(session, "1" * 24)
