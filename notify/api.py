"""A department registers the HTTPS endpoint of its own system and reads its deliveries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlmodel import Session, col, select

from accounts.deps import StaffDep
from accounts.service import Staff
from core.deps import SessionDep
from core.errors import NotFound
from notify.webhooks import check_url
from routing.repository import department_by_code
from schemas.casework import DepartmentWebhook, WebhookDelivery
from schemas.department import Department
from schemas.enums import Role
from schemas.formats import Trimmed

router = APIRouter(prefix="/api/v1/departments", tags=["webhooks"])
Code = Annotated[str, Path(max_length=32)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such department, or not yours"}
}


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Trimmed(0, 500)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)]


class WebhookPublic(BaseModel):
    department: str
    url: str
    active: bool


def _own_department(
    session: Session, staff: Staff, code: str, *, supervisors: bool = False
) -> Department:
    """The department if `staff` may manage its webhook: its own staff and admins; with
    `supervisors`, supervisors too (reading the deliveries, never re-pointing the endpoint:
    every event, with full contact numbers, goes where the URL says)."""
    department = department_by_code(session, code)
    overseers = {Role.admin, Role.supervisor} if supervisors else {Role.admin}
    mine = staff.role in overseers or (
        staff.role is Role.department and staff.department_code == code
    )
    if department is None or department.id is None or not mine:
        raise NotFound(f"no department {code!r}")
    return department


@router.put("/{code}/webhook", response_model=WebhookPublic, responses=_ERRORS)
def register_webhook(
    code: Code, body: WebhookSettings, session: SessionDep, staff: StaffDep
) -> WebhookPublic:
    """Register or replace the department's endpoint; its secret signs every delivery."""
    department = _own_department(session, staff, code)
    url = check_url(body.url)
    hook = session.exec(
        select(DepartmentWebhook).where(DepartmentWebhook.department_id == department.id)
    ).first()
    hook = hook or DepartmentWebhook(department_id=department.id or 0, url=url, secret=body.secret)
    hook.url, hook.secret, hook.active = url, body.secret, True
    session.add(hook)
    session.commit()
    return WebhookPublic(department=code, url=hook.url, active=hook.active)


@router.delete("/{code}/webhook", status_code=204, responses=_ERRORS)
def remove_webhook(code: Code, session: SessionDep, staff: StaffDep) -> None:
    department = _own_department(session, staff, code)
    hook = session.exec(
        select(DepartmentWebhook).where(DepartmentWebhook.department_id == department.id)
    ).first()
    if hook is None:
        raise NotFound(f"department {code!r} has no webhook")
    hook.active = False
    session.add(hook)
    session.commit()


@router.get("/{code}/webhook/deliveries", responses=_ERRORS)
def list_deliveries(
    code: Code,
    session: SessionDep,
    staff: StaffDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Every delivery with every attempt: when, the answer's status, the error."""
    department = _own_department(session, staff, code, supervisors=True)
    hook = session.exec(
        select(DepartmentWebhook).where(DepartmentWebhook.department_id == department.id)
    ).first()
    if hook is None:
        return []
    rows = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
    ).all()
    return [row.model_dump(mode="json") for row in rows]
