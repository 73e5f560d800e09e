"""Rendering pages: one Jinja2 environment, the CSRF token and the signed-in user in every page.

Templates only display: every value is computed by a service and passed in.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from core.timeutil import as_china
from intake.tracking_number import display_tracking_number
from rewards.calculation import yuan
from schemas.enums import KIND_LABELS, STATUS_LABELS, Kind, Role, Status
from web.security import csrf_token, set_cookies

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
ROLE_LABELS = {
    Role.operator: "话务员",
    Role.department: "承办部门",
    Role.supervisor: "监督管理",
    Role.admin: "管理员",
    Role.reward_officer: "奖励审核",
    Role.quality_supervisor: "社会质量监督员",
}


def _when(value: datetime | date | None, with_time: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = as_china(value)
        return local.strftime("%Y-%m-%d %H:%M") if with_time else local.strftime("%Y-%m-%d")
    return value.isoformat()


def _status(value: Status | str | None) -> str:
    return STATUS_LABELS.get(Status(value), str(value)) if value else ""


def _kind(value: Kind | str | None) -> str:
    return KIND_LABELS.get(Kind(value), str(value)) if value else ""


TEMPLATES.env.filters.update(
    when=_when,
    status_label=_status,
    kind_label=_kind,
    tracking=display_tracking_number,
    yuan=yuan,
)
TEMPLATES.env.globals.update(ROLE_LABELS=ROLE_LABELS)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    private: bool = False,
) -> HTMLResponse:
    """The page, with the form token; `private` pages (codes, identities) are never cached."""
    values = {"csrf_token": csrf_token(request), "staff": getattr(request.state, "staff", None)}
    response = TEMPLATES.TemplateResponse(
        request, name, values | (context or {}), status_code=status_code
    )
    set_cookies(request, response)
    response.headers["Cache-Control"] = "no-store" if private else "no-cache"
    return response
