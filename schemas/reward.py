"""Whistleblower protection and rewards: the sealed identity, receipt codes, the reward file.

Rows about a tip-off carry dates, never times of day (no metadata that could single out a
reporter). Identity exists only sealed (rewards.sealing); only the rewards package reads it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, LargeBinary, UniqueConstraint, event, inspect
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from schemas.event import APPEND_ONLY, HistoryIsAppendOnly


class ReporterIdentity(SQLModel, table=True):
    """A tip-off reporter's name, phone, ID number and bank account, sealed (AES-256-GCM)."""

    __tablename__ = "reporter_identities"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", unique=True)
    key_id: str = Field(max_length=40)
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_on: date


class TipReceipt(SQLModel, table=True):
    """A receipt code: a public locator plus a secret, kept only as an Argon2 hash."""

    __tablename__ = "tip_receipts"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", unique=True)
    locator: str = Field(max_length=12, unique=True)  # the code's first digits, to find the row
    code_hash: str = Field(max_length=200)
    issued_on: date


class Reward(SQLModel, table=True):
    """One reward file per tip-off: eligibility, the current amount, approvals, payment."""

    __tablename__ = "rewards"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", unique=True)
    # proposed | refused | approved | paid
    state: str = Field(max_length=20)
    opened_by_id: int = Field(foreign_key="staff_users.id")
    opened_on: date
    # What the officer answered about the reporter and the violation (rewards.calculation).
    eligibility: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    refusal_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The amount in force (reward_amounts.id; no foreign key, which would make a cycle).
    current_amount_id: int | None = None
    version: int = Field(default=1)


class RewardAmount(SQLModel, table=True):
    """A computed award. Never edited: a correction supersedes it, with a reason."""

    __tablename__ = "reward_amounts"

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = Field(foreign_key="rewards.id", index=True)
    tier: str = Field(max_length=4)
    fines_fen: int = Field(sa_type=BigInteger)
    confiscation_fen: int = Field(sa_type=BigInteger)
    basis_fen: int = Field(sa_type=BigInteger)
    share_fen: int = Field(sa_type=BigInteger)
    amount_fen: int = Field(sa_type=BigInteger)
    needs_finance_signoff: bool
    explanation: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_by_id: int = Field(foreign_key="staff_users.id")
    created_on: date
    superseded_by_id: int | None = Field(default=None, foreign_key="reward_amounts.id")
    supersede_reason: str | None = Field(default=None, max_length=500)


class RewardApproval(SQLModel, table=True):
    """One officer's approval of one amount; an officer approves an amount at most once."""

    __tablename__ = "reward_approvals"
    __table_args__ = (UniqueConstraint("amount_id", "officer_id", name="uq_reward_approval"),)

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = Field(foreign_key="rewards.id", index=True)
    amount_id: int = Field(foreign_key="reward_amounts.id")
    officer_id: int = Field(foreign_key="staff_users.id")
    approved_on: date
    note: str | None = Field(default=None, max_length=500)


class RewardPayment(SQLModel, table=True):
    """The payment of a reward's approved amount: once per reward."""

    __tablename__ = "reward_payments"

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = Field(foreign_key="rewards.id", unique=True)
    amount_id: int = Field(foreign_key="reward_amounts.id")
    amount_fen: int = Field(sa_type=BigInteger)
    method: str = Field(max_length=20)  # bank_transfer | cash | other
    reference: str = Field(max_length=100)
    paid_on: date
    finance_reference: str | None = Field(default=None, max_length=100)
    recorded_by_id: int = Field(foreign_key="staff_users.id")


class RewardEvent(SQLModel, table=True):
    """The reward file's history, append-only: every step, who took it, on which day."""

    __tablename__ = "reward_events"

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = Field(foreign_key="rewards.id", index=True)
    on: date
    actor: str = Field(max_length=80)
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    action: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# An approval binds to the amount it approved and a payment records what was paid: neither
# is ever changed or deleted (a new amount voids the approvals by no longer being theirs).
APPEND_ONLY.extend([RewardEvent, RewardApproval, RewardPayment])


class AmountIsFinal(HistoryIsAppendOnly):
    """Raised on any change of a RewardAmount but its one supersession, or on its deletion."""


# The one change an amount row takes: from "in force" to "superseded by that one, because".
_SUPERSESSION = frozenset({"superseded_by_id", "supersede_reason"})


@event.listens_for(Session, "before_flush")
def _refuse_amount_edits(session: Session, _context: object, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, RewardAmount):
            raise AmountIsFinal("a reward amount is never deleted: supersede it with a reason")
    for obj in session.dirty:
        if not isinstance(obj, RewardAmount) or not session.is_modified(obj):
            continue
        attrs = inspect(obj).attrs
        changed = {attr.key for attr in attrs if attr.history.has_changes()}
        if changed - _SUPERSESSION:
            raise AmountIsFinal(
                f"a reward amount is never edited ({', '.join(sorted(changed - _SUPERSESSION))}):"
                " supersede it with a new amount and a reason"
            )
        for name in changed:
            before = attrs[name].history.deleted
            # Unknown (not loaded) or already set: this would rewrite a supersession.
            if not before or any(value is not None for value in before):
                raise AmountIsFinal("a reward amount is superseded once, and that stays")
