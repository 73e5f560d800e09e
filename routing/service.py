"""Routing: a classified filing goes to the department that owns it, or to triage.

The fallback chain, in order:
1. the classifier's best department, if its score reaches `routing_min_score` and the
   department is active;
2. otherwise the registry's triage queue, with the classifier's top suggestions attached
   so the person who triages starts from them.
Every decision is stored on the filing's history with its inputs and reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cases.lifecycle import Actor, transition
from classifiers.base import Classifier
from core.errors import ServiceUnavailable
from routing import repository
from schemas.complaint import Complaint
from schemas.enums import Status

ROUTER = Actor.system("router")


@dataclass(frozen=True)
class RoutingOutcome:
    complaint_id: int
    department_code: str
    status: Status
    score: float | None


def classification_text(complaint: Complaint) -> str:
    # The business name often names the sector (某某电梯公司, 某某医院); classify it too.
    return "\n".join(part for part in (complaint.business_name, complaint.text) if part)


def route_complaint(
    session: Session, *, complaint_id: int, classifier: Classifier, min_score: float
) -> RoutingOutcome | None:
    """Route one received filing; None when it is gone or already routed (idempotent)."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.status is not Status.received:
        return None
    prediction = classifier.predict(classification_text(complaint))
    departments = repository.departments_by_code(session)
    best = prediction.best
    chosen = departments.get(best.label) if best else None
    if best is not None and chosen is not None and chosen.active and best.score >= min_score:
        to_status = Status.routed
        reason = f"classified as {chosen.code} with score {best.score:.2f}"
        note = f"已分派至{chosen.name}"
    else:
        chosen = repository.triage_department(session)
        if chosen is None:
            raise ServiceUnavailable("the registry has no active triage department")
        to_status = Status.triage
        reason = (
            "no department matched"
            if best is None
            else f"best score {best.score:.2f} is below {min_score:.2f}"
        )
        note = "转人工分拣，确定承办部门"
    transition(
        session,
        complaint=complaint,
        to_status=to_status,
        actor=ROUTER,
        reason=reason,
        public_note=note,
        changes={"department_id": chosen.id},
        payload={
            "department": chosen.code,
            "score": round(best.score, 4) if best else None,
            "min_score": min_score,
            "reasons": list(best.reasons) if best else [],
            **prediction.as_dict(),
        },
    )
    assert complaint.id is not None
    return RoutingOutcome(
        complaint_id=complaint.id,
        department_code=chosen.code,
        status=to_status,
        score=best.score if best else None,
    )
