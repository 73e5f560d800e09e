"""The operator console's follow-up calls (回访) under /staff/operator/follow-ups: the list
of closed complaints waiting for their call, the number to dial (shown masked; the full
number on request, audited), and a form per complaint to record the call.

Thin handlers over cases.follow_ups, the service the JSON API uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from accounts.service import Staff
from cases import follow_ups
from cases.api import ComplaintID
from core.deps import SessionDep
from core.errors import Conflict, InvalidInput, NotFound
from schemas.follow_up import OUTCOME_LABELS, SATISFACTION_LABELS, FollowUpCallIn
from web.render import render
from web.security import CsrfChecked, PageStaff

router = APIRouter(prefix="/staff/operator/follow-ups", include_in_schema=False)

PAGE_SIZE = 50
CURSOR = r"^\d{1,17}_[1-9]\d{0,15}$"
HELP = {
    "satisfaction_missing": "接通后请选择满意程度：满意、基本满意或不满意。",
    "satisfaction_unexpected": "未接通或不愿回访时，不选择满意程度。",
    "outcome": "请选择回访结果。",
    "note": "备注最多 500 字。",
    "conflict": "这件投诉现在不能记录回访：可能刚由其他话务员记录、已回访完毕、已无法联系或已评价。"
    "列表已刷新。",
    "kind": "只有投诉需要回访：举报人受保护，咨询不回访。",
}


def _problem(exc: ValidationError | InvalidInput) -> str:
    if isinstance(exc, InvalidInput):
        return HELP["kind"]
    text = " ".join(f"{e.get('loc')} {e.get('msg')}" for e in exc.errors())
    if "note" in text:
        return HELP["note"]
    if "required when" in text:
        return HELP["satisfaction_missing"]
    if "only when" in text:
        return HELP["satisfaction_unexpected"]
    return HELP["outcome"]


def _list(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    cursor: str = "",
    notice: str | None = None,
    problem: str | None = None,
    problem_for: int | None = None,
    status_code: int = 200,
) -> Response:
    page = follow_ups.due_list(session, staff=staff, cursor=cursor or None, limit=PAGE_SIZE)
    context = {
        "page": page,
        "outcomes": OUTCOME_LABELS,
        "satisfactions": SATISFACTION_LABELS,
        "notice": notice,
        "problem": problem,
        "problem_for": problem_for,
        "first_page": not cursor,
    }
    return render(
        request, "operator/follow_ups.html", context, status_code=status_code, private=True
    )


@router.get("", response_class=HTMLResponse)
def due_list(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    cursor: Annotated[str, Query(max_length=40, pattern=CURSOR)] = "",
    done: Annotated[str, Query(max_length=20, pattern=r"^\d{0,20}$")] = "",
) -> Response:
    """Overdue first, then by due date; the number masked."""
    follow_ups.require_caller(staff)
    notice = f"已记录受理编号 {done} 的回访。" if done else None
    return _list(request, session, staff, cursor=cursor, notice=notice)


@router.post("/{complaint_id}/contact", response_class=HTMLResponse)
def contact(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    """The full number to dial, while the complaint waits for its call (htmx; audited)."""
    follow_ups.require_caller(staff)
    try:
        number: str | None = follow_ups.contact_for_call(
            session, staff=staff, complaint_id=complaint_id
        )
        session.commit()
    except (Conflict, InvalidInput, NotFound):  # called back or purged since the list was shown
        session.rollback()
        number = None
    return render(request, "desk/_contact.html", {"number": number}, private=True)


@router.post("/{complaint_id}/calls", response_class=HTMLResponse)
def record_call(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
    outcome: Annotated[str, Form(max_length=20)] = "",
    satisfaction: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record the call; back to the list, where the complaint is gone once done."""
    follow_ups.require_caller(staff)
    values = {"outcome": outcome, "satisfaction": satisfaction or None, "note": note or None}
    try:
        call = FollowUpCallIn.model_validate(values)
        view = follow_ups.record_call(session, staff=staff, complaint_id=complaint_id, call=call)
        session.commit()
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        return _list(
            request,
            session,
            staff,
            problem=_problem(exc),
            problem_for=complaint_id,
            status_code=422,
        )
    except Conflict:
        session.rollback()
        return _list(request, session, staff, problem=HELP["conflict"], status_code=409)
    return RedirectResponse(
        f"/staff/operator/follow-ups?done={view.tracking_number}", status_code=303
    )
