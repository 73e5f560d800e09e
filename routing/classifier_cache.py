"""The classifier a routing process uses, rebuilt only when a new registry is loaded."""

from __future__ import annotations

import threading

from sqlmodel import Session

from classifiers.base import Classifier
from classifiers.keyword import DepartmentTerms, KeywordClassifier
from core.errors import ServiceUnavailable
from routing import repository

_lock = threading.Lock()
_cached: tuple[int, Classifier] | None = None


def current_classifier(session: Session) -> Classifier:
    """The keyword classifier for the latest registry load (one cheap query per call)."""
    global _cached
    load = repository.latest_registry_load(session)
    if load is None or load.id is None:
        raise ServiceUnavailable(
            "no department registry loaded; run `complaints departments load FILE`"
        )
    with _lock:
        if _cached is None or _cached[0] != load.id:
            terms = [
                DepartmentTerms(
                    code=d.code,
                    names=(d.name, *d.aliases),
                    keywords=tuple(d.keywords),
                )
                for d in repository.active_departments(session)
                if not d.is_triage
            ]
            classifier = KeywordClassifier(terms, version=f"registry-{load.version}").load()
            _cached = (load.id, classifier)
        return _cached[1]


def forget_classifier() -> None:
    global _cached
    with _lock:
        _cached = None
