"""The reward workflow on a real tip-off: routed, verified, case opened, decided, rewarded."""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from accounts.service import Staff, create_user
from cases.actions import perform
from cases.lifecycle import CITIZEN
from core.db import get_engine
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PlatformError
from intake.service import FilingDraft, create_filing
from notify.templates import render
from rewards import repository, workflow
from rewards.calculation import Reporter
from rewards.desk import desk as desk_page
from rewards.desk import reward_file
from rewards.states import today
from routing.tasks import route_complaint
from schemas.enums import Channel, Kind, Role
from schemas.reward import Reward, RewardAmount, RewardApproval, RewardPayment
from tests.helpers import PASSWORD

YUAN = 100  # fen
ELIGIBLE = Reporter(
    natural_person=True,
    regulator_staff_or_duty_to_report=False,
    harmed_party_or_agent=False,
    paid_to_report=False,
    information_already_known=False,
)
TIP_TEXT = "举报某某厂生产的电动车充电器没有3C认证，存在起火隐患，请依法查处。"


@dataclass
class Desk:
    db: Session
    ann: Staff  # reward officers
    bob: Staff
    cat: Staff
    boss: Staff  # a supervisor: works the tip-off, but not the reward
    others: list[Staff]  # every role but reward_officer


def _staff(db: Session, username: str, role: Role, department: str | None = None) -> Staff:
    user = create_user(
        db, username=username, password=PASSWORD, role=role, department_code=department
    )
    assert user.id is not None
    return Staff(user.id, username, role, user.department_id, department)


@pytest.fixture
def desk(platform: str) -> Iterator[Desk]:
    with Session(get_engine(), expire_on_commit=False) as db:
        ann, bob, cat = (_staff(db, name, Role.reward_officer) for name in ("ann", "bob", "cat"))
        boss = _staff(db, "boss", Role.supervisor)
        others = [
            boss,
            _staff(db, "root", Role.admin),
            _staff(db, "op", Role.operator),
            _staff(db, "zj", Role.department, "quality"),
        ]
        db.commit()
        yield Desk(db, ann, bob, cat, boss, others)


@pytest.fixture
def texts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for rewards.vault.notify_reporter: records the reward texts it is asked for."""
    sent: list[dict[str, Any]] = []

    def notify_reporter(
        session: Session, *, complaint: Any, template: str, params: dict[str, str]
    ) -> bool:
        if template == "reward_paid":  # the tip-off's own steps text the reporter too
            sent.append({"complaint_id": complaint.id, "template": template, "params": params})
        return True

    vault = types.ModuleType("rewards.vault")
    vault.notify_reporter = notify_reporter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rewards.vault", vault)
    return sent


def decided_tip(
    desk: Desk, *, fines_yuan: float, confiscation_yuan: float = 0, **flags: bool
) -> int:
    return tip_off(
        desk.db, desk.boss, fines_yuan=fines_yuan, confiscation_yuan=confiscation_yuan, **flags
    )


def tip_off(
    db: Session, boss: Staff, *, fines_yuan: float, confiscation_yuan: float = 0, **flags: bool
) -> int:
    """An anonymous tip-off routed by the router, then verified, opened and decided."""
    complaint = create_filing(
        db,
        draft=FilingDraft(
            kind=Kind.tip, text=TIP_TEXT, business_name="太原市某某电器厂", region="太原市小店区"
        ),
        channel=Channel.web,
        actor=CITIZEN,
    )
    db.commit()
    assert complaint.id is not None
    assert route_complaint(complaint.id).startswith("routed:")
    db.expire_all()  # the router wrote in its own session
    decision = {
        "decision_number": f"并质监罚字〔2026〕{complaint.id}号",
        "penalty_fen": round(fines_yuan * YUAN),
        "confiscation_fen": round(confiscation_yuan * YUAN),
        "summary": "没收违法所得并罚款",
        **flags,
    }
    for action, body in (
        ("start_verification", {}),
        ("open_case", {"case_number": f"并质监立字〔2026〕{complaint.id}号"}),
        ("decide", decision),
    ):
        perform(db, staff=boss, complaint_id=complaint.id, action=action, body=body)
        db.commit()
    return complaint.id


@contextmanager
def refused(db: Session, error: type[PlatformError], match: str) -> Iterator[None]:
    """The call fails with `error`; the transaction is rolled back as a request's would be."""
    with pytest.raises(error, match=match):
        yield
    db.rollback()


