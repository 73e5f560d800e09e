"""Staff sign-in and sign-out on pages, and each role's home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts import sessions
from accounts.service import authenticate
from core.deps import SessionDep
from core.errors import NotAuthenticated
from intake.limits import TooManyRequests
from schemas.enums import Role
from web.render import render
from web.security import CsrfChecked, PageStaff, end_session, forget, start_session

router = APIRouter(prefix="/staff", include_in_schema=False)

HOME = {
    Role.operator: "/staff/operator",
    Role.department: "/staff/desk",
    Role.supervisor: "/staff/desk",
    Role.admin: "/staff/desk",
    Role.reward_officer: "/staff/rewards",
    Role.quality_supervisor: "/staff/supervision",
}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/staff/") and not target.startswith("//"):
        return target
    return None


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "staff/login.html", {"next": _safe_next(next)}, private=True)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: SessionDep, _csrf: CsrfChecked) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    address = request.client.host if request.client else None
    try:
        user = authenticate(session, username=username, password=password, address=address)
    except NotAuthenticated:
        context = {"next": target, "error": "用户名或密码不正确。", "username": username}
        return render(request, "staff/login.html", context, status_code=401, private=True)
    except TooManyRequests as exc:
        minutes = -(-int(exc.headers["Retry-After"]) // 60)
        context = {
            "next": target,
            "error": f"登录失败次数过多，请 {minutes} 分钟后再试。",
            "username": username,
        }
        refused = render(request, "staff/login.html", context, status_code=429, private=True)
        refused.headers["Retry-After"] = exc.headers["Retry-After"]
        return refused
    token = sessions.start(session, user=user)
    session.commit()
    response = RedirectResponse(target or HOME[user.role], status_code=303)
    start_session(response, request, token)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, _csrf: CsrfChecked) -> Response:
    forget(session, request)
    session.commit()
    response = RedirectResponse("/staff/login", status_code=303)
    end_session(response)
    return response


@router.get("")
def home(staff: PageStaff) -> Response:
    return RedirectResponse(HOME[staff.role], status_code=303)
