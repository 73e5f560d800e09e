"""RQ jobs of the routing package. Each takes ids, opens its own session, and is idempotent."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from core import metrics
from core.db import session_scope
from core.errors import Conflict, ServiceUnavailable
from core.timeutil import utcnow
from routing import service
from routing.engine import current_engine

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Load the tokenizer, classifier and gazetteer before the worker takes its first job."""
    with session_scope() as session:
        try:
            current_engine(session)
        except ServiceUnavailable as exc:
            # Not fatal: the first job loads it once a registry exists, and says why if not.
            log.warning("routing warm-up skipped: %s", exc.detail)
        except DBAPIError as exc:
            # Started before the database was migrated or reachable: load on first use.
            log.warning("routing warm-up skipped: database not ready (%s)", type(exc.orig).__name__)


def record_latency(outcomes: list[service.RoutingOutcome]) -> None:
    """Intake-to-routing seconds; a tip-off's day-only intake time would say nothing."""
    now = utcnow()
    metrics.observe_many(
        metrics.ROUTING_LATENCY,
        [(now - o.filed_at).total_seconds() for o in outcomes if not o.private],
        buckets=metrics.ROUTING_LATENCY_BUCKETS,
    )


def route_complaint(complaint_id: int) -> str:
    """Classify and route one filing. Running it again changes nothing."""
    with session_scope() as session:
        try:
            outcome = service.route_complaint(
                session, complaint_id=complaint_id, engine=current_engine(session)
            )
        except Conflict:
            # Another worker routed it between our read and our write: nothing left to do.
            session.rollback()
            return "already routed"
        if outcome is None:
            return "nothing to do"
        session.commit()
    record_latency([outcome])
    if outcome.private:  # a tip-off: no id next to a time of day
        log.info("routed a tip-off to %s (%s)", outcome.department_code, outcome.status)
    else:
        log.info(
            "routed complaint %s to %s (%s)", complaint_id, outcome.department_code, outcome.status
        )
    return f"{outcome.status.value}:{outcome.department_code}"
