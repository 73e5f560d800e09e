"""The first department classifier: the registry's keywords, matched on jieba tokens.

A department scores 3 for each mention of its name or an alias and 1 for each keyword.
Its score is its share of all points plus a prior of 0.5 points, so one keyword alone
gives 0.67, two departments with one keyword each give 0.4 apiece, and nothing matched
gives no suggestion at all. Routing sends anything under its threshold to triage.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from classifiers.base import Prediction, Suggestion
from classifiers.tokenizer import Tokenizer, shared_tokenizer

NAME_WEIGHT = 3.0
KEYWORD_WEIGHT = 1.0
PRIOR = 0.5
# A word repeated many times is still one piece of evidence, not ten.
MAX_HITS_PER_WORD = 2


@dataclass(frozen=True)
class DepartmentTerms:
    code: str
    names: tuple[str, ...]  # the name and its aliases
    keywords: tuple[str, ...]


class KeywordClassifier:
    name = "keyword"

    def __init__(self, departments: Iterable[DepartmentTerms], *, version: str) -> None:
        self.version = version
        self._weights: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for dept in departments:
            for word in dept.names:
                self._weights[word].append((dept.code, NAME_WEIGHT))
            for word in dept.keywords:
                self._weights[word].append((dept.code, KEYWORD_WEIGHT))
        self._tokenizer: Tokenizer | None = None

    @property
    def tokenizer(self) -> Tokenizer:
        """The process's tokenizer for these words: a registry loaded again with the same
        vocabulary does not load jieba's dictionary again (half a second each time)."""
        if self._tokenizer is None:
            self._tokenizer = shared_tokenizer(self._weights)
        return self._tokenizer

    def load(self) -> KeywordClassifier:
        self.tokenizer.load()
        return self

    def predict(self, text: str) -> Prediction:
        hits = Counter(
            tok for tok in self.tokenizer.tokenize(text, hmm=False) if tok in self._weights
        )
        points: dict[str, float] = defaultdict(float)
        evidence: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for word, count in hits.items():
            for code, weight in self._weights[word]:
                gained = weight * min(count, MAX_HITS_PER_WORD)
                points[code] += gained
                evidence[code].append((gained, word))
        total = sum(points.values()) + PRIOR
        ranked = sorted(points.items(), key=lambda item: (-item[1], item[0]))[:3]
        top = tuple(
            Suggestion(
                label=code,
                score=value / total,
                reasons=tuple(w for _, w in sorted(evidence[code], key=lambda e: (-e[0], e[1]))),
            )
            for code, value in ranked
        )
        return Prediction(classifier=self.name, version=self.version, top=top)
