"""Page security: the staff session cookie and CSRF tokens on every form.

Staff sign in on a page and get an HttpOnly, SameSite=Strict cookie holding a random session
token (accounts.sessions). Citizens have no session; they get an anonymous CSRF cookie.
Every form carries `csrf_token`, and every htmx request the `X-CSRF-Token` header: an HMAC of
the session or anonymous cookie under the platform's secret. A post without it, or with a
token for another cookie, is refused (403) and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlmodel import Session

from accounts import sessions
from accounts.service import Staff
from core.deps import SessionDep
from core.errors import NotAuthenticated, PermissionDenied
from core.settings import get_settings
from schemas.enums import Role

SESSION_COOKIE = "complaints_session"
CSRF_COOKIE = "complaints_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class CsrfRefused(PermissionDenied):
    """A form post without a valid CSRF token."""


class SignInRequired(NotAuthenticated):
    """A staff page opened without a session: the page handler redirects to sign-in."""


def _seed(request: Request) -> str:
    """What the CSRF token is bound to: the staff session, else the anonymous cookie."""
    seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)
    if not seed:
        seed = getattr(request.state, "new_csrf_seed", None)
        if seed is None:
            seed = secrets.token_urlsafe(24)
            request.state.new_csrf_seed = seed
    return seed


def csrf_token(request: Request) -> str:
    key = get_settings().signing_key().encode()
    return hmac.new(key, f"csrf:{_seed(request)}".encode(), hashlib.sha256).hexdigest()[:40]


def set_cookies(request: Request, response: Response) -> None:
    """Give a new visitor the anonymous CSRF cookie their forms are bound to."""
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed is not None:
        response.set_cookie(
            CSRF_COOKIE,
            seed,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


async def require_csrf(request: Request) -> None:
    """For every state-changing page request: the form's token or the htmx header."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)
    if not sent or not seed or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfRefused("the form has expired or did not come from this site; reload the page")


CsrfChecked = Annotated[None, Depends(require_csrf)]


def page_staff(request: Request, session: SessionDep) -> Staff:
    """The signed-in staff member of a page request (also shown in the page header, error
    pages included); SignInRequired if none."""
    try:
        staff = sessions.staff_for(session, request.cookies.get(SESSION_COOKIE))
    except NotAuthenticated as exc:
        raise SignInRequired(exc.detail) from exc
    request.state.staff = staff
    return staff


PageStaff = Annotated[Staff, Depends(page_staff)]


def require_page_role(staff: Staff, *roles: Role) -> None:
    if staff.role not in roles:
        raise PermissionDenied("this page is for another role")


def start_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        max_age=get_settings().token_ttl_minutes * 60,
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def forget(session: Session, request: Request) -> None:
    sessions.end(session, request.cookies.get(SESSION_COOKIE))
