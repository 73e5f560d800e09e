"""'My complaints': a citizen signs in with their phone number and an SMS code, and sees the
complaints and inquiries that give that number as their contact.

There is no citizen account: the phone number is the identity the filings already carry,
and the text message proves the citizen holds it. What is stored: the code's keyed hash in
Redis for minutes (citizens.codes); the signed-in state in a signed token the citizen keeps
(citizens.tokens); the text itself sealed until sent, then erased (notify.queue_sealed_sms).
Asking for a code answers the same whether or not the number has filings.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from sqlmodel import Session

from citizens import codes, tokens
from citizens.tokens import CitizenSession
from core.errors import InvalidInput
from core.settings import get_settings
from core.timeutil import as_china
from intake import repository
from intake.limits import Limit, TooManyRequests, check_all, forgive
from intake.tracking_number import display_tracking_number
from notify.service import queue_sealed_sms
from rewards.keys import keyring
from schemas.citizen import CodeSent, OwnFiling, OwnFilings
from schemas.enums import KIND_LABELS, STATUS_LABELS
from schemas.validators import is_cn_mobile, mask_phone

log = logging.getLogger(__name__)

CODE_TEMPLATE = "citizen_code"
LIST_LIMIT = 100  # a citizen with more has filed for years: the newest hundred, and `more`


def send_code(session: Session, *, phone: str, address: str | None) -> CodeSent:
    """Text a new sign-in code to `phone` (E.164); the caller commits.

    429 (Retry-After) while the number's resend wait runs, or when the number or the
    address has asked for too many codes this hour."""
    if not is_cn_mobile(phone):
        raise InvalidInput("sign-in codes are sent by text message: give a mobile number")
    settings = get_settings()
    counted = check_all(
        [
            Limit(
                "citizen-code-ip",
                address or "unknown",
                limit=settings.citizen_codes_per_address_per_hour,
                window_seconds=3600,
                what="sign-in codes asked for from this address",
            ),
            Limit(
                "citizen-code-phone",
                phone,
                limit=settings.citizen_codes_per_phone_per_hour,
                window_seconds=3600,
                what="sign-in codes for this number this hour",
            ),
        ]
    )
    issued = codes.issue(phone)
    if issued.wait_seconds:
        forgive(counted)  # nothing was sent: the hour's quota is not spent
        raise TooManyRequests(
            f"a code was sent to this number just now; ask again in {issued.wait_seconds} seconds",
            retry_after=issued.wait_seconds,
        )
    minutes = math.ceil(settings.citizen_code_ttl_seconds / 60)
    queue_sealed_sms(
        session,
        ring=keyring(),
        to=phone,
        template=CODE_TEMPLATE,
        params={"code": issued.code, "minutes": str(minutes)},
    )
    log.info("citizen sign-in code queued for %s", mask_phone(phone))
    return CodeSent(
        sent_to=mask_phone(phone),
        expires_in=settings.citizen_code_ttl_seconds,
        resend_after=settings.citizen_code_resend_seconds,
    )


def sign_in(*, phone: str, code: str, address: str | None) -> tuple[str, int]:
    """A token for `phone` and the seconds it lasts, if `code` is its code.

    Every try from an address is counted first, whatever the number (one address guessing
    across many numbers) and per number (one number from many addresses), and a right code
    takes its try back."""
    settings = get_settings()
    counted = check_all(
        [
            Limit(
                "citizen-signin-ip",
                address or "unknown",
                limit=settings.citizen_signin_tries_per_address_per_hour,
                window_seconds=3600,
                what="wrong sign-in codes from this address",
            ),
            # Per number, from every address: a new code resets its own tries, so without
            # this one number could be guessed at five codes × five tries an hour, all day.
            Limit(
                "citizen-signin-phone",
                phone,
                limit=settings.citizen_signin_tries_per_phone_per_day,
                window_seconds=86400,
                what="wrong sign-in codes for this number today",
            ),
        ]
    )
    codes.check(phone, code)
    forgive(counted)
    return tokens.issue(phone)


def sign_out(citizen: CitizenSession) -> None:
    tokens.revoke(citizen)


def own_filings(
    session: Session, citizen: CitizenSession, *, tracking_url: Callable[[str], str]
) -> OwnFilings:
    """The signed-in number's complaints and inquiries, newest first (never a tip-off)."""
    rows = repository.own_filings(session, citizen.phone, limit=LIST_LIMIT + 1)
    return OwnFilings(
        phone=mask_phone(citizen.phone),
        filings=[
            OwnFiling(
                tracking_number=row.tracking_number,
                tracking_number_display=display_tracking_number(row.tracking_number),
                kind=row.kind,
                kind_label=KIND_LABELS[row.kind],
                status=row.status,
                status_label=STATUS_LABELS[row.status],
                filed_on=as_china(row.created_at).date(),
                department=row.department,
                tracking_url=tracking_url(row.tracking_number),
            )
            for row in rows[:LIST_LIMIT]
        ],
        more=len(rows) > LIST_LIMIT,
    )
