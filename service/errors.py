"""One JSON error shape for every failure: {"error": <kind>, "detail": <why>, ...}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import PlatformError
from web.errors import page_error, wants_page

log = logging.getLogger(__name__)


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
        if wants_page(request):
            return page_error(request, exc.status_code)
        return _problem(exc.status_code, "HTTPError", exc.detail)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> Response:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        if wants_page(request):
            return page_error(request, 503)
        return _problem(503, "ServiceUnavailable", "the database is unavailable; try again shortly")
