"""The identity vault: who reported a tip-off, sealed, apart from the filing.

A reporter's name, phone, ID number and bank account are stored only sealed
(rewards.sealing, AES-256-GCM, bound to the filing's id). Nothing outside this package reads
them. A person opens the vault only as a reward officer, stating a reason, and every opening
is audited. The platform itself opens it for one thing: to text the reporter, and that
message is sealed too until it is sent (notify.service.queue_sealed_sms).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from accounts.service import Staff
from cases.audit import audit
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.timeutil import china_today
from intake.tracking_number import display_tracking_number
from notify.service import queue_sealed_sms
from rewards.keys import keyring
from rewards.sealing import Sealed
from schemas.complaint import Complaint
from schemas.enums import Kind, Role
from schemas.formats import trim
from schemas.reporter import ReporterIdentityIn, ReporterIdentityView
from schemas.reward import ReporterIdentity
from schemas.validators import ascii_digits, id_number_problem, mask_id_number, mask_phone

REDACTED = "［已隐去］"


def _context(complaint_id: int) -> str:
    return f"reporter-identity:{complaint_id}"


def _row(session: Session, complaint_id: int) -> ReporterIdentity | None:
    return session.exec(
        select(ReporterIdentity).where(ReporterIdentity.complaint_id == complaint_id)
    ).first()


def _open(row: ReporterIdentity) -> dict[str, Any]:
    sealed = Sealed(key_id=row.key_id, nonce=row.nonce, ciphertext=row.ciphertext)
    return keyring().open(sealed, context=_context(row.complaint_id))


def store(session: Session, *, complaint_id: int, identity: ReporterIdentityIn) -> bool:
    """Seal what the reporter gave, merged over what was sealed before. False if nothing given."""
    given = identity.given()
    if not given:
        return False
    row = _row(session, complaint_id)
    value = {**(_open(row) if row else {}), **given}
    sealed = keyring().seal(value, context=_context(complaint_id))
    row = row or ReporterIdentity(
        complaint_id=complaint_id, key_id="", nonce=b"", ciphertext=b"", updated_on=china_today()
    )
    row.key_id, row.nonce, row.ciphertext = sealed.key_id, sealed.nonce, sealed.ciphertext
    row.updated_on = china_today()
    session.add(row)
    session.flush()
    return True


# An 18-character resident ID number standing on its own (not part of a longer number), as
# found in the text's ASCII-digit copy; its X typed in either case and either width.
_ID_NUMBER_SHAPE = re.compile(r"(?<![0-9])[0-9]{17}[0-9XxＸｘ](?![0-9A-Za-z])")
# What people put between the digits of a number: 0351-7654321, 138 1234 5678, (0351)…
_SEPARATOR = r"[\s\-－()（）]{0,2}"


def scrub(text: str, identity: ReporterIdentityIn) -> str:
    """The text with the reporter's own name and numbers taken out (staff read the text).

    Numbers are found however they are written: full-width digits (the text is searched in
    its ASCII-digit copy, one character for one, so what is found is cut from the text as
    typed), spaced or dashed, with or without +86, a landline with its leading 0.

    Every valid resident ID number goes too, given or not: a form that asks only for a name
    and a phone still gets the reporter's ID number typed into the text, and a tip-off names
    a business by its credit code, not by anyone's ID card.
    """
    plain = ascii_digits(text)
    found = [match.span() for match in _known(identity).finditer(plain) if match.group()]
    found += [
        match.span()
        for match in _ID_NUMBER_SHAPE.finditer(plain)
        if id_number_problem(_id_form(match.group())) is None
    ]
    return _redact(text, found)


def _id_form(code: str) -> str:
    return code.upper().replace("Ｘ", "X").replace("ｘ", "X")


def _redact(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span (and spans overlapping it: one mark for them all) replaced."""
    pieces, cursor = [], 0
    for start, end in sorted(spans):
        if start >= cursor:
            pieces += [text[cursor:start], REDACTED]
        cursor = max(cursor, end)
    pieces.append(text[cursor:])
    return "".join(pieces)


def _digits(digits: str) -> str:
    """A pattern for these digits with whatever separators people type between them."""
    return _SEPARATOR.join(re.escape(digit) for digit in digits)


