"""What every classifier gives back, and the one method routing calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Suggestion:
    """One candidate label with a score in [0, 1] and the terms that argued for it."""

    label: str
    score: float
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": round(self.score, 4), "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Prediction:
    classifier: str
    version: str
    top: tuple[Suggestion, ...] = field(default_factory=tuple)  # best first

    @property
    def best(self) -> Suggestion | None:
        return self.top[0] if self.top else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "classifier": self.classifier,
            "version": self.version,
            "top": [s.as_dict() for s in self.top],
        }


class Classifier(Protocol):
    name: str
    version: str

    def predict(self, text: str) -> Prediction: ...
