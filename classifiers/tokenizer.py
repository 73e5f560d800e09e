"""Chinese word segmentation: jieba in precise mode, with the domain's words added."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any


@cache
def jieba_module() -> Any:
    """jieba, imported on first use: with its pkg_resources it is 0.1 s of every process's
    start-up, and most processes (the API, each CLI command) never segment a text."""
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources, which setuptools deprecates; nothing we can act on.
        warnings.simplefilter("ignore", UserWarning)
        import jieba

    # jieba announces dictionary loading on its own logger at INFO; that is not our news.
    jieba.setLogLevel(logging.WARNING)
    return jieba


@cache
def rjieba_module() -> Any:
    """jieba-rs through rjieba (the same dictionary and cuts without HMM, ~15× faster), or None
    where it is not installed; imported on first use, as jieba is (0.13 s)."""
    try:
        import rjieba
    except ImportError:  # pragma: no cover - depends on the install
        return None
    return rjieba


# High enough that a domain word wins over jieba's own split of it.
_USER_WORD_FREQ = 2_000_000

# Each loaded tokenizer holds jieba's whole dictionary; keep only the latest few word lists.
_SHARED_KEEP = 2
_shared: dict[frozenset[str], Tokenizer] = {}
_shared_lock = threading.Lock()


class Tokenizer:
    """A jieba tokenizer of its own (not the global one), so each vocabulary stays separate."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._jieba = jieba_module().Tokenizer()
        self._fast: Any = None
        self._lock = threading.Lock()
        self._words = sorted({w.strip() for w in user_words if w and w.strip()})
        self._ready = False

    @property
    def user_words(self) -> list[str]:
        return list(self._words)

    def load(self) -> Tokenizer:
        """Load the main dictionary and the user words; done once, before any job runs."""
        with self._lock:
            if not self._ready:
                self._jieba.initialize()
                for word in self._words:
                    self._jieba.add_word(word, freq=_USER_WORD_FREQ)
                rjieba = rjieba_module()
                if rjieba is not None:
                    self._fast = rjieba.Jieba()
                    for word in self._words:
                        self._fast.add_word(word, _USER_WORD_FREQ, None)
                self._ready = True
        return self

    def tokenize(self, text: str, *, hmm: bool = True) -> list[str]:
        """Precise-mode words; `hmm` lets jieba guess words missing from its dictionary.

        Without HMM the cut comes from rjieba when it is installed: it agrees with jieba on
        every text of the hotline training set (tests/classifiers/test_features.py checks).
        """
        if not self._ready:
            self.load()
        if not hmm and self._fast is not None:
            return [tok for tok in self._fast.cut(text, False) if tok.strip()]
        return [tok for tok in self._jieba.lcut(text, cut_all=False, HMM=hmm) if tok.strip()]

    def word_bounds(self, text: str) -> frozenset[int]:
        """The offsets in `text` where one word ends and the next begins, 0 and the end
        included (precise mode, no HMM): spaces are tokens here, so the offsets add up."""
        if not self._ready:
            self.load()
        if self._fast is not None:
            words = self._fast.cut(text, False)
        else:
            words = self._jieba.lcut(text, cut_all=False, HMM=False)
        bounds, offset = {0}, 0
        for word in words:
            offset += len(word)
            bounds.add(offset)
        return frozenset(bounds)

    @property
    def fast(self) -> bool:
        """Whether cuts without HMM use rjieba."""
        return self._fast is not None

    def is_word(self, term: str) -> bool:
        """Whether the term is in the dictionary (jieba's or ours), not guessed by its HMM."""
        if not self._ready:
            self.load()
        return self._jieba.FREQ.get(term, 0) > 0


def shared_tokenizer(user_words: Iterable[str] = ()) -> Tokenizer:
    """One loaded tokenizer per process for each word list, so jieba's dictionary loads once."""
    key = frozenset(w.strip() for w in user_words if w and w.strip())
    with _shared_lock:
        tokenizer = _shared.pop(key, None) or Tokenizer(key)
        _shared[key] = tokenizer  # re-inserted: the dict's order is the order of last use
        while len(_shared) > _SHARED_KEEP:
            del _shared[next(iter(_shared))]
    return tokenizer.load()


@cache
def stopwords() -> frozenset[str]:
    """Words never shown to staff as a reason (they say nothing about the department)."""
    text = resources.files("classifiers").joinpath("stopwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
