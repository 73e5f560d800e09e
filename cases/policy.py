"""The policy file: time limits, reason codes, thresholds and reward rules, checked at start-up."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from core.datafile import read_yaml_model
from core.settings import get_settings

DEFAULT_POLICY = Path(__file__).parent / "policies" / "default.yaml"
SUPPORTED_SCHEMA = 1
Days = Annotated[int, Field(ge=1, le=3650)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    accept_decision_working_days: Days
    mediation_working_days: Days
    mediation_end_notice_working_days: Days
    violation_check_working_days: Days
    violation_check_extension_working_days: Days
    tip_verification_working_days: Days
    tip_verification_extension_working_days: Days
    reporter_notice_working_days: Days
    case_decision_days: Days
    case_decision_extension_days: Days
    odr_working_days: Days
    inquiry_answer_working_days: Days
    test_report_objection_days: Days
    satisfaction_window_days: Days


class EarlyWarning(_Strict):
    working_days_before: Annotated[int, Field(ge=0, le=60)]


class RewardTier(_Strict):
    share_percent: Annotated[float, Field(gt=0, le=100)]
    minimum_fen: Annotated[int, Field(ge=0)]


class Rewards(_Strict):
    tiers: dict[Annotated[str, StringConstraints(pattern=r"^[1-9]$")], RewardTier]
    cap_fen: Annotated[int, Field(gt=0)]
    finance_signoff_from_fen: Annotated[int, Field(gt=0)]
    major_violation_fine_fen: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _tiers_present(self) -> Rewards:
        if not self.tiers:
            raise ValueError("at least one reward tier")
        return self


class Retention(_Strict):
    """How long personal data of a finished filing is kept (PIPL: no longer than needed)."""

    closed_tip_days: Annotated[int, Field(ge=1)] = 730
    closed_filing_days: Annotated[int, Field(ge=1)] = 1095
    unlinked_sms_days: Annotated[int, Field(ge=1)] = 30  # texts that filed nothing


class CalendarExtras(_Strict):
    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarExtras:
        both = set(self.extra_holidays) & set(self.extra_workdays)
        if both:
            raise ValueError(f"a day cannot be both a holiday and a workday: {sorted(both)}")
        return self


Rate = Annotated[float, Field(ge=0, le=1)]
Subject = Literal["business", "sector", "place"]
Count = Annotated[int, Field(ge=1)]


class Surges(_Strict):
    """Risk early warning (insights.surges): a one-sided Poisson test of the latest window's
    count against the subject's own baseline, the mean of the windows before it."""

    test: Literal["poisson"] = "poisson"
    window_days: Annotated[int, Field(ge=1, le=90)] = 7  # whole weeks cancel weekly seasons
    baseline_windows: Annotated[int, Field(ge=2, le=52)] = 8
    p_value_threshold: Annotated[float, Field(gt=0, lt=0.5)] = 0.001
    min_count: Count = 5  # fewer filings in the window never alert, however rare
    min_baseline: Annotated[float, Field(gt=0, le=100)] = 0.5  # floor of the expected count
    subjects: list[Subject] = Field(
        default_factory=lambda: list[Subject](["business", "sector", "place"]), min_length=1
    )
    sample_size: Annotated[int, Field(ge=1, le=20)] = 5
    top_terms: Annotated[int, Field(ge=1, le=50)] = 10


CREDIT_METRICS = (
    "complaints",
    "tips",
    "refusal_to_mediate_rate",
    "failed_mediation_rate",
    "nonconforming_tests",
    "violations_decided",
    "average_days_to_close",
)


class CreditRules(_Strict):
    """Metric → the value at or above which the rule is broken (insights.credit)."""

    complaints: Count | None = None
    tips: Count | None = None
    refusal_to_mediate_rate: Rate | None = None
    failed_mediation_rate: Rate | None = None
    nonconforming_tests: Count | None = None
    violations_decided: Count | None = None
    average_days_to_close: Annotated[float, Field(gt=0)] | None = None

    def broken(self) -> dict[str, float]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class Credit(_Strict):
    """Business quality credit: 诚信 unless a 缺信 rule is broken; 失信 rules come first."""

    window_days: Annotated[int, Field(ge=30, le=3650)] = 365
    min_concluded_mediations: Count = 3  # rates need this many mediations to count
    lacking: CreditRules = Field(
        default_factory=lambda: CreditRules(
            complaints=10,
            refusal_to_mediate_rate=0.3,
            failed_mediation_rate=0.5,
            nonconforming_tests=1,
            violations_decided=1,
        )
    )
    dishonest: CreditRules = Field(
        default_factory=lambda: CreditRules(
            complaints=30, refusal_to_mediate_rate=0.6, nonconforming_tests=3, violations_decided=2
        )
    )

    @model_validator(mode="after")
    def _dishonest_is_worse(self) -> Credit:
        lacking, dishonest = self.lacking.broken(), self.dishonest.broken()
        if not lacking and not dishonest:
            raise ValueError("at least one credit rule")
        for name, bar in dishonest.items():
            if name in lacking and bar < lacking[name]:
                raise ValueError(
                    f"dishonest.{name} ({bar}) is below lacking.{name} ({lacking[name]})"
                )
        return self


