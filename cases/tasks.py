"""Scheduled jobs of cases."""

from __future__ import annotations

from cases.sweeps import sweep_deadlines
from core.db import session_scope


def sweep() -> dict[str, int]:
    with session_scope() as session:
        result = sweep_deadlines(session)
    return {"warned": result.warned, "breached": result.breached}


def retention() -> dict[str, int]:
    from cases.retention import purge_due

    with session_scope() as session:
        report = purge_due(session)
    return {"filings": report.filings, "identities": report.identities, "files": report.attachments}
