"""Retention: finished filings lose every trace of a person after the policy's period, for good.

Canary strings are planted in every place personal data goes (the sealed identity, the text,
the reporter's answer, text messages in and out, an attachment, a rating comment, a closing
summary), then the database is dumped table by table, and on SQLite read as raw bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, update
from sqlalchemy import select as select_table
from sqlmodel import Session, SQLModel, col, select
from typer.testing import CliRunner

import schemas  # noqa: F401  (every table on the metadata)
from cases.policy import DEFAULT_POLICY
from cases.retention import PURGED_TEXT, PurgeReport, purge_due
from core.db import get_engine, session_scope
from core.timeutil import day_start, utcnow
from intake.attachments import path_for
from rewards.states import today as reward_day
from schemas import Complaint
from schemas.attachment import Attachment
from schemas.casework import ArbitrationTest, AuditEntry
from schemas.enums import Role
from schemas.product import ProductRiskCase
from schemas.reward import RewardEvent
from schemas.sms import SmsInbound, SmsOutbound
from service.cli import app as cli_app
from tests.conftest import Templates, copy_of_template
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing
from tests.intake.test_attachments_and_limits import png_bytes
from tests.rewards.test_vault import complaint_id, file_tip

PATH_TOKEN = "retention-path-token"
NAME = "甄测试金丝雀"
PHONE = "13900007777"
ID_NUMBER = "11010519491231002X"
ACCOUNT = "6222020200112233445"
ADDRESS = "金丝雀路88号"
ORDER = "JSQ-ORDER-20260301-7788"
CANARIES = [NAME, PHONE, ID_NUMBER, ACCOUNT, ADDRESS, ORDER]
REPORTER = {
    "name": NAME,
    "phone": PHONE,
    "id_number": ID_NUMBER,
    "bank_name": "中国工商银行太原分行",
    "bank_account": ACCOUNT,
}
OPEN_TEXT = "我家小区的电梯上个月困人两次，物业一直不修，电梯年检标志也过期了，请质监部门检查。"


@pytest.fixture
def plant(
    configure: Callable[..., None],
    database_url: str,
    redis_url: str,
    templates: Templates,
    tmp_path: Path,
) -> Callable[..., None]:
    """(Re)configure the platform, with an optional policy override; on first use, a copy of
    the migrated database."""
    state = {"migrated": False}

    def use(**retention: int) -> None:
        extra: dict[str, str] = {"sms_path_token": PATH_TOKEN}
        if retention:
            data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
            data["retention"].update(retention)
            path = tmp_path / "policy.yaml"
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            extra["policy_file"] = str(path)
        if not state["migrated"]:
            copy_of_template(templates, database_url)
        configure(database_url=database_url, redis_url=redis_url, **extra)
        if not state["migrated"]:
            with Session(get_engine()) as session:
                add_staff(session, "boss", Role.supervisor)
                session.commit()
            state["migrated"] = True

    return use


def _act(client: TestClient, cid: int, action: str, body: dict[str, Any] | None = None) -> None:
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/{action}",
        json=body or {},
        headers=bearer(client, "boss"),
    )
    assert answer.status_code == 200, (action, answer.text)


def _close_complaint(client: TestClient, cid: int) -> None:
    _act(client, cid, "refuse", {"reason_code": "other", "explanation": f"经查{ADDRESS}已停业"})
    _act(client, cid, "close", {"summary": f"已告知{NAME}，地址{ADDRESS}"})


def _close_tip(client: TestClient, cid: int) -> None:
    _act(client, cid, "start_verification")
    _act(client, cid, "not_open_case", {"reason": "现场核查未发现违法行为"})
    _act(client, cid, "close", {"summary": f"现场核查{ADDRESS}，未发现违法行为"})


def _age(ids: list[int], *, days: float) -> None:
    with Session(get_engine()) as session:
        session.execute(
            update(Complaint)
            .where(col(Complaint.id).in_(ids))
            .values(updated_at=day_start() - timedelta(days=days))
        )
        session.commit()


def _age_reward(reward_id: int, *, days: int) -> None:
    """Move every step of a reward file `days` back."""
    with Session(get_engine()) as session:
        session.execute(
            update(RewardEvent)
            .where(col(RewardEvent.reward_id) == reward_id)
            .values(on=reward_day() - timedelta(days=days))
        )
        session.commit()


def _sms_in(client: TestClient, text: str, *, mobile: str = PHONE, time: int = 1795000000) -> None:
    answer = client.post(
        f"/api/v1/sms/tencent/{PATH_TOKEN}",
        json={"mobile": mobile, "nationcode": "86", "sign": "12315", "text": text, "time": time},
    )
    assert answer.status_code == 200, answer.text


def dump() -> str:
    """Every row of every table, as text (JSON columns as Python reprs, unescaped)."""
    lines: list[str] = []
    in_database = set(inspect(get_engine(read_only=True)).get_table_names()) - {"alembic_version"}
    assert in_database <= set(SQLModel.metadata.tables)  # no table escapes the dump
    with Session(get_engine(read_only=True)) as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(select_table(table)).all():
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)


def _leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


def _raw_leaks(database_url: str) -> list[str]:
    """Canaries in the SQLite file and its write-ahead log, in every encoding they may take."""
    path = Path(database_url.split("///", 1)[1])
    raw = b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()
    )
    found = []
    for canary in CANARIES:
        forms = {canary.encode(), json.dumps(canary).strip('"').encode()}  # JSON's \\uXXXX too
        if any(form in raw for form in forms):
            found.append(canary)
    return found


def _counts() -> Counter[tuple[str, str, int | None, str]]:
    with Session(get_engine(read_only=True)) as session:
        return Counter(
            (c.kind.value, c.channel.value, c.department_id, c.status.value)
            for c in session.exec(select(Complaint)).all()
        )


def _complaint(cid: int) -> Complaint:
    with Session(get_engine(read_only=True)) as session:
        found = session.get(Complaint, cid)
    assert found is not None
    return found


def _purge() -> PurgeReport:
    with session_scope() as session:
        return purge_due(session)


def test_purge_erases_every_trace_of_the_person_and_keeps_the_statistics(
    plant: Callable[..., None], database_url: str
) -> None:
    plant()
    from service.app import create_app

    with TestClient(create_app()) as client:
        # A named tip-off with an attachment, a question to the reporter and an answer.
        upload = client.post(
            "/api/v1/attachments", files={"file": (f"{NAME}.png", png_bytes(), "image/png")}
        )
        assert upload.status_code == 201, upload.text
        sha = upload.json()["sha256"]
        tip, code = file_tip(
            client,
            reporter=REPORTER,
            text=f"我是{NAME}，举报{ADDRESS}的某某厂生产的电动车充电器没有3C认证。",
            attachments=[upload.json()["id"]],
        )
        assert path_for(sha).exists()
        run_worker_until_idle()
        _act(client, tip, "ask_reporter", {"question": "请说明仓库位置"})
        answered = client.post(
            "/api/v1/tipoffs/answers",
            json={"receipt_code": code, "text": f"仓库在{ADDRESS}，我叫{NAME}，电话{PHONE}"},
        )
        assert answered.status_code == 201
        # A complaint by text message, with the reply sent to the sender.
        _sms_in(client, f"我在{ADDRESS}的某某超市买的牛奶过期了，要求退款，商家不给退")
        # A web complaint that is rated with a comment naming the complainant.
        web = client.post(
            "/api/v1/complaints",
            json=valid_filing(
                contact_phone=PHONE,
                text=f"本人{NAME}（身份证{ID_NUMBER}），家住{ADDRESS}，电梯困人两次，"
                f"请退还预付的维修费到账户{ACCOUNT}。",
                # What the rules ask of a complaint: as personal as the contact number.
                complainant_name=NAME,
                complainant_address=f"太原市{ADDRESS}",
                demand=f"退还预付的维修费，订单{ORDER}",
                purchased_on="2026-03-01",
                order_number=ORDER,
            ),
        )
        assert web.status_code == 201, web.text
        # A complaint still open, which must be left alone.
        still_open = client.post("/api/v1/complaints", json=valid_filing(text=OPEN_TEXT))
        run_worker_until_idle()
        web_id = complaint_id(web.json()["tracking_number"])
        open_id = complaint_id(still_open.json()["tracking_number"])
        with Session(get_engine(read_only=True)) as session:
            sms_id = session.exec(select(Complaint.id).where(Complaint.channel == "sms")).one()
        assert sms_id is not None
        _close_tip(client, tip)
        for cid in (sms_id, web_id):
            _close_complaint(client, cid)
        number = web.json()["tracking_number"]
        rated = client.post(
            f"/api/v1/track/{number}/rating",
            json={"score": 2, "comment": f"{NAME}不满意，电话{PHONE}"},
        )
        assert rated.status_code == 201, rated.text
        run_worker_until_idle()

    closed = [tip, sms_id, web_id]
    _age([*closed, open_id], days=1200)  # the open one is old too, but not finished
    before = dump()
    assert set(_leaks(before)) == set(CANARIES)  # planted where the purge must reach
    if database_url.startswith("sqlite"):
        assert set(_raw_leaks(database_url)) == set(CANARIES)  # the file check can see them
    counts = _counts()
    untouched = _complaint(open_id)

    erased = CliRunner().invoke(cli_app, ["retention", "purge"])
    assert erased.exit_code == 0, erased.output
    assert "erased: 3 filings, 1 identities, 1 attachments" in erased.output

    after = dump()
    assert _leaks(after) == [], [
        line for line in after.splitlines() if any(c in line for c in CANARIES)
    ]
    assert not path_for(sha).exists()
    if database_url.startswith("sqlite"):
        assert _raw_leaks(database_url) == []
    assert _counts() == counts
    for cid in closed:
        purged = _complaint(cid)
        assert purged.personal_data_purged_on is not None
        assert (purged.text, purged.contact_phone) == (PURGED_TEXT, None)
        assert purged.complainant_name is purged.complainant_address is None
        assert purged.order_number is purged.demand is None
    # The day of purchase names nobody; statistics may count by it.
    assert str(_complaint(web_id).purchased_on) == "2026-03-01"
    kept = _complaint(open_id)
    assert kept.model_dump() == untouched.model_dump()
    assert kept.text == OPEN_TEXT
    assert kept.contact_phone == "+8613812345678"
    assert kept.personal_data_purged_on is None

    assert _purge() == PurgeReport(filings=0, identities=0, attachments=0)
    assert dump() == after


def test_each_kind_keeps_its_own_period_to_the_day(
    plant: Callable[..., None],
) -> None:
    plant(closed_tip_days=10, closed_filing_days=20)
    from service.app import create_app

    with TestClient(create_app()) as client:
        tips = [file_tip(client, reporter=REPORTER)[0] for _ in range(2)]
        numbers = [
            client.post(
                "/api/v1/complaints", json=valid_filing(text=f"{OPEN_TEXT}（第{i}次）")
            ).json()["tracking_number"]
            for i in range(3)
        ]
        complaints = [complaint_id(n) for n in numbers]
        run_worker_until_idle()
        for cid in tips:
            _close_tip(client, cid)
        for cid in complaints:
            _close_complaint(client, cid)
    minute = 1 / (24 * 60)
    young_tip, old_tip = tips
    young, fifteen, old = complaints
    _age([young_tip], days=10 - minute)  # one minute short of the tip-off period
    _age([old_tip], days=10 + minute)
    _age([young], days=20 - minute)  # a complaint is kept longer than a tip-off
    _age([fifteen], days=15)  # past the tip-off period, not the complaint's
    _age([old], days=20 + minute)
    report = _purge()
    assert report == PurgeReport(filings=2, identities=1, attachments=0)
    purged = {cid for cid in tips + complaints if _complaint(cid).personal_data_purged_on}
    assert purged == {old_tip, old}
    assert PHONE not in str(_complaint(old).text)
    assert _complaint(young).contact_phone

    plant(closed_tip_days=9, closed_filing_days=14)  # a shorter period catches the rest
    assert _purge().filings == 3
    assert all(_complaint(cid).personal_data_purged_on for cid in tips + complaints)


def test_texts_that_filed_nothing_lose_sender_and_text_after_their_period(
    plant: Callable[..., None],
) -> None:
    plant(unlinked_sms_days=30)
    from service.app import create_app

    with TestClient(create_app()) as client:
        _sms_in(client, "商家骗人", time=1795000001)  # too short: files nothing, instructions
        run_worker_until_idle()
        with Session(get_engine()) as session:
            session.execute(update(SmsInbound).values(received_at=utcnow() - timedelta(days=31)))
            session.execute(update(SmsOutbound).values(created_at=utcnow() - timedelta(days=31)))
            session.commit()
        _sms_in(client, "骗子商家", mobile="13900008888", time=1795000002)  # a recent one
        run_worker_until_idle()
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(func.count()).select_from(Complaint)).one() == 0
        assert {m.outcome for m in session.exec(select(SmsInbound)).all()} == {"too_short"}
    _purge()
    with Session(get_engine(read_only=True)) as session:
        inbound = {m.dedup_key: m for m in session.exec(select(SmsInbound)).all()}
        outbound = session.exec(select(SmsOutbound).order_by(col(SmsOutbound.id))).all()
    old_in, new_in = sorted(inbound.values(), key=lambda m: m.id or 0)
    assert (old_in.sender, old_in.text, old_in.outcome) == (None, None, "too_short")
    assert (new_in.sender, new_in.text) == ("+8613900008888", "骗子商家")
    old_out, new_out = outbound
    assert (old_out.to_number, old_out.body, old_out.params) == (None, None, {})
    assert old_out.state == "sent"
    assert old_out.template == "too_short"
    assert new_out.to_number == "+8613900008888"
    assert new_out.body
    assert PHONE not in dump()


TESTING = {
    "lab": "山西省产品质量监督检验研究院",
    "sample": "涉诉电动车充电器一只",
    "basis": "GB 4943.1-2022 强制性国家标准",
    "items": ["温升"],
    "fee_fen": 150000,
    "payer": "business",
    "payment_timing": "出具报告前由被投诉人支付",
    "due_on": "2036-12-31",
}


def test_a_lab_reports_attachment_goes_with_its_filing_and_a_shared_file_stays(
    plant: Callable[..., None],
) -> None:
    plant()
    from service.app import create_app

    image = png_bytes(3, 3)
    with TestClient(create_app()) as client:
        tokens = [
            client.post(
                "/api/v1/attachments", files={"file": (f"{NAME}{i}.png", image, "image/png")}
            ).json()["id"]
            for i in range(3)
        ]
        filed = [
            client.post("/api/v1/complaints", json=valid_filing(attachments=[token])).json()
            for token in tokens[:2]
        ]
        run_worker_until_idle()
        tested, shared = (complaint_id(f["tracking_number"]) for f in filed)
        _act(client, tested, "accept")
        _act(client, tested, "start_mediation")
        _act(client, tested, "request_testing", TESTING)
        _act(
            client,
            tested,
            "record_test_report",
            {"outcome": "nonconforming", "summary": "温升超标", "attachment": tokens[2]},
        )
        _act(
            client, tested, "mediation_succeeded", {"agreement": "退货退款", "recovered_fen": 5000}
        )
        _act(client, tested, "close", {"summary": "调解成功"})
    _age([tested], days=1200)
    sha = hashlib.sha256(image).hexdigest()
    assert _purge() == PurgeReport(filings=1, identities=0, attachments=2)
    assert path_for(sha).exists()  # the same bytes are still attached to an open filing
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(ArbitrationTest)).one().report_attachment_id is None
        [left] = session.exec(select(Attachment)).all()
    assert left.complaint_id == shared
    with TestClient(create_app()) as client:
        _close_complaint(client, shared)
    _age([shared], days=1200)
    assert _purge() == PurgeReport(filings=1, identities=0, attachments=1)
    assert not path_for(sha).exists()


ELIGIBLE = {
    "natural_person": True,
    "regulator_staff_or_duty_to_report": False,
    "harmed_party_or_agent": False,
    "paid_to_report": False,
    "information_already_known": False,
}


def test_purge_erases_the_officers_free_text_in_the_reward_file_and_vault_reads(
    plant: Callable[..., None], database_url: str
) -> None:
    plant()
    with Session(get_engine()) as session:
        add_staff(session, "ro1", Role.reward_officer)
        add_staff(session, "ro2", Role.reward_officer)
    from service.app import create_app

    with TestClient(create_app()) as client:
        tip, _code = file_tip(client, reporter=REPORTER)
        run_worker_until_idle()
        _act(client, tip, "start_verification")
        _act(client, tip, "open_case", {"case_number": "并质监立字〔2026〕1号"})
        decision = {
            "decision_number": "并质监罚字〔2026〕1号",
            "penalty_fen": 20_000_000,
            "summary": "没收违法所得并罚款",
        }
        _act(client, tip, "decide", decision)
        ro1, ro2 = bearer(client, "ro1"), bearer(client, "ro2")

        def step(path: str, body: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
            answer = client.post(path, json=body, headers=who)
            assert answer.status_code in (200, 201), (path, answer.text)
            result: dict[str, Any] = answer.json()
            return result

        opened = step(
            "/api/v1/rewards", {"complaint_id": tip, "reporter": ELIGIBLE, "tier": "1"}, ro1
        )
        rid = opened["id"]
        amounts = f"/api/v1/rewards/{rid}/amounts"
        current = step(amounts, {"tier": "2", "reason": f"{NAME}补充了证据"}, ro2)
        aid = current["current_amount"]["id"]
        for who in (ro1, ro2):
            step(f"/api/v1/rewards/{rid}/approvals", {"amount_id": aid, "note": f"核实{NAME}"}, who)
        payment = {
            "amount_id": aid,
            "method": "bank_transfer",
            "reference": f"转账至{ACCOUNT}",
            "paid_on": reward_day().isoformat(),
            "finance_reference": f"财会签{NAME}",
        }
        paid = step(f"/api/v1/rewards/{rid}/payment", payment, ro1)
        step(f"/api/v1/vault/tipoffs/{tip}/identity", {"reason": f"核对{NAME}的账户{ACCOUNT}"}, ro1)
        _act(client, tip, "close", {"summary": "已作出处罚决定并发放奖励"})
        run_worker_until_idle()

    before = dump()
    for table in ("reward_amounts", "reward_approvals", "reward_payments", "reward_events"):
        assert any(NAME in line for line in before.splitlines() if line.startswith(table)), table
    assert any(ACCOUNT in line for line in before.splitlines() if line.startswith("audit_log"))
    _age([tip], days=800)
    _age_reward(rid, days=800)  # paid as long ago: the reward file is finished too
    assert _purge().filings == 1

    after = dump()
    assert _leaks(after) == [], [
        line for line in after.splitlines() if any(c in line for c in CANARIES)
    ]
    if database_url.startswith("sqlite"):
        assert _raw_leaks(database_url) == []
    # What was decided and paid, and who read the vault when, all stay.
    with TestClient(create_app()) as client:
        reward = client.get(f"/api/v1/rewards/{rid}", headers=bearer(client, "ro2")).json()
    assert reward["state"] == "paid"
    assert [(a["tier"], a["amount_fen"]) for a in reward["amounts"]] == [
        (a["tier"], a["amount_fen"]) for a in paid["amounts"]
    ]
    assert reward["amounts"][0]["supersede_reason"] == "［已按保存期限清除］"
    assert [a["note"] for a in reward["approvals"]] == [None, None]
    assert reward["payment"]["amount_fen"] == paid["payment"]["amount_fen"]
    assert reward["payment"]["reference"] == "［已按保存期限清除］"
    assert [e["action"] for e in reward["events"]] == [e["action"] for e in paid["events"]]
    assert all("reason" not in e["payload"] for e in reward["events"])
    with Session(get_engine(read_only=True)) as session:
        [read] = session.exec(select(AuditEntry).where(AuditEntry.action == "vault.read")).all()
    assert (read.complaint_id, read.username, read.detail["found"]) == (tip, "ro1", True)
    assert read.detail["reason"] == "［已按保存期限清除］"


def test_a_reward_still_being_worked_keeps_its_reporter_until_paid_and_past_the_period(
    plant: Callable[..., None],
) -> None:
    """A reward is paid to the person in the vault, and the reporter follows it with the
    receipt code: a closed tip-off whose reward file is open keeps both, and the period runs
    from the reward file's last step, not only from the tip-off's closing."""
    plant()
    with Session(get_engine()) as session:
        add_staff(session, "ro1", Role.reward_officer)
        add_staff(session, "ro2", Role.reward_officer)
    from service.app import create_app

    with TestClient(create_app()) as client:
        tip, code = file_tip(client, reporter=REPORTER)
        run_worker_until_idle()
        _act(client, tip, "start_verification")
        _act(client, tip, "open_case", {"case_number": "并质监立字〔2026〕2号"})
        _act(
            client,
            tip,
            "decide",
            {
                "decision_number": "并质监罚字〔2026〕2号",
                "penalty_fen": 20_000_000,
                "summary": "罚款",
            },
        )
        _act(client, tip, "close", {"summary": "已作出处罚决定"})
        ro1, ro2 = bearer(client, "ro1"), bearer(client, "ro2")
        opened = client.post(
            "/api/v1/rewards",
            json={"complaint_id": tip, "reporter": ELIGIBLE, "tier": "1"},
            headers=ro1,
        )
        assert opened.status_code == 201, opened.text
        rid, aid = opened.json()["id"], opened.json()["current_amount"]["id"]

    def still_there() -> bool:
        with Session(get_engine(read_only=True)) as session:
            return session.get(Complaint, tip).personal_data_purged_on is None  # type: ignore[union-attr]

    _age([tip], days=800)
    assert _purge().filings == 0  # proposed: the amount is not even approved yet
    assert still_there()
    with TestClient(create_app()) as client:
        follow = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
        assert follow.status_code == 200, follow.text
        for who in (ro1, ro2):
            answer = client.post(
                f"/api/v1/rewards/{rid}/approvals", json={"amount_id": aid}, headers=who
            )
            assert answer.status_code == 201, answer.text
        identity = client.post(
            f"/api/v1/vault/tipoffs/{tip}/identity", json={"reason": "核对收款账户"}, headers=ro1
        )
        assert identity.status_code == 200, identity.text
    assert _purge().filings == 0  # approved, not paid
    with TestClient(create_app()) as client:
        paid = client.post(
            f"/api/v1/rewards/{rid}/payment",
            json={
                "amount_id": aid,
                "method": "bank_transfer",
                "reference": "转账流水0001",
                "paid_on": reward_day().isoformat(),
                "finance_reference": "财会签0001",
            },
            headers=ro1,
        )
        assert paid.status_code == 201, paid.text
    assert _purge().filings == 0  # paid today: the period starts again from the payment
    assert still_there()
    _age_reward(rid, days=729)
    assert _purge().filings == 0
    _age_reward(rid, days=731)
    assert _purge().filings == 1
    assert not still_there()


def test_a_finished_filing_an_open_case_relies_on_keeps_its_data_until_that_case_ends(
    plant: Callable[..., None],
) -> None:
    """A duplicate merged into a filing still being handled is part of that filing's file,
    and a filing linked to an unfinished product-risk case is its evidence: neither is
    erased while the case they serve is open."""
    plant()
    from service.app import create_app

    kettle = {"gtin": "6901234567892", "name": "电热水壶", "batch": "B2026-11", "injury": True}
    with TestClient(create_app()) as client:
        filed = [
            client.post("/api/v1/complaints", json=valid_filing(text=OPEN_TEXT)),
            client.post("/api/v1/complaints", json=valid_filing(text=OPEN_TEXT + "又困人了。")),
            client.post(
                "/api/v1/complaints",
                json=valid_filing(
                    text="电热水壶底座漏电，孩子的手被烫伤了，要求赔偿。", product=kettle
                ),
            ),
            client.post("/api/v1/complaints", json=valid_filing(text=OPEN_TEXT + "第三次了。")),
        ]
        assert all(answer.status_code == 201 for answer in filed), [a.text for a in filed]
        survivor, duplicate, evidence, chained = (
            complaint_id(answer.json()["tracking_number"]) for answer in filed
        )
        run_worker_until_idle()
        # A chain: `chained` into `duplicate`, then `duplicate` into the open survivor.
        _act(client, chained, "merge", {"into": duplicate, "reason": "同一电梯"})
        _act(client, duplicate, "merge", {"into": survivor, "reason": "同一电梯"})
        _close_complaint(client, evidence)
    _age([duplicate, evidence, chained], days=1200)
    assert _purge().filings == 0
    assert _complaint(duplicate).text != PURGED_TEXT
    assert _complaint(chained).text != PURGED_TEXT
    assert _complaint(evidence).text != PURGED_TEXT
    with TestClient(create_app()) as client:
        _close_complaint(client, survivor)
        with Session(get_engine(read_only=True)) as session:
            case_id = session.exec(select(ProductRiskCase.id)).one()
        ended = client.post(
            f"/api/v1/product-risks/{case_id}/outcome",
            json={"outcome": "no_defect", "note": "抽检合格"},
            headers=bearer(client, "boss"),
        )
        assert ended.status_code == 200, ended.text
    _age([survivor], days=1200)
    assert _purge().filings == 4
