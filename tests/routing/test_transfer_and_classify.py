"""Offices in the queue, transfers as routing corrections, and the operator's /classify."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from routing.corrections import labelled_examples
from schemas import Complaint, ComplaintEvent, RoutingCorrection
from schemas.enums import Role
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

pytestmark = pytest.mark.usefixtures("sqlite_platform")

ELEVATOR_IN_XIAODIAN = valid_filing(
    business_address="山西省太原市小店区亲贤北街1号", region="太原市小店区"
)


def _filed_and_routed(client: TestClient, body: dict[str, object]) -> tuple[str, int]:
    number = client.post("/api/v1/complaints", json=body).json()["tracking_number"]
    run_worker_until_idle()
    with_id = client.get(f"/api/v1/track/{number}").json()
    assert with_id["status"] in {"routed", "triage"}
    return number, _id_of(client, number)


def _id_of(client: TestClient, number: str) -> int:
    with Session(get_engine(read_only=True)) as session:
        complaint = session.exec(select(Complaint).where(Complaint.tracking_number == number)).one()
        assert complaint.id is not None
        return complaint.id


def test_a_filing_goes_to_the_office_of_its_county_and_only_that_area_sees_it(
    client: TestClient, session: Session
) -> None:
    number, complaint_id = _filed_and_routed(client, ELEVATOR_IN_XIAODIAN)
    tracked = client.get(f"/api/v1/track/{number}").json()
    assert tracked["department"]["code"] == "quality"
    assert tracked["office"] == "太原市小店区质量技术监督局"
    assert tracked["timeline"][-1]["note"] == "已分派至太原市小店区质量技术监督局"

    add_staff(session, "taiyuan", Role.department, "quality", office="quality-140100")
    add_staff(session, "datong", Role.department, "quality", office="quality-140200")
    add_staff(session, "province", Role.department, "quality", office="quality-140000")
    add_staff(session, "anywhere", Role.department, "quality")
    for user in ("taiyuan", "province", "anywhere"):
        headers = bearer(client, user)
        assert [i["id"] for i in client.get("/api/v1/queue", headers=headers).json()["data"]] == [
            complaint_id
        ]
        view = client.get(f"/api/v1/complaints/{complaint_id}", headers=headers).json()
        assert view["office"]["code"] == "quality-140105"
        assert view["place_county"] == "小店区"
        assert view["routing"]["place"]["code"] == "140105"
    datong = bearer(client, "datong")
    assert client.get("/api/v1/queue", headers=datong).json()["data"] == []
    assert client.get(f"/api/v1/complaints/{complaint_id}", headers=datong).status_code == 404


def test_an_office_user_must_belong_to_the_office_department(session: Session) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no active office"):
        add_staff(session, "wrong", Role.department, "housing", office="quality-140100")


def test_a_transfer_moves_the_filing_and_records_a_correction(
    client: TestClient, session: Session
) -> None:
    _, complaint_id = _filed_and_routed(client, ELEVATOR_IN_XIAODIAN)
    add_staff(session, "zhijian", Role.department, "quality")
    add_staff(session, "zhujian", Role.department, "housing")
    moved = client.post(
        f"/api/v1/complaints/{complaint_id}/actions/transfer",
        json={"department": "housing", "reason": "电梯归物业管理，属住建职责"},
        headers=bearer(client, "zhijian"),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["department"]["code"] == "housing"
    assert moved.json()["office"]["name"] == "太原市住房和城乡建设局"  # housing has city offices

    assert (
        client.get(
            f"/api/v1/complaints/{complaint_id}", headers=bearer(client, "zhijian")
        ).status_code
        == 404
    )
    view = client.get(
        f"/api/v1/complaints/{complaint_id}", headers=bearer(client, "zhujian")
    ).json()
    last = view["history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"]) == (
        "routed",
        "routed",
        "staff:zhijian",
    )
    assert last["reason"] == "电梯归物业管理，属住建职责"
    correction = session.exec(select(RoutingCorrection)).one()
    assert (correction.from_department, correction.to_department, correction.source) == (
        "quality",
        "housing",
        "transfer",
    )
    [(text, label)] = labelled_examples(session)
    assert label == "housing"
    assert "电梯" in text


def test_triage_decisions_are_corrections_too(client: TestClient, session: Session) -> None:
    vague = valid_filing(
        text="他们说好的事情一直拖着不办，态度很差，请尽快处理。", business_name="某公司"
    )
    _, complaint_id = _filed_and_routed(client, vague)
    add_staff(session, "fenjian", Role.department, "triage")
    answer = client.post(
        f"/api/v1/complaints/{complaint_id}/actions/transfer",
        json={"department": "aic", "reason": "合同纠纷，属工商"},
        headers=bearer(client, "fenjian"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "routed"
    correction = session.exec(select(RoutingCorrection)).one()
    assert (correction.from_department, correction.source) == ("triage", "triage")


def test_a_filing_sent_back_to_triage_teaches_no_department_until_it_is_triaged_again(
    client: TestClient, session: Session
) -> None:
    _, complaint_id = _filed_and_routed(client, ELEVATOR_IN_XIAODIAN)  # keywords: quality
    add_staff(session, "boss", Role.supervisor)
    headers = bearer(client, "boss")
    for department, reason in (
        ("housing", "电梯归物业管理，属住建职责"),
        ("triage", "不属住建职责，退回分拣"),
    ):
        moved = client.post(
            f"/api/v1/complaints/{complaint_id}/actions/transfer",
            json={"department": department, "reason": reason},
            headers=headers,
        )
        assert moved.status_code == 200, moved.text
    session.expire_all()
    # The last move says "not housing", and nobody has said what it is yet.
    assert labelled_examples(session) == []
    triaged = client.post(
        f"/api/v1/complaints/{complaint_id}/actions/transfer",
        json={"department": "quality", "reason": "电梯安全，属质监"},
        headers=headers,
    )
    assert triaged.status_code == 200, triaged.text
    session.expire_all()
    assert [label for _, label in labelled_examples(session)] == ["quality"]


@pytest.mark.parametrize(
    ("user", "body", "status", "message"),
    [
        ("zj", {"department": "nope", "reason": "理由充分"}, 422, "no active department"),
        ("zj", {"department": "housing"}, 422, "reason"),
        ("zj", {"department": "housing", "reason": "x"}, 422, "reason"),
        ("zj", {"department": "quality", "reason": "理由充分"}, 422, "already with quality"),
        (
            "zj",
            {"department": "housing", "reason": "理由充分", "status": "closed"},
            422,
            "unknown field",
        ),
        (
            "zj",
            {"department": "housing", "reason": "理由充分", "office": "quality-140000"},
            422,
            "has no office",
        ),
        ("op", {"department": "housing", "reason": "理由充分"}, 403, "transfer"),
        ("zhujian2", {"department": "housing", "reason": "理由充分"}, 404, "no filing"),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(
    client: TestClient,
    session: Session,
    user: str,
    body: dict[str, object],
    status: int,
    message: str,
) -> None:
    _, complaint_id = _filed_and_routed(client, ELEVATOR_IN_XIAODIAN)
    add_staff(session, "zj", Role.department, "quality")
    add_staff(session, "op", Role.operator)
    add_staff(session, "zhujian2", Role.department, "housing")
    events_before = len(session.exec(select(ComplaintEvent)).all())
    answer = client.post(
        f"/api/v1/complaints/{complaint_id}/actions/transfer",
        json=body,
        headers=bearer(client, user),
    )
    assert answer.status_code == status, answer.text
    assert message in answer.text
    session.expire_all()
    assert len(session.exec(select(ComplaintEvent)).all()) == events_before
    assert session.exec(select(RoutingCorrection)).all() == []


def test_a_filing_not_yet_routed_cannot_be_transferred(
    client: TestClient, session: Session
) -> None:
    number = client.post("/api/v1/complaints", json=valid_filing()).json()["tracking_number"]
    add_staff(session, "boss", Role.supervisor)
    answer = client.post(
        f"/api/v1/complaints/{_id_of(client, number)}/actions/transfer",
        json={"department": "housing", "reason": "理由充分"},
        headers=bearer(client, "boss"),
    )
    assert answer.status_code == 409
    assert answer.json()["current_status"] == "received"


def test_classify_suggests_kind_department_office_and_place_for_a_draft(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "op1", Role.operator)
    answer = client.post(
        "/api/v1/classify",
        json={
            "text": "我在太原市小店区某超市买的电动车充电器起火了，要求赔偿，同时举报他们卖三无产品",
            "business_name": "某某超市",
        },
        headers=bearer(client, "op1"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "routed"
    assert body["department"]["code"] == "quality"
    assert body["office"]["name"] == "太原市小店区质量技术监督局"
    assert body["place"]["label"] == "山西省太原市小店区"
    assert body["kind"]["kind"] == "complaint"
    assert body["kind"]["split_suggested"] is True
    top = body["suggestions"][0]
    assert top["department"] == {"code": "quality", "name": "质量技术监督部门"}
    assert set(top["reasons"]) & {"电动车", "充电器", "三无产品"}
    assert body["classifier"] == "keyword"
    assert body["elapsed_ms"] > 0


def test_classify_is_for_staff_only_and_checks_its_input(
    client: TestClient, session: Session
) -> None:
    assert client.post("/api/v1/classify", json={"text": "电梯坏了"}).status_code == 401
    add_staff(session, "op2", Role.operator)
    headers = bearer(client, "op2")
    assert client.post("/api/v1/classify", json={"text": ""}, headers=headers).status_code == 422
    assert (
        client.post(
            "/api/v1/classify", json={"text": "电梯", "kind": "tip"}, headers=headers
        ).status_code
        == 422
    )
    assert (
        client.post("/api/v1/classify", json={"text": "长" * 5001}, headers=headers).status_code
        == 422
    )
