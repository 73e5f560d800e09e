"""Chinese word segmentation: jieba in precise mode, with the domain's words added."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterable
from functools import cache
from importlib import resources

with warnings.catch_warnings():
    # jieba 0.42 imports pkg_resources, which setuptools deprecates; nothing we can act on.
    warnings.simplefilter("ignore", UserWarning)
    import jieba

# jieba announces dictionary loading on its own logger at INFO; that is not our news.
jieba.setLogLevel(logging.WARNING)

# High enough that a domain word wins over jieba's own split of it.
_USER_WORD_FREQ = 2_000_000

_shared: dict[frozenset[str], Tokenizer] = {}
_shared_lock = threading.Lock()


class Tokenizer:
    """A jieba tokenizer of its own (not the global one), so each vocabulary stays separate."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer()
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
                self._ready = True
        return self

    def tokenize(self, text: str) -> list[str]:
        if not self._ready:
            self.load()
        return [tok for tok in self._jieba.lcut(text, cut_all=False, HMM=True) if tok.strip()]


def shared_tokenizer(user_words: Iterable[str] = ()) -> Tokenizer:
    """One loaded tokenizer per process for each word list, so jieba's dictionary loads once."""
    key = frozenset(w.strip() for w in user_words if w and w.strip())
    with _shared_lock:
        tokenizer = _shared.get(key)
        if tokenizer is None:
            tokenizer = _shared[key] = Tokenizer(key)
    return tokenizer.load()


@cache
def stopwords() -> frozenset[str]:
    """Words never shown to staff as a reason (they say nothing about the department)."""
    text = resources.files("classifiers").joinpath("stopwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
