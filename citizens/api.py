"""A citizen's 'my complaints': a code by SMS, a token for it, the number's own filings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from citizens import service, tokens
from citizens.tokens import CitizenSession
from core.deps import SessionDep
from intake.api import tracking_url
from schemas.citizen import CitizenToken, CodeRequest, CodeSent, OwnFilings, SessionCreate

router = APIRouter(prefix="/api/v1/citizen", tags=["citizen sign-in"])

# Its own scheme: a citizen token is no staff token, and the schema says so.
_bearer = HTTPBearer(scheme_name="CitizenToken", auto_error=False)


def current_citizen(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CitizenSession:
    return tokens.read(credentials.credentials if credentials else None)


CitizenDep = Annotated[CitizenSession, Depends(current_citizen)]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/code",
    status_code=202,
    response_model=CodeSent,
    responses={
        422: {"description": "not a mainland China mobile number"},
        429: {"description": "a code was sent just now, or too many this hour (Retry-After)"},
    },
)
def send_code(body: CodeRequest, request: Request, session: SessionDep) -> CodeSent:
    """Text a 6-digit sign-in code to the number. The answer is the same whether or not the
    number has filings; a new code replaces the last one."""
    sent = service.send_code(session, phone=body.phone, address=_address(request))
    session.commit()
    return sent


@router.post(
    "/session",
    response_model=CitizenToken,
    responses={
        401: {"description": "wrong, expired or void code (`reason`, `tries_left`)"},
        429: {"description": "too many wrong codes from this address (Retry-After)"},
    },
)
def sign_in(body: SessionCreate, request: Request) -> CitizenToken:
    token, seconds = service.sign_in(phone=body.phone, code=body.code, address=_address(request))
    return CitizenToken(access_token=token, expires_in=seconds)


@router.delete("/session", status_code=204, responses={401: {"description": "not signed in"}})
def sign_out(citizen: CitizenDep) -> Response:
    service.sign_out(citizen)
    return Response(status_code=204)


@router.get(
    "/filings",
    response_model=OwnFilings,
    responses={401: {"description": "no valid citizen token"}},
)
def own_filings(citizen: CitizenDep, request: Request, session: SessionDep) -> OwnFilings:
    """The signed-in number's complaints and inquiries, newest first; never a tip-off."""
    return service.own_filings(
        session,
        citizen,
        tracking_url=lambda number: tracking_url(request, number),
    )
