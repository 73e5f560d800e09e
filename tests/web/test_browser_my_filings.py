"""「我的投诉」 in real Chromium on a 360 px phone, against the app as production runs it:
the worker texts the code through the loopback gateway, and the citizen types it from there."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.conftest import RunningGateway
from tests.web.conftest import Production
from tests.web.test_browser_citizen import PHONE, fits_the_phone

pytestmark = pytest.mark.browser

TEXT = "我在太原市小店区某某超市买的电热水壶用了三天就漏电，要求退货退款，超市不同意。"


@pytest.fixture
def texting_production(
    monkeypatch: pytest.MonkeyPatch, sms_gateway: RunningGateway, request: pytest.FixtureRequest
) -> Production:
    """`production` whose worker sends texts to the loopback gateway (the citizen's phone)."""
    monkeypatch.setenv("COMPLAINTS_SMS_PROVIDER", "loopback")
    monkeypatch.setenv("COMPLAINTS_SMS_GATEWAY_URL", sms_gateway.url)
    production = request.getfixturevalue("production")
    assert isinstance(production, Production)
    return production


def _texted_code(gateway: RunningGateway, to: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in gateway.inbox.all():
            match = re.search(r"验证码(\d{6})", message["text"])
            if message["to"] == to and match:
                return match.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no code texted to {to}: {gateway.inbox.all()}")


def test_a_citizen_finds_their_filing_by_phone_and_code(
    texting_production: Production, sms_gateway: RunningGateway, chromium: Any
) -> None:
    base = texting_production.url
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    # Filed earlier on the web; the tracking number has since been lost.
    page.goto(f"{base}/file?kind=complaint")
    page.fill("#text", TEXT)
    page.fill("#contact_phone", "138 1234 5678")
    page.fill("#complainant_name", "李秀英")
    page.fill("#business_name", "太原市小店区某某超市")
    page.get_by_role("button", name="提交").click()
    number = page.inner_text("#number").replace(" ", "")
    context.clear_cookies()

    page.goto(f"{base}/")
    with page.expect_navigation():
        page.locator("a.card", has_text="我的投诉").click()
    assert page.url == f"{base}/my"
    fits_the_phone(page, "my-filings-01-phone")
    page.fill("#phone", "+86 13812345678")
    page.get_by_role("button", name="获取验证码").click()
    assert "138****5678" in page.inner_text("#notice")
    fits_the_phone(page, "my-filings-02-code")
    code = _texted_code(sms_gateway, "+8613812345678")

    page.fill("#code", "000000" if code != "000000" else "111111")
    page.get_by_role("button", name="登录").click()
    assert "验证码不正确" in page.inner_text("#problem")
    page.fill("#code", code)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert page.url == f"{base}/my"
    cards = page.locator("#filings a.card")
    assert cards.count() == 1
    assert number[:4] in cards.first.inner_text()
    assert "投诉" in cards.first.inner_text()
    fits_the_phone(page, "my-filings-03-list")

    with page.expect_navigation():
        cards.first.click()
    assert page.url == f"{base}/track?n={number}"
    assert page.inner_text("#status")
    assert " ".join([number[:4], number[4:8]]) in page.inner_text("h1")
    fits_the_phone(page, "my-filings-04-tracking")

    page.goto(f"{base}/my")
    with page.expect_navigation():  # the POST, then its redirect back to /my
        page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{base}/my")
    assert page.is_visible("#phone")  # signed out: the number is asked for again
    context.close()


def test_sign_in_works_without_javascript(
    texting_production: Production, sms_gateway: RunningGateway, chromium: Any
) -> None:
    context = chromium.new_context(**PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{texting_production.url}/my")
    page.fill("#phone", "13912345678")
    page.get_by_role("button", name="获取验证码").click()
    page.fill("#code", _texted_code(sms_gateway, "+8613912345678"))
    page.get_by_role("button", name="登录").click()
    assert "这个手机号还没有投诉或咨询记录" in page.inner_text("#none")
    context.close()
