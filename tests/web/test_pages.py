"""Pages over HTTP (the browser tests are in test_browser.py): forms, CSRF, errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from schemas import Attachment, Complaint
from schemas.enums import Role
from tests.helpers import (
    PASSWORD,
    add_staff,
    bearer,
    form_token,
    run_worker_until_idle,
    valid_filing,
)

FILING = {
    "kind": "complaint",
    "text": "我在小店区某某超市买的电水壶用了三天就漏电，要求退货，超市不同意。",
    "contact_phone": "13812345678",
    "complainant_name": "李秀英",  # a complaint is made under a real name
    "business_name": "某某超市",
}


def test_a_citizen_files_on_the_form_and_gets_a_number(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    form = client.get("/file")
    assert form.status_code == 200
    assert "您买的商品或服务出了问题" in form.text
    done = client.post("/file", data=FILING | {"csrf_token": form_token(form.text)})
    assert done.status_code == 201, done.text
    assert done.headers["cache-control"] == "no-store"
    number = session.exec(select(Complaint.tracking_number)).one()
    assert " ".join([number[:4], number[4:8]]) in done.text
    tracked = client.get(f"/track?n={number}")
    assert tracked.status_code == 200
    assert "已登记" in tracked.text


def test_the_filing_form_takes_a_phone_photo_under_its_stated_10_mb(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    photo = b"\xff\xd8\xff\xe0" + b"\0" * (2 * 1024 * 1024)  # a 2 MB JPEG, as phones take them
    token = form_token(client.get("/file").text)
    done = client.post(
        "/file",
        data=FILING | {"csrf_token": token},
        files=[("attachments", ("发票.jpg", photo, "image/jpeg"))],
    )
    assert done.status_code == 201, (done.status_code, done.headers["content-type"])
    complaint = session.exec(select(Complaint)).one()
    [attachment] = session.exec(select(Attachment)).all()
    assert (attachment.complaint_id, attachment.size) == (complaint.id, len(photo))


def test_a_filing_form_over_its_size_limit_is_a_page_in_chinese_that_gives_the_limits(
    sqlite_platform: str,
    configure: Callable[..., None],
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from service.app import create_app

    configure(
        database_url=sqlite_platform,
        redis_url=redis_url,
        attachment_max_bytes="2048",
        attachments_per_filing="1",
        max_body_bytes="4096",
    )
    with TestClient(create_app()) as client:
        token = form_token(client.get("/file").text)
        big = b"%PDF-1.4\n" + b"0" * 200_000
        refused = client.post(
            "/file",
            data=FILING | {"csrf_token": token},
            files=[("attachments", ("合同.pdf", big, "application/pdf"))],
        )
        assert refused.status_code == 413
        assert refused.headers["content-type"].startswith("text/html")
        assert "提交的内容太大" in refused.text
        assert "2 KB" in refused.text  # each file's limit
        assert "70 KB" in refused.text  # the whole form's: 4 KB + 1 × (2 KB + 64 KB framing)
        streamed = client.post(  # no Content-Length: counted as it arrives
            "/staff/login",
            content=(b"x" * 1024 for _ in range(8)),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert streamed.status_code == 413
        assert "合计不能超过 4 KB" in streamed.text
        assert "附件每个不超过" not in streamed.text  # that form takes no files
        assert "unhandled" not in caplog.text  # the app stops reading: no crash is logged
        api = client.post("/api/v1/complaints", content=b"{" + b" " * 8192 + b"}")
        assert api.status_code == 413
        assert api.json()["error"] == "PayloadTooLarge"


def test_a_form_post_without_the_token_is_refused_and_changes_nothing(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    client.get("/file")  # the anonymous cookie is set, but the token is not sent
    refused = client.post("/file", data=FILING)
    assert refused.status_code == 403
    assert "表单已过期" in refused.text
    forged = client.post("/file", data=FILING | {"csrf_token": "0" * 40})
    assert forged.status_code == 403
    assert session.exec(select(Complaint)).all() == []


def test_the_form_says_what_is_wrong_in_chinese_and_keeps_what_was_typed(
    sqlite_platform: str, client: TestClient
) -> None:
    token = form_token(client.get("/file").text)
    bad = client.post(
        "/file",
        data=FILING | {"contact_phone": "12345", "business_uscc": "123", "csrf_token": token},
    )
    assert bad.status_code == 422
    assert "有效的中国大陆手机号" in bad.text
    assert "统一社会信用代码" in bad.text
    assert "电水壶用了三天就漏电" in bad.text  # nothing typed is lost
    check = client.post(
        "/file/check", data={"kind": "complaint", "text": "太短"}, headers={"X-CSRF-Token": token}
    )
    assert "10 到 5000 个字" in check.text


@pytest.mark.usefixtures("sqlite_platform")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"business_address": "地" * 301}, "地址最多 300 字"),
        ({"kind": "tip", "reporter_name": "名" * 61}, "姓名最多 60 字"),
        ({"complainant_name": "名" * 61}, "姓名最多 60 字"),
        ({"complainant_address": "地" * 301}, "地址最多 300 字"),
        ({"demand": "求" * 501}, "诉求最多 500 字"),
        ({"purchased_on": "2099-01-01"}, "购买日期不能晚于今天"),
        ({"order_number": "9" * 101}, "订单号最多 100 字"),
    ],
    ids=[
        "business_address",
        "reporter_name",
        "complainant_name",
        "complainant_address",
        "demand",
        "purchased_on",
        "order_number",
    ],
)
def test_the_filing_form_shows_why_it_refused(
    client: TestClient, change: dict[str, str], message: str
) -> None:
    token = form_token(client.get("/file").text)
    refused = client.post("/file", data=FILING | change | {"csrf_token": token})
    assert refused.status_code == 422
    [field] = [k for k in change if k != "kind"]
    # The message sits under its own field, and the field points to it.
    assert re.search(f'id="{field}-error">{message}', refused.text), refused.text
    assert f'aria-describedby="{field}-error"' in refused.text
    with_photo = client.post(
        "/file",
        data=FILING | change | {"csrf_token": token},
        files=[("attachments", ("发票.png", _png(0), "image/png"))],
    )
    assert "请重新选择附件" in with_photo.text  # a page cannot keep the chosen file
    check = client.post("/file/check", data=FILING | change, headers={"X-CSRF-Token": token})
    assert message in check.text  # and while the citizen types


def test_a_complaints_own_fields_are_kept_for_a_complaint_and_not_sent_for_a_tip_off(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    """The fields are hidden while 举报 is chosen; what was typed there before the switch
    must not reach the tip-off's row (the reporter's identity goes to the vault only)."""
    token = form_token(client.get("/file").text)
    content = {
        "complainant_name": "闻人清和",
        "complainant_address": "太原市迎泽区桃园南路88号",
        "demand": "退货退款",
        "purchased_on": "2026-03-01",
        "order_number": "JD-778899",
    }
    refused = client.post("/file", data=FILING | content | {"text": "太短", "csrf_token": token})
    assert refused.status_code == 422
    for value in content.values():  # nothing typed is lost
        assert f'value="{value}"' in refused.text
    tip = FILING | content | {"kind": "tip", "csrf_token": token}
    assert client.post("/file", data=tip).status_code == 201
    row = session.exec(select(Complaint)).one()
    assert [getattr(row, field) for field in content] == [None] * len(content)
    assert client.post("/file", data=FILING | content | {"csrf_token": token}).status_code == 201
    filed = session.exec(select(Complaint).where(Complaint.kind == "complaint")).one()
    assert (filed.complainant_name, filed.demand, filed.order_number) == (
        "闻人清和",
        "退货退款",
        "JD-778899",
    )


def _png(n: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes([n]) * 20


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ([(f"{i}.png", _png(i), "image/png") for i in range(11)], 422, "最多上传 10 个"),
        ([("0.png", _png(0), "image/png"), ("a.txt", b"not a photo", "text/plain")], 415, "PDF"),
        ([("0.png", _png(0), "image/png"), ("b.png", _png(1) * 200, "image/png")], 413, "2 KB"),
    ],
    ids=["too-many", "not-an-image", "too-large"],
)
def test_an_attachment_the_form_refuses_says_why_keeps_the_text_and_stores_nothing(
    sqlite_platform: str,
    configure: Callable[..., None],
    redis_url: str,
    tmp_path: Path,
    files: list[tuple[str, bytes, str]],
    status: int,
    message: str,
) -> None:
    from service.app import create_app

    configure(database_url=sqlite_platform, redis_url=redis_url, attachment_max_bytes="2048")
    with TestClient(create_app()) as client:
        token = form_token(client.get("/file").text)
        refused = client.post(
            "/file",
            data=FILING | {"csrf_token": token},
            files=[("attachments", file) for file in files],
        )
    assert refused.status_code == status
    assert re.search(f'id="attachments-error">[^<]*{message}', refused.text), refused.text
    assert FILING["text"] in refused.text  # what was typed is not lost
    assert FILING["business_name"] in refused.text
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(Complaint)).all() == []
        assert session.exec(select(Attachment)).all() == []  # nothing left for the purge
    stored = tmp_path / "var" / "attachments"
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]


def test_the_tracking_page_after_rating_does_not_ask_again(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    number = client.post("/api/v1/complaints", json=valid_filing()).json()["tracking_number"]
    run_worker_until_idle()
    add_staff(session, "zj", Role.department, "quality")
    zj = bearer(client, "zj")
    for path, body in [
        ("1/actions/accept", {}),
        ("1/actions/start_mediation", {}),
        ("1/actions/mediation_succeeded", {"agreement": "物业维修电梯", "recovered_fen": 0}),
        ("1/actions/close", {"summary": "调解成功"}),
    ]:
        assert client.post(f"/api/v1/complaints/{path}", json=body, headers=zj).status_code == 200
    closed = client.get(f"/track?n={number}").text
    assert "提交评价" in closed
    rated = client.post(
        f"/track/{number}/rating", data={"score": "4", "csrf_token": form_token(closed)}
    )
    assert rated.status_code == 200  # followed the 303 to /track?n=…&rated=1
    assert "感谢您的评价" in rated.text
    assert "提交评价" not in rated.text
    # The page asks the filing, not the address: without the flag it does not ask again.
    later = client.get(f"/track?n={number}").text
    assert "感谢您的评价" in later
    assert "提交评价" not in later


def test_errors_are_pages_in_chinese_and_never_a_trace(
    sqlite_platform: str, client: TestClient
) -> None:
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert "找不到该页面或记录" in missing.text
    assert "Traceback" not in missing.text
    unknown = client.get("/track?n=12345678901234")
    assert unknown.status_code == 404
    assert "没有找到受理编号" in unknown.text
    api = client.get("/api/v1/no/such/route")
    assert api.headers["content-type"].startswith("application/json")


def test_staff_sign_in_and_out_with_a_session_cookie(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    add_staff(session, "zj", Role.department, "quality")
    session.commit()
    assert (
        client.get("/staff", follow_redirects=False).headers["location"].startswith("/staff/login")
    )
    token = form_token(client.get("/staff/login").text)
    wrong = client.post(
        "/staff/login", data={"username": "zj", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "用户名或密码不正确" in wrong.text
    signed = client.post(
        "/staff/login",
        data={"username": "zj", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    home = client.get("/staff", follow_redirects=False)
    assert home.headers["location"] == "/staff/desk"
    # The session's token is new: the anonymous form token no longer counts.
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 403
