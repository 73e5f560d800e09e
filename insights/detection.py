"""The scheduled surge run: daily counts per subject from SQL, the test, alerts with evidence.

Subjects (policy `surges.subjects`): one business (insights.business_keys), one sector
(product or service type) and one county. One surge alerts once: while a subject keeps
firing on following days, its open alert's latest window and figures are brought up to
date instead of a new alert. A new alert needs a window that does not touch the last one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cases.policy import Surges, current_policy
from classifiers.tokenizer import shared_tokenizer, stopwords
from core.timeutil import CHINA, as_china, china_today
from insights import alerts, repository
from insights.business_keys import assign_business_keys
from insights.surges import Finding, find_surge, first_day
from opendata.scrub import scrub
from routing.repository import latest_registry_load
from schemas.complaint import Complaint
from schemas.insights import Alert

SUMMARY_LENGTH = 80


def _column(subject: str) -> Any:
    return {
        "business": col(Complaint.business_key),
        "sector": col(Complaint.sector),
        "place": col(Complaint.place_code),
    }[subject]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


def daily_counts(
    session: Session, *, subject: str, since: date, until: date
) -> dict[str, dict[date, int]]:
    """subject key → China day → filings, for the days in [since, until]."""
    key = _column(subject)
    day = repository.period_of(session, col(Complaint.created_at), "day")
    rows = session.execute(
        select(key, day, func.count())
        .where(key.is_not(None), key != "")
        .where(col(Complaint.created_at) >= _midnight(since))
        .where(col(Complaint.created_at) < _midnight(until + timedelta(days=1)))
        .group_by(key, day)
    ).all()
    found: dict[str, dict[date, int]] = {}
    for subject_key, on, count in rows:
        found.setdefault(str(subject_key), {})[date.fromisoformat(str(on))] = int(count)
    return found


def _window_filings(
    session: Session, subject: str, key: str, finding: Finding
) -> Sequence[Complaint]:
    return session.exec(
        select(Complaint)
        .where(_column(subject) == key)
        .where(col(Complaint.created_at) >= _midnight(finding.window.start))
        .where(col(Complaint.created_at) < _midnight(finding.window.end + timedelta(days=1)))
        .order_by(col(Complaint.id).desc())
    ).all()


def common_terms(texts: Sequence[str], *, top: int) -> list[dict[str, Any]]:
    """The words (jieba) most of the texts use, each counted once per text."""
    tokenizer, skip = shared_tokenizer(), stopwords()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(
            {
                word
                for word in tokenizer.tokenize(text)
                if len(word) >= 2 and word not in skip and not any(ch.isdigit() for ch in word)
            }
        )
    # A word the scrubber would take out (a name repeated across filings) is not shown.
    named = [(term, n) for term, n in counts.most_common(top * 2) if scrub(term) == term]
    return [{"term": term, "filings": n} for term, n in named[:top]]


def _label(session: Session, subject: str, key: str, filings: Sequence[Complaint]) -> str:
    if subject == "business":
        return next((f.business_name for f in filings if f.business_name), key)
    if subject == "sector":
        load = latest_registry_load(session)
        return str((load.sectors if load else {}).get(key, key))
    named = next((f for f in filings if f.place_county or f.place_city), None)
    return "".join(p for p in (named.place_city, named.place_county) if p) if named else key


def evidence(
    session: Session, subject: str, key: str, finding: Finding, rules: Surges
) -> tuple[str, dict[str, Any]]:
    filings = _window_filings(session, subject, key, finding)
    sample = [
        {
            "id": f.id,
            "tracking_number": f.tracking_number,
            "kind": f.kind.value,
            "received_on": as_china(f.created_at).date().isoformat(),
            # Alerts outlive the retention of the filings they cite: no personal data.
            "summary": scrub(f.text[:SUMMARY_LENGTH]),
        }
        for f in filings[: rules.sample_size]
    ]
    return _label(session, subject, key, filings), {
        "test": rules.test,
        "window_days": rules.window_days,
        "observed": finding.observed,
        "baseline": finding.baseline,
        "baseline_counts": list(finding.baseline_counts),
        "p_value": finding.p_value,
        "threshold": rules.p_value_threshold,
        "sample": sample,
        "terms": common_terms([f.text for f in filings], top=rules.top_terms),
    }


def _ongoing(session: Session, subject: str, key: str, finding: Finding) -> Alert | None:
    """The alert of the same surge: one whose latest window touches or overlaps this one."""
    return session.exec(
        select(Alert)
        .where(Alert.subject_type == subject, Alert.subject_key == key)
        .where(col(Alert.window_end) >= finding.window.start - timedelta(days=1))
        .order_by(col(Alert.id).desc())
    ).first()


@dataclass(frozen=True)
class SurgeRun:
    raised: list[int]  # ids of new alerts
    continued: list[int]  # ids of alerts whose surge goes on


def detect_surges(session: Session, *, today: date | None = None) -> SurgeRun:
    """Test every subject's latest window; raise or bring up to date alerts (caller commits)."""
    day = today or china_today()
    rules = current_policy().surges
    assign_business_keys(session)
    raised: list[int] = []
    continued: list[int] = []
    for subject in rules.subjects:
        series = daily_counts(session, subject=subject, since=first_day(day, rules), until=day)
        for key, daily in sorted(series.items()):
            finding = find_surge(daily, today=day, rules=rules)
            if finding is None:
                continue
            ongoing = _ongoing(session, subject, key, finding)
            if ongoing is not None:
                if ongoing.window_end < finding.window.end:
                    ongoing.window_end = finding.window.end
                    ongoing.evidence = {**ongoing.evidence, "latest": _latest(finding)}
                    session.add(ongoing)
                assert ongoing.id is not None
                continued.append(ongoing.id)
                continue
            label, found = evidence(session, subject, key, finding, rules)
            alert = alerts.raise_alert(
                session,
                alert=Alert(
                    surge_key=f"{subject}:{key}:{finding.window.start.isoformat()}",
                    subject_type=subject,
                    subject_key=key,
                    subject_label=label[:200],
                    window_start=finding.window.start,
                    window_end=finding.window.end,
                    observed=finding.observed,
                    baseline=finding.baseline,
                    p_value=finding.p_value,
                    threshold=rules.p_value_threshold,
                    evidence=found,
                ),
                note=(
                    f"{alerts.SUBJECT_LABELS[subject]}「{label}」近{rules.window_days}天{finding.observed}件，"
                    f"此前平均每{rules.window_days}天{finding.baseline:g}件（p={finding.p_value:.2g}）"
                ),
            )
            assert alert.id is not None
            raised.append(alert.id)
    session.flush()
    return SurgeRun(raised=raised, continued=continued)


def _latest(finding: Finding) -> dict[str, Any]:
    return {
        "window_end": finding.window.end.isoformat(),
        "observed": finding.observed,
        "baseline": finding.baseline,
        "p_value": finding.p_value,
    }
