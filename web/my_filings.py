"""「我的投诉」: a citizen signs in with phone number and SMS code and sees their filings.

Plain forms that work without JavaScript: number → code → list. The signed-in state is the
citizen token (citizens.tokens) in an HttpOnly, SameSite=Strict cookie sent only to /my;
the forms carry the anonymous CSRF token like every citizen form.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from citizens import service, tokens
from citizens.codes import CodeRefused
from citizens.tokens import CitizenSession
from core.deps import SessionDep
from core.errors import InvalidInput, NotAuthenticated
from intake.limits import TooManyRequests
from schemas.citizen import CodeRequest, SessionCreate
from schemas.validators import ascii_digits, mask_phone
from web.render import render
from web.security import CsrfChecked

router = APIRouter(include_in_schema=False)

CITIZEN_COOKIE = "complaints_citizen"
_PATH = "/my"
PHONE_HELP = "请填写您投诉时留下的中国大陆手机号。"
CODE_HELP = "验证码是短信里的 6 位数字。"


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _signed_in(request: Request) -> CitizenSession | None:
    try:
        return tokens.read(request.cookies.get(CITIZEN_COOKIE))
    except NotAuthenticated:
        return None


def _wait_message(exc: TooManyRequests) -> str:
    seconds = exc.extra.get("retry_after", 60)
    return f"操作太频繁，请 {seconds} 秒后再试。"


def _code_message(refused: CodeRefused) -> str:
    if refused.reason == "expired":
        return "验证码已过期或已失效，请重新获取验证码。"
    if refused.reason == "void" or refused.tries_left == 0:
        return "验证码输错次数过多，已作废，请重新获取验证码。"
    return f"验证码不正确，请核对短信后重新输入（还可以再试 {refused.tries_left} 次）。"


def _code_step(phone: str, **context: str) -> dict[str, Any]:
    """The second step: the number (normalised) rides along hidden, shown masked."""
    return {"step": "code", "phone": phone, "phone_masked": mask_phone(phone), **context}


def _sign_in_page(
    request: Request, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    return render(
        request, "citizen/my_sign_in.html", context, status_code=status_code, private=True
    )


@router.get("/my", response_class=HTMLResponse)
def my_filings(request: Request, session: SessionDep) -> Response:
    citizen = _signed_in(request)
    if citizen is None:
        response = _sign_in_page(request, {"step": "phone"})
        if request.cookies.get(CITIZEN_COOKIE):  # expired or signed out: drop it
            response.delete_cookie(CITIZEN_COOKIE, path=_PATH)
        return response
    listing = service.own_filings(
        session, citizen, tracking_url=lambda number: f"/track?n={number}"
    )
    return render(request, "citizen/my_list.html", {"listing": listing}, private=True)


@router.post("/my/code", response_class=HTMLResponse)
async def send_code(request: Request, session: SessionDep, _csrf: CsrfChecked) -> Response:
    form = await request.form()
    raw = str(form.get("phone") or "").strip()
    try:
        phone = CodeRequest.model_validate({"phone": raw}).phone
        sent = service.send_code(session, phone=phone, address=_address(request))
        session.commit()
    except (ValidationError, InvalidInput):
        session.rollback()
        context = {"step": "phone", "phone": raw, "error": PHONE_HELP}
        return _sign_in_page(request, context, status_code=422)
    except TooManyRequests as exc:
        session.rollback()
        # A code may be on its way already: the citizen can still type it.
        context = _code_step(phone, error=_wait_message(exc))
        response = _sign_in_page(request, context, status_code=429)
        response.headers.update(exc.headers)
        return response
    notice = f"验证码已发送到 {sent.sent_to}，{sent.expires_in // 60} 分钟内有效。"
    return _sign_in_page(request, _code_step(phone, notice=notice))


@router.post("/my/session", response_class=HTMLResponse)
async def sign_in(request: Request, _csrf: CsrfChecked) -> Response:
    form = await request.form()
    raw_phone = str(form.get("phone") or "").strip()
    code = ascii_digits(str(form.get("code") or "")).replace(" ", "").strip()
    try:
        data = SessionCreate.model_validate({"phone": raw_phone, "code": code})
    except ValidationError as exc:
        wrong_phone = any(error["loc"][:1] == ("phone",) for error in exc.errors())
        if wrong_phone:
            context = {"step": "phone", "phone": raw_phone, "error": PHONE_HELP}
        else:
            context = _code_step(
                CodeRequest.model_validate({"phone": raw_phone}).phone, error=CODE_HELP
            )
        return _sign_in_page(request, context, status_code=422)
    try:
        token, seconds = service.sign_in(
            phone=data.phone, code=data.code, address=_address(request)
        )
    except CodeRefused as exc:
        context = _code_step(data.phone, error=_code_message(exc))
        return _sign_in_page(request, context, status_code=exc.status_code)
    except TooManyRequests as exc:
        context = _code_step(data.phone, error=_wait_message(exc))
        response = _sign_in_page(request, context, status_code=429)
        response.headers.update(exc.headers)
        return response
    redirect = RedirectResponse(_PATH, status_code=303)
    redirect.set_cookie(
        CITIZEN_COOKIE,
        token,
        max_age=seconds,
        path=_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return redirect


@router.post("/my/sign-out")
async def sign_out(request: Request, _csrf: CsrfChecked) -> Response:
    citizen = _signed_in(request)
    if citizen is not None:
        service.sign_out(citizen)
    response = RedirectResponse(_PATH, status_code=303)
    response.delete_cookie(CITIZEN_COOKIE, path=_PATH)
    return response
