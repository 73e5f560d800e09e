"""Alerts are work items: open → acknowledged → closed, each step in an append-only history.

A move is a compare-and-set on (state, version), so two supervisors acting at once cannot
both move the same alert; the loser gets a Conflict and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from accounts.service import Staff
from cases.lifecycle import Actor
from core.errors import Conflict, NotFound
from core.timeutil import utcnow
from schemas.insights import Alert, AlertEvent, AlertEventView, AlertView

STATES = ("open", "acknowledged", "closed")
STATE_LABELS = {"open": "待处理", "acknowledged": "已确认，处理中", "closed": "已关闭"}
MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "closed"}),
    "acknowledged": frozenset({"closed"}),
    "closed": frozenset(),
}
SURGE_DETECTOR = Actor.system("surges")
SUBJECT_LABELS = {"business": "经营者", "sector": "行业（商品或服务）", "place": "区县"}


def raise_alert(session: Session, *, alert: Alert, note: str) -> Alert:
    """Add a new open alert with its first history entry (caller commits)."""
    alert.state = "open"
    session.add(alert)
    session.flush()
    assert alert.id is not None
    session.add(
        AlertEvent(
            alert_id=alert.id,
            at=alert.created_at,
            actor=SURGE_DETECTOR.name,
            from_state=None,
            to_state="open",
            note=note[:500],
        )
    )
    return alert


def move(session: Session, *, alert_id: int, to_state: str, staff: Staff, note: str) -> Alert:
    """Acknowledge or close an alert (caller commits); Conflict if not allowed or raced."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if to_state not in MOVES[alert.state]:
        raise Conflict(
            f"an {alert.state} alert cannot become {to_state}",
            current_state=alert.state,
            allowed_next=sorted(MOVES[alert.state]),
        )
    now = utcnow()
    result = session.execute(
        update(Alert)
        .where(col(Alert.id) == alert_id)
        .where(col(Alert.state) == alert.state)
        .where(col(Alert.version) == alert.version)
        .values(state=to_state, version=alert.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(alert)
        raise Conflict("the alert was changed by someone else; reload it")
    actor = Actor.staff(staff.username, staff.id)
    session.add(
        AlertEvent(
            alert_id=alert_id,
            at=now,
            actor=actor.name,
            actor_id=actor.staff_id,
            from_state=alert.state,
            to_state=to_state,
            note=note.strip()[:500],
        )
    )
    session.flush()
    session.refresh(alert)
    return alert


def alerts(
    session: Session, *, state: str | None = None, before_id: int | None = None, limit: int = 50
) -> Sequence[Alert]:
    """Newest first; page on with `before_id`."""
    query = select(Alert)
    if state:
        query = query.where(col(Alert.state) == state)
    if before_id:
        query = query.where(col(Alert.id) < before_id)
    return session.exec(query.order_by(col(Alert.id).desc()).limit(limit)).all()


def history(session: Session, alert_id: int) -> Sequence[AlertEvent]:
    return session.exec(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(col(AlertEvent.id))
    ).all()


def view(session: Session, alert: Alert, *, with_history: bool = True) -> AlertView:
    assert alert.id is not None
    data: dict[str, Any] = alert.model_dump()
    data["history"] = (
        [
            AlertEventView(
                at=e.at, actor=e.actor, from_state=e.from_state, to_state=e.to_state, note=e.note
            )
            for e in history(session, alert.id)
        ]
        if with_history
        else []
    )
    return AlertView.model_validate(data)


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert
