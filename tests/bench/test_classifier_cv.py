"""bench/classifier_cv.py's learning curve: each fold trains on a seeded share of its own
training rows, the same share for every model, and a share outside (0, 1] is refused."""

from __future__ import annotations

import sys
from types import ModuleType

import numpy as np
import pytest

from tests.bench.conftest import LoadBench


@pytest.fixture
def bench_cv(load_bench: LoadBench) -> ModuleType:
    return load_bench("classifier_cv")


def test_a_share_is_a_seeded_ordered_subset_of_the_folds_training_rows(
    bench_cv: ModuleType,
) -> None:
    fit = np.arange(0, 400, 2)  # a fold's training rows: every other row
    half = bench_cv._subset(fit, 0.5, seed=3)
    assert len(half) == 100
    assert set(half) <= set(fit)
    assert list(half) == sorted(half)
    assert np.array_equal(half, bench_cv._subset(fit, 0.5, seed=3))  # same seed, same rows
    assert not np.array_equal(half, bench_cv._subset(fit, 0.5, seed=4))
    assert np.array_equal(bench_cv._subset(fit, 1.0, seed=3), fit)
    # A smaller share of the same seed is not a different draw: the curve's points nest.
    quarter = bench_cv._subset(fit, 0.25, seed=3)
    assert len(quarter) == 50
    assert set(quarter) <= set(half)


@pytest.mark.parametrize("fractions", ["0", "0.5,1.5", "half", "-0.2"])
def test_a_share_outside_zero_to_one_is_refused_before_any_training(
    bench_cv: ModuleType, monkeypatch: pytest.MonkeyPatch, fractions: str
) -> None:
    monkeypatch.setattr(sys, "argv", ["classifier_cv.py", "--fractions", fractions])
    with pytest.raises(SystemExit) as stopped:
        bench_cv.main()
    assert "--fractions" in str(stopped.value.code)


def test_rows_are_named_by_share_only_on_a_learning_curve(bench_cv: ModuleType) -> None:
    assert bench_cv._row_name("ours", 1.0, [1.0]) == "ours"
    assert bench_cv._row_name("ours", 0.5, [0.5, 1.0]) == "ours @ 0.5"
    assert bench_cv._row_name("baseline", 1.0, [0.5, 1.0]) == "baseline @ 1"