def _open(desk: Desk, cid: int, tier: str = "1", reporter: Reporter = ELIGIBLE) -> Reward:
    reward = workflow.open_reward(
        desk.db, staff=desk.ann, complaint_id=cid, reporter=reporter, tier=tier
    )
    desk.db.commit()
    return reward


def _approve(desk: Desk, reward: Reward, officer: Staff) -> Reward:
    assert reward.id is not None
    assert reward.current_amount_id is not None
    workflow.approve_amount(
        desk.db, staff=officer, reward_id=reward.id, amount_id=reward.current_amount_id
    )
    desk.db.commit()
    return reward


def _pay(desk: Desk, reward: Reward, **changes: Any) -> Reward:
    assert reward.id is not None
    assert reward.current_amount_id is not None
    fields: dict[str, Any] = {
        "amount_id": reward.current_amount_id,
        "method": "bank_transfer",
        "reference": "银行回单 2026-0001",
        "paid_on": today(),
    }
    workflow.record_payment(
        desk.db, staff=changes.pop("staff", desk.cat), reward_id=reward.id, **(fields | changes)
    )
    desk.db.commit()
    return reward


def _current(desk: Desk, reward: Reward) -> RewardAmount:
    amount = desk.db.get(RewardAmount, reward.current_amount_id)
    assert amount is not None
    return amount


def _actions(desk: Desk, reward: Reward) -> list[str]:
    assert reward.id is not None
    return [event.action for event in repository.events(desk.db, reward.id)]


# tier, fines and confiscation (yuan), what makes it major, award (fen), minimum, capped, finance
ARITHMETIC: list[tuple[str, float, float, dict[str, bool], int, bool, bool, bool]] = [
    # 一级: 5 %, at least 5,000 yuan
    ("1", 60_000, 40_000, {"business_suspended": True}, 500_000, False, False, False),  # at
    ("1", 50_000, 0, {"licence_revoked": True}, 500_000, True, False, False),  # below
    ("1", 300_000, 100_000, {}, 2_000_000, False, False, False),  # above
    # 二级: 3 %, at least 3,000 yuan
    ("2", 100_000, 0, {"crime_transferred": True}, 300_000, False, False, False),
    ("2", 80_000, 0, {"crime_transferred": True}, 300_000, True, False, False),
    ("2", 1_000_000, 0, {}, 3_000_000, False, False, False),
    # 三级: 1 %, at least 1,000 yuan
    ("3", 100_000, 0, {"business_suspended": True}, 100_000, False, False, False),
    ("3", 50_000, 10_000, {"licence_revoked": True}, 100_000, True, False, False),
    ("3", 2_500_000, 0, {}, 2_500_000, False, False, False),
    ("3", 123_456.78, 0.01, {}, 123_457, False, False, False),  # exact to the fen, half up
    # no fine at all: the tier minimum
    ("1", 0, 0, {"crime_transferred": True}, 500_000, True, False, False),
    ("3", 0, 0, {"licence_revoked": True}, 100_000, True, False, False),
    # the finance threshold: 500,000 yuan and more
    ("1", 9_999_999, 0, {}, 49_999_995, False, False, False),
    ("1", 10_000_000, 0, {}, 50_000_000, False, False, True),
    # the cap: 1,000,000 yuan per case
    ("1", 20_000_000, 0, {}, 100_000_000, False, False, True),  # exactly at the cap
    ("1", 21_000_000, 0, {}, 100_000_000, False, True, True),  # 1,050,000 capped
]


