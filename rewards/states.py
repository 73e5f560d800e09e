"""A reward file's state and history: the one function that moves the state, and the one
that writes the history.

A move is a compare-and-set on (state, version), so two officers racing on one file cannot
both win, and it writes its history entry in the same transaction. History entries carry
the day only, in China time: tip-off records never hold a time of day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from cases.lifecycle import Actor
from core.errors import Conflict
from core.timeutil import as_china, utcnow
from rewards import repository
from schemas.reward import Reward, RewardEvent
from schemas.reward_api import RewardState

R = RewardState
# from-state → the states a reward may move to (proposed → proposed: a new amount or approval).
_NEXT: dict[RewardState, frozenset[RewardState]] = {
    R.proposed: frozenset({R.proposed, R.approved, R.refused}),
    R.approved: frozenset({R.proposed, R.paid}),
    R.refused: frozenset(),
    R.paid: frozenset(),
}
_MOVABLE = frozenset({"current_amount_id"})


def today() -> date:
    """Tip-off records carry days only, in China time: never a time of day."""
    return as_china(utcnow()).date()


def record_event(
    session: Session,
    *,
    reward: Reward,
    actor: Actor,
    action: str,
    payload: dict[str, Any] | None = None,
) -> RewardEvent:
    """Append one step to the reward file's history (caller commits)."""
    assert reward.id is not None
    event = RewardEvent(
        reward_id=reward.id,
        on=today(),
        actor=actor.name,
        actor_id=actor.staff_id,
        action=action,
        payload=payload or {},
    )
    session.add(event)
    session.flush()
    return event


def change_state(
    session: Session,
    *,
    reward: Reward,
    to_state: RewardState,
    actor: Actor,
    action: str,
    payload: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> RewardEvent:
    """Move the reward to `to_state`, bumping its version, and write the event.

    Raises Conflict, changing nothing, when the move is not allowed or when someone else
    changed the file since it was read.
    """
    changes = dict(changes or {})
    if set(changes) - _MOVABLE:
        raise ValueError(f"a state change cannot also set {sorted(set(changes) - _MOVABLE)}")
    from_state = RewardState(reward.state)
    if to_state not in _NEXT[from_state]:
        raise Conflict(
            f"a {from_state.value} reward cannot move to {to_state.value}",
            current_state=from_state.value,
        )
    values = {"state": to_state.value, "version": reward.version + 1, **changes}
    if not repository.compare_and_set_state(
        session, reward=reward, from_state=from_state.value, values=values
    ):
        session.refresh(reward)
        raise Conflict(
            "the reward file was changed by someone else; reload it",
            current_state=reward.state,
            version=reward.version,
        )
    # The row is already written: update the loaded object without marking it dirty.
    for name, value in values.items():
        set_committed_value(reward, name, value)
    moved = {"from_state": from_state.value, "to_state": to_state.value}
    return record_event(
        session, reward=reward, actor=actor, action=action, payload={**moved, **(payload or {})}
    )
