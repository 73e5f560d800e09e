"""Scheduled jobs of insights: the surge run and the credit refresh (the scheduler runs them)."""

from __future__ import annotations

from core.db import session_scope


def surges() -> dict[str, int]:
    from insights.detection import detect_surges

    with session_scope() as session:
        run = detect_surges(session)
        session.commit()
    return {"raised": len(run.raised), "continued": len(run.continued)}


def credit() -> dict[str, int]:
    from insights.credit import refresh

    with session_scope() as session:
        report = refresh(session)
        session.commit()
    return {"businesses": report.businesses, "changed": report.changed}
