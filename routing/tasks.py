"""RQ jobs of the routing package. Each takes ids, opens its own session, and is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from core import metrics
from core.db import session_scope
from core.errors import Conflict, ServiceUnavailable
from core.timeutil import utcnow
from routing import sectors, service
from routing.engine import current_engine
from schemas.enums import Status

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Load the tokenizers, classifier and gazetteer before the worker takes its first job."""
    # jieba without user words (sectors, and places for the words around a name): its
    # dictionary takes a second to load, not in the first job.
    sectors.tokenizer()
    with session_scope() as session:
        try:
            current_engine(session)
        except ServiceUnavailable as exc:
            # Not fatal: the first job loads it once a registry exists, and says why if not.
            log.warning("routing warm-up skipped: %s", exc.detail)
        except DBAPIError as exc:
            # Started before the database was migrated or reachable: load on first use.
            log.warning("routing warm-up skipped: database not ready (%s)", type(exc.orig).__name__)


class RouteBatch:
    """Routes the filings of one drain job (workers.batches): one engine, one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.engine = current_engine(session)
        self.outcomes: list[service.RoutingOutcome] = []
        self._loaded: Sequence[object] = ()

    def prefetch(self, items: Sequence[Sequence[Any]]) -> None:
        """The batch's filings in one query; held here, so each item finds its own in the
        session's (weak-referencing) identity map."""
        self._loaded = service.load_complaints(self.session, [int(args[0]) for args in items])

    def handle(self, complaint_id: int) -> None:
        try:
            outcome = service.route_complaint(
                self.session, complaint_id=complaint_id, engine=self.engine
            )
        except Conflict:
            return  # another worker routed it between our read and our write: done
        if outcome is not None:
            self.outcomes.append(outcome)

    def committed(self) -> None:
        record_latency(self.outcomes)
        for outcome in self.outcomes:
            if outcome.private:  # a tip-off: no id next to a time of day
                log.debug("routed a tip-off to %s (%s)", outcome.department_code, outcome.status)
            else:
                log.debug(
                    "routed complaint %s to %s (%s)",
                    outcome.complaint_id,
                    outcome.department_code,
                    outcome.status,
                )
        if self.outcomes:
            triage = sum(1 for o in self.outcomes if o.status is Status.triage)
            log.info("routed %d filing(s), %d to triage", len(self.outcomes), triage)


def record_latency(outcomes: list[service.RoutingOutcome]) -> None:
    """Intake-to-routing seconds; a tip-off's day-only intake time would say nothing."""
    now = utcnow()
    metrics.observe_many(
        metrics.ROUTING_LATENCY,
        [(now - o.filed_at).total_seconds() for o in outcomes if not o.private],
        buckets=metrics.ROUTING_LATENCY_BUCKETS,
    )


def route_complaint(complaint_id: int) -> str:
    """Classify and route one filing now, outside any batch. Running it again changes nothing."""
    with session_scope() as session:
        batch = RouteBatch(session)
        batch.handle(complaint_id)
        session.commit()
    batch.committed()
    if not batch.outcomes:
        return "nothing to do"
    outcome = batch.outcomes[0]
    return f"{outcome.status.value}:{outcome.department_code}"
