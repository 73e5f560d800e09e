"""Surge detection: is the latest window's count well above the subject's own baseline?

The test (policy `surges`): the latest `window_days` days are one window, the
`baseline_windows` windows before it are the baseline. Under "nothing changed" the
window's count is Poisson with the baseline's mean (floored at `min_baseline`, for
subjects new to us). It is a surge when the one-sided p-value P(X >= observed) is below
`p_value_threshold` and at least `min_count` filings came in. Windows are whole weeks by
default, so every window holds each weekday once and weekly seasonality (quiet weekends,
busy Mondays) cancels out instead of firing every Monday.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from cases.policy import Surges


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # both days included


@dataclass(frozen=True)
class Finding:
    """A window that fired: what came in, what was expected, how unlikely that was."""

    window: Window
    observed: int
    baseline: float  # expected count per window
    baseline_counts: tuple[int, ...]  # the baseline windows' counts, oldest first
    p_value: float


def _term(count: int, mean: float) -> float:
    return math.exp(count * math.log(mean) - mean - math.lgamma(count + 1))


def upper_tail(observed: int, mean: float) -> float:
    """P(X >= observed) for X ~ Poisson(mean), summed in log space (no scipy in the API)."""
    if observed <= 0:
        return 1.0
    if observed <= mean:  # not in the tail: the complement is exact enough
        return max(0.0, 1.0 - sum(_term(i, mean) for i in range(observed)))
    total, count = 0.0, observed
    while True:  # above the mean each term is smaller than the one before
        term = _term(count, mean)
        total += term
        if term <= total * 1e-17:
            return min(1.0, total)
        count += 1


def windows_ending(today: date, rules: Surges) -> list[Window]:
    """The baseline windows then the tested one (last), each `window_days` long."""
    size = timedelta(days=rules.window_days)
    last = Window(start=today - size + timedelta(days=1), end=today)
    found = [last]
    for _ in range(rules.baseline_windows):
        previous = found[-1]
        found.append(Window(start=previous.start - size, end=previous.start - timedelta(days=1)))
    return found[::-1]


def first_day(today: date, rules: Surges) -> date:
    """The earliest day the test reads on `today`."""
    return windows_ending(today, rules)[0].start


def window_counts(daily: Mapping[date, int], windows: Sequence[Window]) -> list[int]:
    return [
        sum(n for day, n in daily.items() if window.start <= day <= window.end)
        for window in windows
    ]


def find_surge(daily: Mapping[date, int], *, today: date, rules: Surges) -> Finding | None:
    """The finding if the window ending `today` is a surge against its baseline, else None."""
    windows = windows_ending(today, rules)
    counts = window_counts(daily, windows)
    observed, baseline_counts = counts[-1], tuple(counts[:-1])
    if observed < rules.min_count:
        return None
    mean = max(sum(baseline_counts) / len(baseline_counts), rules.min_baseline)
    p_value = upper_tail(observed, mean)
    if p_value >= rules.p_value_threshold:
        return None
    return Finding(
        window=windows[-1],
        observed=observed,
        baseline=round(mean, 4),
        baseline_counts=baseline_counts,
        p_value=p_value,
    )
