"""How much of the hotline data's routing error no text classifier can remove: renamed
departments in two exports.

train.csv mixes two exports of the same hotline. The first (orders up to 2018-01-17) names
eight departments by old names (工商局, 政府服务中心, …); the second (2018-01 to 2018-06) by
new ones (工商行政管理局, 政务服务中心, …), for the same work. Which export a row came from is
in its order number (工单编号), which the classifier never sees: it reads the text only, as
`complaints classifier evaluate --text-column` does.

This script prints, with stratified 5-fold CV (seed 0) and the plain character 1–3-gram
TF-IDF + LinearSVC of the issue:
- for each pair, the rows under each name and the last order day of the old name;
- how many of the baseline's errors only swap a pair's two names, and what accuracy would be
  if every one of them were right;
- how well the export can be told from the text at all, on the rows of the paired names: a
  LinearSVC on characters, and on characters with whitespace and punctuation as written,
  against always guessing the larger export.

    .venv/bin/python bench/label_eras.py [--data ../shared/data/haikou12345/train.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import warnings
from pathlib import Path

# This folder holds queue.py, the name of a standard module (concurrent.futures imports it):
# search it last; the project first, for classifiers.features.
_HERE = str(Path(__file__).resolve().parent)
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [str(REPO)] + [p for p in sys.path if p not in {_HERE, str(REPO)}] + [_HERE]

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "haikou12345" / "train.csv"
# (old export's name, new export's name), as the two exports label the same department.
PAIRS = (
    ("工商局", "工商行政管理局"),
    ("政府服务中心", "政务服务中心"),
    ("社会保险事业局", "人力资源和社会保障部社会保险事业管理中心"),
    ("卫生局", "卫生与计划生育委员会"),
    ("环保局", "环境保护局"),
    ("劳动监察大队", "劳动保障监察大队"),
    ("物价监督局", "物价监督检查局"),
    ("数字城管专席", "数字城管指挥监督中心"),
)
SECOND_EXPORT_FROM = "20180118"  # no old name is used on or after this order day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"error: {args.data} is not a file")

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    from classifiers.features import normalize

    with args.data.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["诉求内容"] for r in rows]
    labels = np.array([r["处置单位"] for r in rows])
    days = np.array([r["工单编号"][:8] for r in rows])
    partner = {a: b for a, b in PAIRS} | {b: a for a, b in PAIRS}

    print(f"data: {args.data} — {len(rows)} rows, {len(set(labels))} labels\n")
    for old, new in PAIRS:
        late = max(days[labels == old])
        print(
            f"{old} ({(labels == old).sum()} rows, last {late}) → "
            f"{new} ({(labels == new).sum()} rows)"
        )

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=args.seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).fit_transform(texts)
        predicted = cross_val_predict(LinearSVC(), chars, labels, cv=folds)
    wrong = predicted != labels
    swapped = np.array([partner.get(t) == p for t, p in zip(labels, predicted, strict=True)])
    print(
        f"\nbaseline accuracy {1 - wrong.mean():.3f}; {swapped.sum()} of its {wrong.sum()} "
        f"errors only swap a pair's names; all of those right: {1 - (wrong & ~swapped).mean():.3f}"
    )

    paired = np.isin(labels, list(partner))
    first_export = np.isin(labels, [a for a, _ in PAIRS])[paired]
    majority = max(first_export.mean(), 1 - first_export.mean())
    print(
        f"\ntelling the exports apart from the text, on the {paired.sum()} rows of paired "
        f"names (always the larger: {majority:.3f}):"
    )
    chosen = [t for t, p in zip(texts, paired, strict=True) if p]
    for name, vectorizer in (
        (
            "characters 1–3, normalised as the classifier does",
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), preprocessor=normalize),
        ),
        (
            "characters 1–3 as written (width, spaces, line breaks)",
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False),
        ),
    ):
        guess = cross_val_predict(
            LinearSVC(), vectorizer.fit_transform(chosen), first_export, cv=folds
        )
        print(f"  {name}: {(guess == first_export).mean():.3f}")
    second = days >= SECOND_EXPORT_FROM
    print(f"\nrows on or after {SECOND_EXPORT_FROM}: {second.sum()} (second export only)")


if __name__ == "__main__":
    main()
