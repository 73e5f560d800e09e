"""Product-risk cases for the quality department and supervisors; barcode checks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from accounts.deps import StaffDep
from cases.lifecycle import Actor
from core.deps import SessionDep
from core.errors import InvalidInput
from products import risk, views
from schemas.product import ProductRiskList, ProductRiskView, RiskOutcomeIn
from schemas.validators import gtin14, gtin_problem, normalize_gtin

router = APIRouter(prefix="/api/v1", tags=["products"])

CaseID = Annotated[int, Path(ge=1, le=2**53 - 1)]
State = Literal["open", "no_defect", "defect_confirmed", "recall_ordered", "recall_finished"]
_READERS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not department staff or a supervisor"}
}


@router.get("/products/barcodes/{code}", responses={422: {"description": "not a valid GTIN"}})
def check_barcode(code: Annotated[str, Path(max_length=30)]) -> dict[str, str]:
    """Whether `code` is a GTIN-8/12/13/14 with the right check digit; its 14-digit form."""
    digits = normalize_gtin(code)
    problem = gtin_problem(digits)
    if problem:
        raise InvalidInput(f"barcode {problem}")
    return {"gtin": digits, "gtin14": gtin14(digits)}


@router.get("/product-risks", response_model=ProductRiskList, responses=_READERS)
def list_product_risks(
    session: SessionDep,
    staff: StaffDep,
    state: Annotated[State | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProductRiskList:
    """Product-risk cases of the staff member's department (supervisors: all), newest first."""
    found = views.listing(session, staff=staff, state=state, limit=limit)
    return ProductRiskList(data=[views.view(session, case) for case in found], count=len(found))


@router.get(
    "/product-risks/{case_id}",
    response_model=ProductRiskView,
    responses=_READERS | {404: {"description": "no such case in your department"}},
)
def read_product_risk(case_id: CaseID, session: SessionDep, staff: StaffDep) -> ProductRiskView:
    """The product, the linked filings with their places and dates, outcomes and history."""
    return views.view(session, views.visible_case(session, staff=staff, case_id=case_id))


@router.post(
    "/product-risks/{case_id}/outcome",
    response_model=ProductRiskView,
    responses=_READERS
    | {
        404: {"description": "no such case in your department"},
        409: {"description": "this outcome does not follow the case's state, or a race"},
    },
)
def record_product_risk_outcome(
    case_id: CaseID, body: RiskOutcomeIn, session: SessionDep, staff: StaffDep
) -> ProductRiskView:
    """no_defect or defect_confirmed, then recall_ordered (each complainant is texted once),
    then recall_finished."""
    views.visible_case(session, staff=staff, case_id=case_id)
    case = risk.record_outcome(
        session,
        case_id=case_id,
        outcome=body.outcome,
        actor=Actor.staff(staff.username, staff.id),
        note=body.note,
    )
    session.commit()
    return views.view(session, case)
