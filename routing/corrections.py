"""Labelled examples from staff decisions, for retraining the classifier on local history."""

from __future__ import annotations

from sqlmodel import Session, col, select

from routing.service import Filing
from schemas.complaint import Complaint
from schemas.correction import RoutingCorrection


def labelled_examples(session: Session) -> list[tuple[str, str]]:
    """(text, department code) for every filing a person moved; the last move is the label."""
    latest: dict[int, str] = {}
    rows = session.exec(select(RoutingCorrection).order_by(col(RoutingCorrection.id))).all()
    for correction in rows:
        latest[correction.complaint_id] = correction.to_department
    if not latest:
        return []
    complaints = session.exec(select(Complaint).where(col(Complaint.id).in_(list(latest)))).all()
    return [
        (Filing.of(c).classification_text, latest[c.id])
        for c in sorted(complaints, key=lambda c: c.id or 0)
        if c.id is not None
    ]