def _known(identity: ReporterIdentityIn) -> re.Pattern[str]:
    """One pattern for the reporter's own name and numbers, in any form they are written."""
    patterns: list[str] = []
    if identity.phone:
        # +86 or 86 before it; a landline's trunk 0 (0351-7654321), which E.164 leaves out.
        national = ascii_digits(identity.phone.removeprefix("+86"))
        patterns.append(rf"(?:\+?86{_SEPARATOR})?(?:0{_SEPARATOR})?{_digits(national)}")
    if identity.id_number:
        code = _id_form(ascii_digits(identity.id_number))
        last = "[XxＸｘ]" if code.endswith("X") else re.escape(code[-1])
        patterns.append(_digits(code[:-1]) + _SEPARATOR + last)
    if identity.bank_account:
        patterns.append(_digits(ascii_digits(identity.bank_account)))
    if identity.name and len(identity.name) >= 2:
        patterns.append(re.escape(ascii_digits(identity.name)))
    # Longest first, so that where two could match, the longer is taken.
    patterns.sort(key=len, reverse=True)
    return re.compile("|".join(patterns)) if patterns else re.compile(r"(?!)")


def scrub_known(session: Session, *, complaint_id: int, text: str) -> str:
    """`scrub` with the identity sealed for this tip-off (a reporter's later answers)."""
    row = _row(session, complaint_id)
    known = ReporterIdentityIn.model_construct(**_open(row)) if row else ReporterIdentityIn()
    return scrub(text, known)


def has_identity(session: Session, complaint_id: int) -> bool:
    return _row(session, complaint_id) is not None


def read(session: Session, *, staff: Staff, complaint_id: int, reason: str) -> ReporterIdentityView:
    """Open the vault for one tip-off: reward officers only, with a reason, audited."""
    if staff.role is not Role.reward_officer:
        # Refused, and the attempt is on the audit trail all the same.
        audit(
            session,
            staff=staff,
            action="vault.refused",
            complaint_id=None,
            detail={"tip_off": complaint_id, "role": staff.role.value},
        )
        session.commit()
        raise PermissionDenied("only reward officers may open a reporter's identity")
    reason = trim(reason)
    if len(reason) < 4:
        raise InvalidInput("state why the identity is needed (at least 4 characters)")
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.kind is not Kind.tip:
        raise NotFound("no tip-off with this id")
    row = _row(session, complaint_id)
    # The read is audited whether or not anything is sealed: the attempt is what matters.
    audit(
        session,
        staff=staff,
        action="vault.read",
        complaint_id=complaint_id,
        detail={"reason": reason, "found": row is not None},
    )
    session.commit()
    if row is None:
        raise NotFound("this tip-off was filed anonymously, or its identity was purged")
    value = _open(row)
    return ReporterIdentityView(
        complaint_id=complaint_id,
        name=value.get("name"),
        phone_masked=mask_phone(value["phone"]) if value.get("phone") else None,
        id_number_masked=mask_id_number(value["id_number"]) if value.get("id_number") else None,
        bank_name=value.get("bank_name"),
        bank_account=value.get("bank_account"),
        updated_on=row.updated_on.isoformat(),
    )


def notify_reporter(
    session: Session, *, complaint: Complaint, template: str, params: dict[str, str]
) -> bool:
    """Text the reporter, if a phone is sealed for this tip-off; True if a message was queued.

    The number and the message stay sealed until the send job sends them, then are erased.
    """
    assert complaint.id is not None
    row = _row(session, complaint.id)
    phone = _open(row).get("phone") if row else None
    if not phone:
        return False
    queue_sealed_sms(
        session,
        ring=keyring(),
        to=phone,
        template=template,
        params={"number": display_tracking_number(complaint.tracking_number), **params},
        complaint_id=complaint.id,
    )
    return True


def purge(session: Session, complaint_ids: list[int]) -> int:
    """Delete the sealed identities of these filings for good; returns how many there were."""
    if not complaint_ids:
        return 0
    result = session.execute(
        delete(ReporterIdentity).where(col(ReporterIdentity.complaint_id).in_(complaint_ids))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def rotate(session: Session) -> int:
    """Reseal every identity not yet under the active key; returns how many moved."""
    ring = keyring()
    moved = 0
    rows = session.exec(
        select(ReporterIdentity).where(col(ReporterIdentity.key_id) != ring.active)
    ).all()
    for row in rows:
        old = Sealed(key_id=row.key_id, nonce=row.nonce, ciphertext=row.ciphertext)
        new = ring.reseal(old, context=_context(row.complaint_id))
        row.key_id, row.nonce, row.ciphertext = new.key_id, new.nonce, new.ciphertext
        session.add(row)
        moved += 1
    return moved
