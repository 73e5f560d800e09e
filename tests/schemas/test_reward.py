"""Reward amounts are never edited in place: superseded once, with a reason, and that stays.
Approvals and payments are never changed or deleted. Enforced at the ORM level."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from accounts.service import Staff
from core.db import get_engine
from rewards import workflow
from rewards.calculation import Reporter
from schemas.enums import Role
from schemas.event import HistoryIsAppendOnly
from schemas.reward import AmountIsFinal, RewardAmount, RewardApproval
from schemas.staff import StaffUser
from tests.helpers import add_staff
from tests.rewards.test_workflow import tip_off

ELIGIBLE = Reporter(
    natural_person=True,
    regulator_staff_or_duty_to_report=False,
    harmed_party_or_agent=False,
    paid_to_report=False,
    information_already_known=False,
)


def _staff(db: Session, username: str) -> Staff:
    user = db.exec(select(StaffUser).where(StaffUser.username == username)).one()
    assert user.id is not None
    return Staff(user.id, user.username, user.role, None, None)


def test_an_amount_is_superseded_once_and_never_edited_or_deleted(platform: str) -> None:
    with Session(get_engine(), expire_on_commit=False) as db:
        for name, role in (("ann", Role.reward_officer), ("boss", Role.supervisor)):
            add_staff(db, name, role)
        ann = _staff(db, "ann")
        cid = tip_off(db, _staff(db, "boss"), fines_yuan=2_000_000)
        reward = workflow.open_reward(db, staff=ann, complaint_id=cid, reporter=ELIGIBLE, tier="1")
        db.commit()
        assert reward.id is not None
        assert reward.current_amount_id is not None
        first_id = reward.current_amount_id

        amount = db.get(RewardAmount, first_id)
        assert amount is not None
        amount.amount_fen += 100
        with pytest.raises(AmountIsFinal, match="never edited"):
            db.flush()
        db.rollback()

        amount = db.get(RewardAmount, first_id)
        assert amount is not None
        amount.supersede_reason = "悄悄改个理由"  # a supersession needs its new amount too
        amount.explanation = []
        with pytest.raises(AmountIsFinal, match="explanation"):
            db.flush()
        db.rollback()

        db.delete(db.get(RewardAmount, first_id))
        with pytest.raises(AmountIsFinal, match="never deleted"):
            db.flush()
        db.rollback()

        # The one allowed change: superseded by a new amount, with a reason.
        workflow.supersede_amount(db, staff=ann, reward_id=reward.id, reason="复核为二级", tier="2")
        db.commit()
        old = db.get(RewardAmount, first_id)
        assert old is not None
        assert (old.superseded_by_id, old.supersede_reason) == (
            reward.current_amount_id,
            "复核为二级",
        )
        old.supersede_reason = "改写理由"
        with pytest.raises(AmountIsFinal, match="superseded once"):
            db.flush()
        db.rollback()
        db.expire_all()  # the reason is not loaded: an edit cannot tell it was unset
        old = db.get(RewardAmount, first_id)
        assert old is not None
        db.expire(old, ["superseded_by_id"])
        old.superseded_by_id = first_id
        with pytest.raises(AmountIsFinal, match="superseded once"):
            db.flush()
        db.rollback()

        workflow.approve_amount(
            db, staff=ann, reward_id=reward.id, amount_id=reward.current_amount_id, note="同意"
        )
        db.commit()
        approval = db.exec(select(RewardApproval)).one()
        approval.note = "改成别的意见"
        with pytest.raises(HistoryIsAppendOnly, match="never changed"):
            db.flush()
        db.rollback()
        db.delete(db.exec(select(RewardApproval)).one())
        with pytest.raises(HistoryIsAppendOnly, match="never deleted"):
            db.flush()
        db.rollback()

    with Session(get_engine(read_only=True)) as db:
        rows = db.exec(select(RewardAmount).order_by(RewardAmount.id)).all()  # type: ignore[arg-type]
        assert [(r.tier, r.supersede_reason) for r in rows] == [("1", "复核为二级"), ("2", None)]
        assert db.exec(select(RewardApproval.note)).all() == ["同意"]
