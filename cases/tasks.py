"""Scheduled jobs of cases."""

from __future__ import annotations

from cases.sweeps import sweep_deadlines
from core.db import session_scope


def sweep() -> dict[str, int]:
    with session_scope() as session:
        result = sweep_deadlines(session)
    return {"warned": result.warned, "breached": result.breached}
