"""A citizen's sign-in by SMS code and the list of their own filings, through the API.

The code is read from the text the platform queued (sealed until sent: opened with the
vault's key ring, as the send job opens it), never from Redis, which holds only its hash.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import update
from sqlmodel import Session, col, select

from core.db import get_engine
from notify.service import open_sealed
from rewards.keys import keyring
from schemas import Complaint, SmsOutbound
from schemas.enums import Role
from tests.helpers import add_staff, bearer, valid_filing

PHONE = "+8613812345678"
OTHER = "+8613987654321"


def _file(client: TestClient, **overrides: Any) -> str:
    answer = client.post("/api/v1/complaints", json=valid_filing(**overrides))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["tracking_number"])


def _code_texts(session: Session) -> list[tuple[str, str]]:
    """(number, text) of every sign-in code queued, oldest first."""
    session.expire_all()
    queued = session.exec(
        select(SmsOutbound)
        .where(SmsOutbound.template == "citizen_code")
        .order_by(col(SmsOutbound.id))
    ).all()
    for message in queued:  # the number and text are never stored in the clear
        assert (message.to_number, message.body, message.params) == (None, None, {})
    return [open_sealed(keyring(), message) for message in queued]


def _code(session: Session, phone: str = PHONE) -> str:
    _, text = [sent for sent in _code_texts(session) if sent[0] == phone][-1]
    match = re.fullmatch(
        r"【12315】验证码(\d{6})，用于登录查看您的投诉和咨询，5分钟内有效。请勿告诉他人。", text
    )
    assert match, text  # the code and what it is for: no filing, business or number
    return match.group(1)


def _ask(client: TestClient, phone: str) -> Any:
    return client.post("/api/v1/citizen/code", json={"phone": phone})


def _sign_in(client: TestClient, session: Session, phone: str) -> dict[str, str]:
    assert _ask(client, phone).status_code == 202
    answer = client.post(
        "/api/v1/citizen/session", json={"phone": phone, "code": _code(session, phone)}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_the_list_shows_the_numbers_complaints_and_inquiries_only(
    platform: str, client: TestClient, session: Session
) -> None:
    complaint = _file(client, contact_phone="138 1234 5678")
    inquiry = _file(client, kind="inquiry", contact_phone="+86 13812345678", business_name=None)
    # The same citizen's tip-off, with their number as the reporter's: never on the list,
    # not even if its row held the number (it holds none; the query must not rely on that).
    tip = _file(client, kind="tip", contact_phone=None, reporter={"name": "张三", "phone": PHONE})
    with Session(get_engine()) as writer:
        writer.execute(
            update(Complaint)
            .where(col(Complaint.tracking_number) == tip)
            .values(contact_phone=PHONE)
        )
        writer.commit()
    others = _file(client, contact_phone=OTHER)

    sent = _ask(client, "+86 138-1234-5678")
    assert sent.status_code == 202
    assert sent.json() == {"sent_to": "138****5678", "expires_in": 300, "resend_after": 60}
    [(to, _)] = _code_texts(session)
    assert to == PHONE
    answer = client.post(
        "/api/v1/citizen/session", json={"phone": "138 1234 5678", "code": _code(session)}
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 30 * 60
    mine = client.get(
        "/api/v1/citizen/filings", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["phone"] == "138****5678"
    assert body["more"] is False
    assert [f["tracking_number"] for f in body["filings"]] == [inquiry, complaint]  # newest first
    first = body["filings"][1]
    assert first["kind"] == "complaint"
    assert first["kind_label"] == "投诉"
    assert first["status"] == "received"
    assert first["status_label"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first["filed_on"])
    assert first["tracking_url"].endswith(f"/api/v1/track/{complaint}")
    assert client.get(first["tracking_url"]).status_code == 200
    assert others not in mine.text
    assert tip not in mine.text
    assert "电梯" not in mine.text  # no text of the filing, nothing staff wrote


def test_a_number_without_filings_gets_the_same_answer_and_an_empty_list(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    _file(client)
    with_filings = _ask(client, PHONE)
    without = _ask(client, OTHER)
    assert (with_filings.status_code, without.status_code) == (202, 202)
    assert with_filings.json()["expires_in"] == without.json()["expires_in"]
    answer = client.post(
        "/api/v1/citizen/session", json={"phone": OTHER, "code": _code(session, OTHER)}
    )
    token = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    listed = client.get("/api/v1/citizen/filings", headers=token).json()
    assert listed["filings"] == []


def test_another_numbers_token_reads_only_its_own(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    mine = _file(client, contact_phone=PHONE)
    theirs = _file(client, contact_phone=OTHER)
    other_token = _sign_in(client, session, OTHER)
    listed = client.get("/api/v1/citizen/filings", headers=other_token)
    assert [f["tracking_number"] for f in listed.json()["filings"]] == [theirs]
    assert mine not in listed.text

    # A token is signed: one edited to name another number is refused.
    token = other_token["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = PHONE
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    refused = client.get(
        "/api/v1/citizen/filings",
        headers={"Authorization": f"Bearer {header}.{forged}.{signature}"},
    )
    assert refused.status_code == 401


def test_no_token_or_a_staff_token_is_refused_and_a_citizen_token_is_no_staff_token(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    assert client.get("/api/v1/citizen/filings").status_code == 401
    assert (
        client.get(
            "/api/v1/citizen/filings", headers={"Authorization": "Bearer nonsense"}
        ).status_code
        == 401
    )
    add_staff(session, "boss", Role.supervisor)
    staff = bearer(client, "boss")
    refused = client.get("/api/v1/citizen/filings", headers=staff)
    assert refused.status_code == 401
    assert refused.json()["error"] == "NotAuthenticated"
    citizen = _sign_in(client, session, PHONE)
    assert client.get("/api/v1/auth/me", headers=citizen).status_code == 401
    assert client.get("/api/v1/queue", headers=citizen).status_code == 401


def test_five_wrong_codes_void_it(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    assert _ask(client, PHONE).status_code == 202
    code = _code(session)
    for left in (4, 3, 2, 1, 0):
        wrong = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": _wrong(code)})
        assert wrong.status_code == 401
        assert (wrong.json()["reason"], wrong.json()["tries_left"]) == ("wrong", left)
    right_too_late = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": code})
    assert right_too_late.status_code == 401
    assert right_too_late.json()["reason"] == "void"


def test_a_code_opens_once_and_a_new_one_replaces_the_old(
    sqlite_platform: str, configure: Any, client: TestClient, session: Session
) -> None:
    configure(database_url=sqlite_platform, redis_url=_redis_url(), citizen_code_resend_seconds="1")
    assert _ask(client, PHONE).status_code == 202
    first = _code(session)
    time.sleep(1.1)
    assert _ask(client, PHONE).status_code == 202
    second = _code(session)
    if first != second:  # one chance in a million that they are the same
        old = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": first})
        assert (old.status_code, old.json()["reason"]) == (401, "wrong")
    assert (
        client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": second}).status_code
        == 200
    )
    again = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": second})
    assert (again.status_code, again.json()["reason"]) == (401, "expired")


def _redis_url() -> str:
    from tests.conftest import REDIS_TEST_URL

    return REDIS_TEST_URL


def test_an_expired_code_is_refused(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    assert _ask(client, PHONE).status_code == 202
    code = _code(session)
    redis = Redis.from_url(_redis_url())
    [key] = redis.keys("citizen:code:*")
    assert b"digest" in redis.hgetall(key)  # a hash: neither the code nor the number
    assert code.encode() not in b"".join(redis.hgetall(key).values())
    assert 290 <= redis.ttl(key) <= 300
    redis.pexpire(key, 1)  # its five minutes are up
    time.sleep(0.05)
    late = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": code})
    assert (late.status_code, late.json()["reason"]) == (401, "expired")
    never = client.post("/api/v1/citizen/session", json={"phone": OTHER, "code": "123456"})
    assert (never.status_code, never.json()["reason"]) == (401, "expired")


def test_resending_is_limited_per_number_and_per_address(
    sqlite_platform: str, configure: Any, client: TestClient, session: Session
) -> None:
    assert _ask(client, PHONE).status_code == 202
    again = _ask(client, PHONE)
    assert again.status_code == 429
    assert 55 <= int(again.headers["Retry-After"]) <= 60
    assert "seconds" in again.json()["detail"]
    assert len(_code_texts(session)) == 1  # the refused request sent nothing

    configure(
        database_url=sqlite_platform,
        redis_url=_redis_url(),
        citizen_codes_per_address_per_hour="3",
    )
    for n in range(2):
        assert _ask(client, f"+86139000000{n:02d}").status_code == 202
    flood = _ask(client, "+8613900000099")
    assert flood.status_code == 429
    assert int(flood.headers["Retry-After"]) > 0
    assert "address" in flood.json()["detail"]


def test_the_number_is_checked_and_must_take_texts(
    sqlite_platform: str, client: TestClient
) -> None:
    assert _ask(client, "12345").status_code == 422
    landline = _ask(client, "0351-7654321")
    assert landline.status_code == 422
    assert "mobile" in landline.json()["detail"]
    short = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": "12345"})
    assert short.status_code == 422


def test_wrong_codes_from_one_address_are_limited_whatever_the_number(
    sqlite_platform: str, configure: Any, client: TestClient
) -> None:
    configure(
        database_url=sqlite_platform,
        redis_url=_redis_url(),
        citizen_signin_tries_per_address_per_hour="3",
    )
    for n in range(3):
        tried = client.post(
            "/api/v1/citizen/session", json={"phone": f"+86139000000{n:02d}", "code": "000000"}
        )
        assert tried.status_code == 401
    stopped = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": "000000"})
    assert stopped.status_code == 429
    assert int(stopped.headers["Retry-After"]) > 0


def test_wrong_codes_for_one_number_are_limited_whatever_the_address(
    sqlite_platform: str, configure: Any, client: TestClient, session: Session
) -> None:
    """A new code resets its own five tries; the day's wrong tries for the number do not."""
    configure(
        database_url=sqlite_platform,
        redis_url=_redis_url(),
        citizen_signin_tries_per_phone_per_day="3",
    )
    assert _ask(client, PHONE).status_code == 202
    code = _code(session, PHONE)
    for _ in range(3):
        tried = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": _wrong(code)})
        assert tried.status_code == 401
    stopped = client.post("/api/v1/citizen/session", json={"phone": PHONE, "code": code})
    assert stopped.status_code == 429  # even the right code, until the day's window ends
    assert "number" in stopped.json()["detail"]
    other = client.post("/api/v1/citizen/session", json={"phone": OTHER, "code": "000000"})
    assert other.status_code == 401  # another number from the same address is not held up


def test_signing_out_ends_the_token(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    token = _sign_in(client, session, PHONE)
    assert client.get("/api/v1/citizen/filings", headers=token).status_code == 200
    assert client.delete("/api/v1/citizen/session", headers=token).status_code == 204
    assert client.get("/api/v1/citizen/filings", headers=token).status_code == 401


def test_no_number_or_code_is_logged_in_the_clear(
    sqlite_platform: str, client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = _sign_in(client, session, PHONE)
    code_texts = _code_texts(session)
    client.get("/api/v1/citizen/filings", headers=token)
    from tests.helpers import run_worker_until_idle

    run_worker_until_idle()  # the text is sent, and its sealed copy erased
    # The records as logged, before the formatter's masking net: our lines mask on their own.
    written = "\n".join(record.getMessage() for record in caplog.records)
    assert "138****5678" in written  # the masked number says a code was asked for
    assert "13812345678" not in written
    code = re.search(r"验证码(\d{6})", code_texts[0][1])
    assert code is not None
    assert code.group(1) not in written
    session.expire_all()
    [sent] = session.exec(select(SmsOutbound).where(SmsOutbound.template == "citizen_code")).all()
    assert (sent.state, sent.sealed_ciphertext, sent.body) == ("sent", None, None)
