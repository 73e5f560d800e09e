"""The legal lifecycle through the API with a real worker: every path, every refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cases.lifecycle import allowed_next
from cases.merge import MERGED_NOTE
from core.timeutil import as_china, utcnow
from intake.tracking_number import display_tracking_number
from schemas import Complaint, ComplaintEvent, Deadline, SatisfactionRating, TipCase
from schemas.enums import Kind, Role, Status
from schemas.sms import SmsOutbound
from tests.conftest import RunningGateway, Templates, migrated_platform
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

TESTING = {
    "lab": "山西省产品质量监督检验研究院",
    "sample": "涉诉电动车充电器一只，封存于太原市小店区质量技术监督局",
    "basis": "GB 4943.1-2022 强制性国家标准",
    "items": ["温升", "绝缘电阻", "输出过载保护"],
    "fee_fen": 150000,
    "payer": "business",
    "payment_timing": "出具报告前由被投诉人支付",
    "due_on": "2026-12-31",
}


@pytest.fixture
def desk(sqlite_platform: str, client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    add_staff(session, "zj", Role.department, "quality")
    add_staff(session, "gs", Role.department, "aic")
    add_staff(session, "op", Role.operator)
    add_staff(session, "boss", Role.supervisor)
    return {name: bearer(client, name) for name in ("zj", "gs", "op", "boss")}


def _routed(client: TestClient, **changes: Any) -> int:
    body = valid_filing(**{"business_name": "某某电梯维保公司"} | changes)
    number = client.post("/api/v1/complaints", json=body).json()["tracking_number"]
    run_worker_until_idle()
    from core.db import get_engine

    with Session(get_engine(read_only=True)) as session:
        complaint = session.exec(select(Complaint).where(Complaint.tracking_number == number)).one()
        assert complaint.status is Status.routed, complaint
        return int(complaint.id or 0)


def _act(
    client: TestClient,
    headers: dict[str, str],
    cid: int,
    action: str,
    body: dict[str, Any] | None = None,
) -> Any:
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/{action}", json=body or {}, headers=headers
    )
    assert answer.status_code == 200, (action, answer.text)
    return answer.json()


def test_the_whole_complaint_path(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    cid = _routed(client)
    zj = desk["zj"]
    view = client.get(f"/api/v1/complaints/{cid}", headers=zj).json()
    assert {
        "accept",
        "refuse",
        "refer_to_odr",
        "transfer",
        "merge",
        "note",
        "reply",
        "claim",
    } <= set(view["allowed_actions"])
    assert [d["step"] for d in view["deadlines"]] == ["accept_decision"]

    _act(client, zj, cid, "claim")
    _act(client, zj, cid, "note", {"text": "已电话联系投诉人核实情况"})
    _act(client, zj, cid, "accept")
    _act(client, zj, cid, "start_mediation")
    tested = _act(client, zj, cid, "request_testing", TESTING)
    assert tested["status"] == "testing"
    assert tested["arbitration_tests"][0]["lab"] == TESTING["lab"]
    assert {d["step"]: d["state"] for d in tested["deadlines"]}["mediation"] == "paused"
    reported = _act(
        client, zj, cid, "record_test_report", {"outcome": "nonconforming", "summary": "温升超标"}
    )
    assert reported["status"] == "mediating"
    assert reported["arbitration_tests"][0]["objection_until"]
    _act(
        client,
        zj,
        cid,
        "mediation_succeeded",
        {"agreement": "商家退货退款并赔偿200元", "recovered_fen": 20000},
    )
    closed = _act(client, zj, cid, "close", {"summary": "调解成功，已履行"})
    assert closed["status"] == "closed"
    assert closed["allowed_actions"] == []
    assert {d["state"] for d in closed["deadlines"]} == {"met"}
    assert closed["assignee"] == "zj"

    number = closed["tracking_number"]
    tracked = client.get(f"/api/v1/track/{number}").json()
    assert [s["status"] for s in tracked["timeline"]] == [
        "received",
        "routed",
        "accepted",
        "mediating",
        "testing",
        "mediating",
        "resolved",
        "closed",
    ]
    assert "已电话联系" not in str(tracked)  # internal notes stay internal
    rating = client.post(f"/api/v1/track/{number}/rating", json={"score": 4, "comment": "处理及时"})
    assert rating.status_code == 201
    assert client.post(f"/api/v1/track/{number}/rating", json={"score": 5}).status_code == 409
    assert session.exec(select(SatisfactionRating)).one().score == 4
    index = client.get("/api/v1/stats/satisfaction", headers=desk["boss"]).json()
    assert index == [
        {
            "department": "quality",
            "name": "质量技术监督部门",
            "ratings": 1,
            "average": 4.0,
            "index": 80.0,
        }
    ]


def test_the_whole_tip_off_path(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    cid = _routed(
        client,
        kind="tip",
        text="举报某某厂生产的电动车充电器没有3C认证，存在起火隐患，请依法查处。",
    )
    zj = desk["zj"]
    _act(client, zj, cid, "start_verification")
    _act(client, zj, cid, "open_case", {"case_number": "并质监立字〔2026〕88号"})
    decided = _act(
        client,
        zj,
        cid,
        "decide",
        {
            "decision_number": "并质监罚字〔2026〕88号",
            "penalty_fen": 20_000_000,
            "confiscation_fen": 5_000_000,
            "summary": "没收违法所得并罚款",
        },
    )
    assert decided["tip_case"]["penalty_fen"] == 20_000_000
    _act(client, zj, cid, "close", {"summary": "已作出行政处罚"})
    case = session.exec(select(TipCase)).one()
    assert (case.case_number, case.confiscation_fen) == ("并质监立字〔2026〕88号", 5_000_000)
    steps = {d.step: d.state for d in session.exec(select(Deadline))}
    assert steps == {"tip_verification": "met", "case_decision": "met"}


def test_an_inquiry_is_answered_and_closed(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid = _routed(client, kind="inquiry", text="请问电梯年检标志过期了应该找哪个部门？")
    answered = _act(
        client, desk["zj"], cid, "answer", {"answer": "电梯安全由质量技术监督部门负责，可拨打12365"}
    )
    assert answered["status"] == "answered"
    assert _act(client, desk["zj"], cid, "close", {"summary": "已答复"})["status"] == "closed"


def _kinds_paths() -> list[tuple[Kind, Status, Status]]:
    return [
        (kind, status, target)
        for kind in Kind
        for status in Status
        for target in allowed_next(kind, status)
    ]


def test_the_transition_table_has_a_way_out_of_every_open_status() -> None:
    from schemas.enums import FINAL_STATUSES

    for kind in Kind:
        reachable = {Status.received}
        frontier = [Status.received]
        while frontier:
            for target in allowed_next(kind, frontier.pop()):
                if target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
        for status in reachable - FINAL_STATUSES:
            assert allowed_next(kind, status), (kind, status)
        assert Status.closed in reachable
        assert all(allowed_next(kind, final) == [] for final in FINAL_STATUSES)
    assert len(_kinds_paths()) > 40


FORBIDDEN = [
    ("complaint", "start_mediation", {}),  # not accepted yet
    ("complaint", "close", {"summary": "直接办结"}),
    ("complaint", "record_test_report", {"outcome": "conforming", "summary": "无"}),
    ("complaint", "answer", {"answer": "答复"}),  # not an inquiry
    ("complaint", "open_case", {"case_number": "1"}),  # not a tip-off
    ("tip", "accept", {}),
    ("tip", "decide", {"decision_number": "1", "penalty_fen": 1, "summary": "决定"}),
    ("inquiry", "accept", {}),
]


@pytest.mark.parametrize(("kind", "action", "body"), FORBIDDEN)
def test_forbidden_actions_are_409_with_the_allowed_ones_and_change_nothing(
    desk: dict[str, dict[str, str]],
    client: TestClient,
    session: Session,
    kind: str,
    action: str,
    body: dict[str, Any],
) -> None:
    text = {
        "tip": "举报某厂无证生产电动车充电器，请依法查处",
        "inquiry": "请问电梯年检过期找哪个部门？",
    }.get(kind)
    cid = _routed(client, kind=kind, **({"text": text} if text else {}))
    events = len(session.exec(select(ComplaintEvent)).all())
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/{action}", json=body, headers=desk["zj"]
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["current_status"] == "routed"
    assert action not in answer.json()["allowed_actions"]
    assert answer.json()["allowed_actions"]
    session.expire_all()
    assert session.get(Complaint, cid).status is Status.routed  # type: ignore[union-attr]
    assert len(session.exec(select(ComplaintEvent)).all()) == events


@pytest.mark.parametrize(
    ("action", "body", "reason"),
    [
        ("refuse", {"reason_code": "because", "explanation": "说明"}, "reason_code must be one of"),
        ("refuse", {"reason_code": "time_barred"}, "explanation"),
        ("accept", {"surprise": 1}, "surprise"),
        ("no_such_action", {}, "no action"),
    ],
)
def test_bad_action_bodies_are_refused(
    desk: dict[str, dict[str, str]],
    client: TestClient,
    action: str,
    body: dict[str, Any],
    reason: str,
) -> None:
    cid = _routed(client)
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/{action}", json=body, headers=desk["zj"]
    )
    assert answer.status_code in {404, 422}
    assert reason in answer.text


def test_a_refusal_carries_its_legal_reason_to_the_citizen(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid = _routed(client)
    refused = _act(
        client,
        desk["zj"],
        cid,
        "refuse",
        {"reason_code": "time_barred", "explanation": "购买于2021年"},
    )
    tracked = client.get(f"/api/v1/track/{refused['tracking_number']}").json()
    assert "超过三年" in tracked["timeline"][-1]["note"]
    assert "transfer" not in refused["allowed_actions"]


def test_access_matrix_every_filing_route_is_404_for_another_department(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid = _routed(client)
    other, operator = desk["gs"], desk["op"]
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("get", f"/api/v1/complaints/{cid}", None),
        ("get", f"/api/v1/complaints/{cid}/attachments/1", None),
        ("post", f"/api/v1/complaints/{cid}/actions/accept", {}),
        ("post", f"/api/v1/complaints/{cid}/actions/note", {"text": "偷看"}),
        (
            "post",
            f"/api/v1/complaints/{cid}/actions/transfer",
            {"department": "aic", "reason": "抢过来"},
        ),
        ("post", f"/api/v1/complaints/{cid}/actions/merge", {"into": cid, "reason": "合并"}),
        ("post", f"/api/v1/complaints/{cid}/actions/dismiss-duplicate", {"link_id": 1}),
    ]
    for method, url, body in routes:
        answer = client.request(method, url, json=body, headers=other)
        assert answer.status_code == 404, (url, answer.status_code)
        assert "13812345678" not in answer.text
        assert client.request(method, url, json=body).status_code == 401
    # An operator sees filings (caller history) but does not act as a department.
    assert client.get(f"/api/v1/complaints/{cid}", headers=operator).status_code == 200
    assert (
        client.post(
            f"/api/v1/complaints/{cid}/actions/accept", json={}, headers=operator
        ).status_code
        == 403
    )
    assert client.get("/api/v1/audit", headers=desk["zj"]).status_code == 403


def test_every_view_and_change_is_in_the_audit_trail(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid = _routed(client)
    client.get(f"/api/v1/complaints/{cid}", headers=desk["zj"])
    _act(client, desk["zj"], cid, "accept")
    client.get(f"/api/v1/complaints/{cid}", headers=desk["boss"])
    trail = client.get("/api/v1/audit", params={"complaint_id": cid}, headers=desk["boss"]).json()
    assert [(e["username"], e["action"]) for e in trail] == [
        ("boss", "view"),
        ("zj", "act:accept"),
        ("zj", "view"),
    ]
    by_user = client.get("/api/v1/audit", params={"username": "zj"}, headers=desk["boss"]).json()
    assert {e["username"] for e in by_user} == {"zj"}


# China's wall clock four hours ago, written without an offset: read as China time it is
# before the view below; read as UTC it would be four hours after it.
FOUR_HOURS_AGO_IN_CHINA = "four hours ago, China wall clock"


@pytest.mark.parametrize(
    "since", ["0", "0.5", "-3", "1.4818474723387572e-213", "+7", "1_000", " 12 ", "inf", "nan"]
)
def test_the_audit_trail_refuses_a_number_for_since_however_it_is_written(
    desk: dict[str, dict[str, str]], client: TestClient, since: str
) -> None:
    """pydantic reads a number as Unix seconds: `since=1.5e-213` would be 1970, every row."""
    cid = _routed(client)
    client.get(f"/api/v1/complaints/{cid}", headers=desk["zj"])
    answer = client.get("/api/v1/audit", params={"since": since}, headers=desk["boss"])
    assert answer.status_code == 422, answer.text
    assert "ISO 8601" in answer.text


@pytest.mark.parametrize(
    ("since", "kept"),
    [
        ("2026-01-01", True),  # a day: its China midnight
        ("2026-01-01T08:00:00+08:00", True),
        (FOUR_HOURS_AGO_IN_CHINA, True),  # no offset: China time
        ("9999-12-31", False),
        ("9999-12-31T23:59:59", False),
        # UTC cannot hold these instants (China's year-1 midnight is in year 0): a
        # schema-valid bound is read as the end of the calendar it is at, not refused.
        ("0001-01-01", True),
        ("0001-01-01T00:00:00+08:00", True),
        ("9999-12-31T23:59:59-10:00", False),
    ],
)
def test_the_audit_trail_since_a_day_or_a_time_without_offset_is_china_time(
    desk: dict[str, dict[str, str]], client: TestClient, since: str, kept: bool
) -> None:
    if since == FOUR_HOURS_AGO_IN_CHINA:
        since = (as_china(utcnow()) - timedelta(hours=4)).replace(tzinfo=None).isoformat()
    cid = _routed(client)
    client.get(f"/api/v1/complaints/{cid}", headers=desk["zj"])
    answer = client.get("/api/v1/audit", params={"since": since}, headers=desk["boss"])
    assert answer.status_code == 200, answer.text
    assert bool(answer.json()) is kept


def test_citizens_are_texted_at_each_public_step(
    configure: Any,
    sqlite_url: str,
    redis_url: str,
    templates: Templates,
    sms_gateway: RunningGateway,
) -> None:
    from core.db import get_engine
    from service.app import create_app

    migrated_platform(
        configure,
        sqlite_url,
        redis_url,
        templates,
        sms_provider="loopback",
        sms_gateway_url=sms_gateway.url,
    )
    with Session(get_engine()) as s:
        add_staff(s, "zj2", Role.department, "quality")
    with TestClient(create_app()) as client:
        zj = bearer(client, "zj2")
        cid = _routed(client)
        _act(client, zj, cid, "note", {"text": "内部备注不发短信"})
        _act(client, zj, cid, "accept")
        _act(client, zj, cid, "start_mediation")
        _act(
            client,
            zj,
            cid,
            "end_mediation",
            {"reason_code": "party_refused", "explanation": "商家拒绝调解"},
        )
        _act(client, zj, cid, "close", {"summary": "终止调解，建议诉讼"})
        run_worker_until_idle()
    texts = [m["text"] for m in sms_gateway.inbox.all()]
    assert len(texts) == 3
    assert "您的投诉已由太原市小店区质量技术监督局受理" in texts[0]
    assert "终止调解" in texts[1]
    assert "请回复1-5分评价" in texts[2]


def test_a_filing_can_be_assigned_to_a_colleague_of_its_department_only(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    add_staff(session, "zj-colleague", Role.department, "quality")
    cid = _routed(client)
    assigned = _act(client, desk["boss"], cid, "claim", {"assignee": "zj-colleague"})
    assert assigned["assignee"] == "zj-colleague"
    for name in ("gs", "boss", "nobody"):
        answer = client.post(
            f"/api/v1/complaints/{cid}/actions/claim", json={"assignee": name}, headers=desk["zj"]
        )
        assert answer.status_code == 422, name
    assert session.get(Complaint, cid).assignee_id is not None  # type: ignore[union-attr]


def test_actions_that_share_a_target_are_offered_from_their_own_status_only() -> None:
    from cases.actions import allowed_actions

    def offered(status: Status) -> list[str]:
        return allowed_actions(Complaint(kind=Kind.complaint, status=status))

    assert "odr_failed" not in offered(Status.routed)
    assert "odr_failed" in offered(Status.odr)
    assert "start_mediation" in offered(Status.accepted)
    assert "start_mediation" not in offered(Status.testing)
    assert "odr_failed" not in offered(Status.testing)


def test_transfer_is_offered_only_where_it_works(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid = _routed(client)
    routed = client.get(f"/api/v1/complaints/{cid}", headers=desk["zj"]).json()
    assert "transfer" in routed["allowed_actions"]
    accepted = _act(client, desk["zj"], cid, "accept")
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/transfer",
        json={"department": "aic", "reason": "不属于本部门"},
        headers=desk["zj"],
    )
    assert answer.status_code == 409, answer.text
    assert "transfer" not in accepted["allowed_actions"]


@pytest.mark.parametrize(
    "status",
    [s for s in Status if s not in {Status.routed, Status.triage}],
)
def test_transfer_is_not_offered_in_any_other_status(status: Status) -> None:
    from cases.actions import allowed_actions

    for kind in Kind:
        assert "transfer" not in allowed_actions(Complaint(kind=kind, status=status))


def test_record_test_report_is_not_offered_before_any_test(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid = _routed(client)
    accepted = _act(client, desk["zj"], cid, "accept")
    assert "record_test_report" not in accepted["allowed_actions"]
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/record_test_report",
        json={"outcome": "conforming", "summary": "合格"},
        headers=desk["zj"],
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["current_status"] == "accepted"


@pytest.mark.parametrize(
    "cursor",
    [
        "9999-12-31_99999999999999999999999",
        "2026-01-01_9223372036854775808",
        "2026-01-01_0",
        "2026-01-01_-5",
        "2026-13-01_5",
        "2026-01-01_1_000",
        "2026-01-01",
    ],
)
def test_a_forged_queue_cursor_is_a_422_not_a_500(
    desk: dict[str, dict[str, str]], client: TestClient, cursor: str
) -> None:
    answer = client.get("/api/v1/queue", params={"cursor": cursor}, headers=desk["zj"])
    assert answer.status_code == 422, answer.text
    assert "cursor" in answer.json()["detail"]


@pytest.mark.postgres
@pytest.mark.parametrize("suggested", [True, False], ids=["suggested", "not-linked"])
def test_two_staff_merging_two_filings_into_each_other_cannot_both_win(
    configure: Any, postgres_url: str, redis_url: str, templates: Any, suggested: bool
) -> None:
    import threading
    import time

    from sqlalchemy import delete

    from accounts.service import staff_from_user
    from cases.merge import merge
    from core.db import get_engine
    from schemas.duplicate import DuplicateLink
    from schemas.staff import StaffUser
    from service.app import create_app

    migrated_platform(configure, postgres_url, redis_url, templates)
    with Session(get_engine()) as s:
        add_staff(s, "zj", Role.department, "quality")
        add_staff(s, "zj2", Role.department, "quality")
    with TestClient(create_app()) as client:
        a = _routed(client)
        b = _routed(client)  # the same matter, filed twice: suggested as a duplicate
    with Session(get_engine()) as s:
        assert s.exec(select(DuplicateLink)).all()  # the duplicate search's suggestion
        if not suggested:  # then both merges insert the pair's link
            s.execute(delete(DuplicateLink))
            s.commit()
        users = {u.username: staff_from_user(s, u) for u in s.exec(select(StaffUser)).all()}
    a_done, errors = threading.Event(), []

    def first() -> None:  # zj: a is a duplicate of b
        try:
            with Session(get_engine()) as s:
                merge(s, staff=users["zj"], duplicate_id=a, survivor_id=b, reason="同一事项")
                s.flush()
                a_done.set()
                time.sleep(0.5)  # zj2 clicks in the meantime
                s.commit()
        except Exception as exc:
            errors.append(exc)
        finally:
            a_done.set()

    def second() -> None:  # zj2: b is a duplicate of a
        a_done.wait(5)
        try:
            with Session(get_engine()) as s:
                merge(s, staff=users["zj2"], duplicate_id=b, survivor_id=a, reason="同一事项")
                s.commit()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    with Session(get_engine()) as s:
        statuses = {c.id: (c.status, c.merged_into_id) for c in s.exec(select(Complaint)).all()}
        links = s.exec(select(DuplicateLink)).all()
    # One survives open; the loser gets a Conflict (409), not a 500.
    assert statuses == {a: (Status.merged, b), b: (Status.routed, None)}, statuses
    assert [type(e).__name__ for e in errors] == ["Conflict"], errors
    assert [link.state for link in links] == ["merged"]


# --- a merged filing's citizen learns the outcome ----------------------------------------------


@pytest.fixture
def any_desk(platform: str, client: TestClient, session: Session) -> dict[str, str]:
    """As `desk`, on SQLite and on PostgreSQL: the chain is one recursive query."""
    add_staff(session, "zj", Role.department, "quality")
    return bearer(client, "zj")


def _merge(client: TestClient, headers: dict[str, str], cid: int, into: int) -> None:
    _act(client, headers, cid, "merge", {"into": into, "reason": "同一电梯同一事项"})


def _texts(session: Session, template: str) -> list[SmsOutbound]:
    session.expire_all()
    return list(
        session.exec(
            select(SmsOutbound)
            .where(SmsOutbound.template == template)
            .order_by(col(SmsOutbound.id))
        ).all()
    )


def _public_notes(session: Session, cid: int) -> list[str | None]:
    session.expire_all()
    events = session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == cid)
        .where(col(ComplaintEvent.public))
        .order_by(col(ComplaintEvent.id))
    ).all()
    return [e.public_note for e in events]


def test_closing_a_filing_tells_every_filing_merged_into_it_at_any_depth(
    any_desk: dict[str, str], client: TestClient, session: Session
) -> None:
    a = _routed(client, contact_phone="13800000001")
    b = _routed(client, contact_phone="13900000002")
    c = _routed(client, contact_phone="13700000003")
    _merge(client, any_desk, a, b)  # A into B, later B into C: C's outcome is A's too
    _merge(client, any_desk, b, c)
    # Steps on the way are the survivor's own citizen's: nothing for A or B.
    _act(client, any_desk, c, "reply", {"text": "请提供维保合同"})
    _act(client, any_desk, c, "accept")
    _act(client, any_desk, c, "start_mediation")
    _act(
        client,
        any_desk,
        c,
        "mediation_succeeded",
        {"agreement": "物业修复电梯并退款", "recovered_fen": 0},
    )
    assert _texts(session, "merged_closed") == []
    ours = {a: session.get(Complaint, a), b: session.get(Complaint, b)}
    theirs = session.get(Complaint, c)
    assert theirs is not None
    assert all(ours.values())

    summary = "经协调物业已修复电梯，已为王先生退款500元，回访电话13700000003"
    _act(client, any_desk, c, "close", {"summary": summary})

    texts = _texts(session, "merged_closed")
    assert sorted((m.complaint_id, m.to_number) for m in texts) == [
        (a, "+8613800000001"),
        (b, "+8613900000002"),
    ]
    for message in texts:
        own = ours[message.complaint_id or 0]
        assert own is not None
        assert own.tracking_number
        assert message.body is not None
        assert display_tracking_number(own.tracking_number) in message.body
        assert "已为某先生退款500元" in message.body
        assert "评价" not in message.body  # only the survivor's filing can be rated
        # Nothing that is the other citizen's: their number, their phone, their name.
        flat = message.body.replace(" ", "")
        assert theirs.tracking_number not in flat
        assert "13700000003" not in flat
        assert "王先生" not in flat
    for cid in (a, b):
        note = _public_notes(session, cid)[-1]
        assert note is not None
        assert note.startswith("合并办理的事项已办结：经协调物业已修复电梯")
    # The survivor's citizen got their own closing text, once.
    assert [m.complaint_id for m in _texts(session, "closed")] == [c]

    own_a = ours[a]
    assert own_a is not None
    page = client.get(f"/api/v1/track/{own_a.tracking_number}").json()
    assert page["status"] == "merged"
    assert page["timeline"][-1]["note"].startswith("合并办理的事项已办结：经协调物业已修复电梯")
    assert theirs.tracking_number not in str(page)
    assert "13700000003" not in str(page)

    # Closed is final: a second close is refused and tells nobody anything more.
    entries = len(_public_notes(session, a))
    again = client.post(
        f"/api/v1/complaints/{c}/actions/close", json={"summary": "再次办结"}, headers=any_desk
    )
    assert again.status_code == 409
    assert len(_texts(session, "merged_closed")) == 2
    assert len(_public_notes(session, a)) == entries


def test_a_merged_tip_offs_reporter_is_texted_through_the_vault_an_anonymous_one_is_not(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    from notify.service import open_sealed
    from rewards.keys import keyring

    zj = desk["zj"]
    tip = {"kind": "tip", "contact_phone": None, "business_name": "某某电梯维保公司"}
    named = _routed(client, **tip, reporter={"name": "赵某某", "phone": "13600000006"})
    anonymous = _routed(client, **tip)
    survivor = _routed(client, **tip)
    _merge(client, zj, named, survivor)
    _merge(client, zj, anonymous, survivor)
    _act(client, zj, survivor, "start_verification")
    _act(client, zj, survivor, "not_open_case", {"reason": "未发现违法行为"})
    _act(client, zj, survivor, "close", {"summary": "经核查未发现违法行为"})

    for cid in (named, anonymous):
        assert _public_notes(session, cid)[-1] == "合并办理的事项已办结：经核查未发现违法行为"
    [message] = _texts(session, "merged_closed")
    assert message.complaint_id == named
    assert (message.to_number, message.body) == (None, None)  # sealed, not on the row
    to, body = open_sealed(keyring(), message)
    assert to.endswith("13600000006")
    row = session.get(Complaint, named)
    assert row is not None
    assert row.contact_phone is None
    number = display_tracking_number(row.tracking_number)
    assert f"受理编号{number}：您反映的事项已合并办结：经核查未发现违法行为。" in body


def test_a_filing_merged_into_one_already_finished_is_told_its_outcome_at_once(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    zj = desk["zj"]
    question = {"kind": "inquiry", "text": "请问电梯年检标志过期了应该找哪个部门？"}
    answered = _routed(client, **question, contact_phone="13700000003")
    asked_again = _routed(client, **question, contact_phone="13800000001")
    same_person = _routed(client, **question, contact_phone="13700000003")
    _merge(client, zj, same_person, asked_again)  # merged before asked_again is merged on
    answer = "电梯安全由质量技术监督部门负责，可拨打12365"
    _act(client, zj, answered, "answer", {"answer": answer})
    assert _texts(session, "answered")[-1].complaint_id == answered

    # An answered inquiry may still take a duplicate: it and what was merged into it hear
    # the answer now, nobody else again.
    _merge(client, zj, asked_again, answered)
    told = [(m.complaint_id, m.to_number) for m in _texts(session, "answered")]
    # The person who asked twice was answered under their first number already.
    assert told == [(answered, "+8613700000003"), (asked_again, "+8613800000001")]
    for cid in (asked_again, same_person):
        assert _public_notes(session, cid)[-1] == f"合并办理的咨询已答复：{answer}"

    # Closing it later is an outcome too, for both; a filing merged after that hears both.
    _act(client, zj, answered, "close", {"summary": "已答复"})
    assert [m.complaint_id for m in _texts(session, "merged_closed")] == [asked_again]
    late = _routed(client, **question, contact_phone="13500000005")
    _merge(client, zj, late, answered)
    assert _public_notes(session, late)[-2:] == [
        f"合并办理的咨询已答复：{answer}",
        "合并办理的事项已办结：已答复",
    ]
    assert [
        m.template
        for m in session.exec(select(SmsOutbound).where(SmsOutbound.complaint_id == late)).all()
        if m.template in {"answered", "merged_closed"}
    ] == ["answered", "merged_closed"]


@pytest.mark.parametrize("tip_survives", [True, False])
def test_a_tip_off_and_a_complaint_are_never_merged_into_each_other(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session, tip_survives: bool
) -> None:
    """A merged filing's citizen is told its survivor's outcome: a complaint merged into a
    tip-off would learn that the tip-off exists and how it ended (the reporter's protection),
    and a reporter merged into a complaint would hear another citizen's settlement. The
    duplicate finder never pairs the two kinds (intake.duplicates); neither may staff."""
    zj = desk["zj"]
    tip = _routed(client, kind="tip", contact_phone=None, reporter={"phone": "13600000006"})
    complaint = _routed(client, contact_phone="13800000001")
    duplicate, survivor = (complaint, tip) if tip_survives else (tip, complaint)
    answer = client.post(
        f"/api/v1/complaints/{duplicate}/actions/merge",
        json={"into": survivor, "reason": "同一电梯同一事项"},
        headers=zj,
    )
    assert answer.status_code == 422, answer.text
    assert "tip-off" in answer.json()["detail"]
    session.expire_all()
    row = session.get(Complaint, duplicate)
    assert row is not None
    assert (row.status, row.merged_into_id) == (Status.routed, None)
    assert _public_notes(session, duplicate)[-1] != MERGED_NOTE


def test_a_settlement_records_what_the_consumer_got_back(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    """挽回经济损失: every mediation agreement and ODR settlement says the amount, 0 if none."""
    zj = desk["zj"]
    cid = _routed(client)
    _act(client, zj, cid, "accept")
    _act(client, zj, cid, "start_mediation")
    path = f"/api/v1/complaints/{cid}/actions/mediation_succeeded"
    for body in ({"agreement": "商家退款"}, {"agreement": "商家退款", "recovered_fen": -1}):
        refused = client.post(path, json=body, headers=zj)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "recovered_fen"
    assert session.get(Complaint, cid).status is Status.mediating  # type: ignore[union-attr]
    settled = _act(
        client, zj, cid, "mediation_succeeded", {"agreement": "退款", "recovered_fen": 129950}
    )
    assert (settled["status"], settled["recovered_fen"]) == ("resolved", 129950)

    other = _routed(client, text="买的电动车充电器用了三天就冒烟，商家不肯退换，请质监部门处理。")
    _act(client, zj, other, "refer_to_odr")
    closed = _act(client, zj, other, "odr_settled", {"summary": "商家同意换货", "recovered_fen": 0})
    assert (closed["status"], closed["recovered_fen"]) == ("closed", 0)
    event = session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == other)
        .order_by(col(ComplaintEvent.id).desc())
    ).first()
    assert event is not None
    assert event.payload["recovered_fen"] == 0
