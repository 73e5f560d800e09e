"""One JSON error shape for every failure: {"error": <kind>, "detail": <why>, ...}.

Except on Open311 paths (/open311/), whose clients expect GeoReport v2's error list,
[{"code": 404, "description": "…"}] (or <errors> for a path ending in .xml): their errors
answer that, and their operations document it themselves (opendata.open311_api).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from core.errors import PlatformError
from opendata.open311_api import error_answer, is_open311
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


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method of every route on this path: Starlette names only the first route's
    (PUT and DELETE of one path are two routes). Each method is tried against the routes, as
    FastAPI's included routers do not list their routes' methods."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(sorted(allowed))


def document_error_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every error response the routes declare by description only the one error shape
    (the handlers below answer it for every error), so the schema says what clients get."""
    reference = {"$ref": "#/components/schemas/ErrorBody"}
    for name, path in schema.get("paths", {}).items():
        for operation in path.values():
            if is_open311(name):
                _keep_open311_errors(operation)
                continue
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400 and "content" not in response:
                    response["content"] = {"application/json": {"schema": reference}}
    return schema


def _keep_open311_errors(operation: dict[str, Any]) -> None:
    """An Open311 operation declares each error it answers; the platform's defaults that
    FastAPI merged in (ERROR_RESPONSES, as they are) are not what it answers: drop them."""
    responses = operation.get("responses", {})
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for status in list(responses):
        default = {"description": _ERRORS.get(int(status)), "content": reference}
        if status.isdigit() and responses[status] == default:
            del responses[status]


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
        if is_open311(request.url.path):
            return error_answer(request.url.path, exc.status_code, exc.detail, headers)
        if wants_page(request):
            return page_error(request, exc.status_code, exc=exc, headers=headers)
        return _problem(exc.status_code, type(exc).__name__, exc.detail, headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        if is_open311(request.url.path):
            return error_answer(request.url.path, 422, summary)
        if wants_page(request):
            return page_error(
                request, 422, details=[f"{e['field']}：{e['reason']}" for e in errors]
            )
        return _problem(422, "InvalidInput", summary, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        if is_open311(request.url.path):
            return error_answer(request.url.path, exc.status_code, str(exc.detail), headers)
        if wants_page(request):
            return page_error(request, exc.status_code, headers=headers)
        return _problem(exc.status_code, "HTTPError", exc.detail, headers)

    def _database_503(request: Request, state: str, headers: dict[str, str]) -> Response:
        """503 in the shape the path speaks: Open311's, a page, or the API's problem."""
        if is_open311(request.url.path):
            return error_answer(
                request.url.path, 503, f"the database is {state}; try again", headers
            )
        if wants_page(request):
            return page_error(request, 503, headers=headers)
        return _problem(
            503, "ServiceUnavailable", f"the database is {state}; try again shortly", headers
        )

    @app.exception_handler(PoolTimeout)
    async def _database_busy(request: Request, exc: PoolTimeout) -> Response:
        # Every connection of this process's pool stayed in use for the pool timeout.
        log.error("database busy: no free connection in time")
        return _database_503(request, "busy", {"Retry-After": "5"})

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> Response:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return _database_503(request, "unavailable", {})
