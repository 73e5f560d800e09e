"""One log line per request, with a request id and no personal data (no address, no agent).

The path is logged with its identifying parameters replaced by their names
(`/api/v1/complaints/{complaint_id}/actions/accept`): a filing's id, a tracking number or a
caller's phone number next to a time of day is what the platform keeps out of its records,
and the SMS webhooks' path token is a secret. Requests on tip-off-only paths (`/tipoff…`,
`/api/v1/tipoffs/…`) are not logged at all: each is a reporter acting, and even a line
without a time would sit between lines that have one (docs/architecture.md).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote

from service.logs import REQUEST_ID

log = logging.getLogger("complaints.requests")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

TIPOFF_ONLY_PREFIXES = ("/tipoff", "/api/v1/tipoffs")
# Path parameters that name a kind of thing, not a person or a filing: logged as they are.
KEPT_PARAMETERS = frozenset({"action", "code"})
# Unmatched paths (404s) have no parameters to go by: the webhook token and long digit runs
# (phone, tracking and receipt numbers typed into a URL) are masked by shape.
_SMS_TOKEN = re.compile(r"^(/api/v1/sms/[^/]+/)[^/]+")
_DIGIT_RUN = re.compile(r"\d{7,}")
STATE_KEY = "request_id"  # where the id waits in scope["state"]
# Filing paths that complaints and tip-offs share: a tip-off takes longer (the receipt
# code's hash, the vault), so their lines carry no duration, which would tell the kinds apart.
SHARED_FILING_PATHS = frozenset({"/file", "/api/v1/complaints", "/api/v1/operator/calls"})
SHARED_FILING_PREFIXES = ("/api/v1/sms/", "/staff/operator/calls")


def is_tipoff_only(path: str) -> bool:
    return path.startswith(TIPOFF_ONLY_PREFIXES)


def tells_duration(method: str, path: str) -> bool:
    """Whether the line may say how long the request took (not for a shared filing path)."""
    if method != "POST":
        return True
    return path not in SHARED_FILING_PATHS and not path.startswith(SHARED_FILING_PREFIXES)


def loggable_path(path: str, path_params: Mapping[str, Any] | None = None) -> str | None:
    """The path as it may be logged; None for a tip-off-only path, which is not logged."""
    if is_tipoff_only(path):
        return None
    hidden = {
        str(value): name
        for name, value in (path_params or {}).items()
        if name not in KEPT_PARAMETERS and str(value)
    }
    segments = [
        f"{{{hidden[unquote(segment)]}}}" if unquote(segment) in hidden else segment
        for segment in path.split("/")
    ]
    masked = _SMS_TOKEN.sub(r"\1{path_token}", "/".join(segments))
    return _DIGIT_RUN.sub("{digits}", masked)


class RequestLogMiddleware:
    """Replaces uvicorn's access log, which records every client's address."""

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
        request_id = os.urandom(6).hex()  # 12 hex digits, as uuid4().hex[:12] gave, cheaper
        context = REQUEST_ID.set(request_id)  # on every log line of this request
        scope.setdefault("state", {})[STATE_KEY] = request_id  # for the crash barrier's line
        started = time.perf_counter()
        status = 500

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            # The router filled in path_params on this same scope.
            raw, method = scope.get("path", "-"), scope.get("method", "-")
            # Masking the path cost a filing 2 %: not for a line nobody will see.
            enabled = log.isEnabledFor(logging.INFO)
            path = loggable_path(raw, scope.get("path_params")) if enabled else None
            if path is not None:
                took = (time.perf_counter() - started) * 1000
                duration = f"{took:.1f}ms" if tells_duration(method, raw) else "-"
                log.info("%s %s %s %d %s", request_id, method, path, status, duration)
            REQUEST_ID.reset(context)
