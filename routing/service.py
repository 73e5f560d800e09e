"""Routing: a filing goes to the department and office that own it, or to triage.

The fallback chain, in order:
1. the classifier's best department, if its score reaches the engine's threshold (a trained
   model's, chosen on validation data for a target precision; the keyword classifier's
   from settings) and the label names an active department;
2. otherwise the registry's triage queue, with the top suggestions attached so the person
   who triages starts from them.
Then the office: the department's office for the place whose office has jurisdiction
(routing.jurisdiction: the business's address, an e-commerce platform's registered place,
the places the text names).
Every decision is stored on the filing's history with its inputs and reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from cases import repository as cases_repository
from cases.lifecycle import Actor, transition
from cases.policy import current_policy
from classifiers.base import Prediction
from classifiers.kind import KindGuess, detect_kind
from classifiers.place import Place
from core.errors import ServiceUnavailable
from core.timeutil import stamp
from routing import repository
from routing.engine import RoutingEngine
from routing.jurisdiction import Ground, locate_filing
from routing.offices import ActiveOffice
from routing.sectors import guess_sector
from schemas.complaint import Complaint
from schemas.correction import RoutingCorrection
from schemas.department import Department
from schemas.enums import Kind, Status

ROUTER = Actor.system("router")


@dataclass(frozen=True)
class Filing:
    """What the router reads of a filing (a stored one, or an operator's draft)."""

    text: str
    business_name: str | None = None
    business_address: str | None = None
    region: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)  # an operator's overrides
    kind: Kind | None = None  # as filed; a draft's is read from its text

    @property
    def classification_text(self) -> str:
        # The business name often names the sector (某某电梯公司, 某某医院); classify it too.
        return "\n".join(part for part in (self.business_name, self.text) if part)

    @classmethod
    def of(cls, complaint: Complaint) -> Filing:
        return cls(
            text=complaint.text,
            business_name=complaint.business_name,
            business_address=complaint.business_address,
            region=complaint.region,
            hints=dict(complaint.routing_hints or {}),
            kind=complaint.kind,
        )


@dataclass(frozen=True)
class Decision:
    status: Status  # routed or triage
    department: Department
    office: ActiveOffice | None
    place: Place | None
    kind: KindGuess
    prediction: Prediction
    threshold: float
    reason: str
    ground: Ground  # why this place's office: the jurisdiction rule that chose it
    classifier_choice: str | None = None  # the department the classifier alone would pick

    @property
    def score(self) -> float | None:
        best = self.prediction.best
        return best.score if best else None

    def payload(self, engine: RoutingEngine) -> dict[str, Any]:
        best = self.prediction.best
        return {
            "department": self.department.code,
            "office": self.office.code if self.office else None,
            "score": round(best.score, 4) if best else None,
            "threshold": self.threshold,
            "reasons": list(best.reasons) if best else [],
            **self.prediction.as_dict(),
            "top": [
                {**s.as_dict(), "department": engine.department_for(s.label)}
                for s in self.prediction.top
            ],
            "place": self.place.as_dict() if self.place else None,
            "jurisdiction": self.ground.as_dict(),
            "kind": {
                "detected": self.kind.kind.value,
                "confidence": round(self.kind.confidence, 4),
                "reasons": list(self.kind.reasons),
                "split_suggested": self.kind.split_suggested,
            },
        }


def decide(session: Session, *, filing: Filing, engine: RoutingEngine) -> Decision:
    """Classify a filing and pick its department and office; writes nothing."""
    prediction = engine.classifier.predict(filing.classification_text)
    kind = detect_kind(filing.text)
    place, ground = locate_filing(
        text=filing.text,
        business_name=filing.business_name,
        business_address=filing.business_address,
        region=filing.region,
        hinted_place=filing.hints.get("place"),
        kind=filing.kind or kind.kind,
        places=engine.places,
        platforms=engine.platforms,
    )
    chosen, status, reason, suggested = _department(session, filing, prediction, engine)
    assert chosen.id is not None
    office = engine.office_for(chosen.id, place)
    return Decision(
        status=status,
        department=chosen,
        office=office,
        place=place,
        kind=kind,
        prediction=prediction,
        threshold=engine.threshold,
        reason=reason,
        ground=ground,
        classifier_choice=suggested,
    )