class ProductRisk(_Strict):
    """The defect signal (products.risk): filings about one product within `window_days`
    reaching a threshold, or one reporting an injury, open a product-risk case."""

    sector: Code = "product_quality"  # the registry sector whose department takes the case
    window_days: Annotated[int, Field(ge=1, le=3650)] = 90
    product_threshold: Count = 5  # filings about one product, any batch
    batch_threshold: Count = 3  # filings about one batch of it
    injury_opens_case: bool = True
    # Words that say the product hurt someone, for channels without an injury field (SMS).
    injury_words: list[Annotated[str, StringConstraints(min_length=2, max_length=10)]] = Field(
        default_factory=lambda: [
            "受伤",
            "烫伤",
            "烧伤",
            "割伤",
            "划伤",
            "骨折",
            "中毒",
            "触电",
            "住院",
        ]
    )

    @model_validator(mode="after")
    def _batch_first(self) -> ProductRisk:
        if self.batch_threshold > self.product_threshold:
            raise ValueError("batch_threshold cannot be above product_threshold")
        return self


class QualitySupervisors(_Strict):
    """社会质量监督员 (supervision): their filings start above ordinary ones."""

    starting_priority: Annotated[int, Field(ge=1, le=9)] = 1  # ordinary filings have 0


class FollowUp(_Strict):
    """回访: calling complainants back after closing (SAMR Order 121, in force 2026-04-15).

    The order requires follow-up calls; the number of working days it allows is not
    verified here, so 5 is this platform's default, not the order's figure.
    """

    within_working_days: Annotated[int, Field(ge=1, le=60)] = 5  # after the day of closing
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3  # unreached calls, then unreachable
    skip_if_rated: bool = True  # a complaint its citizen already rated needs no call
    # Closed longer ago than this, a complaint is no longer called (expired): the call cannot
    # rate it any more and the complainant hardly remembers; it leaves the list.
    stop_after_days: Annotated[int, Field(ge=1, le=3650)] = 60


class Intake(_Strict):
    """What a filing must give beyond its schema's fixed rules (schemas.complaint)."""

    # SAMR Order 121 (in force 2026-04-15): a complaint is made under the complainant's real
    # identity, so it needs the complainant's name; a tip-off may stay anonymous and an
    # inquiry needs none. SMS carries no name: such a complaint is filed and marked missing it.
    complaint_requires_name: bool = True


class Policy(_Strict):
    schema_version: int = Field(alias="schema")
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    limits: Limits
    early_warning: EarlyWarning
    refusal_grounds: dict[Code, Label] = Field(min_length=1)
    mediation_end_reasons: dict[Code, Label] = Field(min_length=1)
    rewards: Rewards
    retention: Retention = Field(default_factory=Retention)
    calendar: CalendarExtras = Field(default_factory=CalendarExtras)
    surges: Surges = Field(default_factory=Surges)
    credit: Credit = Field(default_factory=Credit)
    product_risk: ProductRisk = Field(default_factory=ProductRisk)
    quality_supervisors: QualitySupervisors = Field(default_factory=QualitySupervisors)
    follow_up: FollowUp = Field(default_factory=FollowUp)

    intake: Intake = Field(default_factory=Intake)

    @model_validator(mode="after")
    def _schema(self) -> Policy:
        if self.schema_version != SUPPORTED_SCHEMA:
            raise ValueError(
                f"schema {self.schema_version} is not supported "
                f"(this version reads {SUPPORTED_SCHEMA})"
            )
        return self


def parse_policy(path: Path) -> Policy:
    """Read and check a policy file; InvalidInput names the file and the field at fault."""
    policy, _ = read_yaml_model(path, Policy, what="policy")
    return policy


_lock = threading.Lock()
_cache: dict[Path, Policy] = {}


def current_policy() -> Policy:
    """The configured policy, read once per process."""
    path = get_settings().policy_file or DEFAULT_POLICY
    with _lock:
        if path not in _cache:
            _cache[path] = parse_policy(path)
        return _cache[path]


def forget_policy() -> None:
    with _lock:
        _cache.clear()
