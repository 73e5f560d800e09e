"""Outbound SMS gateways on one shared httpx client per process."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import httpx

from core.settings import Settings, get_settings

log = logging.getLogger(__name__)


class GatewayError(Exception):
    def __init__(self, message: str, *, retryable: bool, brief: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        # The message without what the gateway said back, which may quote the number and
        # the text it was sent (Twilio's 4xx do): all a sealed message may keep or log.
        self.brief = brief or message


class SmsGateway(Protocol):
    name: str

    def send(self, to: str, text: str) -> str:
        """Send one message; return the provider's message id; GatewayError on failure."""
        ...


class LogGateway:
    """Records and logs only: a deployment with no gateway configured yet."""

    name = "log"

    def send(self, to: str, text: str) -> str:
        log.info("sms (not sent, provider log): %d characters", len(text))
        return "log"


@dataclass
class HttpGateway:
    """Shared behaviour of gateways reached over HTTP: status codes to retry or not."""

    client: httpx.Client

    def _post(self, url: str, **kwargs: object) -> httpx.Response:
        try:
            response = self.client.post(url, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise GatewayError(f"gateway answered {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise GatewayError(
                f"gateway refused the message: {response.status_code} {response.text[:200]}",
                retryable=False,
                brief=f"gateway refused the message: {response.status_code}",
            )
        return response


@dataclass
class LoopbackGateway(HttpGateway):
    """The built-in test gateway (notify.loopback): POST {to, text} → {id}."""

    base_url: str = ""
    name: str = "loopback"

    def send(self, to: str, text: str) -> str:
        response = self._post(
            f"{self.base_url.rstrip('/')}/messages", json={"to": to, "text": text}
        )
        return str(response.json().get("id", ""))


@dataclass
class TwilioGateway(HttpGateway):
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    api_base: str = "https://api.twilio.com"
    name: str = "twilio"

    def send(self, to: str, text: str) -> str:
        url = f"{self.api_base.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        response = self._post(
            url,
            data={"To": to, "From": self.from_number, "Body": text},
            auth=(self.account_sid, self.auth_token),
        )
        return str(response.json().get("sid", ""))


_lock = threading.Lock()
_gateways: dict[str, SmsGateway] = {}


def get_gateway() -> SmsGateway:
    """The configured gateway, built once per process with one pooled httpx client."""
    settings = get_settings()
    key = f"{settings.sms_provider}:{settings.sms_gateway_url}:{settings.twilio_account_sid}"
    with _lock:
        if key not in _gateways:
            _gateways[key] = _build(settings)
        return _gateways[key]


def _build(settings: Settings) -> SmsGateway:
    if settings.sms_provider == "log":
        return LogGateway()
    client = httpx.Client(timeout=settings.sms_timeout_seconds)
    if settings.sms_provider == "loopback":
        if not settings.sms_gateway_url:
            raise GatewayError(
                "sms_provider loopback needs COMPLAINTS_SMS_GATEWAY_URL", retryable=False
            )
        return LoopbackGateway(client=client, base_url=settings.sms_gateway_url)
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not (settings.twilio_account_sid and token and settings.twilio_from_number):
        raise GatewayError(
            "sms_provider twilio needs COMPLAINTS_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM_NUMBER",
            retryable=False,
        )
    return TwilioGateway(
        client=client,
        account_sid=settings.twilio_account_sid,
        auth_token=token,
        from_number=settings.twilio_from_number,
        api_base=settings.twilio_api_base,
    )


def forget_gateways() -> None:
    with _lock:
        _gateways.clear()
