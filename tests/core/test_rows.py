"""core.rows.new_row makes what a table model's constructor makes, and stores the same row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

from core.db import get_engine
from core.rows import filled, new_row
from schemas import Complaint
from schemas.casework import Deadline
from schemas.enums import Status
from schemas.event import ComplaintEvent
from tests.helpers import valid_filing

AT = datetime(2026, 12, 6, 8, 30, 15, 123456, tzinfo=UTC)
EVENT: dict[str, Any] = {
    "complaint_id": 1,
    "at": AT,
    "actor": "router",
    "actor_id": None,
    "from_status": Status.received,
    "to_status": Status.routed,
    "reason": "routed",
    "payload": {"department": "市场监督管理局"},
    "public": True,
}
DEADLINE: dict[str, Any] = {
    "complaint_id": 1,
    "step": "accept_decision",
    "started_on": date(2026, 12, 6),
}


def _fields(row: SQLModel) -> dict[str, Any]:
    return {name: getattr(row, name) for name in type(row).model_fields}


@pytest.mark.parametrize(("model", "values"), [(ComplaintEvent, EVENT), (Deadline, DEADLINE)])
def test_a_new_row_holds_what_the_constructor_gives(
    model: type[SQLModel], values: dict[str, Any]
) -> None:
    made, constructed = new_row(model, **values), model(**values)
    assert _fields(made) == _fields(constructed)
    assert made.model_dump() == constructed.model_dump()
    assert made.model_fields_set == constructed.model_fields_set == set(values)


def test_a_default_factory_gives_each_row_its_own_value() -> None:
    first, second = new_row(Complaint), new_row(Complaint)
    assert first.routing_hints == {}
    assert first.routing_hints is not second.routing_hints
    assert first.created_at.tzinfo is not None  # the factory ran: an aware timestamp


def test_unknown_fields_are_refused_where_the_constructor_drops_them() -> None:
    assert not hasattr(ComplaintEvent(**{**EVENT, "colour": "red"}), "colour")
    with pytest.raises(ValueError, match=r"unknown \['colour'\]"):
        new_row(ComplaintEvent, **EVENT, colour="red")


def test_filled_can_require_every_required_field() -> None:
    assert filled(Deadline, {"step": "x"})["state"] == "active"
    with pytest.raises(ValueError, match=r"missing \['complaint_id', 'due_on', 'started_on'\]"):
        filled(Deadline, {"step": "x"}, complete=True)


def test_both_store_the_same_row(platform: str, client: TestClient) -> None:
    filed = client.post("/api/v1/complaints", json=valid_filing())
    assert filed.status_code == 201
    with Session(get_engine()) as session:
        complaint_id = session.exec(
            select(Complaint.id).where(Complaint.tracking_number == filed.json()["tracking_number"])
        ).one()
        pairs: list[tuple[type[ComplaintEvent | Deadline], Any, Any]] = []
        models: tuple[tuple[type[ComplaintEvent | Deadline], dict[str, Any]], ...] = (
            (ComplaintEvent, EVENT),
            (Deadline, DEADLINE),
        )
        for model, values in models:
            values = {**values, "complaint_id": complaint_id}
            if model is Deadline:
                values["due_on"] = date(2026, 12, 20)
            made, constructed = new_row(model, **values), model(**values)
            session.add_all([made, constructed])
            pairs.append((model, made, constructed))
        session.commit()
        ids = [(model, made.id, constructed.id) for model, made, constructed in pairs]
    with Session(get_engine()) as session:
        for model, made_id, constructed_id in ids:
            assert made_id is not None
            assert constructed_id is not None
            stored = session.get(model, made_id)
            stored_constructed = session.get(model, constructed_id)
            assert stored is not None
            assert stored_constructed is not None
            assert {**_fields(stored), "id": None} == {**_fields(stored_constructed), "id": None}
