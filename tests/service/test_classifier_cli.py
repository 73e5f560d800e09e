"""The classifier command-line contract: train, evaluate --json, predict, and clear refusals."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

TRAIN_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "haikou12345" / "train.csv"
TEXT, LABEL = "诉求内容", "处置单位"
EVALUATION_KEYS = {
    "n",
    "accuracy",
    "macro_f1",
    "top3_accuracy",
    "accuracy_at_80_coverage",
    "coverage_at_threshold",
    "precision_at_threshold",
    "unseen_label_rows",
    "texts_per_second",
}


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "classifier", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def _train(data: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return _cli(
        "train",
        "--data",
        str(data),
        "--text-column",
        TEXT,
        "--label-column",
        LABEL,
        "--out",
        str(out),
    )


@pytest.fixture(scope="module")
def slices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The 12 most frequent departments: 1,200 rows to train on, the next 400 to evaluate."""
    rows = list(csv.DictReader(TRAIN_CSV.open(encoding="utf-8")))
    top = {label for label, _ in Counter(r[LABEL] for r in rows).most_common(12)}
    chosen = [r for r in rows if r[LABEL] in top]
    folder = tmp_path_factory.mktemp("slices")
    paths = (folder / "train.csv", folder / "test.csv")
    for path, part in zip(paths, (chosen[:1200], chosen[1200:1600]), strict=True):
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[TEXT, LABEL])
            writer.writeheader()
            writer.writerows({TEXT: r[TEXT], LABEL: r[LABEL]} for r in part)
    return paths


@pytest.fixture(scope="module")
def model(slices: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "departments.model"
    result = _train(slices[0], out)
    assert result.returncode == 0, result.stderr
    assert "model written to" in result.stdout
    assert "%" in result.stderr  # the progress bar
    return out


def test_evaluate_prints_exactly_one_json_object_with_sane_metrics(
    model: Path, slices: tuple[Path, Path]
) -> None:
    result = _cli(
        "evaluate",
        "--model",
        str(model),
        "--data",
        str(slices[1]),
        "--text-column",
        TEXT,
        "--label-column",
        LABEL,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert set(metrics) == EVALUATION_KEYS
    assert metrics["n"] == 400
    assert 0.7 <= metrics["accuracy"] <= 1
    assert metrics["top3_accuracy"] >= metrics["accuracy"]
    assert metrics["accuracy_at_80_coverage"] >= metrics["accuracy"] - 0.01
    assert metrics["texts_per_second"] > 100


def test_unseen_labels_count_as_errors(model: Path, tmp_path: Path) -> None:
    data = tmp_path / "unseen.csv"
    data.write_text(
        f"{TEXT},{LABEL}\n市民反映小区路灯不亮，请尽快维修,从未见过的部门\n", encoding="utf-8"
    )
    metrics = json.loads(
        _cli(
            "evaluate",
            "--model",
            str(model),
            "--data",
            str(data),
            "--text-column",
            TEXT,
            "--label-column",
            LABEL,
            "--json",
        ).stdout
    )
    assert (metrics["n"], metrics["accuracy"], metrics["unseen_label_rows"]) == (1, 0.0, 1)


def test_predict_prints_the_top_three_with_reasons(model: Path) -> None:
    result = _cli(
        "predict",
        "--model",
        str(model),
        "市民来电反映：龙华区某工地夜间超时施工，噪音扰民，请城管核实处理",
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line[:2] in {"1.", "2.", "3."}]
    assert len(lines) == 3
    assert "城市管理" in lines[0]
    assert "（" in lines[0]


def _refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: "), result.stderr[-600:]


def _small_csv(tmp_path: Path) -> Path:
    data = tmp_path / "small.csv"
    rows = ["电梯困人请质监核实", "小区电梯坏了困人", "夜间施工噪音扰民", "工地施工噪音很大"] * 3
    labels = ["质监", "质监", "城管", "城管"] * 3
    data.write_text(
        f"{TEXT},{LABEL}\n" + "".join(f"{t},{y}\n" for t, y in zip(rows, labels, strict=True)),
        encoding="utf-8",
    )
    return data


def test_an_out_path_that_is_a_directory_is_refused_before_training(tmp_path: Path) -> None:
    out = tmp_path / "models"
    out.mkdir()
    result = _train(_small_csv(tmp_path), out)
    _refused(result, "is a directory")
    assert "%" not in result.stderr  # no progress bar: refused before any training
    assert list(out.iterdir()) == []


def test_an_out_path_that_cannot_be_written_is_refused_before_training(tmp_path: Path) -> None:
    result = _train(_small_csv(tmp_path), Path("/proc/no-such-folder/m.model"))
    _refused(result, "cannot write the model to /proc/no-such-folder/m.model")
    assert "%" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (f"{TEXT},other\n某文本,x\n".encode(), "has no column"),
        (f"{TEXT},{LABEL}\n".encode("gbk") + "投诉内容很长的一段文字,部门".encode("gbk"), "UTF-8"),
        (f"{TEXT},{LABEL}\n投诉一,同一部门\n投诉二,同一部门\n".encode(), "at least two classes"),
    ],
    ids=["empty", "missing-column", "not-utf8", "one-class"],
)
def test_bad_training_data_is_refused_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    out = tmp_path / "m.model"
    _refused(_train(data, out), message)
    assert not out.exists()


def test_texts_too_few_to_share_a_term_are_refused_clearly(tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    data.write_text(f"{TEXT},{LABEL}\n电梯坏了,x\n噪音扰民,y\n电梯困人,x\n夜间噪音,y\n", "utf-8")
    out = tmp_path / "m.model"
    _refused(_train(data, out), "the texts share no terms: too few or too short to train on")
    assert not out.exists()


@pytest.mark.parametrize(
    "url",
    ["sqlite:///{tmp}/empty.db", "postgresql+psycopg://nobody@127.0.0.1:9/none"],
    ids=["not-migrated", "unreachable"],
)
def test_from_db_without_a_usable_database_is_refused_clearly(tmp_path: Path, url: str) -> None:
    out = tmp_path / "m.model"
    result = _cli(
        "train", "--from-db", "--out", str(out), COMPLAINTS_DATABASE_URL=url.format(tmp=tmp_path)
    )
    _refused(result, "run `complaints db upgrade`")
    assert not out.exists()


def test_missing_data_file_and_no_source_are_refused(tmp_path: Path) -> None:
    _refused(
        _cli("train", "--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "m")),
        "not found",
    )
    _refused(_cli("train", "--out", str(tmp_path / "m")), "give --data CSV, --from-db, or both")


def test_tampered_truncated_and_foreign_model_files_are_refused(
    model: Path, tmp_path: Path
) -> None:
    raw = model.read_bytes()
    truncated = tmp_path / "truncated.model"
    truncated.write_bytes(raw[: len(raw) // 2])
    tampered = tmp_path / "tampered.model"
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    tampered.write_bytes(bytes(flipped))
    foreign = tmp_path / "foreign.model"
    foreign.write_text("not a model", encoding="utf-8")
    data = tmp_path / "holdout.csv"
    data.write_text(f"{TEXT},{LABEL}\n噪音扰民,城管局\n", encoding="utf-8")
    for path in (truncated, tampered, foreign, data, tmp_path, tmp_path / "missing.model"):
        result = _cli("predict", "--model", str(path), "某文本")
        assert result.returncode != 0, path
        assert "model" in result.stderr.lower()
        assert "Traceback" not in result.stderr
        assert "pickle" not in result.stderr  # numpy's advice to load one
