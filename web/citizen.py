"""Citizens' pages (no account): file, see the number, track, rate; a tip-off by receipt code.

Thin handlers over the same services as the API (intake.service, rewards.follow_up,
cases.satisfaction); every form carries the CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import UploadFile

from cases.lifecycle import CITIZEN
from cases.satisfaction import rate, rating_of
from core.deps import SessionDep
from core.errors import NotFound, PlatformError
from core.settings import get_settings
from core.timeutil import china_today
from intake import limits, service
from intake.attachments import remove, store_upload
from intake.service import Filed
from intake.tracking_number import display_tracking_number
from rewards import follow_up, receipts
from schemas.attachment import Attachment
from schemas.complaint import COMPLAINT_ONLY, FIRST_PURCHASE_DAY, ComplaintCreate, name_required
from schemas.enums import Channel, Kind
from schemas.reporter import ReporterIdentityIn
from web.errors import size_label
from web.forms import (
    RESELECT_ATTACHMENTS,
    field_messages,
    too_many_attachments,
    upload_message,
)
from web.render import render
from web.security import CsrfChecked

router = APIRouter(include_in_schema=False)

KINDS = [
    (Kind.complaint, "投诉", "您买的商品或服务出了问题，与商家有纠纷，希望市场监管部门调解。"),
    (Kind.tip, "举报", "您发现商家有违法行为，希望执法部门查处；可以匿名，身份严格保密。"),
    (Kind.inquiry, "咨询", "您有问题想了解，例如该找哪个部门、有哪些权利。"),
]
_FIELDS = ("kind", "text", "contact_phone", "business_name", "business_uscc", "business_address")


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> Response:
    return render(request, "citizen/landing.html")


@router.get("/file", response_class=HTMLResponse)
def filing_form(request: Request, kind: str = "complaint") -> Response:
    return render(request, "citizen/file.html", _form_context({"kind": kind}, {}))


def _form_context(values: dict[str, str], messages: dict[str, str]) -> dict[str, Any]:
    settings = get_settings()
    return {
        "kinds": KINDS,
        "values": values,
        "messages": messages,
        "attachments_allowed": settings.attachments_per_filing,
        "attachment_size": size_label(settings.attachment_max_bytes),
        "first_purchase_day": FIRST_PURCHASE_DAY.isoformat(),
        "today": china_today().isoformat(),
        "name_required": name_required(Kind.complaint),
    }


def _draft(form: dict[str, Any]) -> dict[str, Any]:
    # The complaint's own fields are hidden for the other kinds: what was typed there
    # before switching to 举报 or 咨询 is not sent (a reporter's name goes to the vault only).
    fields = _FIELDS + COMPLAINT_ONLY if form.get("kind") == Kind.complaint.value else _FIELDS
    body = {k: form[k].strip() for k in fields if isinstance(form.get(k), str) and form[k].strip()}
    if body.get("kind") == Kind.tip.value:
        name = str(form.get("reporter_name") or "").strip()
        if name:
            body["reporter"] = {"name": name}
    return body


@router.post("/file/check", response_class=HTMLResponse)
async def check_filing(request: Request, _csrf: CsrfChecked) -> Response:
    """As the citizen types: what is still missing or wrong, field by field."""
    form = dict(await request.form())
    try:
        ComplaintCreate.model_validate(_draft(form))
        messages: dict[str, str] = {}
    except ValidationError as exc:
        messages = field_messages(exc)
    touched = {k for k, v in form.items() if isinstance(v, str) and v.strip()}
    shown = {k: v for k, v in messages.items() if k in touched or k == "form"}
    return render(request, "citizen/_check.html", {"messages": shown})


@router.post("/file", response_class=HTMLResponse)
async def file(request: Request, session: SessionDep, _csrf: CsrfChecked) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    draft = _draft(values)
    uploads = [f for f in form.getlist("attachments") if isinstance(f, UploadFile) and f.filename]
    try:
        data = ComplaintCreate.model_validate(draft)
    except ValidationError as exc:
        messages = field_messages(exc)
        if uploads:  # a page cannot choose files again for the citizen
            messages["attachments"] = RESELECT_ATTACHMENTS
        return _refused(request, values, messages, 422)
    if len(uploads) > get_settings().attachments_per_filing:
        # Attaching refuses it too, but only once every file has been stored.
        return _refused(request, values, {"attachments": too_many_attachments()}, 422)
    limits.check_client(request.client.host if request.client else None)
    try:
        filed = _file_with_uploads(session, data, uploads)
    except PlatformError as exc:
        problem = upload_message(exc)
        if problem is None:
            raise
        return _refused(request, values, {"attachments": problem}, exc.status_code)
    number = filed.complaint.tracking_number
    return render(
        request,
        "citizen/filed.html",
        {
            "kind": filed.complaint.kind,
            "number": display_tracking_number(number),
            "raw_number": number,
            "receipt": receipts.display(filed.receipt_code) if filed.receipt_code else None,
        },
        status_code=201,
        private=True,
    )


def _file_with_uploads(session: Session, data: ComplaintCreate, uploads: list[UploadFile]) -> Filed:
    """Store the form's files, then file with them (committed); if refused, none is kept."""
    stored: list[Attachment] = []
    try:
        for upload in uploads:
            stored.append(store_upload(session, stream=upload.file))
            session.commit()  # kept as any upload is: the purge finds it if all else fails
        data = data.model_copy(update={"attachments": [a.token for a in stored]})
        filed = service.file_complaint(session, data=data, channel=Channel.web, actor=CITIZEN)
        session.commit()
    except PlatformError:
        session.rollback()
        remove(session, stored)  # never attached: gone now, not at the next purge
        raise
    return filed


