import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cases.policy import DEFAULT_POLICY, parse_policy
from core.errors import InvalidInput


def test_the_default_policy_holds_the_2022_numbers() -> None:
    policy = parse_policy(DEFAULT_POLICY)
    assert policy.limits.accept_decision_working_days == 7
    assert policy.limits.mediation_working_days == 45
    assert policy.limits.tip_verification_working_days == 15
    assert policy.limits.case_decision_days == 90
    assert policy.limits.odr_working_days == 10
    assert set(policy.refusal_grounds) >= {"not_in_duties", "time_barred", "incomplete"}
    assert "time_limit" in policy.mediation_end_reasons
    assert policy.rewards.tiers["1"].minimum_fen == 500_000
    assert policy.rewards.cap_fen == 100_000_000


def _bad(tmp_path: Path, change: dict[str, object]) -> Path:
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"limits.accept_decision_working_days": 0}, "limits.accept_decision_working_days"),
        ({"limits.mediation_working_days": "forty-five"}, "limits.mediation_working_days"),
        ({"limits.odr_working_days": None}, "limits.odr_working_days"),
        ({"limits.surprise": 3}, "limits.surprise"),
        ({"rewards.cap_fen": -1}, "rewards.cap_fen"),
        ({"refusal_grounds": {}}, "refusal_grounds"),
        ({"refusal_grounds": {"Bad Code": "理由"}}, "refusal_grounds"),
        ({"calendar.extra_holidays": ["2027-13-01"]}, "calendar.extra_holidays"),
        ({"schema": 9}, "schema 9 is not supported"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput, match=field.replace(".", r"\.")):
        parse_policy(_bad(tmp_path, change))


def test_a_bad_policy_stops_start_up_with_the_reason(tmp_path: Path) -> None:
    path = _bad(tmp_path, {"limits.mediation_working_days": 0})
    env = {"COMPLAINTS_POLICY_FILE": str(path), "COMPLAINTS_DATA_DIR": str(tmp_path / "var")}
    import os

    for command in (["api", "--port", "1"], ["worker", "--burst"], ["scheduler"]):
        result = subprocess.run(
            [sys.executable, "-m", "service", *command],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, (command, result.stderr)
        assert "limits.mediation_working_days" in result.stderr
