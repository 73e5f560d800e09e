"""Inbound SMS from three gateway shapes: exactly one filing per message, a reply by SMS."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from twilio.request_validator import RequestValidator

from core.db import get_engine
from intake.tracking_number import display_tracking_number
from schemas import Complaint, ComplaintEvent, SmsInbound, SmsOutbound
from schemas.enums import Channel, Kind
from tests.conftest import RunningGateway, Templates, migrated_platform
from tests.helpers import run_worker_until_idle

TWILIO_TOKEN = "twilio-test-auth-token"
PATH_TOKEN = "s3cret-path-token"
TWILIO_URL = "http://testserver/api/v1/sms/twilio"
TEXT = "我在太原市小店区某某超市买的牛奶过期了，要求退款，商家不给退"


@pytest.fixture
def sms_platform(
    configure: Callable[..., None],
    sqlite_url: str,
    redis_url: str,
    templates: Templates,
    sms_gateway: RunningGateway,
) -> RunningGateway:
    migrated_platform(
        configure,
        sqlite_url,
        redis_url,
        templates,
        sms_provider="loopback",
        sms_gateway_url=sms_gateway.url,
        twilio_auth_token=TWILIO_TOKEN,
        sms_path_token=PATH_TOKEN,
    )
    return sms_gateway


def _count(table: Any) -> int:
    with Session(get_engine(read_only=True)) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _twilio(client: TestClient, params: dict[str, str], signature: str | None = "auto") -> Any:
    if signature == "auto":
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post("/api/v1/sms/twilio", data=params, headers=headers)


def _twilio_message(sid: str, body: str = TEXT, sender: str = "+8613812345678") -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+8610612315", "Body": body}


def _aliyun_item(seq: str, content: str = TEXT, phone: str = "13812345678") -> dict[str, Any]:
    return {
        "phone_number": phone,
        "content": content,
        "send_time": "2026-11-28 10:00:00",
        "dest_code": "12315",
        "sequence_id": seq,
    }


def _tencent(
    text: str = TEXT, time: int = 1795000000, mobile: str = "13812345678"
) -> dict[str, Any]:
    return {"mobile": mobile, "nationcode": "86", "sign": "12315", "text": text, "time": time}


def test_twilio_message_files_once_and_replies_with_the_tracking_number(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    answer = _twilio(client, _twilio_message("SM0001"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert "<Response>" in answer.text
    run_worker_until_idle()

    with Session(get_engine(read_only=True)) as session:
        complaint = session.exec(select(Complaint)).one()
        assert complaint.channel is Channel.sms
        assert complaint.kind is Kind.complaint  # detected from 退款 / 不给退
        assert complaint.contact_phone == "+8613812345678"
        assert complaint.place_county == "小店区"
        sent = session.exec(select(SmsOutbound)).one()
        assert sent.state == "sent"
    [reply] = sms_platform.inbox.all()
    assert reply["to"] == "+8613812345678"
    assert complaint.tracking_number[:4] in reply["text"].replace(" ", "")
    assert (
        " ".join([complaint.tracking_number[i : i + 4] for i in range(0, 14, 4)]) in reply["text"]
    )


@pytest.mark.parametrize("replays", [1, 3, 10])
def test_replayed_twilio_deliveries_make_one_filing(
    sms_platform: RunningGateway, client: TestClient, replays: int
) -> None:
    for _ in range(replays):
        assert _twilio(client, _twilio_message("SM-replay")).status_code == 200
    assert _count(Complaint) == 1
    assert _count(SmsInbound) == 1
    run_worker_until_idle()
    assert len(sms_platform.inbox.all()) == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IHRoZSBzaWduYXR1cmU=", "wrong"],
    ids=["missing", "empty", "other", "junk"],
)
def test_a_bad_twilio_signature_is_refused_and_nothing_is_written(
    sms_platform: RunningGateway, client: TestClient, signature: str | None
) -> None:
    answer = _twilio(client, _twilio_message("SM0002"), signature=signature)
    assert answer.status_code == 403
    assert answer.json()["error"] == "PermissionDenied"
    assert (_count(Complaint), _count(SmsInbound)) == (0, 0)


def test_a_signature_for_other_content_is_refused(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    signed = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, _twilio_message("SM1"))
    answer = _twilio(
        client, _twilio_message("SM1", body="篡改过的内容，不是原来的短信"), signature=signed
    )
    assert answer.status_code == 403
    assert _count(Complaint) == 0


def test_aliyun_batches_replayed_and_reordered_make_one_filing_per_message(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    items = [
        _aliyun_item("seq-1"),
        _aliyun_item("seq-2", "举报某某饭店无证经营，后厨卫生极差，请依法查处", "13900001111"),
        _aliyun_item("seq-3", "请问网购商品七天无理由退货的运费由谁承担？", "13700002222"),
    ]
    rng = random.Random(7)
    for _ in range(6):
        batch = rng.sample(items, k=rng.randint(1, 3))
        answer = client.post(f"/api/v1/sms/aliyun/{PATH_TOKEN}", json=batch)
        assert answer.status_code == 200
        assert answer.json()["code"] == 0
    client.post(f"/api/v1/sms/aliyun/{PATH_TOKEN}", json=items[::-1])
    with Session(get_engine(read_only=True)) as session:
        kinds = sorted(c.kind.value for c in session.exec(select(Complaint)).all())
    assert kinds == ["complaint", "inquiry", "tip"]
    run_worker_until_idle()
    assert sorted(m["to"] for m in sms_platform.inbox.all()) == [
        "+8613700002222",
        "+8613812345678",
        "+8613900001111",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        _aliyun_item("seq-empty", ""),
        _aliyun_item("seq-nul", "\x00 \x00"),
        {"content": TEXT, "sequence_id": "seq-no-sender"},
        _aliyun_item("seq-long-dest") | {"dest_code": "1" * 40},
        42,
    ],
    ids=["empty", "only-control-characters", "no-sender", "long-dest_code", "not-an-object"],
)
def test_one_bad_message_in_an_aliyun_push_does_not_lose_the_others(
    sms_platform: RunningGateway, client: TestClient, bad: Any, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [
        _aliyun_item("seq-1"),
        bad,
        _aliyun_item("seq-2", "请问网购商品七天无理由退货的运费由谁承担？", "13700002222"),
    ]
    for _ in range(4):  # the push and Aliyun's re-pushes after 1, 5 and 10 minutes
        answer = client.post(f"/api/v1/sms/aliyun/{PATH_TOKEN}", json=batch)
        assert answer.json() == {"code": 0, "msg": "成功"}
    with Session(get_engine(read_only=True)) as session:
        filed = sorted(c.contact_phone or "" for c in session.exec(select(Complaint)).all())
    assert filed == ["+8613700002222", "+8613812345678"]
    assert _count(SmsInbound) == 2
    left_out = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(left_out) == 4
    assert all(line.startswith("aliyun push: item 1: ") for line in left_out)
    assert not any(TEXT in line or "13812345678" in line for line in left_out)


def test_a_message_that_fails_while_handled_does_not_roll_back_the_others(
    sms_platform: RunningGateway, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake import sms_service

    handle = sms_service._handle

    def failing(session: Session, message: Any) -> Any:
        if "失败" in message.text:
            raise RuntimeError("a bug met by this one message")
        return handle(session, message)

    monkeypatch.setattr(sms_service, "_handle", failing)
    lenient = TestClient(client.app, raise_server_exceptions=False)
    batch = [
        _aliyun_item("seq-1"),
        _aliyun_item("seq-2", "这条短信处理失败了，超市卖的酸奶过期，要求退款", "13900001111"),
        _aliyun_item("seq-3", "请问网购商品七天无理由退货的运费由谁承担？", "13700002222"),
    ]
    # The failure is answered as one, so that the gateway pushes the batch again...
    assert lenient.post(f"/api/v1/sms/aliyun/{PATH_TOKEN}", json=batch).status_code == 500
    assert (_count(Complaint), _count(SmsInbound)) == (2, 2)
    # ... and once the fault is gone, the re-push files the one that failed, and only it.
    monkeypatch.setattr(sms_service, "_handle", handle)
    assert client.post(f"/api/v1/sms/aliyun/{PATH_TOKEN}", json=batch).json()["code"] == 0
    assert (_count(Complaint), _count(SmsInbound)) == (3, 3)


@pytest.mark.parametrize("replays", [1, 4, 10])
def test_tencent_replies_are_deduplicated_by_content(
    sms_platform: RunningGateway, client: TestClient, replays: int
) -> None:
    for _ in range(replays):
        answer = client.post(f"/api/v1/sms/tencent/{PATH_TOKEN}", json=_tencent())
        assert answer.json() == {"result": 0, "errmsg": "OK"}
    # The same words at another time are another message.
    client.post(f"/api/v1/sms/tencent/{PATH_TOKEN}", json=_tencent(time=1795000999))
    assert _count(Complaint) == 2
    run_worker_until_idle()
    replies = sms_platform.inbox.all()
    assert [m["to"] for m in replies] == ["+8613812345678", "+8613812345678"]
    assert all("受理编号" in m["text"] for m in replies)


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
@pytest.mark.parametrize("token", ["wrong-token", PATH_TOKEN + "x", ""])
def test_a_wrong_path_token_is_404_and_nothing_is_written(
    sms_platform: RunningGateway, client: TestClient, provider: str, token: str
) -> None:
    body: Any = [_aliyun_item("s")] if provider == "aliyun" else _tencent()
    answer = client.post(f"/api/v1/sms/{provider}/{token}", json=body)
    # As if the path did not exist (an empty token is another path, which no route serves).
    assert answer.status_code == 404
    assert (_count(Complaint), _count(SmsInbound)) == (0, 0)


def test_the_source_allowlist_keeps_other_addresses_out(
    configure: Callable[..., None], sms_platform: RunningGateway, sqlite_url: str, redis_url: str
) -> None:
    configure(
        database_url=sqlite_url,
        redis_url=redis_url,
        sms_path_token=PATH_TOKEN,
        sms_source_allowlist=json.dumps(["10.10.0.0/16"]),
    )
    from service.app import create_app

    with TestClient(create_app()) as client:  # TestClient calls from "testclient"
        answer = client.post(f"/api/v1/sms/tencent/{PATH_TOKEN}", json=_tencent())
    assert answer.status_code == 403
    assert _count(SmsInbound) == 0


@pytest.mark.parametrize(
    "body",
    [[{"content": "没有号码"}], [42], [{"content": ""}, "x"], {"mobile": "1"}],
    ids=["aliyun-missing-fields", "aliyun-not-object", "aliyun-no-message", "tencent-missing"],
)
def test_malformed_payloads_are_422_and_nothing_is_written(
    sms_platform: RunningGateway, client: TestClient, body: Any
) -> None:
    provider = "tencent" if isinstance(body, dict) else "aliyun"
    answer = client.post(f"/api/v1/sms/{provider}/{PATH_TOKEN}", json=body)
    assert answer.status_code == 422
    assert _count(SmsInbound) == 0
    not_json = client.post(
        f"/api/v1/sms/{provider}/{PATH_TOKEN}",
        content=b"\xff\xfe",
        headers={"content-type": "application/json"},
    )
    assert not_json.status_code == 422


def test_a_query_by_sms_answers_with_the_status_and_files_nothing(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    _twilio(client, _twilio_message("SM-first"))
    run_worker_until_idle()
    with Session(get_engine(read_only=True)) as session:
        number = session.exec(select(Complaint)).one().tracking_number
    _twilio(client, _twilio_message("SM-query", body=f"查询 {number[:6]} {number[6:]}"))
    _twilio(client, _twilio_message("SM-unknown", body="查询26112865638191"))
    run_worker_until_idle()
    assert _count(Complaint) == 1
    texts = [m["text"] for m in sms_platform.inbox.all()]
    assert len(texts) == 3
    assert texts[1].startswith("【12315】受理编号")
    assert "已分派至承办部门（太原市小店区" in texts[1]
    assert "未找到受理编号26112865638191" in texts[2]


def test_a_query_or_a_score_in_full_width_digits_is_understood(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    _twilio(client, _twilio_message("SM-first"))
    with Session(get_engine(read_only=True)) as session:
        number = session.exec(select(Complaint)).one().tracking_number
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    _twilio(client, _twilio_message("SM-query", body=f"查询{number.translate(full_width)}"))
    _twilio(client, _twilio_message("SM-score", body="５分"))
    assert _count(Complaint) == 1
    with Session(get_engine(read_only=True)) as session:
        sent = session.exec(select(SmsOutbound).order_by(SmsOutbound.id)).all()  # type: ignore[arg-type]
        outcomes = session.exec(select(SmsInbound.outcome).order_by(SmsInbound.id)).all()  # type: ignore[arg-type]
    assert [m.template for m in sent] == ["filed_name_needed", "status", "reply_received"]
    assert sent[1].params["number"] == display_tracking_number(number)
    assert outcomes == ["filed", "query", "reply"]


def test_a_bare_score_is_attached_to_the_senders_last_filing(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    _twilio(client, _twilio_message("SM-a"))
    _twilio(client, _twilio_message("SM-b", body="5"))
    assert _count(Complaint) == 1
    with Session(get_engine(read_only=True)) as session:
        reply = session.exec(
            select(ComplaintEvent).where(ComplaintEvent.reason == "citizen replied by SMS")
        ).one()
        assert reply.payload["rating"] == 5
        assert reply.from_status == reply.to_status
        inbound = session.exec(
            select(SmsInbound).where(SmsInbound.dedup_key == "twilio:SM-b")
        ).one()
        assert inbound.outcome == "reply"


def test_an_sms_complaint_asks_for_the_name_and_a_reply_with_it_completes_the_filing(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    _twilio(client, _twilio_message("SM-filed"))
    _twilio(client, _twilio_message("SM-name", body="姓名：欧阳娜娜"))
    # Named already: a second name is read as any other text (too short to file), not taken.
    _twilio(client, _twilio_message("SM-again", body="我叫李四"))
    # From a number without a filing waiting for a name, likewise.
    _twilio(client, _twilio_message("SM-other", body="姓名张三", sender="+8613911112222"))
    run_worker_until_idle()
    assert _count(Complaint) == 1
    with Session(get_engine(read_only=True)) as session:
        complaint = session.exec(select(Complaint)).one()
        assert complaint.complainant_name == "欧阳娜娜"
        supplied = session.exec(
            select(ComplaintEvent).where(ComplaintEvent.reason == "citizen gave their name by SMS")
        ).one()
        assert supplied.payload["supplied"] == ["complainant_name"]
        assert "欧阳娜娜" not in json.dumps(supplied.payload, ensure_ascii=False)
        outcomes = session.exec(select(SmsInbound.outcome).order_by(SmsInbound.id)).all()  # type: ignore[arg-type]
    assert outcomes == ["filed", "reply", "too_short", "too_short"]
    texts = [m["text"] for m in sms_platform.inbox.all()]
    number = display_tracking_number(complaint.tracking_number)
    assert texts[0].startswith(
        f"【12315】您的投诉已登记，受理编号{number}。投诉须实名，请回复“姓名”"
    )
    assert texts[1] == f"【12315】受理编号{number}：已记录投诉人姓名，谢谢。"
    assert all("至少10个字" in t for t in texts[2:])


def test_an_sms_inquiry_is_not_asked_for_a_name(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    _twilio(client, _twilio_message("SM-ask", body="请问网购的商品七天无理由退货是怎么规定的？"))
    run_worker_until_idle()
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(Complaint)).one().kind is Kind.inquiry
        assert [m.template for m in session.exec(select(SmsOutbound)).all()] == ["filed"]
    assert "实名" not in sms_platform.inbox.all()[0]["text"]


def test_a_too_short_message_from_a_stranger_gets_instructions(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    _twilio(client, _twilio_message("SM-short", body="5", sender="+8613911112222"))
    _twilio(client, _twilio_message("SM-short2", body="商家骗人", sender="+8613911112222"))
    run_worker_until_idle()
    assert _count(Complaint) == 0
    texts = [m["text"] for m in sms_platform.inbox.all()]
    assert len(texts) == 2
    assert all("至少10个字" in t for t in texts)


def test_a_message_over_the_text_limit_is_not_filed_and_says_why(
    sms_platform: RunningGateway, client: TestClient
) -> None:
    longest = (TEXT + "商家不给退款。" * 800)[:5000]
    _twilio(client, _twilio_message("SM-long", body=longest + "。"))
    _twilio(client, _twilio_message("SM-longest", body=longest))
    with Session(get_engine(read_only=True)) as session:
        assert [c.text for c in session.exec(select(Complaint)).all()] == [longest]
        outcomes = session.exec(select(SmsInbound.outcome).order_by(SmsInbound.id)).all()  # type: ignore[arg-type]
    assert outcomes == ["too_long", "filed"]
    run_worker_until_idle()
    texts = [m["text"] for m in sms_platform.inbox.all()]
    assert len(texts) == 2
    assert "超过5000字" in texts[0]


def test_a_flood_from_one_number_is_recorded_but_not_filed(
    configure: Callable[..., None], sms_platform: RunningGateway, sqlite_url: str, redis_url: str
) -> None:
    configure(
        database_url=sqlite_url,
        redis_url=redis_url,
        sms_provider="loopback",
        sms_gateway_url=sms_platform.url,
        twilio_auth_token=TWILIO_TOKEN,
        rate_limit_filings_per_phone_per_day="2",
    )
    from service.app import create_app

    with TestClient(create_app()) as client:
        for i in range(4):
            _twilio(client, _twilio_message(f"SM-flood-{i}", body=f"{TEXT}（第{i}次）"))
    assert _count(Complaint) == 2
    with Session(get_engine(read_only=True)) as session:
        outcomes = [
            m.outcome for m in session.exec(select(SmsInbound).order_by(SmsInbound.id)).all()
        ]  # type: ignore[arg-type]
    assert outcomes == ["filed", "filed", "rate_limited", "rate_limited"]


def test_webhooks_without_their_secret_configured_are_404(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> None:
    migrated_platform(configure, sqlite_url, redis_url, templates)
    from service.app import create_app

    with TestClient(create_app()) as client:
        assert client.post("/api/v1/sms/tencent/anything", json=_tencent()).status_code == 404
        assert _twilio(client, _twilio_message("SM-x"), signature="x").status_code == 404
    assert _count(SmsInbound) == 0
