"""One JSON error shape for every failure: {"error": <kind>, "detail": <why>, ...}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from core.errors import PlatformError
from web.errors import page_error, wants_page

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error answer: what kind of error, and why, in words a person can act on."""

    model_config = ConfigDict(extra="allow")  # e.g. `errors` per field, `allowed_next`

    error: str = Field(description="the kind: InvalidInput, NotFound, Conflict, …")
    detail: str = Field(description="why, and what to do about it")


_ERRORS = {
    400: "the request could not be read",
    401: "no valid sign-in (a bearer token from POST /api/v1/auth/token)",
    403: "signed in, but this role may not do this",
    404: "no such resource, or not one this account may see",
    409: "the filing's state does not allow this now; `allowed_next` says what does",
    413: "the body is larger than the limit",
    422: "a field is missing or invalid; `errors` names each one and why",
    429: "too many requests; Retry-After says when to try again",
    503: "the database or Redis is unavailable, or the server is busy; try again shortly",
}
# Declared on every operation (FastAPI merges them into each route's own), so the schema
# says what the error handlers below really answer.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in _ERRORS.items()
}


def _allowed_methods(request: Request) -> str:
    """Every method of every route on this path: Starlette names only the first route's
    (PUT and DELETE of one path are two routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def document_error_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every error response the routes declare by description only the one error shape
    (the handlers below answer it for every error), so the schema says what clients get."""
    reference = {"$ref": "#/components/schemas/ErrorBody"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400 and "content" not in response:
                    response["content"] = {"application/json": {"schema": reference}}
    return schema


def _problem(
    status: int, error: str, detail: Any, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        status_code=status,
        content=jsonable_encoder({"error": error, "detail": detail, **extra}),
        headers=headers or None,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        location = [str(part) for part in err.get("loc", ())]
        # ("body", "contact_phone") → "contact_phone"; a whole-body error keeps "body".
        field = ".".join(location[1:]) or (location[0] if location else "request")
        if err.get("type") == "extra_forbidden":
            reason = "unknown field; the platform sets status, department and the like itself"
        else:
            reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        errors.append({"field": field, "location": location, "reason": reason})
    return errors


def install_error_handlers(app: FastAPI) -> None:
    """API paths answer JSON; pages answer a page in Chinese (web.errors). Exceptions nobody
    handles are service.crash_barrier's."""

    @app.exception_handler(PlatformError)
    async def _platform(request: Request, exc: PlatformError) -> Response:
        headers = getattr(exc, "headers", None)
        if wants_page(request):
            return page_error(request, exc.status_code, exc=exc, headers=headers)
        return _problem(exc.status_code, type(exc).__name__, exc.detail, headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        if wants_page(request):
            return page_error(
                request, 422, details=[f"{e['field']}：{e['reason']}" for e in errors]
            )
        summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return _problem(422, "InvalidInput", summary, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        if wants_page(request):
            return page_error(request, exc.status_code, headers=headers)
        return _problem(exc.status_code, "HTTPError", exc.detail, headers)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> Response:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        if wants_page(request):
            return page_error(request, 503)
        return _problem(503, "ServiceUnavailable", "the database is unavailable; try again shortly")
