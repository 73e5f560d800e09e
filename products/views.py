"""What staff read of a product-risk case: the product, the evidence, the history."""

from __future__ import annotations

from sqlmodel import Session

from accounts.service import Staff
from core.errors import NotFound, PermissionDenied
from core.timeutil import as_china
from products import repository
from products.risk import MOVES, STATE_LABELS
from schemas.department import Department, DepartmentRef
from schemas.enums import Kind, Role
from schemas.product import (
    Product,
    ProductRiskCase,
    ProductRiskView,
    ProductView,
    RiskEventView,
    RiskFilingView,
)

SUMMARY_LENGTH = 60


def require_reader(staff: Staff) -> None:
    if staff.role not in {Role.department, Role.supervisor, Role.admin}:
        raise PermissionDenied("product-risk cases are for department staff and supervisors")


def visible_case(session: Session, *, staff: Staff, case_id: int) -> ProductRiskCase:
    """The case if `staff` may see it; another department's case is not found (404)."""
    require_reader(staff)
    case = session.get(ProductRiskCase, case_id)
    if case is None or not (
        staff.sees_every_department or case.department_id == staff.department_id
    ):
        raise NotFound(f"no product-risk case {case_id}")
    return case


def listing(
    session: Session, *, staff: Staff, state: str | None, limit: int
) -> list[ProductRiskCase]:
    require_reader(staff)
    department_id = None if staff.sees_every_department else staff.department_id
    return list(repository.cases(session, department_id=department_id, state=state, limit=limit))


def _place(province: str | None, city: str | None, county: str | None) -> str | None:
    return "".join(p for p in (province, city, county) if p) or None


def view(session: Session, case: ProductRiskCase) -> ProductRiskView:
    assert case.id is not None
    product = session.get(Product, case.product_id)
    department = session.get(Department, case.department_id)
    assert product is not None
    assert product.id is not None
    assert department is not None
    filings: list[RiskFilingView] = []
    for complaint, linked, link in repository.case_filings(session, case.id):
        assert complaint.id is not None
        place = _place(complaint.place_province, complaint.place_city, complaint.place_county)
        filings.append(
            RiskFilingView(
                id=complaint.id,
                tracking_number=complaint.tracking_number,
                channel=complaint.channel.value,
                filed_on=as_china(complaint.created_at).date().isoformat(),
                place=place or complaint.region,
                batch=linked.batch if linked else None,
                injury=bool(link and link.injury),
                # A tip-off's text stays on its own page, where its protections apply.
                summary="" if complaint.kind is Kind.tip else complaint.text[:SUMMARY_LENGTH],
            )
        )
    days = sorted(f.filed_on for f in filings)
    return ProductRiskView(
        id=case.id,
        state=case.state,
        state_label=STATE_LABELS[case.state],
        trigger=case.trigger,
        trigger_detail=case.trigger_detail,
        department=DepartmentRef(code=department.code, name=department.name),
        product=ProductView(
            id=product.id,
            gtin=product.gtin,
            name=product.name,
            brand=product.brand,
            model=product.model,
            batch=product.batch,
        ),
        batches=sorted({f.batch for f in filings if f.batch}),
        places=sorted({f.place for f in filings if f.place}),
        first_filed_on=days[0] if days else None,
        last_filed_on=days[-1] if days else None,
        filings=filings,
        allowed_outcomes=sorted(MOVES[case.state]),
        recall_notices=len(repository.notices(session, case.id)),
        history=[
            RiskEventView(
                at=e.at, actor=e.actor, from_state=e.from_state, to_state=e.to_state, note=e.note
            )
            for e in repository.case_history(session, case.id)
        ],
        created_at=case.created_at,
    )