def test_award_arithmetic_end_to_end_through_the_workflow(desk: Desk) -> None:
    for case in ARITHMETIC:
        tier, fines, confiscation, flags, award, minimum, capped, finance = case
        cid = decided_tip(desk, fines_yuan=fines, confiscation_yuan=confiscation, **flags)
        reward = _open(desk, cid, tier)
        amount = _current(desk, reward)
        assert reward.state == "proposed", case
        assert (amount.tier, amount.amount_fen, amount.needs_finance_signoff) == (
            tier,
            award,
            finance,
        ), case
        assert (amount.fines_fen, amount.confiscation_fen) == (
            round(fines * YUAN),
            round(confiscation * YUAN),
        ), case
        assert amount.explanation[-1] == f"奖励金额：{award / YUAN:,.2f}元", case
        assert any("最低奖励" in line for line in amount.explanation) is minimum, case
        assert any("上限" in line for line in amount.explanation) is capped, case
        assert any("财政" in line for line in amount.explanation) is finance, case
    listed = desk_page(desk.db, staff=desk.ann, state="proposed", after=None, limit=200)
    assert [item.amount_fen for item in listed.data] == [case[4] for case in ARITHMETIC]


# who reports, the fine (yuan), the reason given
INELIGIBLE = [
    (replace(ELIGIBLE, natural_person=False), 200_000, "只奖励自然人"),
    (replace(ELIGIBLE, regulator_staff_or_duty_to_report=True), 200_000, "负有举报职责"),
    (replace(ELIGIBLE, harmed_party_or_agent=True), 200_000, "受害人"),
    (replace(ELIGIBLE, paid_to_report=True), 200_000, "为获取报酬"),
    (replace(ELIGIBLE, information_already_known=True), 200_000, "已掌握"),
    (ELIGIBLE, 100_000, "不属于重大违法行为"),  # not over the threshold, nothing else major
]


def test_ineligible_reporters_are_refused_with_the_reason(desk: Desk) -> None:
    for reporter, fines, reason in INELIGIBLE:
        cid = decided_tip(desk, fines_yuan=fines)
        reward = _open(desk, cid, "1", reporter)
        assert reward.state == "refused"
        [stored] = reward.refusal_reasons
        assert reason in stored
        assert reward.current_amount_id is None
        assert _actions(desk, reward) == ["opened", "refused"]
        assert repository.events(desk.db, reward.id or 0)[-1].payload["reasons"] == [stored]
        assert workflow.reporter_view(desk.db, cid) == {
            "state": "refused",
            "label": "不予奖励",
            "reasons": [stored],
            "amount_fen": None,
            "amount_yuan": None,
            "paid_on": None,
        }
        assert reward.id is not None
        with refused(desk.db, Conflict, "refused reward"):
            workflow.supersede_amount(
                desk.db, staff=desk.ann, reward_id=reward.id, reason="更正", tier="2"
            )
        with refused(desk.db, Conflict, "refused reward cannot be approved"):
            workflow.approve_amount(desk.db, staff=desk.bob, reward_id=reward.id, amount_id=1)
        with refused(desk.db, Conflict, "refused reward cannot be paid"):
            workflow.record_payment(
                desk.db,
                staff=desk.bob,
                reward_id=reward.id,
                amount_id=1,
                method="cash",
                reference="收据",
                paid_on=today(),
            )
    assert desk.db.exec(select(RewardAmount)).all() == []


