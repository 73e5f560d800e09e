"""The hotline operator's console: one screen for a call.

The caller's number brings up their earlier filings; as the operator types, the router's
suggestion (kind, department, place, and the terms behind each) updates beside the form;
an override needs a reason; a call holding a complaint and a tip-off is split; the filed
number(s) are shown large, with a tip-off's receipt code to read to the caller once.
Thin handlers over the services the JSON API uses: intake.operator (the call, the history),
routing.service.decide (the suggestion) and intake.idempotency (a form sent twice files once).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from accounts.service import Staff
from core.deps import SessionDep
from core.errors import Conflict, InvalidInput
from intake.operator import caller_history, require_operator, take_call_once
from intake.repository import department
from intake.tracking_number import display_tracking_number
from routing.engine import RoutingEngine, current_engine
from routing.jurisdiction import ground_note
from routing.repository import active_departments
from routing.service import Decision, Filing, decide
from schemas.enums import KIND_LABELS, Kind, Status
from schemas.operator import OperatorCall, OperatorFiled
from schemas.routing import ClassifyRequest
from schemas.validators import normalize_cn_phone
from web.forms import FIELD_HELP
from web.render import render
from web.security import CsrfChecked, PageStaff

router = APIRouter(prefix="/staff/operator", include_in_schema=False)

HISTORY_LIMIT = 10
SUMMARY_CHARS = 60
_CALL_FIELDS = (
    "caller_phone",
    "caller_name",
    "caller_address",
    "demand",
    "text",
    "kind",
    "business_name",
    "business_uscc",
    "business_address",
    "department",
    "place",
    "override_reason",
)
# What each field of the call expects, in Chinese; a rule spanning fields goes on the field
# its message names (the reason for an override, the split box).
HELP = {
    "caller_phone": "请填写来电号码：有效的中国大陆手机号或座机号。",
    "caller_name": "姓名最多 60 字；投诉须实名，请记录来电人的真实姓名（举报可匿名）。",
    "caller_address": "地址最多 300 字；仅投诉填写，举报和咨询请留空。",
    "demand": "诉求最多 500 字；仅投诉填写，举报和咨询请留空。",
    "text": FIELD_HELP["text"],
    "kind": "请选择投诉、举报或咨询，或留空按内容识别。",
    "business_name": "投诉和举报请填写商家或单位名称（最多 200 字）。",
    "business_uscc": FIELD_HELP["business_uscc"],
    "business_address": FIELD_HELP["business_address"],
    "department": "请从列表中选择承办部门。",
    "place": "地点最多 100 字，例如：太原市小店区。",
    "override_reason": "更正类型、承办部门或地点时，请写明理由（2 到 500 字）。",
    "split": "同时登记投诉和举报时，“类型”请留空：将分别登记一件投诉和一件举报。",
    "resubmitted": "这张表已经提交过。请点击“下一个来电”重新开始。",
    "busy": "这张表刚刚已经提交，正在登记。请稍候在“来电人以往登记”中核对，不要重复提交。",
    "call": "请检查填写的内容。",
}
# A rule that spans fields (the schema's or the service's) names the field it is about.
_MENTIONS = {
    "override_reason": "override_reason",
    "split": "split",
    "department": "department",
    "business_name": "business_name",
    "caller_address": "caller_address",
    "demand": "demand",
    "Idempotency-Key": "resubmitted",
}


@dataclass(frozen=True)
class Choice:
    """One of the classifier's top departments, as the operator reads it."""

    name: str
    percent: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Suggestion:
    """What the router would do with the draft now, and why."""

    kind: Kind
    kind_percent: int | None  # None: no cue in the text, the default kind
    kind_reasons: tuple[str, ...]
    split_suggested: bool
    department: str
    office: str | None
    routed: bool  # False: below the threshold, a person will triage it
    percent: int | None
    reasons: tuple[str, ...]
    threshold_percent: int
    place: str | None
    place_matched: tuple[str, ...]
    jurisdiction: str | None  # the rule that chose the place (平台注册地…)
    top: tuple[Choice, ...]
    elapsed_ms: float


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormValues = Annotated[dict[str, str], Depends(_form)]


def _percent(score: float) -> int:
    return round(score * 100)


def _messages(exc: ValidationError | InvalidInput) -> dict[str, str]:
    """{field: Chinese message} for a call the schema or the service refused."""
    if isinstance(exc, InvalidInput):
        # The service names the field where it can (errors); else its message mentions it.
        named = [str(e.get("field", "")) for e in exc.extra.get("errors", [])]
        problems = [(f if f in HELP else "", exc.detail) for f in named] or [("", exc.detail)]
    else:
        problems = [
            (next((str(p) for p in e.get("loc", ()) if str(p) in HELP), ""), str(e.get("msg")))
            for e in exc.errors()
        ]
    messages: dict[str, str] = {}
    for field, text in problems:
        if not field:
            field = next((f for word, f in _MENTIONS.items() if word in text), "call")
        messages.setdefault(field, HELP[field])
    return messages


