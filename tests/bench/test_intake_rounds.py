"""bench/intake.py reports each app in the round where its share of that round's ceiling is
the median: a slow spell of the machine during one wrk run must neither flatter nor sink
the figure, and a round's ceiling and app figures must stay together."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.bench.conftest import LoadBench


@pytest.fixture
def bench_intake(load_bench: LoadBench) -> ModuleType:
    return load_bench("intake")


def a_round(ceiling: float, platform: float, floor: float = 0.0) -> dict[str, tuple]:
    return {
        "bare": (ceiling, {"rps": ceiling}),
        "floor": (floor, {"rps": floor}),
        "platform": (platform, {"stored": platform}),
    }


def test_the_median_share_round_is_reported_whole(bench_intake: ModuleType) -> None:
    depressed_ceiling = a_round(4745, 2145)  # 45 %: the ceiling measured in a slow spell
    rounds = [depressed_ceiling, a_round(7647, 2063), a_round(7284, 2485)]
    share, (rate, run), (ceiling, bare_run) = bench_intake.median_share(rounds, "platform")
    assert (ceiling, bare_run["rps"], rate, run["stored"]) == (7284, 7284, 2485, 2485)
    assert share == pytest.approx(2485 / 7284)


def test_each_app_has_its_own_median_round(bench_intake: ModuleType) -> None:
    rounds = [a_round(100, 30, floor=90), a_round(100, 20, floor=70), a_round(100, 40, floor=80)]
    assert bench_intake.median_share(rounds, "platform")[1][0] == 30
    assert bench_intake.median_share(rounds, "floor")[1][0] == 80


def test_an_even_count_reports_the_lower_middle_and_one_round_itself(
    bench_intake: ModuleType,
) -> None:
    rounds = [a_round(100, 40), a_round(100, 10), a_round(100, 30), a_round(100, 20)]
    assert bench_intake.median_share(rounds, "platform")[1][0] == 20
    assert bench_intake.median_share([a_round(100, 55)], "platform")[1][0] == 55
