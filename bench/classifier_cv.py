"""Stratified k-fold comparison of the plain baseline and our linear classifier (and variants).

Every fold trains from scratch on its training part; ours runs the whole `train` (its own
inner cross-validation for calibration and threshold included) and is scored by `evaluate`.

    .venv/bin/python bench/classifier_cv.py                      # baseline vs ours, k=5, seed 0
    .venv/bin/python bench/classifier_cv.py --variants all       # plus one ablation per idea
    .venv/bin/python bench/classifier_cv.py --fractions 0.25,0.5,0.75,1   # learning curve

With --fractions, each fold's model is trained on that share of the fold's training rows (a
seeded random subset, the same for every model, and a smaller share is part of a larger one)
and scored on the whole held-out fold, so the table shows how accuracy grows with the amount
of labelled history.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

# This folder holds queue.py and routing.py, the names of a standard module and of the
# platform's package: search it last (concurrent.futures imports the standard `queue`).
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p != _HERE] + [_HERE]

import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "haikou12345" / "train.csv"
METRICS = ("accuracy", "macro_f1", "top3_accuracy", "accuracy_at_80_coverage")
EXTRA = ("coverage_at_threshold", "precision_at_threshold")


def variants() -> dict[str, Any]:
    """Ours and one change per idea, so each idea's share shows against the same folds."""
    from classifiers.features import FeatureConfig
    from classifiers.training import TrainingConfig

    ours = TrainingConfig()
    feat = ours.features
    return {
        "ours": ours,
        "ours without words": dataclasses.replace(ours, features=_with(feat, words=False)),
        "ours without mentions": dataclasses.replace(ours, features=_with(feat, mentions=False)),
        "ours without dates": dataclasses.replace(ours, features=_with(feat, dates=False)),
        "ours without user dictionary": dataclasses.replace(
            ours, features=_with(feat, user_dictionary=False)
        ),
        "ours without jieba HMM": dataclasses.replace(ours, features=_with(feat, hmm=False)),
        "ours keeping boilerplate": dataclasses.replace(
            ours, features=_with(feat, strip_boilerplate=False)
        ),
        "ours min_df 1": dataclasses.replace(ours, features=_with(feat, min_df=1)),
        "ours no class weights": dataclasses.replace(ours, class_weight_power=0.0),
        "ours balanced class weights": dataclasses.replace(ours, class_weight_power=1.0),
        "ours C=1": dataclasses.replace(ours, c=1.0),
        "ours without confusion mix": dataclasses.replace(ours, confusion_mix=0.0),
        "ours confusion mix 0.3": dataclasses.replace(ours, confusion_mix=0.3),
        "ours without name boost": dataclasses.replace(ours, name_boosts=(0.0,)),
        "ours chars only": dataclasses.replace(
            ours,
            features=FeatureConfig(words=False, mentions=False, user_dictionary=False, dates=False),
        ),
    }


def _with(config: Any, **changes: Any) -> Any:
    return dataclasses.replace(config, **changes)


def run_baseline(texts: list[str], labels: list[str], fit: np.ndarray, held: np.ndarray) -> dict:
    """Plain character 1–3-gram TF-IDF + LinearSVC, scikit-learn defaults, as in the issue."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from classifiers.training import summarize

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    svm = LinearSVC().fit(
        vectorizer.fit_transform([texts[i] for i in fit]), [labels[i] for i in fit]
    )
    started = time.perf_counter()
    scores = svm.decision_function(vectorizer.transform([texts[i] for i in held]))
    elapsed = time.perf_counter() - started
    order = np.argsort(-scores, axis=1)[:, :3]
    ranked = [[str(svm.classes_[j]) for j in row] for row in order]
    result = summarize([labels[i] for i in held], ranked, scores.max(axis=1), float("inf"))
    result["texts_per_second"] = len(held) / elapsed
    result["coverage_at_threshold"] = None  # the baseline has no abstention threshold
    return result


def run_ours(
    texts: list[str], labels: list[str], fit: np.ndarray, held: np.ndarray, config: Any, seed: int
) -> dict:
    from classifiers.training import evaluate, train

    model = train([texts[i] for i in fit], [labels[i] for i in fit], seed=seed, config=config)
    return evaluate(model, [texts[i] for i in held], [labels[i] for i in held])


def _task(args: tuple) -> tuple[str, int, dict, float]:
    name, fold, texts, labels, fit, held, config, seed = args
    started = time.perf_counter()
    if config is None:
        result = run_baseline(texts, labels, fit, held)
    else:
        result = run_ours(texts, labels, fit, held, config, seed)
    return name, fold, result, time.perf_counter() - started


def _subset(fit: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A seeded random share of a fold's training rows, in their original order."""
    if fraction >= 1:
        return fit
    keep = np.random.default_rng(seed).permutation(len(fit))[: max(2, round(fraction * len(fit)))]
    return fit[np.sort(keep)]


