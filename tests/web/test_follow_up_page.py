"""The operator console's follow-up calls (回访): the list, the number to dial, recording a
call through the form; over HTTP and in real Chromium."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from schemas import AuditEntry, SatisfactionRating
from schemas.enums import Role
from schemas.follow_up import FollowUpCall
from tests.cases.test_follow_ups import closed_complaint
from tests.helpers import PASSWORD, add_staff, bearer, form_token, sign_in_page
from tests.web.conftest import Production, shot
from tests.web.test_desk import routed_to_quality

LIST = "/staff/operator/follow-ups"


@pytest.fixture
def operator(sqlite_platform: str, client: TestClient, session: Session) -> tuple[int, str]:
    """A closed complaint, and the operator signed in on the page (its CSRF token)."""
    add_staff(session, "zj", Role.department, "quality")
    add_staff(session, "op", Role.operator)
    cid = closed_complaint(client, {"zj": bearer(client, "zj")})
    sign_in_page(client, "op")
    return cid, form_token(client.get(LIST).text)


def test_the_list_shows_the_call_to_make_and_a_bad_form_is_refused_in_chinese(
    operator: tuple[int, str], client: TestClient, session: Session
) -> None:
    cid, token = operator
    page = client.get(LIST)
    assert page.status_code == 200
    assert f'id="follow-up-{cid}"' in page.text
    assert "138****5678" in page.text
    assert "13812345678" not in page.text  # masked until asked for
    assert "不予受理，已告知投诉人" in page.text

    number = client.post(f"{LIST}/{cid}/contact", headers={"X-CSRF-Token": token})
    assert "+8613812345678" in number.text
    assert "本次查看已记录" in number.text
    trail = session.exec(select(AuditEntry).where(AuditEntry.complaint_id == cid)).all()
    assert "follow_up:contact.read" in [entry.action for entry in trail]

    missing = client.post(
        f"{LIST}/{cid}/calls", data={"csrf_token": token, "outcome": "reached", "note": "很好"}
    )
    assert missing.status_code == 422
    assert "接通后请选择满意程度" in missing.text
    unexpected = client.post(
        f"{LIST}/{cid}/calls",
        data={"csrf_token": token, "outcome": "busy", "satisfaction": "satisfied"},
    )
    assert unexpected.status_code == 422
    assert "不选择满意程度" in unexpected.text
    forged = client.post(f"{LIST}/{cid}/calls", data={"outcome": "busy"})
    assert forged.status_code == 403
    assert session.exec(select(FollowUpCall)).all() == []

    done = client.post(
        f"{LIST}/{cid}/calls",
        data={"csrf_token": token, "outcome": "reached", "satisfaction": "satisfied"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert 'id="notice"' in after.text
    assert f'id="follow-up-{cid}"' not in after.text
    again = client.post(f"{LIST}/{cid}/calls", data={"csrf_token": token, "outcome": "no_answer"})
    assert again.status_code == 409
    assert "不能记录回访" in again.text
    assert session.exec(select(SatisfactionRating)).one().channel == "follow_up"


def test_the_page_is_for_operators_and_supervisors(
    operator: tuple[int, str], client: TestClient
) -> None:
    client.post("/staff/logout", data={"csrf_token": operator[1]})
    sign_in_page(client, "zj")
    refused = client.get(LIST)
    assert refused.status_code == 403
    assert "<html" in refused.text  # a page in Chinese, not JSON


@pytest.mark.browser
def test_an_operator_records_a_follow_up_call_in_the_browser(
    production: Production, chromium: Any
) -> None:
    base = production.url
    row, zj = routed_to_quality(base)
    cid = row["id"]
    for action, body in (
        ("refuse", {"reason_code": "time_barred", "explanation": "购买已超过三年"}),
        ("close", {"summary": "不予受理，已电话告知"}),
    ):
        answer = httpx.post(
            f"{base}/api/v1/complaints/{cid}/actions/{action}", json=body, headers=zj
        )
        assert answer.status_code == 200, answer.text

    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", "op")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/staff/operator")
    page.get_by_role("link", name="回访").click()
    page.wait_for_url(f"**{LIST}")
    listed = page.locator(f"#follow-up-{cid}")
    assert "不予受理，已电话告知" in listed.inner_text()
    assert "138****5678" in listed.inner_text()
    listed.get_by_role("button", name="显示完整号码").click()
    page.wait_for_selector(f"#contact-{cid} #full-number")
    assert page.inner_text(f"#contact-{cid} #full-number") == "+8613812345678"
    shot(page, "follow-up-01-list")

    page.select_option(f"#outcome-{cid}", "reached")
    page.select_option(f"#satisfaction-{cid}", "basically")
    page.fill(f"#note-{cid}", "投诉人表示基本认可")
    with page.expect_navigation():
        page.click(f"#record-{cid}")
    assert page.is_visible("#notice"), page.inner_text("main")
    assert page.locator(f"#follow-up-{cid}").count() == 0
    assert page.is_visible("#none-due")
    shot(page, "follow-up-02-recorded")
    context.close()
