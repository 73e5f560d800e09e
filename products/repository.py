"""Queries about products, the filings that name them and product-risk cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from schemas.complaint import Complaint
from schemas.department import Department
from schemas.product import (
    FilingProduct,
    Product,
    ProductRiskCase,
    ProductRiskEvent,
    ProductRiskFiling,
    RecallNotice,
)


def product_by_record_key(session: Session, record_key: str) -> Product | None:
    return session.exec(select(Product).where(Product.record_key == record_key)).first()


def product_key_with_barcode(session: Session, name_key: str) -> str | None:
    """The key of a product with a barcode that was also named this way, if any."""
    return session.exec(
        select(Product.product_key)
        .where(Product.name_key == name_key)
        .where(col(Product.gtin).is_not(None))
        .order_by(col(Product.id))
        .limit(1)
    ).first()


def filings_about(
    session: Session, *, product_key: str, since: datetime, record_key: str | None = None
) -> int:
    """Filings received since `since` about the product (or about one batch of it)."""
    query = (
        select(func.count())
        .select_from(FilingProduct)
        .join(Product, col(Product.id) == col(FilingProduct.product_id))
        .join(Complaint, col(Complaint.id) == col(FilingProduct.complaint_id))
        .where(Product.product_key == product_key)
        .where(col(Complaint.created_at) >= since)
    )
    if record_key is not None:
        query = query.where(Product.record_key == record_key)
    return int(session.exec(query).one())


def filing_ids_about(session: Session, *, product_key: str, since: datetime) -> Sequence[int]:
    return session.exec(
        select(FilingProduct.complaint_id)
        .join(Product, col(Product.id) == col(FilingProduct.product_id))
        .join(Complaint, col(Complaint.id) == col(FilingProduct.complaint_id))
        .where(Product.product_key == product_key)
        .where(col(Complaint.created_at) >= since)
        .order_by(col(FilingProduct.complaint_id))
    ).all()


def unfinished_case(session: Session, product_key: str) -> ProductRiskCase | None:
    return session.exec(
        select(ProductRiskCase).where(ProductRiskCase.open_key == product_key)
    ).first()


def quality_department(session: Session, sector: str) -> Department | None:
    """The active department the registry gives `sector` (JSON lists: filtered here)."""
    rows = session.exec(
        select(Department)
        .where(col(Department.active))
        .where(col(Department.is_triage).is_(False))
        .order_by(col(Department.id))
    ).all()
    return next((d for d in rows if sector in d.sectors), None)


def linked_ids(session: Session, case_id: int) -> set[int]:
    return set(
        session.exec(
            select(ProductRiskFiling.complaint_id).where(ProductRiskFiling.case_id == case_id)
        ).all()
    )


def case_filings(
    session: Session, case_id: int
) -> Sequence[tuple[Complaint, Product | None, FilingProduct | None]]:
    rows = session.exec(
        select(Complaint, Product, FilingProduct)
        .join(ProductRiskFiling, col(ProductRiskFiling.complaint_id) == col(Complaint.id))
        .outerjoin(FilingProduct, col(FilingProduct.complaint_id) == col(Complaint.id))
        .outerjoin(Product, col(Product.id) == col(FilingProduct.product_id))
        .where(ProductRiskFiling.case_id == case_id)
        .order_by(col(Complaint.id))
    ).all()
    return [(c, p, f) for c, p, f in rows]


def case_history(session: Session, case_id: int) -> Sequence[ProductRiskEvent]:
    return session.exec(
        select(ProductRiskEvent)
        .where(ProductRiskEvent.case_id == case_id)
        .order_by(col(ProductRiskEvent.id))
    ).all()


def notices(session: Session, case_id: int) -> Sequence[RecallNotice]:
    return session.exec(select(RecallNotice).where(RecallNotice.case_id == case_id)).all()


def cases(
    session: Session, *, department_id: int | None, state: str | None, limit: int
) -> Sequence[ProductRiskCase]:
    query = select(ProductRiskCase)
    if department_id is not None:
        query = query.where(ProductRiskCase.department_id == department_id)
    if state:
        query = query.where(ProductRiskCase.state == state)
    return session.exec(query.order_by(col(ProductRiskCase.id).desc()).limit(limit)).all()


def unfinished_cases_of_inactive_departments(session: Session) -> Sequence[ProductRiskCase]:
    """Cases still open whose department a registry load deactivated."""
    return session.exec(
        select(ProductRiskCase)
        .join(Department, col(Department.id) == col(ProductRiskCase.department_id))
        .where(col(ProductRiskCase.open_key).is_not(None))
        .where(col(Department.active).is_(False))
        .order_by(col(ProductRiskCase.id))
    ).all()
