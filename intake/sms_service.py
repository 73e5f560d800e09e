"""An inbound text message becomes a filing, a status query, or a reply to an earlier filing.

Every delivery is recorded under its provider's dedup key in the same transaction as what
it caused, so a gateway's retry or replay finds the key taken and changes nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from cases.lifecycle import Actor, record
from cases.satisfaction import rate
from classifiers.kind import KindGuess, detect_kind
from core.errors import Conflict, NotFound, ServiceUnavailable
from core.timeutil import day_start, utcnow
from intake import limits, repository
from intake.limits import TooManyRequests
from intake.service import (
    FilingDraft,
    create_filing,
    file_tip,
    find_by_tracking_number,
    public_view,
)
from intake.sms_providers import InboundSms
from intake.tracking_number import display_tracking_number
from notify.service import queue_sealed_sms, queue_sms
from products.service import product_from_text
from rewards import receipts
from rewards.keys import keyring
from schemas.complaint import TEXT_MAX, TEXT_MIN, name_required
from schemas.enums import FINAL_STATUSES, KIND_LABELS, STATUS_LABELS, Channel, Kind
from schemas.reporter import ReporterIdentityIn
from schemas.sms import SmsInbound
from schemas.validators import ascii_digits
from supervision.repository import active_by_phone

log = logging.getLogger(__name__)
SMS_CITIZEN = Actor(name="citizen:sms")
REPLY_WINDOW = timedelta(days=90)
_RECEIPT_QUERY = re.compile(r"^\s*(?:查询|查|cx|CX)?\s*[:：]?\s*([0-9][0-9\s\-]{22,40})\s*$")
_QUERY = re.compile(r"^\s*(?:查询|查|cx|CX)?\s*[:：]?\s*([0-9][0-9\s\-]{12,22})\s*$")
_RATING = re.compile(r"^\s*([1-5])\s*分?\s*$")
# 「姓名张三」, 「我叫 欧阳娜娜」, 「姓名：阿依古丽·买买提」: the whole message is the name.
_NAME = re.compile(
    r"^\s*(?:姓名|名字|我叫|我的名字是)\s*[:：是为]?\s*"
    r"([\u4e00-\u9fffA-Za-z·•][\u4e00-\u9fffA-Za-z·• ]{0,28}[\u4e00-\u9fffA-Za-z·•])"
    r"\s*[。.!！]?\s*$"
)


@dataclass(frozen=True)
class SmsOutcome:
    outcome: str  # filed | query | reply | too_short | too_long | rate_limited | duplicate
    complaint_id: int | None = None
    tracking_number: str | None = None
    private: bool = False  # a tip-off's: the delivery keeps no number, no text, no time


def receive(session: Session, message: InboundSms) -> SmsOutcome:
    """Handle one delivery and commit; a delivery seen before changes nothing."""
    try:
        with session.begin_nested():
            inbound = SmsInbound(
                provider=message.provider,
                dedup_key=message.dedup_key,
                sender=message.sender,
                recipient=message.recipient,
                text=message.text,
                outcome="pending",
            )
            session.add(inbound)
    except IntegrityError:
        session.rollback()
        return SmsOutcome("duplicate")
    outcome = _handle(session, message)
    inbound.outcome = outcome.outcome
    inbound.complaint_id = outcome.complaint_id
    if outcome.private:
        inbound.sender, inbound.text, inbound.received_at = None, None, day_start()
    session.add(inbound)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent delivery of the same message committed first.
        session.rollback()
        return SmsOutcome("duplicate")
    return outcome


def receive_all(session: Session, messages: list[InboundSms]) -> list[SmsOutcome]:
    """Handle a gateway's batch, each message in its own transaction: one that fails is
    rolled back alone and the others stay stored. The first failure is then raised, so that
    the gateway pushes the batch again: the failed message gets another chance, and the
    stored ones are duplicates by then."""
    outcomes, failure = [], None
    for message in messages:
        try:
            outcomes.append(receive(session, message))
        except Exception as exc:
            session.rollback()
            # The type only: an exception's message may quote the text or the number.
            log.error(
                "%s message failed (%s); the rest of its batch goes on",
                message.provider,
                type(exc).__name__,
            )
            failure = failure or exc
    if failure is not None:
        raise failure
    return outcomes


def _handle(session: Session, message: InboundSms) -> SmsOutcome:
    # Commands are read in ASCII digits: phones type full-width ones (查询２６１１…, ５).
    command = ascii_digits(message.text)
    receipt_query = _RECEIPT_QUERY.match(command)
    if receipt_query and receipts.normalize(receipt_query.group(1)):
        return _answer_receipt(session, message, receipt_query.group(1))
    query = _QUERY.match(command)
    if query:
        return _answer_query(session, message, query.group(1))
    name = _NAME.match(message.text)
    if name:
        named = _give_name(session, message, name.group(1))
        if named:
            return named
    rating = _RATING.match(command)
    if rating:
        replied = _attach_reply(session, message, rating=int(rating.group(1)))
        if replied:
            return replied
    if len(message.text) < TEXT_MIN:
        queue_sms(session, to=message.sender, template="too_short", params={})
        return SmsOutcome("too_short")
    if len(message.text) > TEXT_MAX:  # the web's limit: staff read every filing in full
        queue_sms(session, to=message.sender, template="too_long", params={"max": str(TEXT_MAX)})
        return SmsOutcome("too_long")
    try:
        limits.check_phone(message.sender)
    except limits.TooManyRequests:
        # Recorded, not filed, not answered: a flood from one number costs no SMS.
        return SmsOutcome("rate_limited")
    guess = detect_kind(message.text)
    if guess.kind is Kind.tip:
        return _file_tip(session, message, guess)
    complaint = create_filing(
        session,
        draft=FilingDraft(kind=guess.kind, text=message.text, contact_phone=message.sender),
        channel=Channel.sms,
        actor=SMS_CITIZEN,
        # An appointed quality supervisor texting from its registered number files as one.
        supervisor=active_by_phone(session, message.sender),
        product=product_from_text(message.text),
        payload={
            "provider": message.provider,
            "kind_detected": {
                "reasons": list(guess.reasons),
                "confidence": round(guess.confidence, 4),
            },
        },
    )
    assert complaint.id is not None
    number = display_tracking_number(complaint.tracking_number)
    if name_required(complaint.kind):  # filed all the same, marked missing it: ask for it
        template, params = "filed_name_needed", {"number": number}
    else:
        template, params = "filed", {"kind": KIND_LABELS[complaint.kind], "number": number}
    queue_sms(
        session, to=message.sender, template=template, params=params, complaint_id=complaint.id
    )
    return SmsOutcome("filed", complaint.id, complaint.tracking_number)


def _file_tip(session: Session, message: InboundSms, guess: KindGuess) -> SmsOutcome:
    """A tip-off by SMS: the number goes to the vault; the receipt code back, sealed."""
    filed = file_tip(
        session,
        draft=FilingDraft(kind=Kind.tip, text=message.text),
        reporter=ReporterIdentityIn(phone=message.sender),
        channel=Channel.sms,
        product=product_from_text(message.text),
        actor=SMS_CITIZEN,
        payload={
            "provider": message.provider,
            "kind_detected": {
                "reasons": list(guess.reasons),
                "confidence": round(guess.confidence, 4),
            },
        },
    )
    assert filed.complaint.id is not None
    assert filed.receipt_code is not None
    queue_sealed_sms(
        session,
        ring=keyring(),
        to=message.sender,
        template="tip_filed",
        params={"receipt": receipts.display(filed.receipt_code)},
        complaint_id=filed.complaint.id,
    )
    return SmsOutcome("filed", filed.complaint.id, None, private=True)


def _answer_receipt(session: Session, message: InboundSms, raw_code: str) -> SmsOutcome:
    """A status query by receipt code: answered sealed, and the delivery kept without a trace."""
    try:
        complaint = receipts.verify(session, raw_code)
    except (NotFound, TooManyRequests, ServiceUnavailable):
        queue_sealed_sms(
            session, ring=keyring(), to=message.sender, template="receipt_not_found", params={}
        )
        return SmsOutcome("query", private=True)
    view = public_view(session, complaint)
    where = view.office or (view.department.name if view.department else "")
    queue_sealed_sms(
        session,
        ring=keyring(),
        to=message.sender,
        template="tip_status",
        params={"status": view.status_label, "where": f"（{where}）" if where else ""},
        complaint_id=complaint.id,
    )
    return SmsOutcome("query", complaint.id, None, private=True)


def _answer_query(session: Session, message: InboundSms, raw_number: str) -> SmsOutcome:
    complaint = find_by_tracking_number(session, raw_number)
    if complaint is None or complaint.id is None or complaint.kind is Kind.tip:
        digits = re.sub(r"[^0-9]", "", raw_number)
        queue_sms(session, to=message.sender, template="not_found", params={"number": digits})
        return SmsOutcome("query")
    office = repository.office(session, complaint.office_id)
    department = repository.department(session, complaint.department_id)
    where = office.name if office else (department.name if department else "")
    queue_sms(
        session,
        to=message.sender,
        template="status",
        params={
            "number": display_tracking_number(complaint.tracking_number),
            "status": STATUS_LABELS[complaint.status],
            "where": f"（{where}）" if where else "",
        },
        complaint_id=complaint.id,
    )
    return SmsOutcome("query", complaint.id, complaint.tracking_number)


def _attach_reply(session: Session, message: InboundSms, *, rating: int) -> SmsOutcome | None:
    """A bare score from a number that filed recently answers that filing."""
    complaint = repository.latest_filing_by_phone(
        session, message.sender, since=utcnow() - REPLY_WINDOW
    )
    if complaint is None or complaint.id is None:
        return None
    number = display_tracking_number(complaint.tracking_number)
    try:
        rate(session, complaint=complaint, score=rating, comment=None, channel="sms")
        template, params = "rating_received", {"number": number, "score": str(rating)}
    except Conflict:
        # Not closed yet, or rated already: keep the reply on the filing's history.
        record(
            session,
            complaint=complaint,
            actor=SMS_CITIZEN,
            reason="citizen replied by SMS",
            payload={"text": message.text, "rating": rating, "provider": message.provider},
        )
        template, params = "reply_received", {"number": number}
    queue_sms(
        session, to=message.sender, template=template, params=params, complaint_id=complaint.id
    )
    return SmsOutcome("reply", complaint.id, complaint.tracking_number)


def _give_name(session: Session, message: InboundSms, name: str) -> SmsOutcome | None:
    """「姓名张三」 from a number whose latest filing is a complaint still without its
    complainant's name: the name goes onto it, and the history says it was supplied."""
    complaint = repository.latest_filing_by_phone(
        session, message.sender, since=utcnow() - REPLY_WINDOW
    )
    if (
        complaint is None
        or complaint.id is None
        or complaint.kind is not Kind.complaint
        or complaint.complainant_name
        or complaint.status in FINAL_STATUSES
    ):
        return None  # read as any other text
    complaint.complainant_name = " ".join(name.split())
    session.add(complaint)
    # The name itself stays on the row only, where the retention policy erases it.
    record(
        session,
        complaint=complaint,
        actor=SMS_CITIZEN,
        reason="citizen gave their name by SMS",
        payload={"supplied": ["complainant_name"], "provider": message.provider},
    )
    queue_sms(
        session,
        to=message.sender,
        template="name_received",
        params={"number": display_tracking_number(complaint.tracking_number)},
        complaint_id=complaint.id,
    )
    return SmsOutcome("reply", complaint.id, complaint.tracking_number)
