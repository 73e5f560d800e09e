"""Gateway fields longer than the columns they go into: an over-long message id keeps its
identity as a hash (replays still deduplicate); an over-long recipient is refused with a
reason. Neither is a 500, which the gateway would retry for ever (PostgreSQL checks lengths,
SQLite does not, so both run)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from schemas import Complaint
from schemas.sms import SmsInbound
from tests.conftest import SMS_PATH_TOKEN

pytestmark = pytest.mark.usefixtures("sms_platform")

TEXT = "我在太原市小店区某某超市买的牛奶过期了，要求退款，商家不给退"


def _aliyun(sequence_id: str, dest_code: str = "12315") -> list[dict[str, Any]]:
    return [
        {
            "phone_number": "13812345678",
            "content": TEXT,
            "send_time": "2026-11-28 10:00:00",
            "dest_code": dest_code,
            "sequence_id": sequence_id,
        }
    ]


def test_an_over_long_message_id_is_kept_as_a_hash_and_still_deduplicates(
    client: TestClient,
) -> None:
    for _ in range(2):
        answer = client.post(f"/api/v1/sms/aliyun/{SMS_PATH_TOKEN}", json=_aliyun("9" * 120))
        assert answer.status_code == 200, answer.text
    client.post(f"/api/v1/sms/aliyun/{SMS_PATH_TOKEN}", json=_aliyun("9" * 119 + "8"))
    with Session(get_engine(read_only=True)) as session:
        keys = [row.dedup_key for row in session.exec(select(SmsInbound)).all()]
        assert len(session.exec(select(Complaint)).all()) == 2
    assert len(keys) == 2
    assert all(key.startswith("aliyun:sha256:") and len(key) <= 100 for key in keys)


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("aliyun", _aliyun("1", dest_code="1" * 40)),
        (
            "tencent",
            {"mobile": "13812345678", "nationcode": "86", "sign": "某" * 31, "text": TEXT,
             "time": 1795000000},
        ),
    ],
    ids=["aliyun-dest_code", "tencent-sign"],
)  # fmt: skip
def test_an_over_long_recipient_is_refused_with_a_reason(
    client: TestClient, provider: str, body: Any
) -> None:
    answer = client.post(f"/api/v1/sms/{provider}/{SMS_PATH_TOKEN}", json=body)
    assert answer.status_code == 422, answer.text
    assert "recipient" in answer.json()["detail"]
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(SmsInbound)).all() == []
