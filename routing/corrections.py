"""Labelled examples from staff decisions, for retraining the classifier on local history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from routing import repository
from routing.engine import label_map
from routing.service import Filing
from schemas.complaint import Complaint
from schemas.correction import RoutingCorrection
from schemas.department import Department


def labelled_examples(session: Session) -> list[tuple[str, str]]:
    """(text, department code) for every filing a person placed; the last move is the label.

    A filing whose latest move sent it (back) to triage teaches nothing until someone triages
    it again: that move said only "not this department". Transfers to triage record no
    correction, so the filing's current department is what tells.
    """
    latest: dict[int, str] = {}
    rows = session.exec(select(RoutingCorrection).order_by(col(RoutingCorrection.id))).all()
    for correction in rows:
        latest[correction.complaint_id] = correction.to_department
    if not latest:
        return []
    triage = set(session.exec(select(Department.id).where(col(Department.is_triage))).all())
    complaints = session.exec(select(Complaint).where(col(Complaint.id).in_(list(latest)))).all()
    return [
        (Filing.of(c).classification_text, latest[c.id])
        for c in sorted(complaints, key=lambda c: c.id or 0)
        if c.id is not None and c.department_id not in triage
    ]


@dataclass(frozen=True)
class DepartmentLabels:
    labels: list[str]  # each as its department's code, or as given if it names none
    unknown: list[str]  # the distinct labels that name no active department
    registry: dict[str, str]  # the map used: code, name or alias → code


def department_labels(session: Session, labels: Sequence[str]) -> DepartmentLabels:
    """Labels in one vocabulary, the registry's department codes, so that a CSV's names
    (处置单位) and the corrections' codes train one class per department. The router maps a
    predicted code to its department as it maps a name; a label the registry does not know
    stays as it is (its predictions go to triage)."""
    departments = [d for d in repository.active_departments(session) if not d.is_triage]
    registry = label_map(departments)
    mapped = [registry.get(label, label) for label in labels]
    unknown = sorted({label for label in labels if label not in registry})
    return DepartmentLabels(mapped, unknown, registry)
