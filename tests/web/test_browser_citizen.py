"""A citizen on a phone, in real Chromium, against the app as it runs in production."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import PASSWORD
from tests.web.conftest import Production, shot, wait_for

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
pytestmark = pytest.mark.browser


def _api_token(base: str, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _act(base: str, headers: dict[str, str], cid: int, action: str, body: dict[str, Any]) -> None:
    answer = httpx.post(
        f"{base}/api/v1/complaints/{cid}/actions/{action}", json=body, headers=headers
    )
    assert answer.status_code == 200, answer.text


def test_a_citizen_files_on_a_phone_tracks_and_rates(production: Production, chromium: Any) -> None:
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{production.url}/")
    shot(page, "citizen-01-landing-phone")
    page.locator("a.card", has_text="我要投诉").click()
    page.fill("#text", "太短")
    page.fill("#contact_phone", "12345")
    page.locator("#contact_phone").blur()
    page.wait_for_selector("#check li")  # validated as the citizen types
    assert "有效的中国大陆手机号" in page.inner_text("#check")
    page.fill(
        "#text", "我在太原市小店区某某超市买的电热水壶用了三天就漏电，要求退货退款，超市不同意。"
    )
    page.fill("#contact_phone", "13812345678")
    page.fill("#business_name", "太原市小店区某某超市")
    page.fill("#business_address", "山西省太原市小店区亲贤北街1号")
    page.set_input_files(
        "#attachments",
        files=[{"name": "发票.png", "mimeType": "image/png", "buffer": _png()}],
    )
    # The form fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "citizen-02-form-phone")
    page.get_by_role("button", name="提交").click()
    number = page.inner_text("#number").replace(" ", "")
    assert len(number) == 14
    assert number.isdigit()
    assert (
        float(page.eval_on_selector("#number", "e => parseFloat(getComputedStyle(e).fontSize)"))
        >= 28
    )
    shot(page, "citizen-03-filed-phone")

    page.click("text=查看办理进度")

    def routed() -> bool:
        page.reload()
        return page.inner_text("#status") != "已登记"

    wait_for(routed)
    assert page.inner_text("#status") == "已分派至承办部门", page.inner_text("main")
    assert "工商行政管理局" in page.inner_text("#department")
    assert page.is_visible("#due")  # the deadline of the current step
    shot(page, "citizen-04-tracking-phone")

    gs = _api_token(production.url, "gs")
    queue = httpx.get(f"{production.url}/api/v1/queue", headers=gs).json()
    cid = queue["data"][0]["id"]
    _act(production.url, gs, cid, "accept", {})
    _act(production.url, gs, cid, "start_mediation", {})
    _act(production.url, gs, cid, "mediation_succeeded", {"agreement": "超市同意退货退款"})
    _act(production.url, gs, cid, "close", {"summary": "调解成功，已退款"})

    page.reload()
    assert page.inner_text("#status") == "已办结"
    page.check("input[name=score][value='5']")
    page.fill("#comment", "处理及时")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url("**rated=1**")
    shot(page, "citizen-05-rated-phone")
    again = page.request.post(
        f"{production.url}/track/{number}/rating", form={"score": "4", "csrf_token": "x"}
    )
    assert again.status == 403  # a form post without the right token is refused
    context.close()


def test_a_tip_off_shows_its_receipt_once_and_opens_the_reporters_page(
    production: Production, chromium: Any
) -> None:
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{production.url}/file?kind=tip")
    page.fill("#text", "举报某某食品厂用过期原料生产月饼，仓库在小店区，请依法查处。")
    page.fill("#business_name", "某某食品厂")
    page.get_by_role("button", name="提交").click()
    receipt = page.inner_text("#receipt").replace(" ", "")
    assert len(receipt) == 24
    shot(page, "citizen-06-tip-receipt-phone")
    page.goto(f"{production.url}/tipoff")
    page.fill("#receipt_code", receipt)
    page.get_by_role("button", name="查询").click()
    assert page.inner_text("#status")
    shot(page, "citizen-07-tip-follow-up-phone")
    context.close()


def _png() -> bytes:
    from tests.intake.test_attachments_and_limits import png_bytes

    return png_bytes()
