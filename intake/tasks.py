"""RQ jobs of intake. Each takes ids, opens its own session, and is idempotent."""

from __future__ import annotations

import logging

from core.db import session_scope
from intake.attachments import purge_orphan_attachments
from intake.duplicates import index_and_link
from intake.idempotency import purge_expired as purge_expired_keys
from schemas.complaint import Complaint
from schemas.enums import Kind

log = logging.getLogger(__name__)


def find_duplicates(complaint_id: int) -> str:
    """Index the filing's text and link it to earlier filings about the same matter."""
    with session_scope() as session:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            return "nothing to do"
        matches = index_and_link(session, complaint=complaint)
        session.commit()
        private = complaint.kind is Kind.tip  # a tip-off: no id next to a time of day
    if matches:
        log.info(
            "%s: %d possible duplicate(s)",
            "a tip-off" if private else f"complaint {complaint_id}",
            len(matches),
        )
    return f"{len(matches)} match(es)"


def purge_expired() -> dict[str, int]:
    """Idempotency keys past their 24 h, and uploads no filing claimed within a day."""
    with session_scope() as session:
        keys = purge_expired_keys(session)
        files = purge_orphan_attachments(session)
    return {"idempotency_keys": keys, "attachments": files}
