"""Who is calling: the bearer token turned into a Staff, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from accounts.service import Staff, staff_from_token
from core.deps import SessionDep, SettingsDep
from core.errors import NotAuthenticated, PermissionDenied
from schemas.enums import Role

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_staff(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(_bearer)]
) -> Staff:
    if not token:
        raise NotAuthenticated("sign in first: send Authorization: Bearer <token>")
    return staff_from_token(session, token=token, settings=settings)


StaffDep = Annotated[Staff, Depends(current_staff)]


def require_roles(*roles: Role) -> Callable[[Staff], Staff]:
    allowed = frozenset(roles)

    def _check(staff: StaffDep) -> Staff:
        if staff.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise PermissionDenied(f"this needs one of the roles: {names}")
        return staff

    return _check