def _refused(
    request: Request, values: dict[str, str], messages: dict[str, str], status_code: int
) -> Response:
    """The form again, with what was typed (never cached: names, numbers) and why, by field."""
    context = _form_context(values, messages)
    return render(request, "citizen/file.html", context, status_code=status_code, private=True)


@router.get("/track", response_class=HTMLResponse)
def track(request: Request, session: SessionDep, n: str | None = None) -> Response:
    if not n:
        return render(request, "citizen/track_form.html")
    try:
        return _tracking_page(request, session, n)
    except NotFound:
        context = {"number": n, "not_found": True}
        return render(request, "citizen/track_form.html", context, status_code=404)


def _tracking_page(
    request: Request,
    session: Session,
    number: str,
    *,
    rating_error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The public view; a closed filing's rating form, or thanks once it has been rated."""
    complaint = service.public_filing(session, number)
    assert complaint.id is not None
    context = {
        "view": service.public_view(session, complaint),
        "rating": rating_of(session, complaint.id),
        "rating_error": rating_error,
    }
    return render(request, "citizen/track.html", context, status_code=status_code)


@router.post("/track/{number}/rating", response_class=HTMLResponse)
async def rate_filing(
    number: str, request: Request, session: SessionDep, _csrf: CsrfChecked
) -> Response:
    form = await request.form()
    complaint = service.public_filing(session, number)
    try:
        score = int(str(form.get("score", "")))
    except ValueError:
        score = 0
    comment = str(form.get("comment") or "").strip()[:500] or None
    try:
        rate(session, complaint=complaint, score=score, comment=comment, channel="web")
        session.commit()
    except PlatformError as exc:
        session.rollback()
        problem = _rating_problem(exc)
        return _tracking_page(
            request, session, number, rating_error=problem, status_code=exc.status_code
        )
    return RedirectResponse(f"/track?n={complaint.tracking_number}&rated=1", status_code=303)


def _rating_problem(exc: PlatformError) -> str:
    if exc.status_code == 422:
        return "请选择 1 到 5 分。"
    return "这件事还没有办结，或已经评价过、已超过评价期限。"


@router.get("/tipoff", response_class=HTMLResponse)
def tipoff_form(request: Request) -> Response:
    return render(request, "citizen/tipoff_form.html", private=True)


@router.post("/tipoff", response_class=HTMLResponse)
async def tipoff_case(request: Request, session: SessionDep, _csrf: CsrfChecked) -> Response:
    form = await request.form()
    code = str(form.get("receipt_code") or "")
    answer = str(form.get("answer") or "").strip()
    claim = {k: str(form.get(f"claim_{k}") or "").strip() for k in _CLAIM_FIELDS}
    notice = None
    try:
        if answer:
            follow_up.answer(session, raw_code=code, text=answer[:2000])
            notice = "已收到您的答复，承办部门会看到。"
        elif any(claim.values()):
            identity = ReporterIdentityIn.model_validate({k: v for k, v in claim.items() if v})
            follow_up.claim_reward(session, raw_code=code, identity=identity)
            notice = "已收到您的领奖信息，已加密保存，只有奖励审核人员可以查看。"
        view = follow_up.follow(session, code)
        session.commit()
    except ValidationError as exc:
        session.rollback()
        view = follow_up.follow(session, code)
        context = {"view": view, "receipt_code": code, "claim_error": field_messages(exc)}
        return render(request, "citizen/tipoff.html", context, status_code=422, private=True)
    except NotFound:
        context = {"not_found": True}
        return render(request, "citizen/tipoff_form.html", context, status_code=404, private=True)
    return render(
        request,
        "citizen/tipoff.html",
        {"view": view, "receipt_code": code, "notice": notice},
        private=True,
    )


_CLAIM_FIELDS = ("name", "phone", "id_number", "bank_name", "bank_account")
