"""Quality supervisors' pages under /staff/supervision: a supervisor's own filings and track
record; for supervisors, every appointment with its record.

Thin handlers over supervision.service, the service the JSON API uses.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from core.deps import SessionDep
from schemas.enums import Role
from supervision import service
from web.render import render
from web.security import PageStaff, require_page_role

router = APIRouter(prefix="/staff/supervision", include_in_schema=False)

LIST_SIZE = 200
CHANNEL_LABELS = {"web": "网站", "sms": "短信", "hotline": "热线", "open311": "外部系统"}


@router.get("", response_class=HTMLResponse)
def supervision_page(request: Request, session: SessionDep, staff: PageStaff) -> Response:
    request.state.staff = staff
    require_page_role(staff, Role.quality_supervisor, Role.supervisor, Role.admin)
    if staff.role is Role.quality_supervisor:
        home = service.home(session, staff=staff)
        context = {"home": home, "channels": CHANNEL_LABELS}
        return render(request, "supervision/home.html", context)
    listed = service.listing(session, staff=staff, active_only=False, limit=LIST_SIZE)
    return render(request, "supervision/list.html", {"supervisors": listed.data})
