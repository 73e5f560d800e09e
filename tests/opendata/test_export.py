"""The open-data export holds no personal data: canaries planted in free text never come out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.db import get_engine
from opendata.scrub import scrub
from schemas.enums import Role
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

# Each is personal data a citizen may type into a complaint; none may reach the export.
CANARIES = {
    "mobile": "13912345678",
    "mobile spaced": "139 8765 4321",
    "mobile dashed": "+86 137-2468-1357",
    "landline": "0351-7654321",
    "id number": "14010519900307123X",
    "plate": "晋A·12345",
    "new-energy plate": "晋AD12345",
    "bank card": "6222 0212 3456 7890",
    "e-mail": "canary.zhang@example.com",
    "name": "孙丽娟",
    "name after 我叫": "赵志强",
    "name cut in two by jieba": "王秀英",
    "compound surname": "欧阳娜娜",
}
TEXT = (
    "我叫赵志强，在商场买的电热水器漏电，售后拖着不修。我的手机13912345678，也可打139 8765 4321"
    "或+86 137-2468-1357，家里座机0351-7654321，身份证号14010519900307123X。送货的车是晋A·12345，"
    "另一辆晋AD12345。退款请打到银行卡6222 0212 3456 7890，邮箱canary.zhang@example.com。"
    "邻居王秀英和孙丽娟、欧阳娜娜都看见了。"
)
TIP_CANARY = "举报线索金丝雀七号仓库"


def test_scrub_takes_out_every_canary() -> None:
    cleaned = scrub(TEXT)
    assert [what for what, canary in CANARIES.items() if canary in cleaned] == []
    assert "电热水器漏电" in cleaned  # the matter itself is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "物业经理不理，总经理也不管，孩子在幼儿园摔伤",
            "物业经理不理，总经理也不管，孩子在幼儿园摔伤",
        ),
        ("银行卡被多扣了500元", "银行卡被多扣了500元"),
        ("2026年3月1日买的", "2026年3月1日买的"),
    ],
)
def test_scrub_keeps_ordinary_words_and_small_numbers(text: str, kept: str) -> None:
    assert scrub(text) == kept


def test_the_export_holds_no_canary_and_no_tip_off(platform: str, client: TestClient) -> None:
    filed = client.post(
        "/api/v1/complaints",
        json=valid_filing(text=TEXT, business_name="孙丽娟电器商行", contact_phone="13812345678"),
    )
    assert filed.status_code == 201, filed.text
    tip = client.post(
        "/api/v1/complaints",
        json=valid_filing(
            kind="tip",
            text=f"{TIP_CANARY}里藏着假冒的电热水器，举报人电话13700001111。",
            contact_phone=None,
            business_name="某某电器仓库",
        ),
    )
    assert tip.status_code == 201, tip.text
    run_worker_until_idle()
    number = filed.json()["tracking_number"]

    as_csv = client.get("/api/v1/open-data/complaints", params={"format": "csv"})
    as_json = client.get("/api/v1/open-data/complaints", params={"format": "json"})
    assert as_csv.status_code == as_json.status_code == 200
    data = as_json.json()["data"]
    assert len(data) == 1  # the complaint, not the tip-off
    assert "电热水器漏电" in data[0]["text"]
    assert data[0]["county"] == "小店区"
    for body in (as_csv.text, as_json.text, json.dumps(data, ensure_ascii=False)):
        leaked = [what for what, canary in CANARIES.items() if canary in body]
        assert leaked == []
        assert TIP_CANARY not in body
        assert number not in body  # the tracking number opens the tracking page
        assert "13812345678" not in body  # the contact number
        assert "某某路1号" not in body  # the business address
    assert as_csv.text.splitlines()[0].startswith("id,received_on,closed_on,status,money_back")


def _export(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "service", "opendata", "export", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_export_command_writes_the_same_rows(
    platform: str, client: TestClient, tmp_path: object
) -> None:
    assert client.post("/api/v1/complaints", json=valid_filing(text=TEXT)).status_code == 201
    from pathlib import Path

    out = Path(str(tmp_path)) / "open.json"
    done = _export("--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    body = out.read_text(encoding="utf-8")
    assert json.loads(body)["data"][0]["text"] == scrub(TEXT)
    assert [c for c in CANARIES.values() if c in body] == []
    for args, message in (
        (("--since", "2026-13-01"), "error: --since must be a date"),
        (("--until", "9999-12-31"), "error: --until must be a day from 1900-01-01 to 9998-12-31"),
    ):
        refused = _export(*args)
        assert refused.returncode == 2
        assert message in refused.stderr


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"until": "9999-12-31"}, "until"),  # its next day's China midnight overflowed: 500
        ({"since": "0001-01-01"}, "since"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "since"),
    ],
)
def test_the_export_refuses_a_period_it_cannot_hold(
    sqlite_platform: str, client: TestClient, params: dict[str, str], field: str
) -> None:
    answer = client.get("/api/v1/open-data/complaints", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_a_complaint_split_from_a_call_publishes_no_text(platform: str, client: TestClient) -> None:
    """One call, one text: the operator files it as a complaint and a tip-off. The
    complaint's text is the tip-off's too, so publishing it would publish the tip-off, and
    tie it to the complainant the business already knows from mediation."""
    from schemas.enums import Role
    from tests.helpers import add_staff, bearer

    with Session(get_engine()) as session:
        add_staff(session, "op", Role.operator)
    call = {
        "caller_phone": "13812345678",
        "caller_name": "李明",
        "text": f"在某超市买的充电器冒烟要求赔偿，另外举报该超市在{TIP_CANARY}销售三无产品",
        "business_name": "某某超市",
        "region": "太原市小店区",
        "split": True,
    }
    answer = client.post("/api/v1/operator/calls", json=call, headers=bearer(client, "op"))
    assert answer.status_code == 201, answer.text
    plain = client.post("/api/v1/complaints", json=valid_filing(text=TEXT))
    assert plain.status_code == 201
    run_worker_until_idle()

    data = client.get("/api/v1/open-data/complaints", params={"format": "json"}).json()["data"]
    assert len(data) == 2  # the split complaint is published, without its text
    split = next(row for row in data if row["business_name"] == "某某超市")
    assert split["text"] is None
    assert any("电热水器漏电" in (row["text"] or "") for row in data)
    as_csv = client.get("/api/v1/open-data/complaints", params={"format": "csv"}).text
    requests = client.get("/open311/v2/requests.json").json()
    assert len(requests) == 2
    assert sorted(bool(r["description"]) for r in requests) == [False, True]
    for body in (
        as_csv,
        json.dumps(data, ensure_ascii=False),
        json.dumps(requests, ensure_ascii=False),
    ):
        assert TIP_CANARY not in body
        assert "三无产品" not in body


def test_the_export_says_whether_a_settlement_gave_money_back_but_not_how_much(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    add_staff(session, "zj", Role.department, "quality")
    staff = bearer(client, "zj")
    for text in (TEXT, "买的电动车充电器用了三天就冒烟，商家不肯退换，请质监部门处理。"):
        assert client.post("/api/v1/complaints", json=valid_filing(text=text)).status_code == 201
    run_worker_until_idle()
    ids = sorted(c["id"] for c in client.get("/api/v1/queue", headers=staff).json()["data"])
    for action, body in (
        ("accept", {}),
        ("start_mediation", {}),
        ("mediation_succeeded", {"agreement": "商家退款", "recovered_fen": 76543}),
    ):
        answer = client.post(
            f"/api/v1/complaints/{ids[0]}/actions/{action}", json=body, headers=staff
        )
        assert answer.status_code == 200, answer.text
    data = client.get("/api/v1/open-data/complaints", params={"format": "json"}).json()["data"]
    assert sorted(row["money_back"] is True for row in data) == [False, True]
    assert [row["money_back"] for row in data if row["money_back"] is not True] == [None]
    assert "76543" not in json.dumps(data)
    assert "765.43" not in json.dumps(data)
