"""Whistleblower reward arithmetic (市场监管领域重大违法行为举报奖励暂行办法, 2021), in fen.

Exact decimal arithmetic: the share of fines and confiscations for the tier, never below the
tier's minimum (which is also the award when there is no fine), never above the cap; an
award at or over the finance threshold needs the finance department's joint sign-off. Every
number comes from the policy file, and every step is written out so that the officer, the
approvers and an auditor can check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cases.policy import Rewards
from core.errors import InvalidInput

TIER_NAMES = {"1": "一级", "2": "二级", "3": "三级"}


@dataclass(frozen=True)
class Reporter:
    """What eligibility depends on; each answered by the reward officer from the file."""

    natural_person: bool
    regulator_staff_or_duty_to_report: bool
    harmed_party_or_agent: bool
    paid_to_report: bool
    information_already_known: bool


@dataclass(frozen=True)
class Violation:
    fines_fen: int
    confiscation_fen: int
    crime_transferred: bool = False  # 移送司法机关
    business_suspended: bool = False  # 责令停产停业
    licence_revoked: bool = False  # 吊销许可证件


@dataclass(frozen=True)
class Award:
    amount_fen: int
    basis_fen: int  # fines plus confiscations
    share_fen: int  # the tier's share of the basis, before minimum and cap
    minimum_applied: bool
    capped: bool
    needs_finance_signoff: bool
    explanation: tuple[str, ...]


def yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}元"


def is_major(violation: Violation, rules: Rewards) -> bool:
    """A "major" violation: crime, suspension, licence revoked, or fines over the threshold."""
    return (
        violation.crime_transferred
        or violation.business_suspended
        or violation.licence_revoked
        or violation.fines_fen > rules.major_violation_fine_fen
    )


def refusal_reasons(reporter: Reporter, violation: Violation, rules: Rewards) -> list[str]:
    """Why this reporter gets no reward; empty when eligible."""
    reasons = []
    if not reporter.natural_person:
        reasons.append("只奖励自然人举报人")
    if reporter.regulator_staff_or_duty_to_report:
        reasons.append("市场监管部门工作人员或者负有举报职责的人员不予奖励")
    if reporter.harmed_party_or_agent:
        reasons.append("受害人及其委托代理人不予奖励")
    if reporter.paid_to_report:
        reasons.append("为获取报酬而举报的不予奖励")
    if reporter.information_already_known:
        reasons.append("举报前市场监管部门已掌握该线索")
    if not is_major(violation, rules):
        reasons.append(
            f"不属于重大违法行为（未移送司法、未责令停产停业或吊销许可，"
            f"罚款未超过{yuan(rules.major_violation_fine_fen)}）"
        )
    return reasons


def compute_award(violation: Violation, tier: str, rules: Rewards) -> Award:
    """The award for a tier, with each step of the computation written out."""
    if tier not in rules.tiers:
        raise InvalidInput(f"tier must be one of {', '.join(sorted(rules.tiers))}")
    if violation.fines_fen < 0 or violation.confiscation_fen < 0:
        raise InvalidInput("fines and confiscations cannot be negative")
    rule = rules.tiers[tier]
    basis = violation.fines_fen + violation.confiscation_fen
    share = int(
        (Decimal(basis) * Decimal(str(rule.share_percent)) / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )
    amount = max(share, rule.minimum_fen)
    capped = amount > rules.cap_fen
    amount = min(amount, rules.cap_fen)
    name = TIER_NAMES.get(tier, f"{tier}级")
    lines = [
        f"罚没款合计：罚款{yuan(violation.fines_fen)} + 没收{yuan(violation.confiscation_fen)}"
        f" = {yuan(basis)}",
        f"{name}奖励比例{rule.share_percent:g}%："
        f"{yuan(basis)} × {rule.share_percent:g}% = {yuan(share)}",
    ]
    if share < rule.minimum_fen:
        lines.append(f"低于{name}最低奖励{yuan(rule.minimum_fen)}，按最低额计")
    if capped:
        lines.append(f"超过单案奖励上限，按{yuan(rules.cap_fen)}计")
    needs_finance = amount >= rules.finance_signoff_from_fen
    if needs_finance:
        lines.append(f"奖励金额达到{yuan(rules.finance_signoff_from_fen)}，须会同财政部门审批")
    lines.append(f"奖励金额：{yuan(amount)}")
    return Award(
        amount_fen=amount,
        basis_fen=basis,
        share_fen=share,
        minimum_applied=share < rule.minimum_fen,
        capped=capped,
        needs_finance_signoff=needs_finance,
        explanation=tuple(lines),
    )
