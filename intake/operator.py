"""The hotline operator's call: filed with the operator's name, overrides kept as hints.

An operator may correct the suggested kind, department or place, always with a reason.
The department and place overrides travel with the filing as `routing_hints`, which the
router follows (and records as a correction the classifier learns from); a call that holds
both a complaint and a tip-off is filed as two linked filings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import Session

from accounts.service import Staff
from cases.lifecycle import Actor, record
from classifiers.kind import detect_kind
from core.errors import InvalidInput, PermissionDenied
from intake import repository
from intake.idempotency import Answer, client_scope, run_once
from intake.service import Filed, FilingDraft, create_filing, file_tip
from intake.tracking_number import display_tracking_number
from rewards import receipts
from routing.repository import department_by_code
from schemas.complaint import (
    BUSINESS_REQUIRED,
    Complaint,
    complaint_only_reason,
    name_missing,
    name_required,
)
from schemas.enums import Channel, Kind, Role
from schemas.operator import FiledRef, OperatorCall, OperatorFiled
from schemas.reporter import ReporterIdentityIn
from supervision.repository import active_by_phone

_MAY_TAKE_CALLS = frozenset({Role.operator, Role.supervisor, Role.admin})
# On both filings of a split call; open data finds the complaint by it (its text is the
# tip-off's too, so it is not published).
SPLIT_REASON = "split from one call into a complaint and a tip-off"


def require_operator(staff: Staff) -> None:
    if staff.role not in _MAY_TAKE_CALLS:
        raise PermissionDenied("only hotline operators and supervisors take calls")


def file_call(session: Session, *, call: OperatorCall, staff: Staff) -> tuple[list[Filed], Kind]:
    """Add the call's filing(s) to the caller's transaction; returns them and the detected kind."""
    require_operator(staff)
    detected = detect_kind(call.text)
    kinds = [Kind.complaint, Kind.tip] if call.split else [call.kind or detected.kind]
    if call.kind is not None and call.kind is not detected.kind and not call.override_reason:
        raise InvalidInput(
            f"the text reads as {detected.kind.value}; give override_reason to file it as "
            f"{call.kind.value}"
        )
    if call.business_name is None and any(kind is not Kind.inquiry for kind in kinds):
        # As on the web form (schemas.complaint): the regulator must know which business.
        raise InvalidInput(
            f"business_name: {BUSINESS_REQUIRED}",
            errors=[{"field": "business_name", "reason": BUSINESS_REQUIRED}],
        )
    if call.caller_name is None and Kind.complaint in kinds and name_required(Kind.complaint):
        # As on the web form: a complaint is made under the complainant's real name.
        reason = name_missing("caller_name")
        raise InvalidInput(
            f"caller_name: {reason}", errors=[{"field": "caller_name", "reason": reason}]
        )
    if Kind.complaint not in kinds:
        # Known once the kind is (detected or given), as business_name is above.
        for field in ("caller_address", "demand"):
            if getattr(call, field) is not None:
                reason = complaint_only_reason(field, kinds[0])
                raise InvalidInput(
                    f"{field}: {reason}", errors=[{"field": field, "reason": reason}]
                )
    if call.department:
        target = department_by_code(session, call.department)
        if target is None or not target.active:
            raise InvalidInput(f"no active department {call.department!r}")
    hints: dict[str, Any] = {
        key: value
        for key, value in {"department": call.department, "place": call.place}.items()
        if value
    }
    if hints:
        hints |= {"reason": call.override_reason, "by": staff.username}
    actor = Actor.staff(staff.username, staff.id)
    filings: list[Filed] = []
    for kind in kinds:
        draft = FilingDraft(
            kind=kind,
            text=call.text,
            contact_phone=call.caller_phone,
            business_name=call.business_name,
            business_uscc=call.business_uscc,
            business_address=call.business_address,
            region=call.region,
        )
        if kind is Kind.complaint:
            # What the rules ask of a complaint, typed by the operator. An inquiry keeps no
            # name (none is needed to answer it); a tip-off's goes to the vault below.
            draft = replace(
                draft,
                complainant_name=call.caller_name,
                complainant_address=call.caller_address,
                demand=call.demand,
            )
        payload = {
            "operator": staff.username,
            "kind_detected": detected.kind.value,
            "kind_reasons": list(detected.reasons),
            "override_reason": call.override_reason,
        }
        if kind is Kind.tip:
            # The caller's number and name go to the vault; the operator reads the receipt
            # code to the caller, once.
            reporter = ReporterIdentityIn(phone=call.caller_phone, name=call.caller_name)
            filings.append(
                file_tip(
                    session,
                    draft=draft,
                    reporter=reporter,
                    channel=Channel.hotline,
                    actor=actor,
                    payload=payload,
                    routing_hints=hints,
                    # A split call's product goes with its complaint only: a product-risk
                    # case listing both would tie the tip-off to the caller's number.
                    product=None if call.split else call.product,
                )
            )
        else:
            complaint = create_filing(
                session,
                draft=draft,
                channel=Channel.hotline,
                actor=actor,
                payload=payload,
                routing_hints=hints,
                # An appointed quality supervisor calling from its registered number.
                supervisor=active_by_phone(session, call.caller_phone),
                product=call.product,
            )
            filings.append(Filed(complaint))
    if len(filings) == 2:
        # No cross-reference: the complaint carries the caller's number, and a link would
        # let the tip-off's department find out who reported.
        for filed in filings:
            record(
                session,
                complaint=filed.complaint,
                actor=actor,
                reason=SPLIT_REASON,
            )
    return filings, detected.kind


def caller_history(session: Session, *, staff: Staff, phone: str, limit: int) -> list[Complaint]:
    require_operator(staff)
    return list(repository.filings_by_phone(session, phone, limit=limit))


def take_call_once(
    session: Session, *, call: OperatorCall, staff: Staff, key: str | None
) -> Answer:
    """File the call at most once per key (the JSON API's Idempotency-Key, the console's
    form key), and commit. A tip-off's receipt code is in the first answer only."""
    require_operator(staff)

    def produce() -> Answer:
        return filed_answer(*file_call(session, call=call, staff=staff))

    tip = call.split or (call.kind or detect_kind(call.text).kind) is Kind.tip
    return run_once(
        session,
        scope=lambda: client_scope(staff_id=staff.id, client_address=None),
        key=key,
        content=lambda: call.model_dump(mode="json"),
        produce=produce,
        coarse=tip,
    )


def filed_answer(filings: list[Filed], detected: Kind) -> Answer:
    """What the operator is shown: the numbers, and a tip-off's receipt code to read aloud."""
    refs = [
        FiledRef(
            tracking_number=f.complaint.tracking_number,
            tracking_number_display=display_tracking_number(f.complaint.tracking_number),
            kind=f.complaint.kind,
            status=f.complaint.status,
            receipt_code_display=receipts.display(f.receipt_code) if f.receipt_code else None,
        )
        for f in filings
    ]
    body = OperatorFiled(filings=refs, kind_detected=detected).model_dump(mode="json")
    # A retry gets the same answer but the receipt code: it is shown once, never stored.
    replay = OperatorFiled(
        filings=[ref.model_copy(update={"receipt_code_display": None}) for ref in refs],
        kind_detected=detected,
    ).model_dump(mode="json")
    return Answer(status=201, body=body, replay_body=replay)
