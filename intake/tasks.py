"""RQ jobs of intake. Each takes ids, opens its own session, and is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from cases.repository import complaints_by_id
from core.db import session_scope
from intake.attachments import purge_orphan_attachments
from intake.duplicates import index_and_link
from intake.idempotency import purge_expired as purge_expired_keys
from schemas.complaint import Complaint
from schemas.enums import Kind

log = logging.getLogger(__name__)


class DuplicateBatch:
    """Indexes the filings of one drain job (workers.batches) and links their duplicates."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.matches: list[tuple[int, bool, int]] = []  # (filing, is a tip-off, matches)
        self._loaded: Sequence[Complaint] = ()

    def prefetch(self, items: Sequence[Sequence[Any]]) -> None:
        """The batch's filings in one query; held here, so each item finds its own in the
        session's (weak-referencing) identity map."""
        self._loaded = complaints_by_id(self.session, [int(args[0]) for args in items])

    def handle(self, complaint_id: int) -> None:
        complaint = self.session.get(Complaint, complaint_id)
        if complaint is None:
            return
        matches = index_and_link(self.session, complaint=complaint)
        self.matches.append((complaint_id, complaint.kind is Kind.tip, len(matches)))

    def committed(self) -> None:
        for complaint_id, private, found in self.matches:
            if found:
                log.info(
                    "%s: %d possible duplicate(s)",
                    "a tip-off" if private else f"complaint {complaint_id}",  # no id for a tip
                    found,
                )


def find_duplicates(complaint_id: int) -> str:
    """Index the filing's text and link it to earlier filings about the same matter, now."""
    with session_scope() as session:
        batch = DuplicateBatch(session)
        batch.handle(complaint_id)
        session.commit()
    batch.committed()
    if not batch.matches:
        return "nothing to do"
    return f"{batch.matches[0][2]} match(es)"


def purge_expired() -> dict[str, int]:
    """Idempotency keys past their 24 h, and uploads no filing claimed within a day."""
    with session_scope() as session:
        keys = purge_expired_keys(session)
        files = purge_orphan_attachments(session)
    return {"idempotency_keys": keys, "attachments": files}
