import pytest

from cases.policy import DEFAULT_POLICY, parse_policy
from core.errors import InvalidInput
from rewards.calculation import Reporter, Violation, compute_award, refusal_reasons

RULES = parse_policy(DEFAULT_POLICY).rewards
YUAN = 100  # fen


@pytest.mark.parametrize(
    ("tier", "fines_yuan", "confiscated_yuan", "award_yuan", "minimum", "capped"),
    [
        # 一级: 5 %, at least 5,000
        ("1", 60_000, 40_000, 5_000, False, False),  # exactly at the minimum: 100,000 × 5 %
        ("1", 50_000, 0, 5_000, True, False),  # below: the minimum
        ("1", 300_000, 100_000, 20_000, False, False),  # above
        # 二级: 3 %, at least 3,000
        ("2", 100_000, 0, 3_000, False, False),
        ("2", 80_000, 0, 3_000, True, False),
        ("2", 1_000_000, 0, 30_000, False, False),
        # 三级: 1 %, at least 1,000
        ("3", 100_000, 0, 1_000, False, False),
        ("3", 50_000, 10_000, 1_000, True, False),
        ("3", 2_500_000, 0, 25_000, False, False),
        # no fine at all: the tier minimum
        ("1", 0, 0, 5_000, True, False),
        ("3", 0, 0, 1_000, True, False),
        # the cap: 1,000,000 per case
        ("1", 30_000_000, 0, 1_000_000, False, True),
        ("1", 20_000_000, 0, 1_000_000, False, False),  # exactly at the cap
    ],
)
def test_award_per_tier_at_below_and_above_the_minimum(
    tier: str, fines_yuan: int, confiscated_yuan: int, award_yuan: int, minimum: bool, capped: bool
) -> None:
    award = compute_award(Violation(fines_yuan * YUAN, confiscated_yuan * YUAN), tier, RULES)
    assert award.amount_fen == award_yuan * YUAN
    assert (award.minimum_applied, award.capped) == (minimum, capped)
    assert award.explanation[-1] == f"奖励金额：{award_yuan:,.2f}元"


def test_share_is_exact_to_the_fen() -> None:
    award = compute_award(Violation(fines_fen=12_345_678, confiscation_fen=1), "3", RULES)
    assert award.share_fen == 123_457  # 1 % of 12,345,679 fen, half up
    assert award.amount_fen == 123_457


@pytest.mark.parametrize(
    ("fines_yuan", "finance"),
    [(9_999_999, False), (9_999_900, False), (10_000_000, True), (12_000_000, True)],
)
def test_awards_from_500_000_need_finance_sign_off(fines_yuan: int, finance: bool) -> None:
    award = compute_award(Violation(fines_yuan * YUAN, 0), "1", RULES)
    assert award.needs_finance_signoff is finance
    assert any("财政" in line for line in award.explanation) is finance


ELIGIBLE = Reporter(True, False, False, False, False)
MAJOR = Violation(fines_fen=200_000 * YUAN, confiscation_fen=0)


def test_an_eligible_reporter_of_a_major_violation_has_no_refusal_reason() -> None:
    assert refusal_reasons(ELIGIBLE, MAJOR, RULES) == []


@pytest.mark.parametrize(
    ("reporter", "reason"),
    [
        (Reporter(False, False, False, False, False), "自然人"),
        (Reporter(True, True, False, False, False), "工作人员"),
        (Reporter(True, False, True, False, False), "受害人"),
        (Reporter(True, False, False, True, False), "报酬"),
        (Reporter(True, False, False, False, True), "已掌握"),
    ],
)
def test_ineligible_reporters_are_refused_with_the_reason(reporter: Reporter, reason: str) -> None:
    reasons = refusal_reasons(reporter, MAJOR, RULES)
    assert len(reasons) == 1
    assert reason in reasons[0]


@pytest.mark.parametrize(
    ("violation", "major"),
    [
        (Violation(fines_fen=100_000 * YUAN, confiscation_fen=0), False),  # not over the threshold
        (Violation(fines_fen=100_001 * YUAN, confiscation_fen=0), True),
        (Violation(fines_fen=0, confiscation_fen=0, crime_transferred=True), True),
        (Violation(fines_fen=0, confiscation_fen=0, business_suspended=True), True),
        (Violation(fines_fen=0, confiscation_fen=0, licence_revoked=True), True),
    ],
)
def test_only_major_violations_are_rewarded(violation: Violation, major: bool) -> None:
    reasons = refusal_reasons(ELIGIBLE, violation, RULES)
    assert (reasons == []) is major


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput, match="tier"):
        compute_award(MAJOR, "4", RULES)
    with pytest.raises(InvalidInput, match="negative"):
        compute_award(Violation(fines_fen=-1, confiscation_fen=0), "1", RULES)
