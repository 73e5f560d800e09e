"""Speed and memory of our linear classifier against the plain baseline, in one run.

Both are trained on the whole data set, saved to a temporary directory, then each is measured
in a fresh process of its own: load time (imports, file, tokenizer), resident memory after
loading, single-text latency (p50/p99, one thread) and batch throughput.

    .venv/bin/python bench/classifier.py [--data ../shared/data/haikou12345/train.csv]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# This folder holds queue.py and routing.py, the names of a standard module and of the
# platform's package: search it last.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p != _HERE] + [_HERE]

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported: one thread, as in a worker

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "haikou12345" / "train.csv"
TEXT, LABEL = "诉求内容", "处置单位"
SINGLE_TEXTS = 500  # complaints of about 100 characters, each classified alone
BATCH_SIZE = 256


def _rss_mb() -> float:
    """Resident memory of this process now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def child(kind: str, model_path: Path, data: Path) -> dict[str, Any]:
    """Runs in a fresh process: load one model, then time it."""
    rss_start = _rss_mb()
    started = time.perf_counter()
    if kind == "baseline":
        import pickle

        with model_path.open("rb") as handle:
            model = pickle.load(handle)  # noqa: S301 - our own file, written by the parent

        def one(text: str) -> object:
            return model.predict([text])[0]

        def batch(texts: list[str]) -> object:
            return model.predict(texts)
    else:
        from classifiers.linear import LinearClassifier

        model = LinearClassifier.load(model_path)

        def one(text: str) -> object:
            return model.predict(text)

        def batch(texts: list[str]) -> object:
            return model.predict_batch(texts)

    load_seconds = time.perf_counter() - started
    rss_loaded = _rss_mb()

    from classifiers.dataset import read_labelled_csv

    texts, _ = read_labelled_csv(data, TEXT, LABEL)
    short = [t for t in texts if 80 <= len(t) <= 130][:SINGLE_TEXTS]
    for text in short[:20]:  # warm caches (jieba's, numpy's) before timing
        one(text)
    latencies = []
    for text in short:
        tick = time.perf_counter()
        one(text)
        latencies.append((time.perf_counter() - tick) * 1000)
    tick = time.perf_counter()
    for start in range(0, len(texts), BATCH_SIZE):
        batch(texts[start : start + BATCH_SIZE])
    batch_seconds = time.perf_counter() - tick
    return {
        "load_seconds": load_seconds,
        "rss_start_mb": rss_start,
        "rss_loaded_mb": rss_loaded,
        "rss_after_predicting_mb": _rss_mb(),
        "single_p50_ms": _percentile(latencies, 50),
        "single_p99_ms": _percentile(latencies, 99),
        "single_texts": len(short),
        "single_mean_chars": sum(map(len, short)) / len(short),
        "batch_texts_per_second": len(texts) / batch_seconds,
        "batch_texts": len(texts),
        "batch_mean_chars": sum(map(len, texts)) / len(texts),
        "model_file_mb": model_path.stat().st_size / 2**20,
    }


def _train_both(data: Path, workdir: Path) -> tuple[Path, Path, dict[str, float]]:
    import pickle

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from classifiers.dataset import read_labelled_csv
    from classifiers.training import train

    texts, labels = read_labelled_csv(data, TEXT, LABEL, for_training=True)
    seconds = {}
    tick = time.perf_counter()
    baseline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3)), LinearSVC())
    baseline.fit(texts, labels)
    seconds["baseline"] = time.perf_counter() - tick
    baseline_path = workdir / "baseline.pickle"
    with baseline_path.open("wb") as handle:
        pickle.dump(baseline, handle)
    tick = time.perf_counter()
    ours = train(texts, labels, seed=0)
    seconds["ours"] = time.perf_counter() - tick
    return baseline_path, ours.save(workdir / "linear.npz"), seconds


def _measure(kind: str, model: Path, data: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--model", str(model), "--data", str(data)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


ROWS = [
    ("model load (imports + file + tokenizer), s", "load_seconds", "{:.3f}"),
    ("RSS after loading, MB", "rss_loaded_mb", "{:.0f}"),
    ("RSS after predicting, MB", "rss_after_predicting_mb", "{:.0f}"),
    ("single text p50, ms", "single_p50_ms", "{:.3f}"),
    ("single text p99, ms", "single_p99_ms", "{:.3f}"),
    (f"batch ({BATCH_SIZE}) throughput, texts/s", "batch_texts_per_second", "{:.0f}"),
    ("model file, MB", "model_file_mb", "{:.1f}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--child", choices=["baseline", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model, args.data)))
        return

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"machine: {cores} cores ({usable} usable); BLAS/OpenMP threads: 1; data: {args.data}")
    with tempfile.TemporaryDirectory(prefix="bench-classifier-") as tmp:
        baseline_path, ours_path, train_seconds = _train_both(args.data, Path(tmp))
        print(
            f"training on all rows: baseline {train_seconds['baseline']:.1f} s, "
            f"ours {train_seconds['ours']:.1f} s (with its 5-fold calibration)"
        )
        results = {
            "baseline": _measure("baseline", baseline_path, args.data),
            "ours": _measure("ours", ours_path, args.data),
        }
    base, ours = results["baseline"], results["ours"]
    print(
        f"single texts: {ours['single_texts']} of 80–130 chars "
        f"(mean {ours['single_mean_chars']:.0f}); batch: all {ours['batch_texts']} rows "
        f"(mean {ours['batch_mean_chars']:.0f} chars); each model in its own fresh process\n"
    )
    print(f"{'':44} {'baseline':>10} {'ours':>10} {'ours/base':>10}")
    for title, key, fmt in ROWS:
        ratio = ours[key] / base[key] if base[key] else float("nan")
        print(f"{title:44} {fmt.format(base[key]):>10} {fmt.format(ours[key]):>10} {ratio:>10.2f}")
    print(
        f"\ninterpreter alone: {base['rss_start_mb']:.0f} MB before loading. Baseline = char 1–3 "
        "TF-IDF + LinearSVC through scikit-learn's predict (label only); ours = top 3 with "
        "calibrated scores and reasons, numpy/scipy only."
    )


if __name__ == "__main__":
    main()
