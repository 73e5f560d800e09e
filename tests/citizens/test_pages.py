"""「我的投诉」 pages over HTTP, without JavaScript: number → code → list, and each refusal
said in Chinese on the page (the whole path in a browser is tests/web/test_browser_my_filings)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from redis import Redis
from sqlmodel import Session

from tests.citizens.test_api import PHONE, _code, _file, _wrong
from tests.conftest import REDIS_TEST_URL
from tests.helpers import form_token


def _ask(client: TestClient, phone: str) -> Any:
    form = client.get("/my")
    return client.post("/my/code", data={"phone": phone, "csrf_token": form_token(form.text)})


def _enter(client: TestClient, page: Any, code: str) -> Any:
    phone = re.search(r'name="phone" value="([^"]+)"', page.text)
    assert phone
    return client.post(
        "/my/session",
        data={"phone": phone.group(1), "code": code, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )


def test_sign_in_list_and_sign_out_without_javascript(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    assert 'href="/my"' in client.get("/").text
    number = _file(client, contact_phone="13812345678")
    form = client.get("/my")
    assert form.status_code == 200
    assert "获取验证码" in form.text
    forged = client.post("/my/code", data={"phone": "13812345678", "csrf_token": "0" * 40})
    assert forged.status_code == 403

    bad = client.post("/my/code", data={"phone": "12345", "csrf_token": form_token(form.text)})
    assert bad.status_code == 422
    assert "请填写您投诉时留下的中国大陆手机号" in bad.text

    step = _ask(client, "138 1234 5678")
    assert step.status_code == 200
    assert "验证码已发送到 138****5678，5 分钟内有效" in step.text
    assert step.headers["cache-control"] == "no-store"
    wait = client.post("/my/code", data={"phone": PHONE, "csrf_token": form_token(step.text)})
    assert wait.status_code == 429
    assert re.search(r"请 \d+ 秒后再试", wait.text)
    assert 'name="code"' in wait.text  # the code already sent can still be typed

    code = _code(session)
    wrong = _enter(client, step, _wrong(code))
    assert wrong.status_code == 401
    assert "验证码不正确" in wrong.text
    assert "还可以再试 4 次" in wrong.text
    typed = _enter(client, step, " ".join(code[:3]) + code[3:])  # spaces typed are dropped
    assert typed.status_code == 303
    assert typed.headers["location"] == "/my"
    cookie = typed.headers["set-cookie"]
    assert "complaints_citizen=" in cookie
    assert "HttpOnly" in cookie
    assert "Path=/my" in cookie
    assert "samesite=strict" in cookie.lower()

    listed = client.get("/my")
    assert listed.status_code == 200
    assert "138****5678" in listed.text
    assert f'href="/track?n={number}"' in listed.text
    assert "13812345678" not in listed.text
    assert listed.headers["cache-control"] == "no-store"

    out = client.post(
        "/my/sign-out", data={"csrf_token": form_token(listed.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    after = client.get("/my")
    assert "获取验证码" in after.text
    assert number not in after.text


def test_expired_and_void_codes_are_said_in_chinese(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    step = _ask(client, PHONE)
    code = _code(session)
    for _ in range(5):
        last = _enter(client, step, _wrong(code))
    assert "输错次数过多，已作废，请重新获取验证码" in last.text
    void = _enter(client, step, code)
    assert void.status_code == 401
    assert "已作废" in void.text

    redis = Redis.from_url(REDIS_TEST_URL)
    for key in redis.keys("citizen:code*"):  # the resend wait and the code: time is up
        redis.delete(key)
    expired = _enter(client, step, code)
    assert expired.status_code == 401
    assert "验证码已过期或已失效，请重新获取验证码" in expired.text
    short = _enter(client, step, "12")
    assert short.status_code == 422
    assert "6 位数字" in short.text
