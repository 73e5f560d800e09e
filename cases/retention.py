"""Retention: personal data of finished filings is erased after the policy's period, for good.

A filing closed (or merged) longer ago than `retention.closed_tip_days` (tip-offs) or
`retention.closed_filing_days` (complaints, inquiries) loses everything that could name a
person: the contact number, the complainant's name and address, the order number, the free
text and the demand, the sealed identity and receipt code, the SMS numbers and texts,
attachments (rows and files), rating comments and follow-up call notes, the text
fingerprints, free text in its history, and the officers' free text in its reward file and
vault reads.
What statistics count stays: kind, channel, department, place, statuses and the days they
changed. Rows are overwritten or deleted, not flagged:
no soft-deleted copy is left, and on SQLite `secure_delete` zeroes the freed bytes and a
checkpoint empties the write-ahead log.

History rows are append-only for everyone else; this job is the one exception the law
makes, and it only takes free text out of them (with a Core UPDATE, past the ORM guard).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from cases.policy import current_policy
from core.timeutil import as_china, china_today, day_start
from intake import attachments
from rewards import receipts, vault
from rewards import retention as reward_retention
from schemas.attachment import Attachment
from schemas.casework import ArbitrationTest, SatisfactionRating, TipCase
from schemas.complaint import Complaint
from schemas.duplicate import SignatureBand, TextSignature
from schemas.enums import FINAL_STATUSES, Kind
from schemas.event import ComplaintEvent
from schemas.follow_up import FollowUpCall
from schemas.product import ProductRiskCase, ProductRiskFiling
from schemas.sms import SmsInbound, SmsOutbound

log = logging.getLogger(__name__)
PURGED_TEXT = "［个人信息已按保存期限清除］"
# History payload keys that hold codes, not anyone's words: kept for statistics.
KEPT_PAYLOAD_KEYS = frozenset(
    {
        "action",
        "channel",
        "kind",
        "reason_code",
        "step",
        "due_on",
        "escalated",
        "provider",
        "department",
        "from_department",
        "to_department",
        "office",
        "place_code",
        "status",
        "score",
        "rating",
        "classifier",
        "classifier_version",
    }
)
# Inside a kept key's object (the routing decision's "place" and "kind"): divisions and the
# detected kind stay; lists (matched words, reasons) are the filer's own words and go.
KEPT_NESTED_KEYS = frozenset(
    {"province", "city", "county", "code", "label", "detected", "confidence", "split_suggested"}
)
_BATCH = 200
_TOUCHED = (
    "complaints",
    "complaint_events",
    "sms_inbound",
    "sms_outbound",
    "reporter_identities",
    "tip_receipts",
    "satisfaction_ratings",
    "attachments",
    "text_signatures",
    "signature_bands",
    "tip_cases",
    *reward_retention.TABLES,
)


def kept_payload(
    payload: dict[str, Any], keys: frozenset[str] = KEPT_PAYLOAD_KEYS
) -> dict[str, Any]:
    """What of a history payload statistics need; free text, at any depth, is left out."""
    kept: dict[str, Any] = {}
    for key, value in payload.items():
        if key not in keys or isinstance(value, list | tuple):
            continue
        if isinstance(value, dict):
            value = kept_payload(value, KEPT_PAYLOAD_KEYS | KEPT_NESTED_KEYS)
        kept[key] = value
    return kept


@dataclass(frozen=True)
class PurgeReport:
    filings: int
    identities: int
    attachments: int


def due_for_purge(session: Session, *, limit: int) -> list[Complaint]:
    """Finished filings past their retention period whose personal data is still there.

    A tip-off is finished when its reward file is too: one still to be paid, or paid or
    refused within the period, keeps the reporter's identity and receipt code.
    """
    policy = current_policy().retention
    tip_cutoff = day_start() - timedelta(days=policy.closed_tip_days)
    other_cutoff = day_start() - timedelta(days=policy.closed_filing_days)
    tip_due = and_(
        col(Complaint.kind) == Kind.tip,
        col(Complaint.updated_at) < tip_cutoff,
        ~reward_retention.reward_in_use(col(Complaint.id), as_china(tip_cutoff).date()),
    )
    query = (
        select(Complaint)
        .where(col(Complaint.status).in_(list(FINAL_STATUSES)))
        .where(col(Complaint.personal_data_purged_on).is_(None))
        .where(
            or_(
                tip_due,
                and_(col(Complaint.kind) != Kind.tip, col(Complaint.updated_at) < other_cutoff),
            )
        )
        .where(~_serves_an_open_case())
        .order_by(col(Complaint.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def _serves_an_open_case() -> ColumnElement[bool]:
    """A finished filing another, unfinished case still relies on: a duplicate merged into
    a filing still being handled, at any depth (its text and attachments are part of that
    file), or the evidence of a product-risk case not yet finished (open_key is cleared
    when it ends)."""
    survivor, below = aliased(Complaint), aliased(Complaint)
    # Merged into an open filing directly, or through filings merged in turn (A into B,
    # then B into C, C open: A is part of C's file too). UNION ends even on a cycle.
    serving = (
        select(col(below.id))
        .join(survivor, col(survivor.id) == col(below.merged_into_id))
        .where(col(survivor.status).not_in(list(FINAL_STATUSES)))
        .cte("serving_open_merges", recursive=True)
    )
    deeper = aliased(Complaint)
    serving = serving.union(
        select(col(deeper.id)).join(serving, col(deeper.merged_into_id) == serving.c.id)
    )
    merged_into_open = col(Complaint.id).in_(select(serving.c.id))
    evidence = exists(
        select(ProductRiskFiling.id)
        .join(ProductRiskCase, col(ProductRiskCase.id) == col(ProductRiskFiling.case_id))
        .where(col(ProductRiskFiling.complaint_id) == col(Complaint.id))
        .where(col(ProductRiskCase.open_key).is_not(None))
    )
    return or_(merged_into_open, evidence)


def purge_due(session: Session) -> PurgeReport:
    """Erase the personal data of every filing past retention; commits in batches."""
    filings = identities = files = 0
    while batch := due_for_purge(session, limit=_BATCH):
        ids = [c.id for c in batch if c.id is not None]
        identities += _purge_rows(session, ids)
        session.commit()
        files += _remove_attachments(session)
        filings += len(ids)
    files += _remove_attachments(session)  # any a failed earlier run left behind
    unlinked = _purge_unlinked_sms(session)
    if filings or unlinked or files:
        _compact(session)
        log.info("retention: personal data of %d finished filing(s) erased", filings)
    return PurgeReport(filings=filings, identities=identities, attachments=files)


def _remove_attachments(session: Session) -> int:
    """The files of every purged filing, rows and stored bytes (attachments.remove commits).

    Chosen by the filing's purge mark, not by the batch: a run that stopped between erasing
    the rows and removing the files leaves nothing behind for good.
    """
    rows = session.exec(
        select(Attachment)
        .join(Complaint, col(Attachment.complaint_id) == col(Complaint.id))
        .where(col(Complaint.personal_data_purged_on).is_not(None))
    ).all()
    if not rows:
        return 0
    session.execute(  # a lab report's file goes too; the test's outcome and summary stay
        update(ArbitrationTest)
        .where(col(ArbitrationTest.report_attachment_id).in_([row.id for row in rows]))
        .values(report_attachment_id=None)
        .execution_options(synchronize_session=False)
    )
    return attachments.remove(session, rows)


def _purge_rows(session: Session, ids: list[int]) -> int:
    identities = vault.purge(session, ids)
    receipts.purge(session, ids)
    reward_retention.erase_free_text(session, ids)  # officers' notes, references, vault reasons
    session.execute(
        update(Complaint)
        .where(col(Complaint.id).in_(ids))
        .values(
            contact_phone=None,
            text=PURGED_TEXT,
            # The complainant's name and address, the order number (it leads to the buyer's
            # account), and the demand: free text in the complainant's words, as the text.
            complainant_name=None,
            complainant_address=None,
            order_number=None,
            demand=None,
            routing_hints={},  # an operator's override reason is free text
            personal_data_purged_on=china_today(),
        )
    )
    session.execute(
        update(TipCase).where(col(TipCase.complaint_id).in_(ids)).values(not_opened_reason=None)
    )
    for event in session.exec(
        select(ComplaintEvent).where(col(ComplaintEvent.complaint_id).in_(ids))
    ).all():
        kept = kept_payload(event.payload)
        session.execute(
            update(ComplaintEvent)
            .where(col(ComplaintEvent.id) == event.id)
            .values(payload=kept, public_note=None)
            .execution_options(synchronize_session=False)
        )
    session.expunge_all()  # the events were read through the ORM; none may be flushed
    session.execute(
        update(SmsInbound)
        .where(col(SmsInbound.complaint_id).in_(ids))
        .values(sender=None, text=None)
    )
    session.execute(
        update(SmsOutbound)
        .where(col(SmsOutbound.complaint_id).in_(ids))
        .values(
            to_number=None,
            body=None,
            params={},
            sealed_key_id=None,
            sealed_nonce=None,
            sealed_ciphertext=None,
        )
    )
    session.execute(
        update(SatisfactionRating)
        .where(col(SatisfactionRating.complaint_id).in_(ids))
        .values(comment=None)
    )
    session.execute(  # what the complainant said on a follow-up call
        update(FollowUpCall).where(col(FollowUpCall.complaint_id).in_(ids)).values(note=None)
    )
    session.execute(delete(SignatureBand).where(col(SignatureBand.complaint_id).in_(ids)))
    session.execute(delete(TextSignature).where(col(TextSignature.complaint_id).in_(ids)))
    return identities


def _purge_unlinked_sms(session: Session) -> int:
    """Texts in and out that belong to no filing (too short, status queries): numbers gone."""
    cutoff = day_start() - timedelta(days=current_policy().retention.unlinked_sms_days)
    inbound = session.execute(
        update(SmsInbound)
        .where(col(SmsInbound.complaint_id).is_(None))
        .where(col(SmsInbound.received_at) < cutoff)
        .where(col(SmsInbound.sender).is_not(None))
        .values(sender=None, text=None)
    )
    outbound = session.execute(
        update(SmsOutbound)
        .where(col(SmsOutbound.complaint_id).is_(None))
        .where(col(SmsOutbound.created_at) < cutoff)
        .where(col(SmsOutbound.to_number).is_not(None))
        .values(to_number=None, body=None, params={})
    )
    session.commit()
    return int(inbound.rowcount) + int(outbound.rowcount)  # type: ignore[attr-defined]


def _compact(session: Session) -> None:
    """Make the erasure physical where the database allows it from here."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        # secure_delete (core.db) zeroed the freed bytes; the log still holds old pages.
        # A checkpoint cannot run inside a transaction, and every transaction of this engine
        # begins IMMEDIATE (core.db): run it on the bare driver connection, in autocommit.
        session.commit()
        _checkpoint_sqlite(bind)  # type: ignore[arg-type]
        return
    # PostgreSQL keeps dead row versions until VACUUM; VACUUM cannot run in a transaction.
    with bind.connect() as connection:  # type: ignore[union-attr]
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in _TOUCHED:
            autocommit.execute(text(f"VACUUM {table}"))


def _checkpoint_sqlite(engine: Engine, attempts: int = 5) -> None:
    """Copy the write-ahead log into the database file and truncate the log to nothing.

    A reader in the middle of a statement keeps the checkpoint from finishing ("busy"):
    it is tried again a few times, then logged (the next run that erases anything tries again).
    """
    for attempt in range(attempts):
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = cursor.fetchone()
            busy = row[0] if row else 0
            cursor.close()
        finally:
            raw.close()
        if not busy:
            return
        time.sleep(0.1 * (attempt + 1))
    log.warning("retention: readers kept the SQLite log from being emptied; erased pages remain")
