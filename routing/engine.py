"""What a routing process holds in memory: classifier, gazetteer, platforms, threshold,
label map.

Built once per process and rebuilt only when a new registry is loaded (one cheap query
per use tells), so every job and every /classify call finds the tokenizer and model warm.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from classifiers.base import Classifier
from classifiers.keyword import DepartmentTerms, KeywordClassifier
from classifiers.place import Gazetteer, Place, gazetteer
from core.errors import ServiceUnavailable
from core.settings import get_settings
from routing import repository
from routing.offices import ActiveOffice, OfficeIndex
from routing.platforms import Platform, PlatformIndex
from schemas.department import Department
from schemas.office import Office


@dataclass(frozen=True)
class RoutingEngine:
    registry_load_id: int
    classifier: Classifier
    threshold: float  # below it: triage
    places: Gazetteer
    platforms: PlatformIndex  # e-commerce platforms and where they are registered
    departments: dict[str, str]  # classifier label (code, name or alias) → department code
    # Department id → its active offices. Only a registry load writes offices, and a new
    # load builds a new engine; read per batch, they were a twelfth of the router's CPU.
    offices: dict[int, OfficeIndex[ActiveOffice]] = field(default_factory=dict)

    def department_for(self, label: str) -> str | None:
        return self.departments.get(label)

    def office_for(self, department_id: int, place: Place | None) -> ActiveOffice | None:
        """The department's office for a filing about `place` (routing.offices)."""
        index = self.offices.get(department_id)
        return index.choose(place) if index is not None else None


_lock = threading.Lock()
_cached: RoutingEngine | None = None


def current_engine(session: Session) -> RoutingEngine:
    global _cached
    load = repository.latest_registry_load(session)
    if load is None or load.id is None:
        raise ServiceUnavailable(
            "no department registry loaded; run `complaints departments load FILE`"
        )
    with _lock:
        if _cached is None or _cached.registry_load_id != load.id:
            departments = [d for d in repository.active_departments(session) if not d.is_triage]
            classifier, threshold = _classifier(departments, f"registry-{load.version}")
            _cached = RoutingEngine(
                registry_load_id=load.id,
                classifier=classifier,
                threshold=threshold,
                places=gazetteer(load.home_province),
                platforms=PlatformIndex(Platform.from_stored(p) for p in load.platforms),
                departments=label_map(departments),
                offices=office_indexes(repository.every_active_office(session)),
            )
        return _cached


def forget_engine() -> None:
    global _cached
    with _lock:
        _cached = None


def office_indexes(offices: Sequence[Office]) -> dict[int, OfficeIndex[ActiveOffice]]:
    by_department: dict[int, list[ActiveOffice]] = {}
    for office in offices:
        by_department.setdefault(office.department_id, []).append(ActiveOffice.of(office))
    return {department: OfficeIndex(each) for department, each in by_department.items()}


def label_map(departments: list[Department]) -> dict[str, str]:
    """Every name a classifier may use for a department: its code, name and aliases."""
    labels: dict[str, str] = {}
    for dept in departments:
        for label in (*dept.aliases, dept.name, dept.code):  # codes win over a shared alias
            labels[label] = dept.code
    return labels


def _classifier(departments: list[Department], version: str) -> tuple[Classifier, float]:
    settings = get_settings()
    if settings.classifier_model is not None:
        return _trained(settings.classifier_model)
    keyword = KeywordClassifier(
        [
            DepartmentTerms(code=d.code, names=(d.name, *d.aliases), keywords=tuple(d.keywords))
            for d in departments
        ],
        version=version,
    ).load()
    return keyword, settings.routing_min_score


def _trained(path: Path) -> tuple[Classifier, float]:
    from classifiers.linear import LinearClassifier

    model = LinearClassifier.load(path)
    return model, model.threshold
