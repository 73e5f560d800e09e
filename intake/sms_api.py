"""Inbound SMS webhooks, one per gateway shape; each answers the way its gateway expects."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from core.deps import SessionDep, SettingsDep
from core.errors import InvalidInput
from intake.filing_threads import run_filing
from intake.sms_providers import (
    check_path_token,
    check_source,
    parse_aliyun,
    parse_tencent,
    parse_twilio,
)
from intake.sms_service import receive, receive_all

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/sms", tags=["sms"])
_TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "bad signature or source address"},
    404: {"description": "unknown path token, or the webhook is not configured"},
    422: {"description": "not a message of this gateway's shape (Aliyun: no item of the batch is)"},
}


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("the body is not JSON") from exc


def _public_url(request: Request, base: str | None) -> str:
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return base.rstrip("/") + request.url.path + query


@router.post("/twilio", responses=_REFUSALS)
async def twilio_inbound(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Twilio-style form POST, verified by X-Twilio-Signature; answered with empty TwiML
    (the tracking number goes out through the outbound gateway like every other reply)."""
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    message = parse_twilio(
        params,
        url=_public_url(request, settings.public_base_url),
        signature=request.headers.get("X-Twilio-Signature"),
        auth_token=token,
    )
    await run_filing(lambda: receive(session, message))
    return Response(_TWIML_EMPTY, media_type="application/xml")


def _check_gateway(request: Request, path_token: str, settings: SettingsDep) -> None:
    token = settings.sms_path_token.get_secret_value() if settings.sms_path_token else None
    check_path_token(path_token, token)
    check_source(request.client.host if request.client else None, settings.sms_source_allowlist)


@router.post("/aliyun/{path_token}", responses=_REFUSALS)
async def aliyun_inbound(
    path_token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """Aliyun SmsUp push: a batch of messages; {"code": 0} once every one is stored. An item
    that is no message is left out (logged by its place, not its content): refusing the
    batch would refuse its good messages with it, on every re-push."""
    _check_gateway(request, path_token, settings)
    push = parse_aliyun(await _json(request))
    for reason in push.rejected:
        log.warning("aliyun push: %s; left out, the rest of the batch taken", reason)
    await run_filing(lambda: receive_all(session, push.messages))
    return JSONResponse({"code": 0, "msg": "成功"})


@router.post("/tencent/{path_token}", responses=_REFUSALS)
async def tencent_inbound(
    path_token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """Tencent Cloud reply callback; {"result": 0} once stored."""
    _check_gateway(request, path_token, settings)
    message = parse_tencent(await _json(request))
    await run_filing(lambda: receive(session, message))
    return JSONResponse({"result": 0, "errmsg": "OK"})
