"""A citizen on a phone, in real Chromium, against the app as it runs in production.

Every citizen page is checked to fit a 360 px wide screen (nothing wider than the screen,
so nothing scrolls sideways) and saved as a screenshot.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from core.db import get_engine
from schemas import Complaint, ComplaintEvent
from schemas.enums import STATUS_LABELS, Status
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


def fits_the_phone(page: Any, name: str) -> None:
    """Nothing on the page is wider than the 360 px screen; then the screenshot."""
    assert page.viewport_size["width"] == 360
    widest = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    assert widest <= 360, (name, page.url, widest)
    shot(page, name)


def _complaint(number: str) -> Complaint:
    with Session(get_engine(read_only=True)) as session:
        return session.exec(select(Complaint).where(Complaint.tracking_number == number)).one()


def test_a_citizen_files_on_a_phone_tracks_and_rates(production: Production, chromium: Any) -> None:
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{production.url}/")
    fits_the_phone(page, "citizen-01-landing-phone")
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
    # What the rules require of a complaint: shown for 投诉 only, gone while 举报 is chosen.
    page.check("input[name=kind][value=tip]")
    assert not page.is_visible("#complainant_name")
    assert not page.is_visible("#demand")
    page.check("input[name=kind][value=complaint]")
    page.fill("#complainant_name", "闻人清和")
    page.fill("#complainant_address", "太原市迎泽区桃园南路88号")
    assert "退货退款、赔偿" in page.inner_text("label[for=demand]")
    page.fill("#demand", "退货退款")
    page.fill("#purchased_on", "2026-03-01")
    receipt_photo = _png()
    page.set_input_files(
        "#attachments",
        files=[{"name": "发票.png", "mimeType": "image/png", "buffer": receipt_photo}],
    )
    fits_the_phone(page, "citizen-02-form-phone")
    page.get_by_role("button", name="提交").click()
    number = page.inner_text("#number").replace(" ", "")
    assert len(number) == 14
    assert number.isdigit()
    filed = _complaint(number)
    assert (filed.complainant_name, filed.complainant_address, filed.demand) == (
        "闻人清和",
        "太原市迎泽区桃园南路88号",
        "退货退款",
    )
    assert str(filed.purchased_on) == "2026-03-01"
    assert (
        float(page.eval_on_selector("#number", "e => parseFloat(getComputedStyle(e).fontSize)"))
        >= 28
    )
    fits_the_phone(page, "citizen-03-filed-phone")

    page.click("text=查看办理进度")

    def routed() -> bool:
        page.reload()
        return page.inner_text("#status") != STATUS_LABELS[Status.received]

    wait_for(routed)
    assert page.inner_text("#status") == STATUS_LABELS[Status.routed], page.inner_text("main")
    assert "工商行政管理局" in page.inner_text("#department")
    assert page.is_visible("#due")  # the deadline of the current step
    assert "闻人清和" not in page.content()
    assert "桃园南路" not in page.content()
    fits_the_phone(page, "citizen-04-tracking-phone")

    # The photo is on the filing: the department opens exactly the bytes the citizen chose.
    gs = _api_token(production.url, "gs")
    cid = _complaint(number).id
    view = httpx.get(f"{production.url}/api/v1/complaints/{cid}", headers=gs).json()
    [attachment] = view["attachments"]
    assert (attachment["content_type"], attachment["size"]) == ("image/png", len(receipt_photo))
    download = httpx.get(f"{production.url}{attachment['url']}", headers=gs)
    assert download.status_code == 200
    assert download.content == receipt_photo

    assert cid is not None
    _act(production.url, gs, cid, "accept", {})
    _act(production.url, gs, cid, "start_mediation", {})
    _act(
        production.url,
        gs,
        cid,
        "mediation_succeeded",
        {"agreement": "超市同意退货退款", "recovered_fen": 3990},
    )
    _act(production.url, gs, cid, "close", {"summary": "调解成功，已退款"})

    page.reload()
    assert page.inner_text("#status") == STATUS_LABELS[Status.closed]
    fits_the_phone(page, "citizen-05-rating-phone")
    page.check("input[name=score][value='5']")
    page.fill("#comment", "处理及时")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url("**rated=1**")
    assert "感谢您的评价" in page.inner_text("#rated")
    assert page.get_by_role("button", name="提交评价").count() == 0  # not asked again
    fits_the_phone(page, "citizen-06-rated-phone")
    again = page.request.post(
        f"{production.url}/track/{number}/rating", form={"score": "4", "csrf_token": "x"}
    )
    assert again.status == 403  # a form post without the right token is refused

    page.goto(f"{production.url}/track")
    fits_the_phone(page, "citizen-07-track-form-phone")
    page.fill("#n", number)
    page.get_by_role("button", name="查询").click()
    assert page.inner_text("#status") == STATUS_LABELS[Status.closed]
    context.close()


TIP_TEXT = "举报太原市小店区某某电梯维保公司伪造电梯年检报告，涉及十几个小区，请依法查处。"


def test_a_tip_off_shows_its_receipt_once_and_its_reporter_answers_and_claims(
    production: Production, chromium: Any
) -> None:
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{production.url}/file?kind=tip")
    assert page.is_checked("input[name=kind][value=tip]")
    fits_the_phone(page, "citizen-08-tip-form-phone")
    page.fill("#text", TIP_TEXT)
    page.fill("#business_name", "太原市小店区某某电梯维保公司")
    page.fill("#reporter_name", "李四")
    page.fill("#contact_phone", "13912345678")
    page.get_by_role("button", name="提交").click()
    receipt = page.inner_text("#receipt").replace(" ", "")
    assert len(receipt) == 24
    assert receipt.isdigit()
    fits_the_phone(page, "citizen-09-tip-receipt-phone")
    with Session(get_engine(read_only=True)) as session:
        [tip] = session.exec(select(Complaint)).all()
    assert tip.contact_phone is None

    wait_for(lambda: _status(tip.id) is not Status.received)
    assert _status(tip.id) is Status.routed

    page.goto(f"{production.url}/tipoff")
    fits_the_phone(page, "citizen-10-tipoff-receipt-entry-phone")
    page.fill("#receipt_code", " ".join(receipt[i : i + 4] for i in range(0, 24, 4)))
    page.get_by_role("button", name="查询").click()
    assert page.inner_text("#status") == STATUS_LABELS[Status.routed]
    assert "质量技术监督" in page.inner_text("main")
    fits_the_phone(page, "citizen-11-tip-follow-up-phone")

    page.fill("#answer", "伪造的报告在物业办公室，编号2026-018。")
    page.get_by_role("button", name="发送").click()
    assert page.inner_text("p.ok") == "已收到您的答复，承办部门会看到。"
    fits_the_phone(page, "citizen-12-tip-answered-phone")
    with Session(get_engine(read_only=True)) as session:
        answers = session.exec(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == tip.id)
            .where(ComplaintEvent.reason == "reporter answered")
        ).all()
    assert [a.payload["text"] for a in answers] == ["伪造的报告在物业办公室，编号2026-018。"]

    page.fill("#claim_name", "李四")
    page.fill("#claim_phone", "13912345678")
    page.fill("#claim_id_number", "11010519491231002X")
    page.fill("#claim_bank_name", "中国工商银行太原分行")
    page.fill("#claim_bank_account", "6222021234567890123")
    page.get_by_role("button", name="提交领奖信息").click()
    assert page.inner_text("p.ok").startswith("已收到您的领奖信息")
    assert "6222021234567890123" not in page.content()  # not shown back
    fits_the_phone(page, "citizen-13-tip-reward-claimed-phone")
    context.close()

    # Sealed in the vault: a reward officer sees it, masked, by stating a reason.
    identity = httpx.post(
        f"{production.url}/api/v1/vault/tipoffs/{tip.id}/identity",
        json={"reason": "核对领奖账户"},
        headers=_api_token(production.url, "ro1"),
    )
    assert identity.status_code == 200, identity.text
    opened = identity.json()
    assert (opened["name"], opened["phone_masked"]) == ("李四", "139****5678")
    assert opened["id_number_masked"] == "110***********002X"
    assert opened["bank_account"] == "6222021234567890123"


def _status(cid: int | None) -> Status:
    with Session(get_engine(read_only=True)) as session:
        found = session.get(Complaint, cid)
    assert found is not None
    return found.status


def _png() -> bytes:
    from tests.intake.test_attachments_and_limits import png_bytes

    return png_bytes()
