"""The last line of defence: an unhandled exception becomes a 500 page or JSON answer, and
one log line with a traceback that has no exception messages.

Starlette's own handler for `Exception` re-raises after answering, so that the server logs
it; uvicorn would then log the exception's message, which may quote what was being stored (a
tip-off's text, a phone number). This middleware catches it first and nothing is re-raised.
A crash on a tip-off-only path is logged without its path and with the day, not the time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from core.tracebacks import exception_name, redacted_traceback
from service.logs import DAY_ONLY
from service.request_log import STATE_KEY, ASGIApp, Message, Scope, is_tipoff_only, loggable_path
from web.errors import page_error, wants_page

log = logging.getLogger("complaints.crashes")


class CrashBarrierMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            _log_crash(scope, exc)
            if not started:  # else the answer is half sent: the client sees it cut off
                response = _answer(Request(scope, receive))
                await response(scope, receive, send)


def _log_crash(scope: Scope, exc: Exception) -> None:
    path = scope.get("path", "-")
    request_id = scope.get("state", {}).get(STATE_KEY, "-")
    if is_tipoff_only(path):
        where, extra = "a tip-off path", {DAY_ONLY: True}
    else:
        where, extra = loggable_path(path, scope.get("path_params")) or "-", {}
    log.error(
        "%s unhandled %s on %s %s\n%s",
        request_id,
        exception_name(exc),
        scope.get("method", "-"),
        where,
        redacted_traceback(exc),
        extra=extra,
    )


def _answer(request: Request) -> Response:
    if wants_page(request):
        return page_error(request, 500)
    return JSONResponse(
        status_code=500,
        content=jsonable_encoder(
            {"error": "InternalError", "detail": "something went wrong on our side; try again"}
        ),
    )
