"""Error pages as a person sees them, in real Chromium: what went wrong and what to do, in
Chinese, never a trace. 404 and the refused form against the app as it runs in production;
the crash (500) and the busy page (503) against the app under uvicorn in this process, where
a crash can be caused and the in-flight limit set to one."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from core.db import get_engine
from schemas import Complaint
from tests.helpers import serving
from tests.web.conftest import Production, shot

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
pytestmark = pytest.mark.browser


def _no_trace(page: Any) -> None:
    content = page.content()
    for word in ("Traceback", "Exception", 'File "', "Internal Server Error"):
        assert word not in content


def test_an_unknown_page_and_a_refused_form_say_what_to_do(
    production: Production, chromium: Any
) -> None:
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    missing = page.goto(f"{production.url}/no/such/page")
    assert missing is not None
    assert missing.status == 404
    assert page.inner_text("h1") == "找不到该页面或记录"
    assert "请核对链接" in page.inner_text("main")
    _no_trace(page)
    shot(page, "error-01-404-phone")

    page.goto(f"{production.url}/file")
    page.fill("#text", "我在太原市小店区某某超市买的电热水壶用了三天就漏电，要求退货退款。")
    page.fill("#contact_phone", "13812345678")
    page.fill("#complainant_name", "李秀英")
    page.fill("#business_name", "太原市小店区某某超市")
    # The form's token goes missing, as when a page is left open past a restart of keys, or
    # the post comes from another site.
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="提交").click()
    assert navigation.value.status == 403
    assert page.inner_text("h1") == "表单已过期"
    assert "刷新后重新提交" in page.inner_text("main")
    _no_trace(page)
    shot(page, "error-02-csrf-refused-phone")
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(Complaint)).all() == []  # nothing was filed
    context.close()


@pytest.fixture
def in_process(sqlite_platform: str) -> Iterator[Callable[[], str]]:
    """Start the app under uvicorn in this process, after the test has set it up."""
    from service.app import create_app

    servers: list[Any] = []

    def start() -> str:
        server = serving(create_app())
        servers.append(server)
        return server.__enter__()

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_a_crash_is_a_page_in_chinese_without_a_trace(
    in_process: Callable[[], str], chromium: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in the tracking page")

    monkeypatch.setattr("web.citizen.service.public_filing", broken)
    base = in_process()
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    crashed = page.goto(f"{base}/track?n=26112865638191")
    assert crashed is not None
    assert crashed.status == 500
    assert page.inner_text("h1") == "系统出错了"
    assert "请稍后再试" in page.inner_text("main")
    assert "a bug in the tracking page" not in page.content()
    _no_trace(page)
    shot(page, "error-03-500-phone")
    context.close()


def test_an_overloaded_server_shows_the_busy_page(
    in_process: Callable[[], str],
    chromium: Any,
    configure: Callable[..., None],
    sqlite_url: str,
    redis_url: str,
) -> None:
    configure(database_url=sqlite_url, redis_url=redis_url, max_in_flight_requests="1")
    base = in_process()
    address = urlsplit(base)
    # One upload that never finishes sending its body keeps the one place taken.
    held = socket.create_connection((address.hostname or "127.0.0.1", address.port or 80))
    try:
        held.sendall(
            b"POST /api/v1/attachments HTTP/1.1\r\nHost: held\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n--x"
        )
        context = chromium.new_context(**PHONE, locale="zh-CN")
        page = context.new_page()
        deadline = 50
        busy = page.goto(f"{base}/track")
        while busy is not None and busy.status != 503 and deadline:  # the upload is not in yet
            page.wait_for_timeout(100)
            busy = page.goto(f"{base}/track")
            deadline -= 1
        assert busy is not None
        assert busy.status == 503
        assert busy.headers["retry-after"] == "5"
        assert page.inner_text("h1") == "系统繁忙，请稍后再试"
        assert "已经提交成功的内容不会丢失" in page.inner_text("main")
        # It is styled by itself: its stylesheet would be one more request turned away.
        assert page.eval_on_selector("header, h1", "e => getComputedStyle(e).color") != (
            "rgb(0, 0, 0)"
        )
        _no_trace(page)
        shot(page, "error-04-503-busy-phone")
        context.close()
    finally:
        held.close()
