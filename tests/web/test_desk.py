"""The department desk's pages: the queue, one filing, its actions; roles, CSRF, refusals.

Over HTTP with TestClient; the browser test (a complaint from filing to closing, in Chromium
against the app as it runs in production) is at the end, marked `browser`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cases.deadlines import today
from core.db import get_engine
from intake.tracking_number import display_tracking_number
from schemas import Complaint, ComplaintEvent
from schemas.casework import AuditEntry
from schemas.duplicate import DuplicateLink
from schemas.enums import Role, Status
from tests.helpers import (
    PASSWORD,
    add_staff,
    run_worker_until_idle,
    sign_in_page,
    valid_filing,
)
from tests.intake.test_attachments_and_limits import png_bytes
from tests.web.conftest import Production, shot, wait_for
from web import desk as desk_pages

TEXTS = [
    "我家小区的电梯上个月困人两次，物业一直不修，电梯年检标志也过期了，请质监部门检查。",
    "小区3号楼电梯经常停在两层之间，困人后维保公司两个小时才到，请质监部门督促整改。",
    "我们单位的电梯按钮失灵，轿厢门关不严，物业说电梯没坏，请质监部门派人检查电梯。",
]


TESTING = {
    "lab": "山西省产品质量监督检验研究院",
    "sample": "涉诉电动车充电器一只，已封存",
    "basis": "GB 4943.1-2022 强制性国家标准",
    "items": "温升\n绝缘电阻",
    "fee_fen": "1500",
    "payer": "business",
    "payment_timing": "出具报告前由被投诉人支付",
    "due_on": (today() + timedelta(days=20)).isoformat(),
}


def _file(client: TestClient, text: str, **changes: Any) -> int:
    body = valid_filing(**{"text": text} | changes)
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    number = answer.json()["tracking_number"]
    with Session(get_engine(read_only=True)) as db:
        found = db.exec(select(Complaint.id).where(Complaint.tracking_number == number)).one()
        return int(found or 0)


@pytest.fixture
def filings(sqlite_platform: str, client: TestClient, session: Session) -> list[int]:
    """Three routed complaints of the quality department, due yesterday, today and in a month
    (filed in the opposite order, so that the deadline order is not the filing order)."""
    for name, role, department in (
        ("zj", Role.department, "quality"),
        ("gs", Role.department, "aic"),
        ("op", Role.operator, None),
        ("ro1", Role.reward_officer, None),
        ("boss", Role.supervisor, None),
    ):
        add_staff(session, name, role, department)
    ids = [_file(client, text) for text in TEXTS]
    run_worker_until_idle()
    due = [today() + timedelta(days=30), today(), today() - timedelta(days=1)]
    with Session(get_engine()) as db:
        for cid, due_on in zip(ids, due, strict=True):
            complaint = db.get(Complaint, cid)
            assert complaint is not None
            assert complaint.status is Status.routed, complaint
            complaint.deadline_due_on = due_on  # the queue sorts on this column
            db.add(complaint)
        db.commit()
    return ids


def _status(cid: int) -> Status:
    with Session(get_engine(read_only=True)) as db:
        complaint = db.get(Complaint, cid)
        assert complaint is not None
        return complaint.status


def _events(cid: int) -> int:
    with Session(get_engine(read_only=True)) as db:
        return len(db.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid)).all())


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-id="(\d+)">', html)]


def test_the_queue_shows_badges_and_sorts_by_deadline(
    filings: list[int], client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    later, due_today, overdue = filings
    sign_in_page(client, "zj")
    page = client.get("/staff/desk")
    assert page.status_code == 200
    assert "质量技术监督部门" in page.text
    assert _numbers(page.text) == [overdue, due_today, later]
    for label in ('class="badge overdue">已超期', 'class="badge warning">即将到期', "badge ok"):
        assert label in page.text
    assert _numbers(client.get("/staff/desk?sort=oldest").text) == [later, due_today, overdue]
    assert _numbers(client.get("/staff/desk?deadline=overdue").text) == [overdue]
    assert _numbers(client.get("/staff/desk?deadline=soon").text) == [overdue, due_today]
    assert _numbers(client.get("/staff/desk?place=太原市").text) == [overdue, due_today, later]
    assert _numbers(client.get("/staff/desk?place=北京市").text) == []
    assert _numbers(client.get("/staff/desk?status=accepted").text) == []
    bad = client.get("/staff/desk?deadline=tomorrow&place=火星")
    assert bad.status_code == 422
    assert "请从列表中选择期限" in bad.text
    assert "没有认出这个地区" in bad.text
    # Keyset pages: "下一页" carries the service's cursor and the filters.
    monkeypatch.setattr(desk_pages, "PAGE_SIZE", 2)
    first = client.get("/staff/desk?deadline=")
    assert _numbers(first.text) == [overdue, due_today]
    following = re.search(r'href="([^"]+)" id="next">下一页', first.text)
    assert following, first.text
    second = client.get(following.group(1).replace("&amp;", "&"))
    assert _numbers(second.text) == [later]
    assert 'id="next"' not in second.text
    # Another department's queue has none of them; a supervisor sees all, by department.
    sign_in_page(client, "gs")
    assert _numbers(client.get("/staff/desk").text) == []
    sign_in_page(client, "boss")
    monkeypatch.setattr(desk_pages, "PAGE_SIZE", 50)
    everything = client.get("/staff/desk?department=quality")
    assert _numbers(everything.text) == [overdue, due_today, later]
    assert _numbers(client.get("/staff/desk?department=aic").text) == []


def test_a_forged_cursor_gets_the_chinese_error_page(
    filings: list[int], client: TestClient
) -> None:
    sign_in_page(client, "zj")
    forged = client.get("/staff/desk", params={"cursor": "2026-01-01_9223372036854775808"})
    assert forged.status_code == 422, forged.text
    assert "Traceback" not in forged.text


def test_other_roles_get_the_chinese_403_page(filings: list[int], client: TestClient) -> None:
    for name in ("op", "ro1"):
        token = sign_in_page(client, name)
        for path in ("/staff/desk", f"/staff/desk/{filings[0]}"):
            refused = client.get(path)
            assert refused.status_code == 403
            assert "无权访问" in refused.text
            assert "Traceback" not in refused.text
        acted = client.post(f"/staff/desk/{filings[0]}/actions/accept", data={"csrf_token": token})
        assert acted.status_code == 403
    assert _status(filings[0]) is Status.routed
    client.cookies.clear()
    away = client.get("/staff/desk", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"].startswith("/staff/login")


def test_another_departments_filing_is_the_404_page(filings: list[int], client: TestClient) -> None:
    token = sign_in_page(client, "gs")
    for path in (f"/staff/desk/{filings[0]}", "/staff/desk/999999"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "找不到该页面或记录" in missing.text
    acted = client.post(f"/staff/desk/{filings[0]}/actions/accept", data={"csrf_token": token})
    assert acted.status_code == 404
    contact = client.post(f"/staff/desk/{filings[0]}/contact", headers={"X-CSRF-Token": token})
    assert contact.status_code == 404
    assert _status(filings[0]) is Status.routed


def test_the_filing_page_shows_the_record_routing_clocks_and_only_allowed_actions(
    filings: list[int], client: TestClient
) -> None:
    sign_in_page(client, "zj")
    page = client.get(f"/staff/desk/{filings[0]}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "已分派至承办部门" in html
    assert "电梯上个月困人两次" in html
    assert "138****5678" in html  # masked
    assert "13812345678" not in html
    assert "电梯" in html[html.index('id="top3"') :]  # the classifier's terms
    assert "管辖依据：经营者地址" in html  # the filing gave the business's address
    assert "决定是否受理" in html  # the running clock
    for action in ("accept", "refuse", "refer_to_odr", "note", "reply", "claim", "transfer"):
        assert f'id="act-{action}"' in html, action
    for action in ("start_mediation", "close", "request_testing", "open_case"):
        assert f'id="act-{action}"' not in html, action
    # The refusal grounds are the policy's, and every form carries the token.
    assert "不属于市场监督管理部门职责" in html
    assert html.count('name="csrf_token"') >= html.count("<form ")


def test_the_filing_page_shows_what_the_complainant_asks_and_who_they_are(
    filings: list[int], client: TestClient
) -> None:
    cid = _file(
        client,
        TEXTS[0],
        complainant_name="闻人清和",
        complainant_address="太原市迎泽区桃园南路88号",
        demand="退还维修费并赔偿",
        purchased_on="2026-03-01",
        order_number="JD-778899",
    )
    run_worker_until_idle()
    sign_in_page(client, "zj")
    html = client.get(f"/staff/desk/{cid}").text
    for where, shown in (
        ("complainant-name", "闻人清和"),
        ("complainant-address", "太原市迎泽区桃园南路88号"),
        ("demand", "退还维修费并赔偿"),
        ("purchased-on", "2026-03-01"),
        ("order-number", "JD-778899"),
    ):
        assert f'id="{where}">{shown}</dd>' in html, where
    # Filed without them: the desk sees at once what refusal ground 5 would be about.
    bare = client.get(f"/staff/desk/{filings[0]}").text
    assert 'id="demand">未填写</dd>' in bare
    assert 'id="complainant-address">未填写</dd>' in bare
    assert 'id="order-number"' not in bare


def test_a_bad_action_body_gets_a_chinese_message_and_changes_nothing(
    filings: list[int], client: TestClient
) -> None:
    cid = filings[0]
    token = sign_in_page(client, "zj")
    before = _events(cid)
    empty = client.post(f"/staff/desk/{cid}/actions/refuse", data={"csrf_token": token})
    assert empty.status_code == 422
    assert "请从列表中选择理由" in empty.text
    assert "请写明具体说明" in empty.text
    assert "Traceback" not in empty.text
    unknown = client.post(
        f"/staff/desk/{cid}/actions/refuse",
        data={"csrf_token": token, "reason_code": "nonsense", "explanation": "不属于本部门"},
    )
    assert unknown.status_code == 422
    assert "请从列表中选择理由" in unknown.text
    assert "不属于本部门" in unknown.text  # what was typed is kept
    wrong_time = client.post(
        f"/staff/desk/{cid}/actions/start_mediation", data={"csrf_token": token}
    )
    assert wrong_time.status_code == 409
    assert "当前状态下不能这样办理" in wrong_time.text
    no_reason = client.post(
        f"/staff/desk/{cid}/actions/transfer",
        data={"csrf_token": token, "department": "aic", "reason": ""},
    )
    assert no_reason.status_code == 422
    assert "请写明转办理由" in no_reason.text
    nowhere = client.post(
        f"/staff/desk/{cid}/actions/transfer",
        data={"csrf_token": token, "department": "quality", "reason": "试试"},
    )
    assert nowhere.status_code == 422
    assert "请从列表中选择要转去的部门" in nowhere.text
    assert (
        client.post(f"/staff/desk/{cid}/actions/nonsense", data={"csrf_token": token}).status_code
        == 404
    )
    assert _status(cid) is Status.routed
    assert _events(cid) == before


def test_testing_fields_are_checked_in_chinese(filings: list[int], client: TestClient) -> None:
    cid = filings[0]
    token = sign_in_page(client, "zj")
    for action in ("accept", "start_mediation"):
        done = client.post(
            f"/staff/desk/{cid}/actions/{action}",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert done.headers["location"] == f"/staff/desk/{cid}?done={action}"
    page = client.get(f"/staff/desk/{cid}").text
    assert 'id="act-request_testing"' in page
    bad = client.post(
        f"/staff/desk/{cid}/actions/request_testing",
        data={"csrf_token": token, "lab": "省质检院", "fee_fen": "一千", "items": "\n \n"},
    )
    assert bad.status_code == 422
    for message in ("请至少填写一个检验项目", "请填写不小于 0 的金额", "请选择费用承担方"):
        assert message in bad.text
    assert 'value="省质检院"' in bad.text
    assert _status(cid) is Status.mediating
    testing = TESTING | {"csrf_token": token}
    sent = client.post(f"/staff/desk/{cid}/actions/request_testing", data=testing)
    assert sent.status_code == 200, sent.text
    assert _status(cid) is Status.testing
    report = {"csrf_token": token, "outcome": "nonconforming", "summary": "温升超标"}
    not_a_report = client.post(
        f"/staff/desk/{cid}/actions/record_test_report",
        data=report,
        files={"attachment": ("报告.txt", b"plain text", "text/plain")},
    )
    assert not_a_report.status_code == 422
    assert "检验报告文件无法使用" in not_a_report.text
    assert _status(cid) is Status.testing
    reported = client.post(
        f"/staff/desk/{cid}/actions/record_test_report",
        data=report,
        files={"attachment": ("报告.png", png_bytes(), "image/png")},
    )
    assert reported.status_code == 200, reported.text
    link = re.search(rf'href="(/staff/desk/{cid}/attachments/\d+)"', reported.text)
    assert link, reported.text
    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/png"
    assert download.content == png_bytes()
    sign_in_page(client, "gs")
    assert client.get(link.group(1)).status_code == 404


def test_a_form_without_the_token_is_refused_and_changes_nothing(
    filings: list[int], client: TestClient
) -> None:
    cid = filings[0]
    sign_in_page(client, "zj")
    refused = client.post(f"/staff/desk/{cid}/actions/accept", data={})
    assert refused.status_code == 403
    assert "表单已过期" in refused.text
    forged = client.post(f"/staff/desk/{cid}/actions/accept", data={"csrf_token": "0" * 40})
    assert forged.status_code == 403
    assert client.post(f"/staff/desk/{cid}/contact").status_code == 403
    assert _status(cid) is Status.routed


def test_actions_note_reply_contact_and_transfer(
    filings: list[int], client: TestClient, session: Session
) -> None:
    cid = filings[0]
    token = sign_in_page(client, "zj")
    steps = [
        ("note", {"text": "已电话联系投诉人核实情况"}),
        ("reply", {"text": "您反映的问题已转维保单位整改"}),
        ("claim", {}),
    ]
    for action, fields in steps:
        done = client.post(
            f"/staff/desk/{cid}/actions/{action}", data=fields | {"csrf_token": token}
        )
        assert done.status_code == 200, done.text
        assert 'id="notice"' in done.text
    page = client.get(f"/staff/desk/{cid}").text
    history = page[page.index('id="history"') :]
    assert (
        history.index("认领或指派承办人")
        < history.index("答复群众")
        < history.index("添加内部备注")
    )
    assert "告知群众：您反映的问题已转维保单位整改" in history
    assert "内部记录：已电话联系投诉人核实情况" in history
    assert "<dd>zj</dd>" in page  # the assignee
    tracked = client.get(
        f"/api/v1/track/{session.get(Complaint, cid).tracking_number}"  # type: ignore[union-attr]
    ).text
    assert "已电话联系" not in tracked

    full = client.post(f"/staff/desk/{cid}/contact", headers={"X-CSRF-Token": token})
    assert full.status_code == 200
    assert "13812345678" in full.text
    assert full.headers["cache-control"] == "no-store"
    reads = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "contact.read", AuditEntry.complaint_id == cid
        )
    ).all()
    assert [r.username for r in reads] == ["zj"]

    moved = client.post(
        f"/staff/desk/{cid}/actions/transfer",
        data={"csrf_token": token, "department": "aic", "reason": "属于消费纠纷，应由工商部门处理"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == "/staff/desk?done=transfer-away"
    assert "这件已离开本部门的队列" in client.get(moved.headers["location"]).text
    assert client.get(f"/staff/desk/{cid}").status_code == 404
    sign_in_page(client, "gs")
    assert cid in _numbers(client.get("/staff/desk").text)


def test_duplicates_are_merged_or_dismissed(filings: list[int], client: TestClient) -> None:
    token = sign_in_page(client, "zj")
    with Session(get_engine(read_only=True)) as db:
        links = db.exec(select(DuplicateLink).order_by(col(DuplicateLink.id))).all()
    if not links:  # the texts are alike, but the suggestion is the worker's call: make one
        with Session(get_engine()) as db:
            db.add(
                DuplicateLink(
                    complaint_id=filings[1],
                    duplicate_of_id=filings[0],
                    similarity=0.9,
                    reason="test",
                )
            )
            db.commit()
            links = db.exec(select(DuplicateLink).order_by(col(DuplicateLink.id))).all()
    link = links[0]
    page = client.get(f"/staff/desk/{link.complaint_id}").text
    assert 'id="duplicates"' in page
    assert "不是同一事项" in page
    no_reason = client.post(
        f"/staff/desk/{link.complaint_id}/actions/merge",
        data={"csrf_token": token, "into": str(link.duplicate_of_id), "reason": ""},
    )
    assert no_reason.status_code == 422
    assert "请写明合并理由" in no_reason.text
    merged = client.post(
        f"/staff/desk/{link.complaint_id}/actions/merge",
        data={"csrf_token": token, "into": str(link.duplicate_of_id), "reason": "同一部电梯"},
        follow_redirects=False,
    )
    assert merged.status_code == 303
    assert _status(link.complaint_id) is Status.merged
    assert "已合并办理" in client.get(merged.headers["location"]).text
    again = client.post(
        f"/staff/desk/{link.complaint_id}/actions/dismiss-duplicate",
        data={"csrf_token": token, "link_id": str(link.id)},
    )
    assert again.status_code == 409  # already merged: said on the page, nothing changes
    assert "当前状态下不能这样办理" in again.text
    # By number: an unknown tracking number is said in Chinese.
    other = filings[2] if link.complaint_id != filings[2] else filings[0]
    unknown = client.post(
        f"/staff/desk/{other}/actions/merge",
        data={"csrf_token": token, "number": "12345678901234", "reason": "同一事项"},
    )
    assert unknown.status_code == 422
    assert "没有找到这个受理编号" in unknown.text


def test_a_tip_off_shows_no_identity_and_its_own_actions(
    filings: list[int], client: TestClient
) -> None:
    cid = _file(
        client,
        "举报某某厂生产的电动车充电器没有3C认证，存在起火隐患，请依法查处。",
        kind="tip",
        contact_phone=None,  # the reporter's number is theirs: one number per tip-off
        reporter={"name": "张三", "phone": "13900001111"},
    )
    run_worker_until_idle()
    token = sign_in_page(client, "zj")
    page = client.get(f"/staff/desk/{cid}").text
    assert "举报人身份信息依法保密" in page
    for secret in ("张三", "13900001111", "139****1111", "13812345678", "显示完整号码"):
        assert secret not in page, secret
    assert 'id="act-start_verification"' in page
    assert 'id="act-accept"' not in page
    for action, fields in (
        ("start_verification", {}),
        ("open_case", {"case_number": "并质监立字〔2026〕88号"}),
    ):
        done = client.post(
            f"/staff/desk/{cid}/actions/{action}",
            data=fields | {"csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
    page = client.get(f"/staff/desk/{cid}").text
    assert 'type="checkbox" id="decide-crime_transferred"' in page  # the body's booleans
    decided = client.post(
        f"/staff/desk/{cid}/actions/decide",
        data={
            "csrf_token": token,
            "decision_number": "并质监罚字〔2026〕88号",
            "penalty_fen": "200,000",
            "confiscation_fen": "0",
            "crime_transferred": "1",
            "summary": "没收违法所得并罚款",
        },
    )
    assert decided.status_code == 200, decided.text
    case = decided.text[decided.text.index('id="tip-case"') :]
    assert "200,000.00元" in case
    assert "移送司法机关" in case


# ---- in the browser ------------------------------------------------------------------------

QUALITY_TEXT = (
    "我在太原市小店区某某电器商店买的电动车充电器充电时冒烟烧坏，没有3C强制认证标志，"
    "怀疑是劣质不合格产品，要求检测后赔偿。"
)


def _signed_in(chromium: Any, base: str, username: str) -> Any:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/staff/desk")
    return page


def _submit(page: Any, action: str) -> None:
    """Send one action's form and land back on the filing with its notice."""
    with page.expect_navigation():
        page.locator(f"#act-{action} button[type=submit]").click()
    assert page.is_visible("#notice"), page.inner_text("main")


