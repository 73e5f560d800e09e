"""Staff sign-in and sign-out in real Chromium, against the app as it runs in production."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from core.db import get_engine
from schemas.staff import StaffSession
from tests.helpers import PASSWORD
from tests.web.conftest import Production, shot
from web.security import SESSION_COOKIE

pytestmark = pytest.mark.browser


def _sessions() -> int:
    with Session(get_engine(read_only=True)) as session:
        return len(session.exec(select(StaffSession)).all())


def test_signing_out_clears_the_cookie_and_ends_the_session_for_good(
    production: Production, chromium: Any
) -> None:
    base = production.url
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/staff/desk")  # not signed in: to the sign-in page, and back after
    page.wait_for_url("**/staff/login?next=/staff/desk")
    assert page.is_visible("#username")
    shot(page, "staff-01-login")
    page.fill("#username", "zj")
    page.fill("#password", "not-the-password")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码不正确" in page.inner_text("main")
    shot(page, "staff-02-login-refused")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/staff/desk")
    [cookie] = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert _sessions() == 1
    # The cookie is what signs the desk in: the same cookie from elsewhere works, for now.
    copied = httpx.get(
        f"{base}/staff/desk", cookies={SESSION_COOKIE: cookie["value"]}, follow_redirects=False
    )
    assert copied.status_code == 200

    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/staff/login")
    shot(page, "staff-03-signed-out")
    assert [c for c in context.cookies() if c["name"] == SESSION_COOKIE] == []
    assert _sessions() == 0  # ended on the server, not only forgotten by the browser
    page.goto(f"{base}/staff/desk")
    assert "/staff/login" in page.url

    # The old cookie, kept by someone, no longer opens anything.
    reused = httpx.get(
        f"{base}/staff/desk", cookies={SESSION_COOKIE: cookie["value"]}, follow_redirects=False
    )
    assert reused.status_code == 303
    assert reused.headers["location"].startswith("/staff/login")
    context.add_cookies([cookie])
    page.goto(f"{base}/staff/desk")
    assert "/staff/login" in page.url
    assert page.is_visible("#username")
    context.close()
