"""Product-risk cases: the defect signal that opens one, its outcomes, and recall notices.

A case opens when filings about one product within the policy's window reach a threshold
(per batch or per product), or at once when one reports an injury. `open_key` is unique, so
one product has at most one unfinished case: two filings crossing the line together open
one, and the later filings link to it as evidence. Outcomes move the case along MOVES by
compare-and-set on (state, version), each with a history row. When a recall is ordered,
each complainant about the product gets one text through the outbox, never two: a notice
row per filing (unique) and one per phone number.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from cases.lifecycle import Actor, record
from cases.policy import current_policy
from core.errors import Conflict, NotFound
from core.timeutil import stamp, utcnow
from intake.tracking_number import display_tracking_number
from notify.service import queue_sms
from products import repository
from schemas.complaint import Complaint
from schemas.department import Department
from schemas.enums import Kind
from schemas.product import (
    Product,
    ProductRiskCase,
    ProductRiskEvent,
    ProductRiskFiling,
    RecallNotice,
)

log = logging.getLogger(__name__)

SIGNAL = Actor.system("product-risk")
REGISTRY = Actor.system("registry")
STATE_LABELS = {
    "open": "待核查",
    "no_defect": "未发现缺陷",
    "defect_confirmed": "确认存在缺陷",
    "recall_ordered": "已责令召回",
    "recall_finished": "召回已完成",
}
MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"no_defect", "defect_confirmed"}),
    "defect_confirmed": frozenset({"recall_ordered"}),
    "recall_ordered": frozenset({"recall_finished"}),
    "no_defect": frozenset(),
    "recall_finished": frozenset(),
}
FINISHED = frozenset({"no_defect", "recall_finished"})
TRIGGER_LABELS = {
    "injury": "有投诉反映造成人身伤害",
    "batch_threshold": "同一批次投诉达到阈值",
    "product_threshold": "同一产品投诉达到阈值",
}


def product_label(product: Product) -> str:
    named = " ".join(p for p in (product.brand, product.name, product.model) if p)
    return named or f"条码{product.gtin}"


def consider(session: Session, *, complaint: Complaint, product: Product, injury: bool) -> None:
    """Link a filing about `product` to its unfinished case, or open one if the signal says
    so (caller commits)."""
    existing = repository.unfinished_case(session, product.product_key)
    if existing is not None:
        _link(session, existing, [complaint])
        return
    policy = current_policy().product_risk
    since = utcnow() - timedelta(days=policy.window_days)
    detail: dict[str, Any] = {"window_days": policy.window_days}
    if injury and policy.injury_opens_case:
        trigger = "injury"
        detail["tracking_number"] = complaint.tracking_number
    else:
        per_batch = (
            repository.filings_about(
                session, product_key=product.product_key, since=since, record_key=product.record_key
            )
            if product.batch
            else 0
        )
        per_product = repository.filings_about(
            session, product_key=product.product_key, since=since
        )
        detail |= {"batch": product.batch, "batch_filings": per_batch, "filings": per_product}
        if product.batch and per_batch >= policy.batch_threshold:
            trigger = "batch_threshold"
            detail["threshold"] = policy.batch_threshold
        elif per_product >= policy.product_threshold:
            trigger = "product_threshold"
            detail["threshold"] = policy.product_threshold
        else:
            return
    department = repository.quality_department(session, policy.sector)
    if department is None or department.id is None:
        log.warning("no active department has sector %s: no product-risk case", policy.sector)
        return
    assert product.id is not None
    opened = stamp(coarse=complaint.kind is Kind.tip)  # a tip-off's rows: the day only
    case = ProductRiskCase(
        created_at=opened,
        updated_at=opened,
        product_key=product.product_key,
        open_key=product.product_key,
        product_id=product.id,
        department_id=department.id,
        state="open",
        trigger=trigger,
        trigger_detail=detail,
    )
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:  # another filing opened it a moment ago: join that one
        existing = repository.unfinished_case(session, product.product_key)
        assert existing is not None
        _link(session, existing, [complaint])
        return
    assert case.id is not None
    session.add(
        ProductRiskEvent(
            case_id=case.id,
            at=case.created_at,
            actor=SIGNAL.name,
            to_state="open",
            note=TRIGGER_LABELS[trigger],
            payload=detail,
        )
    )
    ids = set(repository.filing_ids_about(session, product_key=product.product_key, since=since))
    earlier = [session.get(Complaint, i) for i in sorted(ids - {complaint.id})]
    _link(session, case, [c for c in earlier if c is not None] + [complaint])
    log.info("product-risk case %d opened (%s)", case.id, trigger)


def hand_over(session: Session) -> dict[str, int]:
    """Unfinished cases of departments a new registry deactivated go to the department it
    gives the policy's sector (caller commits); how many went to each, by code.

    A case belongs to the product_quality department of the registry in force: left with a
    deactivated one, the new department's staff would never see it, and every later filing
    about the product would join it there (one unfinished case per product) instead of
    opening one for them. Finished cases stay where they were decided.
    """
    orphans = repository.unfinished_cases_of_inactive_departments(session)
    if not orphans:
        return {}
    department = repository.quality_department(session, current_policy().product_risk.sector)
    if department is None or department.id is None:
        log.warning("no active department has the product-risk sector: %d cases", len(orphans))
        return {}
    moved: dict[str, int] = {}
    now = utcnow()
    for case in orphans:
        assert case.id is not None
        before = session.get(Department, case.department_id)
        result = session.execute(
            update(ProductRiskCase)
            .where(col(ProductRiskCase.id) == case.id)
            .where(col(ProductRiskCase.version) == case.version)
            .values(department_id=department.id, version=case.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue  # changed meanwhile; the next load takes it
        session.add(
            ProductRiskEvent(
                case_id=case.id,
                at=now,
                actor=REGISTRY.name,
                from_state=case.state,
                to_state=case.state,
                note=f"部门登记册变更，移交{department.name}",
                payload={"from": before.code if before else None, "to": department.code},
            )
        )
        moved[department.code] = moved.get(department.code, 0) + 1
    session.flush()
    return moved


def _link(session: Session, case: ProductRiskCase, complaints: list[Complaint]) -> None:
    assert case.id is not None
    known = repository.linked_ids(session, case.id)
    for complaint in complaints:
        assert complaint.id is not None
        if complaint.id in known:
            continue
        session.add(ProductRiskFiling(case_id=case.id, complaint_id=complaint.id))
        known.add(complaint.id)
        if case.state == "recall_ordered":  # a complaint after the order is told as well
            session.flush()
            _notify_recall(session, case, [complaint])
    session.flush()


def record_outcome(
    session: Session, *, case_id: int, outcome: str, actor: Actor, note: str
) -> ProductRiskCase:
    """Move a case to `outcome` (caller commits); Conflict if not allowed or raced."""
    case = session.get(ProductRiskCase, case_id)
    if case is None:
        raise NotFound(f"no product-risk case {case_id}")
    if outcome not in MOVES[case.state]:
        raise Conflict(
            f"a case in state {case.state} cannot become {outcome}",
            current_state=case.state,
            allowed_next=sorted(MOVES[case.state]),
        )
    from_state, now = case.state, utcnow()
    values: dict[str, Any] = {"state": outcome, "version": case.version + 1, "updated_at": now}
    if outcome in FINISHED:
        values["open_key"] = None  # later filings about the product may open a new case
    result = session.execute(
        update(ProductRiskCase)
        .where(col(ProductRiskCase.id) == case_id)
        .where(col(ProductRiskCase.state) == from_state)
        .where(col(ProductRiskCase.version) == case.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(case)
        raise Conflict("the case was changed by someone else; reload it")
    session.refresh(case)
    session.add(
        ProductRiskEvent(
            case_id=case_id,
            at=now,
            actor=actor.name,
            actor_id=actor.staff_id,
            from_state=from_state,
            to_state=outcome,
            note=note[:500],
        )
    )
    if outcome == "recall_ordered":
        linked = [c for c, _, _ in repository.case_filings(session, case_id)]
        sent = _notify_recall(session, case, linked)
        log.info("recall ordered on product-risk case %d: %d texts queued", case_id, sent)
    return case


def _notify_recall(session: Session, case: ProductRiskCase, complaints: list[Complaint]) -> int:
    """One text per complainant not told yet (per filing and per phone number)."""
    assert case.id is not None
    product = session.get(Product, case.product_id)
    assert product is not None
    told_filings = {n.complaint_id for n in repository.notices(session, case.id)}
    told_phones = {
        c.contact_phone
        for c, _, _ in repository.case_filings(session, case.id)
        if c.id in told_filings and c.contact_phone
    }
    sent = 0
    for complaint in complaints:
        assert complaint.id is not None
        phone = complaint.contact_phone
        # A tip-off carries no contact (its reporter is in the vault); a purged filing neither.
        if complaint.kind is Kind.tip or not phone or complaint.id in told_filings:
            continue
        if phone in told_phones:
            continue
        message = queue_sms(
            session,
            to=phone,
            template="recall",
            params={
                "number": display_tracking_number(complaint.tracking_number),
                "product": product_label(product),
            },
            complaint_id=complaint.id,
        )
        session.add(RecallNotice(case_id=case.id, complaint_id=complaint.id, sms_id=message.id))
        record(
            session,
            complaint=complaint,
            actor=SIGNAL,
            reason="recall notice sent",
            payload={"product_risk_case": case.id},
        )
        told_filings.add(complaint.id)
        told_phones.add(phone)
        sent += 1
    session.flush()
    return sent
