"""The scheduled sweep over legal clocks: early warnings, then breaches escalated."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from accounts.service import Staff
from cases import deadlines
from cases.lifecycle import Actor, record, transition
from cases.policy import current_policy
from cases.repository import in_office_area
from core import metrics
from core.timeutil import stamp
from schemas.casework import Deadline
from schemas.complaint import Complaint
from schemas.enums import Kind, Role, Status

log = logging.getLogger(__name__)
SWEEPER = Actor.system("deadlines")


@dataclass(frozen=True)
class SweepResult:
    warned: int
    breached: int


def sweep_deadlines(session: Session, *, on: date | None = None) -> SweepResult:
    """Warn once before each running clock runs out; mark and escalate each one that did."""
    day = on or deadlines.today()
    policy = current_policy()
    calendar = deadlines.calendar_for(policy)
    running = session.exec(
        select(Deadline)
        .where(Deadline.state == "active")
        .where(col(Deadline.closed_at).is_(None))
        .order_by(col(Deadline.due_on), col(Deadline.id))
    ).all()
    warned = breached = 0
    for clock in running:
        complaint = session.get(Complaint, clock.complaint_id)
        if complaint is None:
            continue
        if day > clock.due_on and clock.step == "odr" and complaint.status is Status.odr:
            # The business had its days and did not settle: the regulator takes it over.
            transition(
                session,
                complaint=complaint,
                to_status=Status.routed,
                actor=SWEEPER,
                reason=f"ODR period ended {clock.due_on.isoformat()} without settlement",
                public_note="经营者未在期限内和解，转由市场监督管理部门处理",
            )
            continue
        if day > clock.due_on:
            clock.state, clock.breached_at = "breached", stamp(coarse=complaint.kind is Kind.tip)
            record(
                session,
                complaint=complaint,
                actor=SWEEPER,
                reason=f"time limit passed: {clock.step} was due {clock.due_on.isoformat()}",
                payload={"step": clock.step, "due_on": clock.due_on.isoformat(), "escalated": True},
            )
            breached += 1
            metrics.count_after_commit(session, metrics.DEADLINE_BREACHES, {"step": clock.step})
        elif clock.warned_at is None and (
            calendar.working_days_between(day, clock.due_on)
            <= policy.early_warning.working_days_before
        ):
            clock.warned_at = stamp(coarse=complaint.kind is Kind.tip)
            record(
                session,
                complaint=complaint,
                actor=SWEEPER,
                reason=f"time limit near: {clock.step} is due {clock.due_on.isoformat()}",
                payload={"step": clock.step, "due_on": clock.due_on.isoformat()},
            )
            warned += 1
        else:
            continue
        session.add(clock)
    session.commit()
    if warned or breached:
        log.info("deadline sweep %s: %d warned, %d breached", day, warned, breached)
    return SweepResult(warned=warned, breached=breached)


def breaches(session: Session, *, staff: Staff, limit: int) -> Sequence[tuple[Deadline, Complaint]]:
    """The escalation list: breached clocks still open, the department's own (an office's
    staff: their area's only, as their queue) or, for supervisors, everyone's."""
    query = (
        select(Deadline, Complaint)
        .join(Complaint, col(Complaint.id) == col(Deadline.complaint_id))
        .where(Deadline.state == "breached")
        .where(col(Deadline.closed_at).is_(None))
        .order_by(col(Deadline.due_on), col(Deadline.id))
        .limit(limit)
    )
    if staff.role is Role.department:
        query = query.where(Complaint.department_id == staff.department_id)
        if staff.office_prefix is not None:
            query = query.where(in_office_area(staff.office_prefix))
    elif staff.role not in {Role.supervisor, Role.admin}:
        return []
    return [(d, c) for d, c in session.exec(query).all()]