def test_a_reward_needs_a_decided_tip_off_and_there_is_one_per_tip_off(desk: Desk) -> None:
    db = desk.db
    complaint = create_filing(
        db,
        draft=FilingDraft(kind=Kind.tip, text=TIP_TEXT, business_name="太原市某某电器厂"),
        channel=Channel.web,
        actor=CITIZEN,
    )
    db.commit()
    assert complaint.id is not None
    with refused(db, Conflict, "no decision yet"):
        workflow.open_reward(
            db, staff=desk.ann, complaint_id=complaint.id, reporter=ELIGIBLE, tier="1"
        )
    with refused(db, NotFound, "no such filing"):
        workflow.open_reward(db, staff=desk.ann, complaint_id=10**9, reporter=ELIGIBLE, tier="1")
    cid = decided_tip(desk, fines_yuan=200_000)
    with refused(db, InvalidInput, "tier must be one of 1, 2, 3"):
        workflow.open_reward(db, staff=desk.ann, complaint_id=cid, reporter=ELIGIBLE, tier="4")
    first = _open(desk, cid)
    with refused(db, Conflict, "already has a reward file"):
        workflow.open_reward(db, staff=desk.bob, complaint_id=cid, reporter=ELIGIBLE, tier="2")
    assert db.exec(select(Reward)).all() == [first]


def test_a_closed_tip_off_keeps_its_decision_and_can_be_rewarded(desk: Desk) -> None:
    cid = decided_tip(desk, fines_yuan=200_000)
    perform(desk.db, staff=desk.boss, complaint_id=cid, action="close", body={"summary": "已处罚"})
    desk.db.commit()
    assert _open(desk, cid).state == "proposed"


