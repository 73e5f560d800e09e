"""Control characters (U+0000 above all, which PostgreSQL cannot store in text) in what
citizens send: a 422 naming the field on the API, taken out of a text message; never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from schemas import Complaint, SmsInbound
from tests.conftest import SMS_PATH_TOKEN
from tests.helpers import valid_filing


@pytest.mark.usefixtures("platform")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (valid_filing(text="电梯上个月困人两次\x00物业一直不修"), "text"),
        (valid_filing(business_name="太原市某某\x00物业服务有限公司"), "business_name"),
        (
            valid_filing(
                kind="tip", contact_phone=None, text="某某超市卖假酒\x00，我是店员，请查处"
            ),
            "text",
        ),
        (
            valid_filing(kind="tip", contact_phone=None, business_name="某某\x00超市"),
            "business_name",
        ),
        (valid_filing(text="电梯上个月困人两次\x1b[31m物业一直不修"), "text"),
    ],
    ids=["text", "business_name", "tip-text", "tip-business_name", "escape"],
)
def test_a_nul_character_is_a_422_not_a_500(
    client: TestClient, session: Session, body: dict[str, Any], field: str
) -> None:
    lenient = TestClient(client.app, raise_server_exceptions=False)
    answer = lenient.post("/api/v1/complaints", json=body)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert "control character" in answer.text
    assert session.exec(select(Complaint)).all() == []


@pytest.mark.usefixtures("platform")
def test_tabs_and_line_breaks_are_kept(client: TestClient, session: Session) -> None:
    text = "电梯上个月困人两次，\r\n物业一直不修。\t请检查。"
    assert client.post("/api/v1/complaints", json=valid_filing(text=text)).status_code == 201
    assert session.exec(select(Complaint)).one().text == text


@pytest.mark.usefixtures("sqlite_platform")
def test_a_control_character_in_a_rating_comment_is_a_422(client: TestClient) -> None:
    number = client.post("/api/v1/complaints", json=valid_filing()).json()["tracking_number"]
    answer = client.post(
        f"/api/v1/track/{number}/rating", json={"score": 4, "comment": "处理\x00得快"}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "comment"


@pytest.mark.usefixtures("sms_platform")
def test_control_characters_are_taken_out_of_a_text_message(
    client: TestClient, session: Session
) -> None:
    text = "我在太原市小店区某某超市买的牛奶\x00过期了，要求退款，商家不给退"
    tencent = {"mobile": "13812345678", "nationcode": "86", "sign": "123\x0015", "text": text}
    answer = client.post(f"/api/v1/sms/tencent/{SMS_PATH_TOKEN}", json=tencent | {"time": 1})
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    aliyun = [{"phone_number": "13900001111", "content": text, "sequence_id": "seq\x00-1"}]
    assert client.post(f"/api/v1/sms/aliyun/{SMS_PATH_TOKEN}", json=aliyun).json()["code"] == 0
    filed = session.exec(select(Complaint)).all()
    assert [c.text for c in filed] == [text.replace("\x00", "")] * 2
    inbound = session.exec(select(SmsInbound)).all()
    assert {m.recipient for m in inbound} == {"12315", None}
    assert all("\x00" not in m.dedup_key for m in inbound)
