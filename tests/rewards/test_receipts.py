"""Receipt codes: shown once, kept as a hash, and guessing them gets nowhere."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlmodel import Session, select

from core.db import get_engine
from core.errors import NotFound
from intake.limits import TooManyRequests
from rewards import receipts
from schemas import TipReceipt
from tests.conftest import Templates, migrated_platform
from tests.helpers import valid_filing

WINDOW = 10  # seconds: the global window, short for the test
# A code's lockout outlasts the ten thousand guesses (8 s on a quiet machine, more beside
# another test process): one that lapsed mid-flood would not be locked at the end, since
# guesses refused by the spent global window do not count against the code.
LOCKOUT = 30


@pytest.fixture
def throttled(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> None:
    migrated_platform(
        configure,
        sqlite_url,
        redis_url,
        templates,
        receipt_lockout_seconds=str(LOCKOUT),
        receipt_global_window_seconds=str(WINDOW),
    )


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
    # Half the guesses aimed at the real locator, so the code itself is locked: even the
    # right code waits (it says so, and when to come back).
    locked = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
    assert locked.status_code == 429
    retry_after = int(locked.headers["Retry-After"])
    assert 1 <= retry_after <= LOCKOUT
    time.sleep(retry_after + 1)  # as the answer says
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


def test_a_code_typed_in_full_width_digits_opens_the_tip_off(
    throttled: None, client: TestClient
) -> None:
    code = _tip(client)
    full_width = receipts.display(code).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    assert receipts.normalize(full_width) == code
    followed = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": full_width})
    assert followed.status_code == 200, followed.text
    assert receipts.normalize("1" * 23 + "²") is None  # a digit to str.isdigit(), not to int()


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


def _wrong(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def _guess_at_once(codes: list[str]) -> list[str]:
    """Check every code at the same moment, each in its own thread and session."""
    barrier = threading.Barrier(len(codes))

    def one(code: str) -> str:
        with Session(get_engine()) as session:
            barrier.wait()
            try:
                receipts.verify(session, code)
                return "hit"
            except TooManyRequests:
                return "throttled"
            except NotFound:
                return "checked"

    with ThreadPoolExecutor(max_workers=len(codes)) as pool:
        return list(pool.map(one, codes))


def test_wrong_guesses_at_the_same_moment_are_not_checked_beyond_the_lock(
    throttled: None, client: TestClient
) -> None:
    code = _tip(client)
    outcomes = _guess_at_once([_wrong(code)] * 20)
    assert outcomes.count("hit") == 0
    assert outcomes.count("checked") == 5, outcomes  # COMPLAINTS_RECEIPT_MAX_FAILURES
    assert outcomes.count("throttled") == 15
    locked = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
    assert locked.status_code == 429


def test_random_guesses_at_the_same_moment_stay_within_the_global_cap(
    configure: Callable[..., None], sqlite_url: str, redis_url: str
) -> None:
    from core import migrate

    configure(
        database_url=sqlite_url,
        redis_url=redis_url,
        receipt_global_max_failures="6",
        receipt_global_window_seconds="30",
    )
    migrate.upgrade()
    rng = random.Random(365)
    guesses = ["".join(rng.choice("0123456789") for _ in range(24)) for _ in range(24)]
    outcomes = _guess_at_once(guesses)
    assert outcomes.count("checked") <= 6, outcomes
    assert outcomes.count("throttled") >= 18


def test_a_flood_of_wrong_codes_does_not_keep_an_honest_reporter_out(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> None:
    migrated_platform(
        configure,
        sqlite_url,
        redis_url,
        templates,
        receipt_global_max_failures="3",
        receipt_global_window_seconds="60",
    )
    from service.app import create_app

    with TestClient(create_app()) as client:
        code = _tip(client)
        other = _tip(client)
        rng = random.Random(12365)

        def flood() -> list[int]:
            statuses = []
            for _ in range(10):
                guess = "".join(rng.choice("0123456789") for _ in range(24))
                answer = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": guess})
                statuses.append(answer.status_code)
            return statuses

        statuses = flood()
        assert statuses.count(404) <= 3  # the cap was spent by the flood
        assert statuses[-1] == 429
        # The honest reporter still gets in, in the same window...
        mine = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
        assert mine.status_code == 200, mine.text
        # ... and again after more of the flood: a right code gives its one check of the
        # window back, for the reporter's next step (an answer, a claim).
        assert set(flood()) == {429}
        again = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
        assert again.status_code == 200, again.text
        # A wrong guess at an existing locator in a spent window gets that code's one check,
        # answered like any refusal; the next try at that code waits for the window.
        assert (
            client.post(
                "/api/v1/tipoffs/follow-up", json={"receipt_code": _wrong(other)}
            ).status_code
            == 429
        )
        assert (
            client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": other}).status_code
            == 429
        )
        # Refused tries were not checked, so they are no wrong tries on anyone's code.
        connection = Redis.from_url(redis_url)
        assert int(connection.get(receipts._key(code[:8])) or 0) == 0
        assert int(connection.get(receipts._key(other[:8])) or 0) == 1
