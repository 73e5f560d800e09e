"""jieba against the faster segmenter behind the same interface (rjieba): agreement and speed.

Both cut in precise mode without HMM, with the same user dictionary (the default registry's
names, aliases and keywords, and the department words mined from the data), over every text
of the training set. Prints the share of texts cut identically and texts per second of each.

    .venv/bin/python bench/segmenter.py [--data ../shared/data/haikou12345/train.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from support import REPO  # first: it puts the repository first on sys.path, this folder last

from classifiers.features import mine_user_words
from classifiers.tokenizer import Tokenizer, rjieba_module
from routing.registry import DEFAULT_REGISTRY, parse_registry

DEFAULT_DATA = REPO.parent / "shared" / "data" / "haikou12345" / "train.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if rjieba_module() is None:
        sys.exit("rjieba is not installed: nothing to compare jieba with")
    rows = list(csv.DictReader(args.data.open(encoding="utf-8")))
    texts = [r["诉求内容"] for r in rows]
    registry = parse_registry(DEFAULT_REGISTRY).registry
    words = {w for d in registry.departments for w in (d.name, *d.aliases, *d.keywords)}
    words |= set(mine_user_words(texts, [r["处置单位"] for r in rows]))
    tokenizer = Tokenizer(words).load()

    started = time.perf_counter()
    slow = [tokenizer._jieba.lcut(t, cut_all=False, HMM=False) for t in texts]
    jieba_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fast = [tokenizer._fast.cut(t, False) for t in texts]
    rjieba_seconds = time.perf_counter() - started

    same = sum(1 for a, b in zip(slow, fast, strict=True) if list(a) == list(b))
    print(f"machine: {os.cpu_count()} cores; {len(texts)} texts, {len(words)} user words")
    share = same / len(texts)
    print(f"agreement: {same}/{len(texts)} texts cut identically ({share:.2%}; needed ≥ 99.5%)")
    print(f"jieba:  {len(texts) / jieba_seconds:,.0f} texts/s")
    print(f"rjieba: {len(texts) / rjieba_seconds:,.0f} texts/s")
    print(f"speed ratio rjieba/jieba: {jieba_seconds / rjieba_seconds:.1f}×")


if __name__ == "__main__":
    main()