def routed_to_quality(base: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A web complaint about a charger, once the worker has routed it to 质监: its queue row,
    and zj's API headers."""
    filed = httpx.post(
        f"{base}/api/v1/complaints",
        json={
            "kind": "complaint",
            "text": QUALITY_TEXT,
            "contact_phone": "13812345678",
            "complainant_name": "李秀英",
            "business_name": "太原市某某电器厂",
            "business_address": "山西省太原市小店区亲贤北街1号",
        },
    )
    assert filed.status_code == 201, filed.text
    number = filed.json()["tracking_number"]
    zj_api = {"Authorization": bearer_header(base, "zj")}
    found: list[dict[str, Any]] = []

    def queued() -> bool:
        queue = httpx.get(f"{base}/api/v1/queue", headers=zj_api).json()
        found[:] = [row for row in queue["data"] if row["tracking_number"] == number]
        return bool(found)

    wait_for(queued)
    return found[0], zj_api


@pytest.mark.browser
def test_a_department_works_a_complaint_from_queue_to_closing_in_the_browser(
    production: Production, chromium: Any
) -> None:
    base = production.url
    number = routed_to_quality(base)[0]["tracking_number"]

    page = _signed_in(chromium, base, "zj")
    row = page.locator("#queue tbody tr", has_text=display_tracking_number(number))
    assert row.locator(".badge").inner_text() in {"正常", "即将到期"}
    shot(page, "desk-01-queue")
    row.locator("a").click()
    page.wait_for_selector("#routing")
    assert "质量技术监督部门" in page.inner_text("#routing")
    assert "充电器" in page.inner_text("#top3")
    page.click("#show-contact")
    page.wait_for_selector("#full-number")
    assert page.inner_text("#full-number").endswith("13812345678")
    shot(page, "desk-02-complaint")
    url = page.url

    page.fill("#accept-note", "材料齐全，予以受理")
    _submit(page, "accept")
    assert page.inner_text("#status") == "已受理"
    _submit(page, "start_mediation")
    page.fill("#request_testing-lab", "山西省产品质量监督检验研究院")
    page.fill("#request_testing-sample", "涉诉电动车充电器一只，已封存")
    page.fill("#request_testing-basis", "GB 4943.1-2022 强制性国家标准")
    page.fill("#request_testing-items", "温升\n绝缘电阻\n输出过载保护")
    page.fill("#request_testing-fee_fen", "1,500.00")
    page.select_option("#request_testing-payer", "business")
    page.fill("#request_testing-payment_timing", "出具报告前由被投诉人支付")
    page.fill("#request_testing-due_on", (today() + timedelta(days=20)).isoformat())
    _submit(page, "request_testing")
    assert page.inner_text("#status") == "质量仲裁检验中"
    tests = page.inner_text("#tests")
    assert "1,500.00" in tests
    assert "被投诉人承担" in tests
    assert "暂停计时" in page.inner_text("#deadlines")
    shot(page, "desk-03-testing")

    page.select_option("#record_test_report-outcome", "nonconforming")
    page.fill("#record_test_report-summary", "温升超过标准限值，判定不合格")
    _submit(page, "record_test_report")
    assert "检验不合格" in page.inner_text("#tests")
    page.fill("#mediation_succeeded-agreement", "商家退货退款并赔偿200元")
    page.fill("#mediation_succeeded-recovered_fen", "1,299.50")  # the price back and ¥200
    _submit(page, "mediation_succeeded")
    assert page.inner_text("#recovered") == "1,299.50元"
    page.fill("#close-summary", "调解成功，商家已退款并赔偿")
    _submit(page, "close")
    assert page.inner_text("#status") == "已办结"
    assert page.is_visible("#no-actions")
    history = page.inner_text("#history")
    assert history.index("办结") < history.index("委托质量仲裁检验") < history.index("受理")
    assert "受理意见：材料齐全，予以受理" in history  # internal: not on the tracking page
    assert "检验费用：1,500.00元" in history
    shot(page, "desk-04-closed")
    page.context.close()

    other = _signed_in(chromium, base, "gs")
    response = other.goto(url)
    assert response.status == 404
    assert "找不到该页面或记录" in other.inner_text("main")
    shot(other, "desk-05-other-department-404")
    other.context.close()


def bearer_header(base: str, username: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    return f"Bearer {answer.json()['access_token']}"
