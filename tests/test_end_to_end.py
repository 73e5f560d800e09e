"""A filing's whole way: web form → outbox → Redis → RQ worker → department queue → tracking.

Runs on SQLite and on PostgreSQL, with a real worker on the real Redis.
"""

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from routing.tasks import route_complaint
from schemas import Complaint, ComplaintEvent
from schemas.enums import Role
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing


def test_filed_complaint_is_routed_queued_and_trackable(
    platform: str, client: TestClient, session: Session
) -> None:
    filed = client.post("/api/v1/complaints", json=valid_filing()).json()
    number = filed["tracking_number"]

    before = client.get(f"/api/v1/track/{number}").json()
    assert before["status"] == "received"
    assert before["department"] is None

    run_worker_until_idle()

    tracked = client.get(f"/api/v1/track/{filed['tracking_number_display']}").json()
    assert tracked["status"] == "routed"
    assert tracked["department"]["code"] == "quality"
    assert [step["status"] for step in tracked["timeline"]] == ["received", "routed"]
    assert "质量" in tracked["timeline"][1]["note"]
    # The public view carries no personal data.
    assert "13812345678" not in str(tracked)
    assert "contact_phone" not in tracked

    add_staff(session, "zhijian", Role.department, "quality")
    add_staff(session, "zhujian", Role.department, "housing")
    queue = client.get("/api/v1/queue", headers=bearer(client, "zhijian")).json()
    assert [item["tracking_number"] for item in queue["data"]] == [number]
    complaint_id = queue["data"][0]["id"]

    view = client.get(f"/api/v1/complaints/{complaint_id}", headers=bearer(client, "zhijian"))
    assert view.status_code == 200
    routing = view.json()["routing"]
    assert routing["department"] == "quality"
    assert routing["classifier"] == "keyword"
    assert routing["version"].startswith("registry-")
    assert routing["score"] >= 0.5
    assert "电梯" in routing["reasons"]

    # Another department sees neither the filing nor that it exists.
    other = bearer(client, "zhujian")
    assert client.get("/api/v1/queue", headers=other).json()["data"] == []
    hidden = client.get(f"/api/v1/complaints/{complaint_id}", headers=other)
    assert hidden.status_code == 404
    assert number not in hidden.text


def test_routing_twice_changes_nothing(platform: str, client: TestClient, session: Session) -> None:
    client.post("/api/v1/complaints", json=valid_filing())
    run_worker_until_idle()
    complaint = session.exec(select(Complaint)).one()
    events_before = session.exec(select(ComplaintEvent).order_by(col(ComplaintEvent.id))).all()
    session.commit()  # end the read before the job writes (SQLite: one writer at a time)

    assert route_complaint(complaint.id) == "nothing to do"

    session.expire_all()
    again = session.exec(select(Complaint)).one()
    assert (again.status, again.department_id, again.version) == (
        complaint.status,
        complaint.department_id,
        complaint.version,
    )
    assert len(session.exec(select(ComplaintEvent)).all()) == len(events_before)


def test_a_filing_no_department_owns_goes_to_triage_with_suggestions(
    platform: str, client: TestClient, session: Session
) -> None:
    vague = valid_filing(
        text="我要投诉他们，态度太差了，说好的事情一直拖着不办，请你们尽快处理一下。",
        business_name="某某公司",
    )
    number = client.post("/api/v1/complaints", json=vague).json()["tracking_number"]
    run_worker_until_idle()

    tracked = client.get(f"/api/v1/track/{number}").json()
    assert tracked["status"] == "triage"
    assert tracked["department"]["code"] == "triage"
    add_staff(session, "boss", Role.supervisor)
    queue = client.get(
        "/api/v1/queue", params={"department": "triage"}, headers=bearer(client, "boss")
    ).json()
    assert [item["tracking_number"] for item in queue["data"]] == [number]