def test_one_officer_cannot_approve_the_same_amount_twice(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    reward = _approve(desk, _open(desk, decided_tip(desk, fines_yuan=200_000)), desk.ann)
    assert reward.id is not None
    assert reward.current_amount_id is not None
    with refused(desk.db, Conflict, "already approved this amount"):
        _approve(desk, reward, desk.ann)
    # Two requests of one officer racing past the check: the unique constraint stops the second.
    monkeypatch.setattr(repository, "approvers_of", lambda _session, _amount_id: set())
    with refused(desk.db, Conflict, "already approved this amount"):
        _approve(desk, reward, desk.ann)
    monkeypatch.undo()
    assert desk.db.get(Reward, reward.id).state == "proposed"  # type: ignore[union-attr]
    assert len(desk.db.exec(select(RewardApproval)).all()) == 1
    assert _approve(desk, reward, desk.bob).state == "approved"
    with refused(desk.db, Conflict, "already approved"):
        _approve(desk, reward, desk.cat)


def test_a_payment_without_two_approvals_by_different_officers_is_refused(
    desk: Desk, texts: list[dict[str, Any]]
) -> None:
    reward = _open(desk, decided_tip(desk, fines_yuan=200_000))
    with refused(desk.db, Conflict, "needs 2 approvals .* it has 0"):
        _pay(desk, reward)
    _approve(desk, reward, desk.ann)
    with refused(desk.db, Conflict, "needs 2 approvals .* it has 1"):
        _pay(desk, reward)
    assert desk.db.exec(select(RewardPayment)).all() == []
    assert texts == []
    _approve(desk, reward, desk.bob)
    with refused(desk.db, InvalidInput, "in the future"):
        _pay(desk, reward, paid_on=today() + timedelta(days=1))
    with refused(desk.db, InvalidInput, "before the amount was approved"):
        _pay(desk, reward, paid_on=today() - timedelta(days=1))
    with refused(desk.db, InvalidInput, "method must be one of"):
        _pay(desk, reward, method="wechat")
    with refused(desk.db, Conflict, "not the reward's current amount"):
        _pay(desk, reward, amount_id=(reward.current_amount_id or 0) + 1000)
    assert _pay(desk, reward).state == "paid"
    with refused(desk.db, Conflict, "paid reward cannot be paid"):
        _pay(desk, reward)


def test_a_payment_over_the_finance_threshold_needs_the_finance_reference(
    desk: Desk, texts: list[dict[str, Any]]
) -> None:
    reward = _open(desk, decided_tip(desk, fines_yuan=12_000_000))
    assert _current(desk, reward).needs_finance_signoff
    _approve(desk, _approve(desk, reward, desk.ann), desk.bob)
    for missing in (None, "   "):
        with refused(desk.db, InvalidInput, "joint sign-off: give finance_reference"):
            _pay(desk, reward, finance_reference=missing)
    _pay(desk, reward, finance_reference="并财行〔2026〕12号")
    paid = desk.db.exec(select(RewardPayment)).one()
    assert (paid.amount_fen, paid.finance_reference) == (60_000_000, "并财行〔2026〕12号")
    assert texts[0]["params"] == {"amount": "600,000.00元"}


def test_below_the_threshold_no_finance_reference_is_needed(
    desk: Desk, texts: list[dict[str, Any]]
) -> None:
    reward = _open(desk, decided_tip(desk, fines_yuan=9_999_999))
    _pay(desk, _approve(desk, _approve(desk, reward, desk.ann), desk.bob))
    assert desk.db.exec(select(RewardPayment)).one().finance_reference is None


def test_superseding_keeps_the_old_amount_with_its_reason_and_voids_its_approvals(
    desk: Desk,
) -> None:
    reward = _open(desk, decided_tip(desk, fines_yuan=400_000), tier="2")
    assert reward.id is not None
    first = _current(desk, reward)
    _approve(desk, _approve(desk, reward, desk.ann), desk.bob)
    assert reward.state == "approved"
    with refused(desk.db, InvalidInput, "at least 2 characters"):
        workflow.supersede_amount(
            desk.db, staff=desk.cat, reward_id=reward.id, reason=" x ", tier="1"
        )
    with refused(desk.db, InvalidInput, "nothing changes"):
        workflow.supersede_amount(
            desk.db, staff=desk.cat, reward_id=reward.id, reason="复核", tier="2"
        )
    with refused(desk.db, Conflict, "不属于重大违法行为"):
        workflow.supersede_amount(
            desk.db, staff=desk.cat, reward_id=reward.id, reason="罚款录入有误", fines_fen=100
        )
    workflow.supersede_amount(
        desk.db,
        staff=desk.cat,
        reward_id=reward.id,
        reason="复核认定为一级，并更正没收金额",
        tier="1",
        confiscation_fen=100_000 * YUAN,
    )
    desk.db.commit()
    second = _current(desk, reward)
    desk.db.refresh(first)
    assert (first.superseded_by_id, first.supersede_reason) == (
        second.id,
        "复核认定为一级，并更正没收金额",
    )
    assert (first.amount_fen, first.tier) == (1_200_000, "2")  # never edited: 3 % of 400,000
    assert (second.amount_fen, second.tier, second.fines_fen) == (2_500_000, "1", 40_000_000)
    assert reward.state == "proposed"
    assert reward.version == 4  # opened, approved twice, superseded
    # The old amount's two approvals no longer count: payment is refused, ann may approve anew.
    with refused(desk.db, Conflict, "it has 0"):
        _pay(desk, reward)
    assert _approve(desk, reward, desk.ann).state == "proposed"
    assert _approve(desk, reward, desk.bob).state == "approved"
    file = reward_file(desk.db, staff=desk.ann, reward_id=reward.id)
    assert [(a.id, a.current, a.supersede_reason) for a in file.amounts] == [
        (first.id, False, "复核认定为一级，并更正没收金额"),
        (second.id, True, None),
    ]
    assert file.amounts[0].explanation[-1] == "奖励金额：12,000.00元"
    assert [(a.amount_id, a.officer) for a in file.approvals] == [
        (first.id, "ann"),
        (first.id, "bob"),
        (second.id, "ann"),
        (second.id, "bob"),
    ]
    assert file.approvals_needed == 0
    superseded = next(e for e in file.events if e.action == "amount_superseded")
    assert superseded.payload["approvals_voided"] == 2
    assert superseded.payload["old_amount_id"] == first.id


def test_nothing_changes_once_paid(desk: Desk, texts: list[dict[str, Any]]) -> None:
    reward = _pay(
        desk,
        _approve(
            desk,
            _approve(desk, _open(desk, decided_tip(desk, fines_yuan=200_000)), desk.ann),
            desk.bob,
        ),
    )
    assert reward.id is not None
    with refused(desk.db, Conflict, "paid reward's amount cannot change"):
        workflow.supersede_amount(
            desk.db, staff=desk.ann, reward_id=reward.id, reason="更正", tier="3"
        )
    with refused(desk.db, Conflict, "paid reward cannot be approved"):
        _approve(desk, reward, desk.cat)


def test_only_reward_officers_may_work_on_rewards(desk: Desk) -> None:
    cid = decided_tip(desk, fines_yuan=200_000)
    reward = _open(desk, cid)
    assert reward.id is not None
    assert reward.current_amount_id is not None
    rid, aid, db = reward.id, reward.current_amount_id, desk.db
    calls: dict[str, Callable[[Staff], object]] = {
        "open": lambda s: workflow.open_reward(
            db, staff=s, complaint_id=cid, reporter=ELIGIBLE, tier="1"
        ),
        "supersede": lambda s: workflow.supersede_amount(
            db, staff=s, reward_id=rid, reason="更正", tier="2"
        ),
        "approve": lambda s: workflow.approve_amount(db, staff=s, reward_id=rid, amount_id=aid),
        "pay": lambda s: workflow.record_payment(
            db,
            staff=s,
            reward_id=rid,
            amount_id=aid,
            method="cash",
            reference="收据1",
            paid_on=today(),
        ),
        "desk": lambda s: desk_page(db, staff=s, state=None, after=None, limit=10),
        "file": lambda s: reward_file(db, staff=s, reward_id=rid),
    }
    for call in calls.values():
        for staff in desk.others:  # supervisor, admin, operator, department
            with refused(db, PermissionDenied, "only reward officers"):
                call(staff)
    assert (reward.version, len(repository.events(db, rid))) == (1, 1)


def test_the_history_has_every_step_and_the_reporter_is_told(
    desk: Desk, texts: list[dict[str, Any]]
) -> None:
    cid = decided_tip(desk, fines_yuan=300_000, confiscation_yuan=20_000)
    reward = _open(desk, cid, tier="3")
    assert reward.id is not None
    assert workflow.reporter_view(desk.db, cid) == {
        "state": "proposed",
        "label": "奖励审核中",
        "reasons": [],
        "amount_fen": None,
        "amount_yuan": None,
        "paid_on": None,
    }
    _approve(desk, reward, desk.ann)
    workflow.supersede_amount(
        desk.db, staff=desk.bob, reward_id=reward.id, reason="升为二级", tier="2"
    )
    desk.db.commit()
    _approve(desk, _approve(desk, reward, desk.ann), desk.bob)
    assert workflow.reporter_view(desk.db, cid)["label"] == "奖励审核中"  # type: ignore[index]
    _pay(desk, reward, method="cash", reference="收据 0001")

    events = repository.events(desk.db, reward.id)
    assert [(e.action, e.actor) for e in events] == [
        ("opened", "staff:ann"),
        ("approved", "staff:ann"),
        ("amount_superseded", "staff:bob"),
        ("approved", "staff:ann"),
        ("approved", "staff:bob"),
        ("paid", "staff:cat"),
        ("reporter_notified", "system:rewards"),
    ]
    assert {e.on for e in events} == {today()}  # days only, never a time of day
    assert events[0].payload["eligibility"]["reporter"]["natural_person"] is True
    assert events[0].payload["amount_fen"] == 320_000  # 1 % of 320,000 yuan, in fen
    assert [e.payload.get("to_state") for e in events[1:6]] == [
        "proposed",
        "proposed",
        "proposed",
        "approved",
        "paid",
    ]
    assert events[5].payload["amount_fen"] == 960_000  # 3 % of 320,000 yuan, in fen
    assert events[-1].payload == {"sms": True}
    assert texts == [
        {"complaint_id": cid, "template": "reward_paid", "params": {"amount": "9,600.00元"}}
    ]
    assert render("reward_paid", texts[0]["params"]).startswith(
        "【12315】您的举报奖励9,600.00元已发放"
    )
    view = workflow.reporter_view(desk.db, cid)
    assert view == {
        "state": "paid",
        "label": "奖励已发放",
        "reasons": [],
        "amount_fen": 960_000,
        "amount_yuan": "9,600.00元",
        "paid_on": today().isoformat(),
    }
    assert not {"ann", "bob", "cat", "收据"} & set(str(view))


def test_the_reward_history_is_append_only(desk: Desk) -> None:
    from schemas.event import HistoryIsAppendOnly

    reward = _open(desk, decided_tip(desk, fines_yuan=300_000))
    assert reward.id is not None
    event = repository.events(desk.db, reward.id)[0]
    event.action = "rewritten"
    desk.db.add(event)
    with pytest.raises(HistoryIsAppendOnly, match="never changed"):
        desk.db.flush()
    desk.db.rollback()
    desk.db.delete(repository.events(desk.db, reward.id)[0])
    with pytest.raises(HistoryIsAppendOnly, match="never deleted"):
        desk.db.flush()
    desk.db.rollback()


def test_fines_beyond_32_bits_are_kept_exactly(desk: Desk) -> None:
    # 30 million yuan: 3,000,000,000 fen, more than a 32-bit column holds.
    reward = _open(desk, decided_tip(desk, fines_yuan=30_000_000), tier="1")
    amount = desk.db.get(RewardAmount, reward.current_amount_id)
    assert amount is not None
    assert (amount.fines_fen, amount.amount_fen) == (3_000_000_000, 100_000_000)  # the cap


def test_a_failed_text_does_not_undo_the_payment(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> bool:
        raise RuntimeError("vault key missing")

    reward = _open(desk, decided_tip(desk, fines_yuan=200_000))
    _approve(desk, _approve(desk, reward, desk.ann), desk.bob)
    vault = types.ModuleType("rewards.vault")
    vault.notify_reporter = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rewards.vault", vault)
    _pay(desk, reward)
    assert desk.db.get(Reward, reward.id).state == "paid"  # type: ignore[union-attr]
    last = repository.events(desk.db, reward.id or 0)[-1]
    assert (last.action, last.payload) == (
        "reporter_notified",
        {"sms": False, "error": "RuntimeError"},
    )


def test_an_anonymous_reporter_is_not_texted_and_the_payment_stands(desk: Desk) -> None:
    reward = _open(desk, decided_tip(desk, fines_yuan=200_000))  # the real vault: no phone
    _pay(desk, _approve(desk, _approve(desk, reward, desk.ann), desk.bob))
    last = repository.events(desk.db, reward.id or 0)[-1]
    assert (reward.state, last.action, last.payload) == (
        "paid",
        "reporter_notified",
        {"sms": False},
    )


def test_a_stale_reward_loses_the_compare_and_set(desk: Desk) -> None:
    reward = _open(desk, decided_tip(desk, fines_yuan=200_000))
    assert reward.id is not None
    assert reward.current_amount_id is not None
    with Session(get_engine(), expire_on_commit=False) as other:
        stale = other.get(Reward, reward.id)
        other.commit()  # keeps the object as read, and lets go of SQLite's write lock
        _approve(desk, reward, desk.ann)
        with pytest.raises(Conflict, match="changed by someone else"):
            workflow.approve_amount(
                other, staff=desk.bob, reward_id=reward.id, amount_id=reward.current_amount_id
            )
        other.rollback()
        assert stale is not None
        assert stale.version == 2  # reloaded after losing
    assert len(desk.db.exec(select(RewardApproval)).all()) == 1


def test_the_desk_lists_decided_tip_offs_with_and_without_a_reward(desk: Desk) -> None:
    without = decided_tip(desk, fines_yuan=150_000, confiscation_yuan=5_000)
    rewarded = decided_tip(desk, fines_yuan=200_000)
    _open(desk, rewarded)
    undecided = create_filing(
        desk.db,
        draft=FilingDraft(kind=Kind.tip, text=TIP_TEXT, business_name="某厂"),
        channel=Channel.web,
        actor=CITIZEN,
    )
    desk.db.commit()
    everything = desk_page(desk.db, staff=desk.ann, state=None, after=None, limit=50)
    assert [(i.complaint_id, i.reward_state) for i in everything.data] == [
        (without, None),
        (rewarded, "proposed"),
    ]
    assert undecided.id not in {i.complaint_id for i in everything.data}
    first = everything.data[0]
    assert (first.penalty_yuan, first.confiscation_yuan, first.amount_fen) == (
        "150,000.00元",
        "5,000.00元",
        None,
    )
    assert first.decided_on == today()
    none = desk_page(desk.db, staff=desk.ann, state="none", after=None, limit=50)
    assert [i.complaint_id for i in none.data] == [without]
    page = desk_page(desk.db, staff=desk.ann, state=None, after=None, limit=1)
    assert page.next_after == without
    rest = desk_page(desk.db, staff=desk.ann, state=None, after=page.next_after, limit=1)
    assert [i.complaint_id for i in rest.data] == [rewarded]


def test_the_reward_file_names_no_reporter(desk: Desk, texts: list[dict[str, Any]]) -> None:
    db = desk.db
    complaint = create_filing(
        db,
        draft=FilingDraft(
            kind=Kind.tip,
            text=TIP_TEXT + "举报人王小明，身份证号码略。",
            contact_phone="13812345678",
            business_name="太原市某某电器厂",
            region="太原市小店区",
        ),
        channel=Channel.web,
        actor=CITIZEN,
    )
    db.commit()
    assert complaint.id is not None
    assert route_complaint(complaint.id).startswith("routed:")
    db.expire_all()
    for action, body in (
        ("start_verification", {}),
        ("open_case", {"case_number": "并质监立字〔2026〕1号"}),
        ("decide", {"decision_number": "罚字1号", "penalty_fen": 20_000_000, "summary": "罚款"}),
    ):
        perform(db, staff=desk.boss, complaint_id=complaint.id, action=action, body=body)
        db.commit()
    reward = _pay(
        desk, _approve(desk, _approve(desk, _open(desk, complaint.id), desk.ann), desk.bob)
    )
    assert reward.id is not None
    shown = reward_file(db, staff=desk.ann, reward_id=reward.id).model_dump_json()
    shown += desk_page(db, staff=desk.ann, state=None, after=None, limit=10).model_dump_json()
    assert "13812345678" not in shown
    assert "王小明" not in shown


def test_reporter_view_of_a_tip_off_without_a_reward_is_none(desk: Desk) -> None:
    assert workflow.reporter_view(desk.db, decided_tip(desk, fines_yuan=200_000)) is None


def test_one_function_writes_the_history_and_one_sets_the_state() -> None:
    """A structural guard over the desk's modules: RewardEvent rows and `.state`/`.version`."""
    root = Path(__file__).parents[2] / "rewards"
    for name in ("states.py", "workflow.py", "desk.py", "api.py", "repository.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "RewardEvent":
                assert name == "states.py", node.lineno
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                assert not any(
                    isinstance(t, ast.Attribute) and t.attr in {"state", "version"} for t in targets
                ), f"{name}:{node.lineno}"
    assert (root / "states.py").read_text(encoding="utf-8").count("RewardEvent(") == 1
