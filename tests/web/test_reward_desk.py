"""The reward desk's pages: reward officers only, the services' rules, CSRF, the vault.

Over HTTP with TestClient; the browser test (a whole reward, two officers, in Chromium
against the app as it runs in production) is at the end, marked `browser`.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from accounts.service import Staff
from core.db import get_engine
from rewards import vault
from schemas.casework import AuditEntry
from schemas.enums import Role
from schemas.reporter import ReporterIdentityIn
from schemas.reward import Reward
from schemas.staff import StaffUser
from tests.helpers import PASSWORD, add_staff, sign_in_page
from tests.rewards.test_workflow import tip_off
from tests.web.conftest import Production, shot, wait_for

ELIGIBLE = {
    "natural_person": "yes",
    "regulator_staff_or_duty_to_report": "no",
    "harmed_party_or_agent": "no",
    "paid_to_report": "no",
    "information_already_known": "no",
}


def _found(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match, pattern
    return match.group(1)


@pytest.fixture
def tip(sqlite_platform: str) -> int:
    """A decided tip-off (fines of 200,000 yuan) whose reporter left a name and a phone."""
    with Session(get_engine(), expire_on_commit=False) as db:
        for name, role, department in (
            ("ro1", Role.reward_officer, None),
            ("ro2", Role.reward_officer, None),
            ("boss", Role.supervisor, None),
            ("zj", Role.department, "quality"),
        ):
            add_staff(db, name, role, department)
        user = db.exec(select(StaffUser).where(StaffUser.username == "boss")).one()
        assert user.id is not None
        cid = tip_off(db, Staff(user.id, "boss", Role.supervisor, None, None), fines_yuan=200_000)
        identity = ReporterIdentityIn(name="张三", phone="13812345678")
        vault.store(db, complaint_id=cid, identity=identity)
        db.commit()
        return cid


def _open(client: TestClient, token: str, cid: int, **answers: str) -> httpx.Response:
    form = ELIGIBLE | {"tier": "1"} | answers | {"csrf_token": token}
    return client.post(f"/staff/rewards/tipoffs/{cid}/open", data=form)


def _vault_reads(session: Session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.action == "vault.read")).all())


def test_only_reward_officers_see_the_desk(tip: int, client: TestClient) -> None:
    away = client.get("/staff/rewards", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"].startswith("/staff/login")
    sign_in_page(client, "zj")
    for path in ("/staff/rewards", f"/staff/rewards/tipoffs/{tip}/open"):
        refused = client.get(path)
        assert refused.status_code == 403
        assert "无权访问" in refused.text
        assert "Traceback" not in refused.text
    sign_in_page(client, "ro1")
    desk = client.get("/staff/rewards")
    assert desk.status_code == 200
    assert "200,000.00元" in desk.text
    assert f"并质监罚字〔2026〕{tip}号" in desk.text
    assert "未办理" in desk.text
    assert f"/staff/rewards/tipoffs/{tip}/open" in desk.text
    assert "200,000.00元" not in client.get("/staff/rewards?state=paid").text
    assert client.get("/staff/rewards?state=nonsense").status_code == 422


def test_a_form_without_the_token_is_refused_and_opens_nothing(
    tip: int, client: TestClient, session: Session
) -> None:
    sign_in_page(client, "ro1")
    refused = client.post(f"/staff/rewards/tipoffs/{tip}/open", data=ELIGIBLE | {"tier": "1"})
    assert refused.status_code == 403
    assert "表单已过期" in refused.text
    forged = _open(client, "0" * 40, tip)
    assert forged.status_code == 403
    assert session.exec(select(Reward)).all() == []


def test_opening_asks_every_question_and_shows_the_computed_amount(
    tip: int, client: TestClient
) -> None:
    token = sign_in_page(client, "ro1")
    form = client.get(f"/staff/rewards/tipoffs/{tip}/open")
    assert "举报人是自然人吗？" in form.text
    assert "比例 5%，最低 5,000.00元" in form.text  # the policy's tiers, next to the form
    unanswered = client.post(
        f"/staff/rewards/tipoffs/{tip}/open", data={"tier": "1", "csrf_token": token}
    )
    assert unanswered.status_code == 422
    assert "请回答这个问题（是或否）" in unanswered.text
    opened = _open(client, token, tip)
    assert opened.status_code == 200  # followed to the file
    assert "已开立奖励档案" in opened.text
    assert "10,000.00元" in opened.text  # 5% of 200,000 yuan, above the minimum
    assert "一级奖励比例5%：200,000.00元 × 5% = 10,000.00元" in opened.text
    assert "0/2" in opened.text
    again = _open(client, token, tip)
    assert again.status_code == 409
    assert "这条举报已经开立了奖励档案" in again.text


def test_a_refused_reward_shows_its_reasons(tip: int, client: TestClient) -> None:
    token = sign_in_page(client, "ro1")
    refused = _open(client, token, tip, natural_person="no", paid_to_report="yes")
    assert refused.status_code == 200
    assert "不予奖励" in refused.text
    assert "只奖励自然人举报人" in refused.text
    assert "为获取报酬而举报的不予奖励" in refused.text
    assert 'id="approve"' not in refused.text


def test_an_officer_is_not_offered_a_second_approval_and_payment_needs_both(
    tip: int, client: TestClient
) -> None:
    token = sign_in_page(client, "ro1")
    page = _open(client, token, tip)
    rid = _found(r"/staff/rewards/(\d+)/approvals", page.text)
    amount_id = _found(r'name="amount_id" value="(\d+)"', page.text)
    approved = client.post(
        f"/staff/rewards/{rid}/approvals", data={"amount_id": amount_id, "csrf_token": token}
    )
    assert "已批准当前金额" in approved.text
    assert 'id="approve"' not in approved.text
    assert "您已批准当前金额，须由另一名奖励审核人员批准" in approved.text
    twice = client.post(
        f"/staff/rewards/{rid}/approvals", data={"amount_id": amount_id, "csrf_token": token}
    )
    assert twice.status_code == 409
    assert "须由另一名奖励审核人员批准" in twice.text
    early = client.post(
        f"/staff/rewards/{rid}/payment",
        data={
            "amount_id": amount_id,
            "method": "cash",
            "reference": "R1",
            "paid_on": "2020-01-01",
            "csrf_token": token,
        },
    )
    assert early.status_code == 409
    assert "两名不同的奖励审核人员批准" in early.text
    no_reason = client.post(
        f"/staff/rewards/{rid}/amounts", data={"tier": "2", "csrf_token": token}
    )
    assert no_reason.status_code == 422
    assert "请写明更正理由" in no_reason.text
    for typed in ("十万", "-1", "100.005", "1e999999", "NaN"):
        bad_yuan = client.post(
            f"/staff/rewards/{rid}/amounts",
            data={"fines_yuan": typed, "reason": "复核", "csrf_token": token},
        )
        assert bad_yuan.status_code == 422, typed
        assert "罚款请填写不小于 0 的金额" in bad_yuan.text
    corrected = client.post(
        f"/staff/rewards/{rid}/amounts",
        data={"tier": "2", "reason": "复核为二级", "csrf_token": token},
    )
    assert "6,000.00元" in corrected.text  # 3% of 200,000 yuan
    assert "复核为二级" in corrected.text
    assert 'id="approve"' in corrected.text  # the new amount needs fresh approvals


def test_the_vault_opens_only_with_a_reason(tip: int, client: TestClient, session: Session) -> None:
    token = sign_in_page(client, "ro1")
    page = _open(client, token, tip)
    rid = _found(r"/staff/rewards/(\d+)/vault", page.text)
    for reason in ("", "看看"):
        refused = client.post(
            f"/staff/rewards/{rid}/vault", data={"reason": reason, "csrf_token": token}
        )
        assert refused.status_code == 422
        assert "请写明查看举报人身份的事由" in refused.text
        assert "138****5678" not in refused.text
    assert _vault_reads(session) == []
    shown = client.post(
        f"/staff/rewards/{rid}/vault", data={"reason": "核对发放账户", "csrf_token": token}
    )
    assert shown.status_code == 200
    assert "138****5678" in shown.text
    assert "13812345678" not in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert [e.detail["reason"] for e in _vault_reads(session)] == ["核对发放账户"]
    fragment = client.post(
        f"/staff/rewards/{rid}/vault",
        data={"reason": "", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert "请写明查看举报人身份的事由" in fragment.text
    assert "<html" not in fragment.text  # htmx swaps the panel only


# ---- in the browser ------------------------------------------------------------------------

TIP = {
    "kind": "tip",
    "text": "举报太原市某某电器厂生产的电动车充电器没有3C认证，产品质量不合格，存在起火隐患。",
    "business_name": "太原市某某电器厂",
    "region": "太原市小店区",
    "reporter": {
        "name": "李四",
        "phone": "13912345678",
        "bank_name": "中国工商银行太原分行",
        "bank_account": "6222021234567890123",
    },
}


def _bearer(base: str, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _decided_tip(base: str) -> str:
    """File a tip-off through the JSON API; the quality department verifies and decides it."""
    filed = httpx.post(f"{base}/api/v1/complaints", json=TIP)
    assert filed.status_code == 201, filed.text
    number = filed.json()["tracking_number"]
    zj = _bearer(base, "zj")
    found: dict[str, Any] = {}

    def routed() -> bool:
        queue = httpx.get(f"{base}/api/v1/queue", headers=zj).json()["data"]
        found.update(next((i for i in queue if i["tracking_number"] == number), {}))
        return bool(found)

    wait_for(routed)  # 3C certification: the quality department's, not the AIC's
    cid = found["id"]
    decision = f"并质监罚字〔2026〕{cid}号"
    for action, body in (
        ("start_verification", {}),
        ("open_case", {"case_number": f"并质监立字〔2026〕{cid}号"}),
        (
            "decide",
            {
                "decision_number": decision,
                "penalty_fen": 20_000_000,  # 200,000 yuan: a major violation
                "confiscation_fen": 1_500_000,
                "summary": "没收违法所得并处罚款",
            },
        ),
    ):
        done = httpx.post(f"{base}/api/v1/complaints/{cid}/actions/{action}", json=body, headers=zj)
        assert done.status_code == 200, done.text
    return decision


def _signed_in(chromium: Any, base: str, username: str) -> Any:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/staff/rewards")
    return page


@pytest.mark.browser
def test_two_officers_grant_and_pay_a_reward_in_the_browser(
    production: Production, chromium: Any
) -> None:
    base = production.url
    decision = _decided_tip(base)

    ro1 = _signed_in(chromium, base, "ro1")
    row = ro1.locator("#desk tr", has_text=decision)
    assert "215,000.00元" not in row.inner_text()
    assert "200,000.00元" in row.inner_text()
    assert "未办理" in row.inner_text()
    shot(ro1, "rewards-01-desk")
    row.get_by_role("link", name="办理奖励").click()
    for name, answer in ELIGIBLE.items():
        ro1.check(f"input[name={name}][value={answer}]")
    ro1.check("input[name=tier][value='1']")
    assert "比例 5%" in ro1.inner_text(".tiers")
    shot(ro1, "rewards-02-open")
    ro1.get_by_role("button", name="开立并计算奖励").click()
    ro1.wait_for_selector("#amount")
    # 5% of 200,000 + 15,000 yuan
    assert ro1.inner_text("#amount") == "10,750.00元"
    assert "罚没款合计：罚款200,000.00元 + 没收15,000.00元" in ro1.inner_text("#explanation")
    assert ro1.inner_text("#finance") == "无须财政会签"
    file_url = ro1.url.split("?")[0]
    shot(ro1, "rewards-03-file")
    ro1.get_by_role("button", name="批准 10,750.00元").click()
    ro1.wait_for_selector("#approved-by-me")
    assert ro1.inner_text("#approval-count") == "1/2"
    assert ro1.locator("#approve").count() == 0  # not offered twice to the same officer

    ro2 = _signed_in(chromium, base, "ro2")
    ro2.goto(file_url)
    ro2.get_by_role("button", name="批准 10,750.00元").click()
    ro2.wait_for_selector("#pay")
    assert ro2.inner_text("#approval-count") == "2/2"
    assert ro2.inner_text("#state") == "已批准，待发放"
    shot(ro2, "rewards-04-approved")
    ro2.context.close()

    ro1.reload()
    ro1.select_option("#method", "bank_transfer")
    ro1.fill("#reference", "工行回单20260001")
    ro1.get_by_role("button", name="登记发放 10,750.00元").click()
    ro1.wait_for_selector("#payment")
    assert ro1.inner_text("#state") == "已发放"
    assert "银行转账" in ro1.inner_text("#payment")
    shot(ro1, "rewards-05-paid")

    ro1.fill("#vault-reason", "核对发放账户")
    ro1.get_by_role("button", name="查看举报人身份").click()
    ro1.wait_for_selector("#identity")
    assert ro1.inner_text("#phone") == "139****5678"
    assert "13912345678" not in ro1.content()
    shot(ro1, "rewards-06-vault")
    ro1.goto(f"{base}/staff/rewards?state=paid")
    assert "已发放" in ro1.locator("#desk tr", has_text=decision).inner_text()
    ro1.context.close()
