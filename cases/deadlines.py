"""Legal time limits: started, paused and met by status changes, swept for warnings and breaches.

Each step's limit comes from the policy file, counted on the State Council working-day
calendar (or in calendar days where the rule says days). The clock of a step that starts
"from receipt" starts on the filing's day; arbitration testing and ODR stop the clocks
they do not count against, which resume when the filing comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from cases.calendar import WorkingCalendar
from cases.policy import Limits, Policy, current_policy
from core import metrics
from core.rows import new_row
from core.timeutil import as_china, stamp, utcnow
from schemas.casework import Deadline
from schemas.complaint import COMPLAINTS, Complaint
from schemas.enums import FINAL_STATUSES, Kind, Status

S = Status


@dataclass(frozen=True)
class Step:
    limit: Callable[[Limits], int]
    working_days: bool  # False: calendar days
    from_receipt: bool  # the clock starts on the filing's day, not the status change's
    met_by: frozenset[Status]


STEPS: dict[str, Step] = {
    "accept_decision": Step(
        lambda lim: lim.accept_decision_working_days, True, True, frozenset({S.accepted, S.refused})
    ),
    "odr": Step(lambda lim: lim.odr_working_days, True, False, frozenset({S.routed, S.closed})),
    "mediation": Step(
        lambda lim: lim.mediation_working_days,
        True,
        False,
        frozenset({S.resolved, S.mediation_ended}),
    ),
    "mediation_end_notice": Step(
        lambda lim: lim.mediation_end_notice_working_days, True, False, frozenset({S.closed})
    ),
    "tip_verification": Step(
        lambda lim: lim.tip_verification_working_days,
        True,
        True,
        frozenset({S.case_opened, S.case_not_opened}),
    ),
    "case_decision": Step(lambda lim: lim.case_decision_days, False, False, frozenset({S.decided})),
    "inquiry_answer": Step(
        lambda lim: lim.inquiry_answer_working_days, True, True, frozenset({S.answered})
    ),
}

# (kind, status entered) → the step whose clock starts (or resumes, if it was paused; a
# running clock goes on as it is).
STARTS: dict[tuple[Kind, Status], str] = {
    (Kind.complaint, S.routed): "accept_decision",
    (Kind.complaint, S.odr): "odr",
    # 自投诉受理之日起四十五个工作日: mediation's clock runs from acceptance; entering
    # mediating finds it running (or resumes it after testing).
    (Kind.complaint, S.accepted): "mediation",
    (Kind.complaint, S.mediating): "mediation",
    (Kind.complaint, S.mediation_ended): "mediation_end_notice",
    (Kind.tip, S.routed): "tip_verification",
    (Kind.tip, S.case_opened): "case_decision",
    (Kind.inquiry, S.routed): "inquiry_answer",
}
# Status entered → the step whose clock stops while the filing is there.
PAUSES: dict[Status, str] = {S.testing: "mediation", S.odr: "accept_decision"}


def calendar_for(policy: Policy) -> WorkingCalendar:
    return _calendar(
        frozenset(policy.calendar.extra_holidays), frozenset(policy.calendar.extra_workdays)
    )


@lru_cache(maxsize=4)
def _calendar(holidays: frozenset[date], workdays: frozenset[date]) -> WorkingCalendar:
    return WorkingCalendar(holidays, workdays)


def today() -> date:
    return as_china(utcnow()).date()


def on_transition(
    session: Session,
    *,
    complaint: Complaint,
    to_status: Status,
    from_status: Status | None = None,
    on: date | None = None,
    due_written: bool = False,
) -> None:
    """Start, pause, resume and meet the filing's clocks for a move to `to_status`.
    `due_written`: the move's own UPDATE already set the filing's earliest due date
    (`due_leaving_received`), so it is not written again."""
    assert complaint.id is not None
    day = on or today()
    policy = current_policy()
    calendar = calendar_for(policy)
    # No clock starts before routing, and nothing moves back to received: a filing leaving
    # it has none to look up (the router's batches skip one query per filing).
    fresh = from_status is Status.received
    clocks = {} if fresh else {d.step: d for d in _clocks(session, complaint.id)}
    coarse = complaint.kind is Kind.tip
    for name, running in clocks.items():
        done = to_status in STEPS[name].met_by or to_status in FINAL_STATUSES
        if running.closed_at is None and done:
            # Late is late whether or not a sweep has marked it yet: the scheduler sweeps
            # once a minute at best, not at all while it is down, and compliance figures
            # must not depend on that.
            if running.state != "breached" and _late(running, day, calendar):
                running.state, running.breached_at = "breached", stamp(coarse=coarse)
                if not coarse:  # counted now, a tip-off's would give the time staff acted
                    metrics.count_after_commit(session, metrics.DEADLINE_BREACHES, {"step": name})
            running.state = "breached" if running.state == "breached" else "met"
            running.closed_at, running.paused_on = stamp(coarse=coarse), None
            session.add(running)
    paused = clocks.get(PAUSES.get(to_status, ""))
    if paused is not None and paused.state == "active":
        paused.state, paused.paused_on = "paused", day
        session.add(paused)
    step_name = STARTS.get((complaint.kind, to_status))
    clock = clocks.get(step_name or "")
    if step_name and clock is None:
        clocks[step_name] = _start(session, complaint, step_name, day, policy, calendar)
    elif clock is not None and clock.state == "paused" and clock.paused_on is not None:
        # Back from testing or ODR: the clock resumes, moved on by the days it stood still.
        stopped = max(0, calendar.working_days_between(clock.paused_on, day))
        clock.due_on = calendar.add_working_days(clock.due_on, stopped)
        clock.state, clock.paused_on = "active", None
        session.add(clock)
    if not due_written:
        _refresh_due(session, complaint.id, clocks.values())


def due_leaving_received(complaint: Complaint, to_status: Status, *, on: date) -> date | None:
    """The filing's earliest running due date once it moves from received to `to_status`:
    the due date of the clock that move starts, if any (a filing in received has none).
    Known before the move, so the move's own UPDATE writes it: the router's one UPDATE per
    filing instead of two."""
    step_name = STARTS.get((complaint.kind, to_status))
    if step_name is None:
        return None
    policy = current_policy()
    return _span(complaint, STEPS[step_name], on, policy, calendar_for(policy))[1]


def _late(clock: Deadline, day: date, calendar: WorkingCalendar) -> bool:
    """Whether the step ends after its limit on `day`. A paused clock's limit moves on by
    the working days it has stood still; ODR's end is the business's (the sweep hands an
    unsettled one back to the regulator), not a limit the department keeps."""
    if clock.step == "odr":
        return False
    due = clock.due_on
    if clock.state == "paused" and clock.paused_on is not None:
        due = calendar.add_working_days(
            due, max(0, calendar.working_days_between(clock.paused_on, day))
        )
    return day > due


def _start(
    session: Session,
    complaint: Complaint,
    step_name: str,
    day: date,
    policy: Policy,
    calendar: WorkingCalendar,
) -> Deadline:
    started, due = _span(complaint, STEPS[step_name], day, policy, calendar)
    assert complaint.id is not None
    clock = new_row(
        Deadline, complaint_id=complaint.id, step=step_name, started_on=started, due_on=due
    )
    session.add(clock)
    return clock


def _span(
    complaint: Complaint, step: Step, day: date, policy: Policy, calendar: WorkingCalendar
) -> tuple[date, date]:
    """The day a step's clock starts for a move on `day`, and its due date."""
    started = as_china(complaint.created_at).date() if step.from_receipt else day
    count = step.limit(policy.limits)
    if step.working_days:
        return started, calendar.add_working_days(started, count)
    return started, started + timedelta(days=count)


def _clocks(session: Session, complaint_id: int) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline).where(Deadline.complaint_id == complaint_id).order_by(col(Deadline.id))
        ).all()
    )


# Built once: a statement made anew per transition cost the router more than running it.
_SET_DUE = (
    update(COMPLAINTS)
    .where(COMPLAINTS.c.id == bindparam("refresh_id"))
    .values(deadline_due_on=bindparam("new_due"))
)


def _refresh_due(session: Session, complaint_id: int, clocks: Iterable[Deadline]) -> None:
    """Keep the filing's earliest running due date on the row, for sorting queues."""
    running = [
        d.due_on for d in clocks if d.state in {"active", "breached"} and d.closed_at is None
    ]
    session.connection().execute(  # Core, as in lifecycle.transition
        _SET_DUE, {"refresh_id": complaint_id, "new_due": min(running) if running else None}
    )


def badge(due_on: date | None, *, on: date | None = None) -> str | None:
    """ok / warning / overdue for a due date, with the policy's early-warning margin."""
    if due_on is None:
        return None
    day = on or today()
    if day > due_on:
        return "overdue"
    policy = current_policy()
    left = calendar_for(policy).working_days_between(day, due_on)
    return "warning" if left <= policy.early_warning.working_days_before else "ok"
