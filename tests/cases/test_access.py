"""Who reaches a filing and its contact number: the roles without a department, operators, and
an office's staff on the escalation list."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from routing.tasks import route_complaint
from schemas.casework import Deadline
from schemas.complaint import Complaint
from schemas.enums import Role
from tests.helpers import add_staff, bearer, valid_filing

pytestmark = pytest.mark.usefixtures("sqlite_platform")


def _filed(client: TestClient) -> Complaint:
    number = client.post("/api/v1/complaints", json=valid_filing()).json()["tracking_number"]
    with Session(get_engine(read_only=True)) as db:
        return db.exec(select(Complaint).where(Complaint.tracking_number == number)).one()


@pytest.mark.parametrize("role", [Role.reward_officer, Role.quality_supervisor])
def test_accounts_without_a_department_do_not_see_filings_not_yet_routed(
    client: TestClient, session: Session, role: Role
) -> None:
    # A filing waiting for the router has no department, and neither has this account:
    # the two "no department"s must not count as a match.
    add_staff(session, "who", role)
    add_staff(session, "boss", Role.supervisor)
    row = _filed(client)
    assert row.department_id is None
    headers = bearer(client, "who")
    assert client.get(f"/api/v1/complaints/{row.id}", headers=headers).status_code == 404
    contact = client.post(f"/api/v1/complaints/{row.id}/contact", headers=headers)
    assert contact.status_code == 403, contact.text  # the same for any id: nothing revealed
    assert "13812345678" not in contact.text
    boss = bearer(client, "boss")
    assert client.get(f"/api/v1/complaints/{row.id}", headers=boss).status_code == 200


def test_only_the_people_who_call_back_read_the_full_contact_number(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "op", Role.operator)
    add_staff(session, "zj", Role.department, "quality")
    row = _filed(client)
    assert route_complaint(row.id).startswith("routed:")
    op = bearer(client, "op")
    assert client.get(f"/api/v1/complaints/{row.id}", headers=op).status_code == 200
    refused = client.post(f"/api/v1/complaints/{row.id}/contact", headers=op)
    assert refused.status_code == 403, refused.text
    assert "13812345678" not in refused.text
    allowed = client.post(f"/api/v1/complaints/{row.id}/contact", headers=bearer(client, "zj"))
    assert allowed.json() == {"contact_phone": "+8613812345678"}


def test_an_office_sees_only_its_own_areas_breaches(client: TestClient, session: Session) -> None:
    add_staff(session, "taiyuan", Role.department, "quality", office="quality-140100")
    add_staff(session, "datong", Role.department, "quality", office="quality-140200")
    row = _filed(client)
    assert route_complaint(row.id).startswith("routed:")  # 太原市小店区
    with Session(get_engine()) as db:
        clock = db.exec(select(Deadline).where(Deadline.complaint_id == row.id)).one()
        clock.state = "breached"
        db.add(clock)
        db.commit()
    datong = bearer(client, "datong")
    assert client.get(f"/api/v1/complaints/{row.id}", headers=datong).status_code == 404
    assert client.get("/api/v1/deadlines/breached", headers=datong).json() == []
    theirs = client.get("/api/v1/deadlines/breached", headers=bearer(client, "taiyuan")).json()
    assert [b["complaint_id"] for b in theirs] == [row.id]
