"""The product-risk cases in the department desk, under /staff/product-risks.

Thin handlers over products.views and products.risk, the services the JSON API uses: the
list of the department's cases, one case with its evidence and history, and the outcome
form (a recall texts each complainant once).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.service import Staff
from cases.lifecycle import Actor
from core.deps import SessionDep
from core.errors import Conflict
from products import risk, views
from schemas.enums import Role
from web.render import render
from web.security import CsrfChecked, PageStaff, require_page_role

router = APIRouter(prefix="/staff/product-risks", include_in_schema=False)

PAGE_SIZE = 100
OUTCOME_LABELS = {
    "no_defect": "核查结论：未发现缺陷",
    "defect_confirmed": "核查结论：确认存在缺陷",
    "recall_ordered": "责令召回（短信告知每位投诉人）",
    "recall_finished": "召回已完成",
}
CHANNEL_LABELS = {"web": "网站", "sms": "短信", "hotline": "热线", "open311": "外部系统"}
DONE = {state: f"已记录：{label}。" for state, label in risk.STATE_LABELS.items()}


def _desk_staff(request: Request, staff: Staff) -> None:
    request.state.staff = staff
    require_page_role(staff, Role.department, Role.supervisor, Role.admin)


@router.get("", response_class=HTMLResponse)
def cases_page(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    state: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    _desk_staff(request, staff)
    chosen = state.strip()
    problems = [] if not chosen or chosen in risk.STATE_LABELS else ["请从列表中选择状态。"]
    context: dict[str, Any] = {
        "chosen": chosen,
        "states": risk.STATE_LABELS,
        "triggers": risk.TRIGGER_LABELS,
        "problems": problems,
        "cases": [],
    }
    if problems:
        return render(request, "desk/product_risks.html", context, status_code=422)
    found = views.listing(session, staff=staff, state=chosen or None, limit=PAGE_SIZE)
    context["cases"] = [views.view(session, case) for case in found]
    return render(request, "desk/product_risks.html", context)


def _case_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    case_id: int,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    view = views.view(session, views.visible_case(session, staff=staff, case_id=case_id))
    context = {
        "view": view,
        "states": risk.STATE_LABELS,
        "triggers": risk.TRIGGER_LABELS,
        "outcomes": {o: OUTCOME_LABELS[o] for o in view.allowed_outcomes},
        "channels": CHANNEL_LABELS,
        "notice": notice,
        "problem": problem,
    }
    return render(request, "desk/product_risk.html", context, status_code=status_code)


@router.get("/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: int,
    session: SessionDep,
    staff: PageStaff,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    _desk_staff(request, staff)
    return _case_page(request, session, staff, case_id, notice=DONE.get(done))


@router.post("/{case_id}/outcome", response_class=HTMLResponse)
def record_outcome(
    request: Request,
    case_id: int,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
    outcome: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    _desk_staff(request, staff)
    views.visible_case(session, staff=staff, case_id=case_id)
    if outcome not in OUTCOME_LABELS or len(note.strip()) < 2:
        problem = "请选择结论，并填写说明（至少2个字）。"
        return _case_page(request, session, staff, case_id, problem=problem, status_code=422)
    try:
        risk.record_outcome(
            session,
            case_id=case_id,
            outcome=outcome,
            actor=Actor.staff(staff.username, staff.id),
            note=note.strip(),
        )
    except Conflict:
        session.rollback()
        problem = "这项结论与案件当前状态不符，或已被他人更新，请刷新后再试。"
        return _case_page(request, session, staff, case_id, problem=problem, status_code=409)
    session.commit()
    return RedirectResponse(f"/staff/product-risks/{case_id}?done={outcome}", status_code=303)