def _row_name(name: str, fraction: float, fractions: list[float]) -> str:
    return name if fractions == [1.0] else f"{name} @ {fraction:g}"


def _cell(values: list[Any]) -> str:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return "—".center(15)
    return f"{np.mean(numbers):.3f} ± {np.std(numbers):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--text-column", default="诉求内容")
    parser.add_argument("--label-column", default="处置单位")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--fractions",
        default="1",
        help="comma-separated shares of each fold's training rows to train on (learning curve)",
    )
    parser.add_argument(
        "--variants", default="ours", help="comma-separated names, or 'all' (see variants())"
    )
    args = parser.parse_args()
    try:
        fractions = sorted({float(f) for f in args.fractions.split(",")})
    except ValueError:
        sys.exit(f"--fractions {args.fractions!r}: comma-separated numbers, e.g. 0.5,1")
    if not all(0 < f <= 1 for f in fractions):
        sys.exit(f"--fractions {args.fractions!r}: each share must be in (0, 1]")

    from sklearn.model_selection import StratifiedKFold

    from classifiers.dataset import read_labelled_csv

    texts, labels = read_labelled_csv(args.data, args.text_column, args.label_column)
    known = variants()
    chosen = list(known) if args.variants == "all" else args.variants.split(",")
    unknown = [v for v in chosen if v not in known]
    if unknown:
        sys.exit(f"unknown variants {unknown}; known: {list(known)}")

    counts = Counter(labels)
    rare = {label: n for label, n in counts.items() if n < args.folds}
    print(f"data: {args.data} — {len(texts)} rows, {len(counts)} labels")
    print(
        f"stratified {args.folds}-fold CV, seed {args.seed}; {len(rare)} labels have fewer than "
        f"{args.folds} rows ({sum(rare.values())} rows): some folds never see them in training, "
        "and those rows count as errors"
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
        splits = list(splitter.split(np.zeros(len(labels)), labels))

    names = ["baseline", *chosen]
    tasks = []
    for fraction in fractions:
        for k, (fit, held) in enumerate(splits):
            subset = _subset(fit, fraction, args.seed + k)
            for name in names:
                config = None if name == "baseline" else known[name]
                row = _row_name(name, fraction, fractions)
                tasks.append((row, k, texts, labels, subset, held, config, args.seed))
    results: dict[str, list[dict]] = {task[0]: [] for task in tasks}
    seconds: dict[str, float] = dict.fromkeys(results, 0.0)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name, _fold, result, spent in pool.map(_task, tasks):
            results[name].append(result)
            seconds[name] += spent
    print(f"wall time {time.perf_counter() - started:.0f} s with {args.jobs} processes\n")

    header = ["model", *METRICS, *EXTRA]
    print(" | ".join(f"{h:>28}" if i == 0 else f"{h:>15}" for i, h in enumerate(header)))
    for name, rows in results.items():
        cells = [_cell([r[m] for r in rows]) for m in (*METRICS, *EXTRA)]
        print(" | ".join([f"{name:>28}", *cells]))
    print(
        "\nmean ± std over folds; coverage/precision at the abstention threshold chosen in training"
    )
    for fraction in fractions:
        base = results[_row_name("baseline", fraction, fractions)]
        for name in chosen:
            rows = results[_row_name(name, fraction, fractions)]
            deltas = [
                f"{m} {np.mean([r[m] for r in rows]) - np.mean([r[m] for r in base]):+.3f}"
                for m in METRICS
            ]
            print(f"{_row_name(name, fraction, fractions)} − baseline: " + ", ".join(deltas))
    print(
        "\nCPU seconds per model (all folds): "
        + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items())
    )


if __name__ == "__main__":
    main()
