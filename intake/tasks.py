"""RQ jobs of intake. Each takes ids, opens its own session, and is idempotent."""

from __future__ import annotations

import logging

from core.db import session_scope
from intake.duplicates import index_and_link
from schemas.complaint import Complaint

log = logging.getLogger(__name__)


def find_duplicates(complaint_id: int) -> str:
    """Index the filing's text and link it to earlier filings about the same matter."""
    with session_scope() as session:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            return "nothing to do"
        matches = index_and_link(session, complaint=complaint)
        session.commit()
    if matches:
        log.info("complaint %s: %d possible duplicate(s)", complaint_id, len(matches))
    return f"{len(matches)} match(es)"