def _department(
    session: Session, filing: Filing, prediction: Prediction, engine: RoutingEngine
) -> tuple[Department, Status, str, str | None]:
    """(department, status, reason, what the classifier alone would have chosen)."""
    departments = repository.known_departments(session)
    best = prediction.best
    code = engine.department_for(best.label) if best else None
    candidate = departments.get(code) if code else None
    confident = (
        best is not None
        and candidate is not None
        and candidate.active
        and best.score >= engine.threshold
    )
    suggested = candidate.code if confident and candidate else None
    override = departments.get(filing.hints.get("department") or "")
    if override is not None and override.active:
        # The operator heard the caller; the classifier only read the words.
        status = Status.triage if override.is_triage else Status.routed
        reason = (
            f"operator {filing.hints.get('by')} chose {override.code}: {filing.hints.get('reason')}"
        )
        return override, status, reason, suggested
    if confident and candidate is not None and best is not None:
        return (
            candidate,
            Status.routed,
            f"classified as {candidate.code} with score {best.score:.2f}",
            suggested,
        )
    triage = repository.triage_department(session)
    if triage is None:
        raise ServiceUnavailable("the registry has no active triage department")
    if best is None:
        reason = "no department matched"
    elif code is None:
        reason = f"the classifier's label {best.label!r} names no department of the registry"
    else:
        reason = f"best score {best.score:.2f} is below the threshold {engine.threshold:.2f}"
    return triage, Status.triage, reason, None


@dataclass(frozen=True)
class RoutingOutcome:
    complaint_id: int
    department_code: str
    status: Status
    score: float | None
    filed_at: datetime
    private: bool = False  # a tip-off's: logs leave its id out, metrics its latency


def load_complaints(session: Session, ids: Sequence[int]) -> Sequence[Complaint]:
    """These filings in one query; while the caller holds them, the session's identity map
    answers each `session.get` of a batch without SQL."""
    return cases_repository.complaints_by_id(session, ids)


def route_complaint(
    session: Session, *, complaint_id: int, engine: RoutingEngine
) -> RoutingOutcome | None:
    """Route one received filing; None when it is gone or already routed (idempotent)."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.status is not Status.received:
        return None
    decision = decide(session, filing=Filing.of(complaint), engine=engine)
    where = decision.office.name if decision.office else decision.department.name
    routed = decision.status is Status.routed
    transition(
        session,
        complaint=complaint,
        to_status=decision.status,
        actor=ROUTER,
        reason=decision.reason,
        public_note=f"已分派至{where}" if routed else "转人工分拣，确定承办部门",
        changes={
            "department_id": decision.department.id,
            "office_id": decision.office.id if decision.office else None,
            **place_columns(decision.place),
            "sector": _sector(session, complaint, decision.department),
            "split_suggested": decision.kind.split_suggested,
        },
        payload=decision.payload(engine),
    )
    assert complaint.id is not None
    _refer_to_odr(session, complaint)
    _record_operator_choice(session, complaint, decision)
    return RoutingOutcome(
        complaint_id=complaint.id,
        department_code=decision.department.code,
        status=decision.status,
        score=decision.score,
        filed_at=complaint.created_at,
        private=complaint.kind is Kind.tip,
    )


def _record_operator_choice(session: Session, complaint: Complaint, decision: Decision) -> None:
    """The department an operator chose is a labelled example the classifier learns from,
    whether it corrects the classifier or confirms its choice; sending the call to triage says
    only that the operator could not tell, so it teaches nothing."""
    hints = complaint.routing_hints or {}
    department = decision.department
    if hints.get("department") != department.code or department.is_triage:
        return
    assert complaint.id is not None
    confirmed = decision.classifier_choice == department.code
    session.add(
        RoutingCorrection(
            complaint_id=complaint.id,
            from_department=decision.classifier_choice,
            to_department=department.code,
            source="operator_confirmed" if confirmed else "operator",
            reason=str(hints.get("reason") or "")[:500],
            at=stamp(coarse=complaint.kind is Kind.tip),
        )
    )


def _sector(session: Session, complaint: Complaint, department: Department) -> str | None:
    """The sector as filed if the department answers for it (or it goes to triage with it);
    else the one the text names among the department's (routing.sectors), if any."""
    if complaint.sector and (complaint.sector in department.sectors or department.is_triage):
        return complaint.sector
    return guess_sector(
        sectors=list(department.sectors),
        labels=repository.sector_labels(session),
        text=Filing.of(complaint).classification_text,
    )


def _refer_to_odr(session: Session, complaint: Complaint) -> None:
    """A complaint about a business in online dispute resolution goes to the business first."""
    if complaint.kind is not Kind.complaint or complaint.status is not Status.routed:
        return
    if not complaint.business_uscc or not repository.odr_participant(
        session, complaint.business_uscc
    ):
        return
    days = current_policy().limits.odr_working_days
    transition(
        session,
        complaint=complaint,
        to_status=Status.odr,
        actor=ROUTER,
        reason="the business takes part in online dispute resolution",
        public_note=f"该经营者参加在线消费纠纷解决（ODR），先由经营者在{days}个工作日内与您协商和解",
        payload={"business_uscc": complaint.business_uscc},
    )


def place_columns(place: Place | None) -> dict[str, str | None]:
    return {
        "place_province": place.province if place else None,
        "place_city": place.city if place else None,
        "place_county": place.county if place else None,
        "place_code": place.code if place else None,
    }
