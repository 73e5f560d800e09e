"""Errors on pages: what went wrong and what to do, in Chinese; never a stack trace."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.settings import get_settings
from web.render import render
from web.security import CsrfRefused, SignInRequired

_NOT_PAGES = (
    "/api/",
    "/open311/",  # Open311 GeoReport v2: a client system, which gets Open311's errors
    "/dev/",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/",
)

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "请返回上一页检查后重新提交。"),
    401: ("请先登录", "请登录后再继续。"),
    403: ("无权访问", "这个页面或操作不属于您的岗位；如需办理，请联系管理员。"),
    404: ("找不到该页面或记录", "请核对链接、受理编号或回执码后重试。"),
    405: ("请求方式不正确", "请从页面上的按钮或链接进入。"),
    409: ("当前状态下不能这样办理", "记录可能刚被他人更新，请刷新页面查看最新状态后再操作。"),
    413: ("提交的内容太大", "请压缩附件或分开提交。"),
    415: ("附件格式不支持", "请上传 JPG、PNG、GIF、WebP 图片或 PDF 文件。"),
    422: ("填写的内容有误", "请按下面的提示修改后重新提交。"),
    429: ("操作太频繁", "请稍等片刻再试。"),
    500: ("系统出错了", "请稍后再试；您之前已提交成功的内容不会丢失。如一直出现，请拨打 12315。"),
    503: ("系统繁忙，请稍后再试", "服务器正忙或正在维护，请过几分钟再试；已提交的内容不会丢失。"),
}


def is_page(path: str) -> bool:
    """Whether errors on this path are pages in Chinese (else the API's JSON)."""
    return not path.startswith(_NOT_PAGES)


def wants_page(request: Request) -> bool:
    return is_page(request.url.path)


def size_label(size: int) -> str:
    """Bytes as people read them: 256 KB, 10 MB, 100.3 MB."""
    if size >= 1024 * 1024:
        return f"{round(size / (1024 * 1024), 1):g} MB"
    return f"{round(size / 1024, 1):g} KB"


def too_large(request: Request, limit: int) -> Response:
    """A body over its size limit (service.body_limit): the limits, said in Chinese."""
    settings = get_settings()
    details = [f"一次提交的内容合计不能超过 {size_label(limit)}。"]
    if limit > settings.max_body_bytes:  # a form that takes files
        each = size_label(settings.attachment_max_bytes)
        details.insert(0, f"附件每个不超过 {each}，一次最多 {settings.attachments_per_filing} 个。")
    return page_error(request, 413, details=details)


def page_error(
    request: Request,
    status: int,
    *,
    details: list[str] | None = None,
    exc: Exception | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if isinstance(exc, SignInRequired):
        target = quote(request.url.path)
        return RedirectResponse(f"/staff/login?next={target}", status_code=303)
    title, advice = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    if isinstance(exc, CsrfRefused):
        title, advice = "表单已过期", "请返回上一页，刷新后重新提交。"
    context: dict[str, Any] = {"title": title, "advice": advice, "details": details or []}
    if status == 429 and headers and "Retry-After" in headers:
        context["advice"] = f"请在 {headers['Retry-After']} 秒后再试。"
    response: HTMLResponse = render(request, "error.html", context, status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
