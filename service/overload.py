"""Shed load: past a number of requests in flight, answer 503 at once, kindly.

An overloaded process that keeps accepting work answers everyone late; one that says
"busy, try again in a moment" keeps answering the requests it took. Pages get a short page
in Chinese (no template, no database: it must cost nothing; styled inline, since a request
for the stylesheet would be turned away too), the API its JSON error shape.
Health checks are always answered.
"""

from __future__ import annotations

import json

from service.body_limit import ASGIApp, Receive, Scope, Send

RETRY_AFTER = "5"
BUSY_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>系统繁忙 · 12315</title><style>
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
margin:0;color:#1a1a1a;background:#f6f7f9;line-height:1.6}
main{max-width:44rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.6rem 0;color:#a4161a}
section.error{background:#fff;border-left:4px solid #a4161a;padding:.8rem 1rem}</style></head>
<body><main><section class="error" role="alert"><h1>系统繁忙，请稍后再试</h1>
<p>现在办理的人很多，请过几秒钟刷新本页。您已经提交成功的内容不会丢失。</p>
<p>也可以拨打 12315 热线办理。</p></section></main></body></html>""".encode()


class OverloadMiddleware:
    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in {"/healthz", "/readyz", "/metrics"}:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await _busy(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _busy(scope: Scope, send: Send) -> None:
    if str(scope.get("path", "")).startswith("/api/"):
        body = json.dumps(
            {"error": "ServiceUnavailable", "detail": "the server is busy; retry shortly"}
        ).encode()
        content_type = b"application/json"
    else:
        body, content_type = BUSY_PAGE, b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", content_type),
                (b"retry-after", RETRY_AFTER.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
