"""Sign-in for staff: the OAuth2 password form in, a bearer token out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from accounts.deps import StaffDep
from accounts.service import authenticate, token_for
from core.deps import SessionDep, SettingsDep
from schemas.staff import StaffPublic, TokenPublic

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenPublic,
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed sign-ins to this account or from this address"},
    },
)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPublic:
    address = request.client.host if request.client else None
    user = authenticate(session, username=form.username, password=form.password, address=address)
    return TokenPublic(
        access_token=token_for(user, settings), expires_in=settings.token_ttl_minutes * 60
    )


@router.get("/auth/me", response_model=StaffPublic)
def who_am_i(staff: StaffDep) -> StaffPublic:
    return StaffPublic(
        id=staff.id, username=staff.username, role=staff.role, department=staff.department_code
    )