def _call_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        key: values[key].strip() for key in _CALL_FIELDS if values.get(key, "").strip()
    }
    if values.get("split"):
        body["split"] = True
    return body


def _console(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    values: dict[str, str] | None = None,
    messages: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    values = dict(values or {})
    values.setdefault("call_key", secrets.token_urlsafe(18))  # one per call: sent twice, filed once
    context = {
        "staff": staff,
        "values": values,
        "messages": messages or {},
        "kinds": list(KIND_LABELS.items()),
        "departments": active_departments(session),
    }
    return render(request, "operator/console.html", context, status_code=status_code, private=True)


@router.get("", response_class=HTMLResponse)
def console(request: Request, session: SessionDep, staff: PageStaff) -> Response:
    require_operator(staff)
    return _console(request, session, staff)


@router.get("/history", response_class=HTMLResponse)
def history(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    caller_phone: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The caller's earlier filings, newest first, once the number is complete."""
    require_operator(staff)
    try:
        number = normalize_cn_phone(caller_phone)
    except ValueError:
        typed = bool(caller_phone.strip())
        return render(request, "operator/_history.html", {"typed": typed}, private=True)
    rows = caller_history(session, staff=staff, phone=number, limit=HISTORY_LIMIT)
    filings = []
    for row in rows:
        owner = department(session, row.department_id)
        filings.append(
            {
                "number": display_tracking_number(row.tracking_number),
                "kind": row.kind,
                "status": row.status,
                "department": owner.name if owner else None,
                "created_at": row.created_at,
                "summary": row.text[:SUMMARY_CHARS],
                "more": len(row.text) > SUMMARY_CHARS,
            }
        )
    context = {"phone": number, "filings": filings}
    return render(request, "operator/_history.html", context, private=True)


def _suggestion(
    session: Session, decision: Decision, engine: RoutingEngine, started: float
) -> Suggestion:
    names = {d.code: d.name for d in active_departments(session)}
    top = []
    for choice in decision.prediction.top:
        code = engine.department_for(choice.label)
        top.append(
            Choice(names.get(code or "", choice.label), _percent(choice.score), choice.reasons)
        )
    best = decision.prediction.best
    guess = decision.kind
    return Suggestion(
        kind=guess.kind,
        kind_percent=_percent(guess.confidence) if guess.reasons else None,
        kind_reasons=guess.reasons,
        split_suggested=guess.split_suggested,
        department=decision.department.name,
        office=decision.office.name if decision.office else None,
        routed=decision.status is Status.routed,
        percent=_percent(best.score) if best else None,
        reasons=best.reasons if best else (),
        threshold_percent=_percent(decision.threshold),
        place=decision.place.label if decision.place else None,
        place_matched=decision.place.matched if decision.place else (),
        jurisdiction=ground_note(decision.ground.as_dict()),
        top=tuple(top),
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )


@router.post("/suggest", response_class=HTMLResponse)
def suggest(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
    values: FormValues,
) -> Response:
    """As the operator types: what the router would do with the draft (POST /api/v1/classify)."""
    started = time.perf_counter()
    require_operator(staff)
    draft = {
        key: values[key].strip()
        for key in ("text", "business_name", "business_address")
        if values.get(key, "").strip()
    }
    view = None
    try:
        body = ClassifyRequest.model_validate(draft)
    except ValidationError:
        body = None
    if body is not None:
        engine = current_engine(session)
        filing = Filing(
            text=body.text,
            business_name=body.business_name,
            business_address=body.business_address,
        )
        view = _suggestion(session, decide(session, filing=filing, engine=engine), engine, started)
    response = render(request, "operator/_suggestion.html", {"s": view}, private=True)
    elapsed = (time.perf_counter() - started) * 1000
    response.headers["Server-Timing"] = f'suggest;dur={elapsed:.1f};desc="suggestion"'
    return response


@router.post("/calls", response_class=HTMLResponse)
def take_call(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
    values: FormValues,
) -> Response:
    """File the call; show the number(s) large, and a tip-off's receipt code once."""
    require_operator(staff)
    try:
        call = OperatorCall.model_validate(_call_body(values))
    except ValidationError as exc:
        return _console(
            request, session, staff, values=values, messages=_messages(exc), status_code=422
        )

    try:
        answer = take_call_once(session, call=call, staff=staff, key=values.get("call_key") or None)
    except InvalidInput as exc:
        session.rollback()
        return _console(
            request, session, staff, values=values, messages=_messages(exc), status_code=422
        )
    except Conflict:
        session.rollback()
        messages = {"busy": HELP["busy"]}
        return _console(request, session, staff, values=values, messages=messages, status_code=409)
    filed = OperatorFiled.model_validate(answer.body)
    receipt_shown = any(ref.receipt_code_display for ref in filed.filings)
    context = {
        "staff": staff,
        "filed": filed,
        # The same form again: the first filing's numbers (a replayed answer has no second form).
        "replay": answer.replay_body is None,
        "receipt_shown": receipt_shown,
    }
    return render(request, "operator/filed.html", context, status_code=201, private=True)
