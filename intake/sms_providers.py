"""Inbound SMS as each gateway delivers it: parsing and verifying, one adapter per shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput, NotFound, PermissionDenied
from schemas.formats import without_control_characters
from schemas.validators import ascii_digits, normalize_cn_phone

MAX_DEDUP_KEY, MAX_RECIPIENT = 100, 30  # schemas.sms.SmsInbound's columns


@dataclass(frozen=True)
class InboundSms:
    provider: str
    dedup_key: str  # the same message delivered twice has the same key
    sender: str  # E.164 when it is a valid Chinese number, else the digits as sent
    recipient: str | None
    text: str  # without control characters (but tab and line breaks), trimmed

    def __post_init__(self) -> None:
        # The gateway's fields go into bounded text columns (schemas.sms), and PostgreSQL
        # holds no U+0000 in text: an over-long message id, or one with control characters,
        # keeps its identity as a hash; an over-long recipient is no number of ours; control
        # characters are taken out of the text and the recipient (a gateway cannot be asked
        # to correct a message).
        key = self.dedup_key
        if len(key) > MAX_DEDUP_KEY or without_control_characters(key) != key:
            digest = hashlib.sha256(key.encode()).hexdigest()
            object.__setattr__(self, "dedup_key", f"{self.provider}:sha256:{digest}")
        if self.recipient is not None:
            recipient = without_control_characters(self.recipient).strip() or None
            object.__setattr__(self, "recipient", recipient)
            if recipient is not None and len(recipient) > MAX_RECIPIENT:
                raise InvalidInput(f"recipient number longer than {MAX_RECIPIENT} characters")
        object.__setattr__(self, "text", without_control_characters(self.text).strip())


def _sender(raw: str) -> str:
    try:
        return normalize_cn_phone(raw)
    except ValueError:
        kept = "".join(ch for ch in ascii_digits(raw) if ch in "+0123456789")
        return kept[:20] or "unknown"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """base64(HMAC-SHA1(token, url + each param name and value, sorted by name))."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def parse_twilio(
    params: Mapping[str, str], *, url: str, signature: str | None, auth_token: str | None
) -> InboundSms:
    if not auth_token:
        raise NotFound("the Twilio webhook is not configured")
    expected = twilio_signature(auth_token, url, params)
    if not signature or not hmac.compare_digest(expected, signature):
        raise PermissionDenied("X-Twilio-Signature does not match")
    missing = [f for f in ("MessageSid", "From", "Body") if not params.get(f)]
    if missing:
        raise InvalidInput(f"Twilio message without {', '.join(missing)}")
    return InboundSms(
        provider="twilio",
        dedup_key=f"twilio:{params['MessageSid']}",
        sender=_sender(params["From"]),
        recipient=params.get("To"),
        text=params["Body"],
    )


def check_path_token(given: str, configured: str | None) -> None:
    if not configured:
        raise NotFound("this webhook is not configured (COMPLAINTS_SMS_PATH_TOKEN)")
    if not hmac.compare_digest(given.encode(), configured.encode()):
        # As if the path did not exist: a 403 would tell a prober that the webhook is
        # there and only its secret segment is wrong.
        raise NotFound("no such webhook")


def check_source(address: str | None, allowlist: list[str]) -> None:
    if not allowlist:
        return
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError as exc:
        raise PermissionDenied("source address not allowed") from exc
    if not any(ip in ipaddress.ip_network(net, strict=False) for net in allowlist):
        raise PermissionDenied("source address not allowed")


@dataclass(frozen=True)
class Push:
    """A gateway's batch: the messages in it, and why each item left out was (by its place
    in the batch, naming no content or number)."""

    messages: list[InboundSms]
    rejected: list[str]


def parse_aliyun(body: Any) -> Push:
    """SmsUp push: a JSON array of {phone_number, content, send_time, dest_code, sequence_id}.

    Each item stands alone: one that is no message (no content, no sender, no id) is left out
    with its reason, so that it does not keep the others from being filed (a refused push
    comes back identical, bad item and all). A body none of whose items is a message is
    refused."""
    items = body if isinstance(body, list) else [body]
    messages, rejected = [], []
    for index, item in enumerate(items):
        try:
            messages.append(_aliyun_message(item))
        except InvalidInput as exc:
            rejected.append(f"item {index}: {exc.detail}")
    if rejected and not messages:
        raise InvalidInput("; ".join(rejected))
    return Push(messages, rejected)


def _aliyun_message(item: Any) -> InboundSms:
    if not isinstance(item, dict):
        raise InvalidInput("expected an object")
    missing = [f for f in ("phone_number", "content", "sequence_id") if item.get(f) in (None, "")]
    if missing:
        raise InvalidInput(f"missing {', '.join(missing)}")
    message = InboundSms(
        provider="aliyun",
        dedup_key=f"aliyun:{item['sequence_id']}",
        sender=_sender(str(item["phone_number"])),
        recipient=str(item.get("dest_code") or "") or None,
        text=str(item["content"]),
    )
    if not message.text:
        raise InvalidInput("content is empty once control characters and spaces are taken out")
    return message


def parse_tencent(body: Any) -> InboundSms:
    """Reply callback {mobile, nationcode, sign, text, time}: no id, so hash the content."""
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    missing = [f for f in ("mobile", "text", "time") if body.get(f) in (None, "")]
    if missing:
        raise InvalidInput(f"missing {', '.join(missing)}")
    nation = str(body.get("nationcode") or "86")
    mobile = str(body["mobile"])
    key = hashlib.sha256(f"{nation}|{mobile}|{body['time']}|{body['text']}".encode()).hexdigest()
    return InboundSms(
        provider="tencent",
        dedup_key=f"tencent:{key[:40]}",
        sender=_sender(f"+{nation}{mobile}" if nation != "86" else mobile),
        recipient=str(body.get("sign") or "") or None,
        text=str(body["text"]),
    )
