import ast
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from cases.lifecycle import CITIZEN, Actor, allowed_next, open_complaint, transition
from core.errors import Conflict
from core.timeutil import utcnow
from schemas import Complaint, ComplaintEvent
from schemas.enums import Channel, Kind, Status
from schemas.event import HistoryIsAppendOnly

pytestmark = pytest.mark.usefixtures("sqlite_platform")
ROBOT = Actor.system("test")


def _new(session: Session) -> Complaint:
    complaint = open_complaint(
        session,
        values={
            "tracking_number": f"T{utcnow().timestamp()}",
            "kind": Kind.complaint,
            "channel": Channel.web,
            "text": "测试用的投诉内容，足够十个字。",
        },
        actor=CITIZEN,
    )
    assert complaint is not None
    session.commit()
    return complaint


def _events(session: Session, complaint: Complaint) -> list[ComplaintEvent]:
    return list(
        session.exec(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint.id)
            .order_by(col(ComplaintEvent.id))
        ).all()
    )


def test_opening_writes_the_first_event(session: Session) -> None:
    complaint = _new(session)
    [event] = _events(session, complaint)
    assert (event.from_status, event.to_status, event.actor) == (None, Status.received, "citizen")


def test_an_opened_filing_is_the_row_as_written_with_the_models_defaults() -> None:
    from sqlalchemy import event

    from core.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as writer:
        complaint = _new(writer)
        statements: list[str] = []
        event.listen(writer.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        # Every column is there, as a query would have loaded it: reading one runs no query.
        assert (complaint.status, complaint.version, complaint.priority) == (Status.received, 1, 0)
        assert (complaint.routing_hints, complaint.assignee_id) == ({}, None)
        assert complaint.created_at.tzinfo is not None
        assert statements == []
        assert writer.get(Complaint, complaint.id) is complaint  # the session's row
    given = {"tracking_number": "T1", "kind": Kind.inquiry, "channel": Channel.web}
    text = {"text": "电热水壶的三包期是多久？"}
    for wrong in (given | text | {"id": 5}, given | text | {"colour": "red"}, given):
        with Session(get_engine()) as writer, pytest.raises(ValueError, match="new filing"):
            open_complaint(writer, values=wrong, actor=CITIZEN)
    with Session(get_engine()) as writer, pytest.raises(ValueError, match="its status here"):
        open_complaint(writer, values=given | text | {"status": Status.routed}, actor=CITIZEN)


@pytest.mark.parametrize(
    ("path", "final"),
    [
        ([Status.routed], Status.routed),
        ([Status.triage], Status.triage),
        ([Status.triage, Status.routed], Status.routed),
        ([Status.routed, Status.triage, Status.routed], Status.routed),
        ([Status.routed, Status.routed], Status.routed),  # transfer between departments
    ],
)
def test_every_allowed_move_writes_one_event(
    session: Session, path: list[Status], final: Status
) -> None:
    complaint = _new(session)
    for step in path:
        transition(session, complaint=complaint, to_status=step, actor=ROBOT, reason="test")
        session.commit()
    session.expire_all()
    stored = session.get(Complaint, complaint.id)
    assert stored is not None
    assert stored.status is final
    assert stored.version == 1 + len(path)
    events = _events(session, complaint)
    assert [e.to_status for e in events] == [Status.received, *path]
    assert [e.from_status for e in events[1:]] == [Status.received, *path[:-1]]


def test_a_forbidden_move_raises_with_the_allowed_ones_and_changes_nothing(
    session: Session,
) -> None:
    complaint = _new(session)
    with pytest.raises(Conflict) as raised:
        transition(session, complaint=complaint, to_status=Status.received, actor=ROBOT, reason="x")
    assert raised.value.extra["current_status"] == "received"
    assert sorted(raised.value.extra["allowed_next"]) == sorted(
        s.value for s in allowed_next(Kind.complaint, Status.received)
    )
    session.rollback()
    assert len(_events(session, complaint)) == 1


def test_of_two_racing_moves_only_the_first_wins(session: Session) -> None:
    complaint = _new(session)
    from core.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as other:
        stale = other.get(Complaint, complaint.id)
        assert stale is not None
        other.commit()  # end the read; SQLite would otherwise hold its write lock
        transition(session, complaint=complaint, to_status=Status.routed, actor=ROBOT, reason="a")
        session.commit()
        with pytest.raises(Conflict, match="changed by someone else"):
            transition(other, complaint=stale, to_status=Status.triage, actor=ROBOT, reason="b")
        other.rollback()
    session.expire_all()
    stored = session.get(Complaint, complaint.id)
    assert stored is not None
    assert stored.status is Status.routed
    assert len(_events(session, complaint)) == 2


def test_a_move_cannot_smuggle_other_columns(session: Session) -> None:
    complaint = _new(session)
    with pytest.raises(ValueError, match="cannot also set"):
        transition(
            session,
            complaint=complaint,
            to_status=Status.routed,
            actor=ROBOT,
            reason="x",
            changes={"text": "changed"},
        )


def test_history_events_can_be_neither_changed_nor_deleted(session: Session) -> None:
    complaint = _new(session)
    [first] = _events(session, complaint)
    first.reason = "rewritten"
    session.add(first)
    with pytest.raises(HistoryIsAppendOnly, match="never changed"):
        session.flush()
    session.rollback()
    session.delete(session.get(ComplaintEvent, first.id))
    with pytest.raises(HistoryIsAppendOnly, match="never deleted"):
        session.flush()


def test_only_the_lifecycle_module_assigns_a_status() -> None:
    """A structural guard: no other module of the platform sets `.status` on anything."""
    root = Path(__file__).parents[2]
    offenders = []
    for package in (
        "core",
        "schemas",
        "intake",
        "classifiers",
        "routing",
        "cases",
        "workers",
        "service",
        "accounts",
        "notify",
        "rewards",
    ):
        for path in (root / package).rglob("*.py"):
            if path.name == "lifecycle.py" and package == "cases":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [getattr(node, "target", None)]
                )
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr == "status":
                        offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


def _every_allowed_move() -> list[tuple[Kind, Status, Status]]:
    return [
        (kind, status, target)
        for kind in Kind
        for status in Status
        for target in allowed_next(kind, status)
    ]


@pytest.mark.parametrize(("kind", "status", "target"), _every_allowed_move())
def test_every_allowed_move_of_the_table_works_and_writes_its_event(
    session: Session, kind: Kind, status: Status, target: Status
) -> None:
    complaint = Complaint(
        tracking_number=f"T{kind.value[:2]}{status.value[:6]}{target.value[:6]}",
        kind=kind,
        channel=Channel.web,
        status=status,
        text="测试用的投诉内容，足够十个字。",
    )
    session.add(complaint)
    session.commit()
    transition(session, complaint=complaint, to_status=target, actor=ROBOT, reason="table")
    session.commit()
    [event] = _events(session, complaint)
    assert (event.from_status, event.to_status) == (status, target)
