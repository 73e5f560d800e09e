"""Repeat and near-identical filings are linked; staff merge them keeping both histories."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from intake.duplicates import signature, similarity
from schemas import Complaint, ComplaintEvent, DuplicateLink
from schemas.enums import Role, Status
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

pytestmark = pytest.mark.usefixtures("sqlite_platform")

ORIGINAL = "我在某某健身房办了一张年卡，花了3680元，现在健身房突然关门了，老板联系不上，要求退还剩余的费用。"
PARAPHRASES = [
    "我在某某健身房办了年卡，花了3680元，现在健身房突然关门，老板也联系不上了，要求退还剩余费用！",
    "本人在某某健身房办了一张年卡（3680元），健身房突然关门了，老板联系不上，要求退还剩余的费用",
    "某某健身房突然关门了，我办了一张年卡花了3680元，老板联系不上，要求退还剩余的费用。",
]
UNRELATED = [
    "小区电梯上个月困人两次，物业一直不修，电梯年检标志也过期了，请质监部门检查。",
    "某饭店卖的菜里吃出了虫子，要求赔偿，商家态度恶劣。",
    "网购的羽绒服质量有问题，掉毛严重，商家拒绝退货。",
]


def _file(client: TestClient, text: str, phone: str, business: str = "某某健身房") -> str:
    answer = client.post(
        "/api/v1/complaints",
        json=valid_filing(
            text=text, contact_phone=phone, business_name=business, business_uscc=None
        ),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["tracking_number"])


def test_paraphrases_are_similar_and_other_matters_are_not() -> None:
    base = signature(ORIGINAL)
    assert all(similarity(base, signature(p)) >= 0.5 for p in PARAPHRASES)
    assert all(similarity(base, signature(u)) < 0.2 for u in UNRELATED)


def test_the_same_complainant_filing_again_is_linked(client: TestClient, session: Session) -> None:
    _file(client, ORIGINAL, "13812345678")
    _file(client, PARAPHRASES[0], "13812345678", business="另一家店")  # same person, same words
    _file(client, UNRELATED[0], "13812345678")
    run_worker_until_idle()
    links = session.exec(select(DuplicateLink)).all()
    assert [(link.complaint_id, link.duplicate_of_id, link.reason) for link in links] == [
        (2, 1, "same_complainant")
    ]


def test_many_people_writing_alike_about_one_business_are_linked(
    client: TestClient, session: Session
) -> None:
    _file(client, ORIGINAL, "13800000001", business="太原市某某健身房有限公司")
    for i, text in enumerate(PARAPHRASES, start=2):
        _file(client, text, f"1380000000{i}", business="太原市某某健身房")
    for i, text in enumerate(UNRELATED):
        _file(client, text, f"1390000000{i}", business="太原市某某健身房")
    run_worker_until_idle()
    links = session.exec(select(DuplicateLink)).all()
    linked = {(link.complaint_id, link.duplicate_of_id) for link in links}
    assert {(2, 1), (3, 1), (4, 1)} <= linked
    assert all(link.reason == "same_business" for link in links)
    assert not any(link.complaint_id > 4 or link.duplicate_of_id > 4 for link in links)


def test_alike_texts_about_different_businesses_by_different_people_are_not_linked(
    client: TestClient, session: Session
) -> None:
    _file(client, ORIGINAL, "13800000001", business="甲健身房")
    _file(client, PARAPHRASES[0], "13800000002", business="乙健身房")
    run_worker_until_idle()
    assert session.exec(select(DuplicateLink)).all() == []


def test_running_the_job_twice_links_once(client: TestClient, session: Session) -> None:
    from intake.tasks import find_duplicates

    _file(client, ORIGINAL, "13812345678")
    _file(client, PARAPHRASES[1], "13812345678")
    run_worker_until_idle()
    find_duplicates(2)
    assert len(session.exec(select(DuplicateLink)).all()) == 1


def test_merging_closes_the_duplicate_and_keeps_both_histories(
    client: TestClient, session: Session
) -> None:
    first = _file(client, ORIGINAL, "13812345678")
    second = _file(client, PARAPHRASES[0], "13812345678")
    run_worker_until_idle()
    add_staff(session, "boss", Role.supervisor)
    headers = bearer(client, "boss")
    view = client.get("/api/v1/complaints/2", headers=headers).json()
    assert [(d["other_tracking_number"], d["state"]) for d in view["duplicates"]] == [
        (first, "suggested")
    ]

    merged = client.post(
        "/api/v1/complaints/2/actions/merge",
        json={"into": 1, "reason": "同一人就同一事项重复投诉"},
        headers=headers,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "merged"
    assert merged.json()["merged_into"] == first
    assert merged.json()["duplicates"][0]["state"] == "merged"
    tracked = client.get(f"/api/v1/track/{second}").json()
    assert tracked["status"] == "merged"
    assert "合并" in tracked["timeline"][-1]["note"]
    assert first not in str(tracked)  # another filing's number opens its page and its rating

    histories = {
        cid: [
            e.reason
            for e in session.exec(
                select(ComplaintEvent)
                .where(ComplaintEvent.complaint_id == cid)
                .order_by(col(ComplaintEvent.id))
            )
        ]
        for cid in (1, 2)
    }
    assert histories[2][:2] == ["filed", histories[2][1]]  # its own filing and routing remain
    assert histories[2][-1] == "同一人就同一事项重复投诉"
    assert histories[1][-1].startswith(f"merged duplicate {second}")
    survivor = session.get(Complaint, 1)
    assert survivor is not None
    assert survivor.status is not Status.merged

    again = client.post(
        "/api/v1/complaints/2/actions/merge",
        json={"into": 1, "reason": "再来一次"},
        headers=headers,
    )
    assert again.status_code == 409
    into_merged = client.post(
        "/api/v1/complaints/1/actions/merge", json={"into": 2, "reason": "反过来"}, headers=headers
    )
    assert into_merged.status_code == 409


def test_a_merged_filing_does_not_hand_out_another_citizens_tracking_number(
    client: TestClient, session: Session
) -> None:
    theirs = _file(client, ORIGINAL, "13800000001")
    mine = _file(client, PARAPHRASES[0], "13900000002")
    run_worker_until_idle()
    add_staff(session, "boss", Role.supervisor)
    zj = bearer(client, "boss")
    for path, body in [
        ("2/actions/merge", {"into": 1, "reason": "同一健身房同一事项"}),
        ("1/actions/accept", {}),
        ("1/actions/start_mediation", {}),
        (
            "1/actions/mediation_succeeded",
            {"agreement": "健身房退还剩余费用", "recovered_fen": 120000},
        ),
        ("1/actions/close", {"summary": "调解成功"}),
    ]:
        answer = client.post(f"/api/v1/complaints/{path}", json=body, headers=zj)
        assert answer.status_code == 200, (path, answer.text)
    # The second complainant's page says it was merged, not under which number…
    page = client.get(f"/api/v1/track/{mine}").json()
    assert page["status"] == "merged"
    assert theirs not in str(page)
    # …so the first complainant's filing is theirs alone to rate; staff still see the link.
    assert client.get("/api/v1/complaints/2", headers=zj).json()["merged_into"] == theirs
    assert client.post(f"/api/v1/track/{theirs}/rating", json={"score": 5}).status_code == 201


def test_a_link_written_meanwhile_makes_the_merge_a_409_not_a_500(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cases import merge

    _file(client, ORIGINAL, "13800000001")
    _file(client, PARAPHRASES[0], "13900000002")
    run_worker_until_idle()
    assert session.exec(select(DuplicateLink)).one()
    # As if the duplicate search linked the pair between the merge's look-up and its insert.
    monkeypatch.setattr(merge, "_link", lambda *_: None)
    add_staff(session, "boss", Role.supervisor)
    answer = client.post(
        "/api/v1/complaints/2/actions/merge",
        json={"into": 1, "reason": "同一事项"},
        headers=bearer(client, "boss"),
    )
    assert answer.status_code == 409, answer.text
    session.expire_all()
    assert session.get(Complaint, 2).status is Status.routed  # type: ignore[union-attr]


def test_merge_needs_sight_of_both_filings_and_a_reason(
    client: TestClient, session: Session
) -> None:
    _file(client, ORIGINAL, "13812345678")
    _file(client, PARAPHRASES[0], "13812345678")
    _file(client, UNRELATED[0], "13812345678", business="某物业")  # goes to another department
    run_worker_until_idle()
    departments = {c.id: c.department_id for c in session.exec(select(Complaint)).all()}
    assert departments[3] != departments[1]
    boss = session.exec(select(Complaint).where(Complaint.id == 1)).one()
    from schemas import Department

    code = session.get(Department, boss.department_id).code  # type: ignore[union-attr]
    add_staff(session, "dept", Role.department, code)
    headers = bearer(client, "dept")
    assert (
        client.post(
            "/api/v1/complaints/2/actions/merge",
            json={"into": 3, "reason": "不同部门"},
            headers=headers,
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/complaints/2/actions/merge", json={"into": 1}, headers=headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/complaints/2/actions/merge",
            json={"into": 2, "reason": "自己"},
            headers=headers,
        ).status_code
        == 422
    )
    assert session.get(Complaint, 2).status is not Status.merged  # type: ignore[union-attr]


def test_a_suggestion_can_be_dismissed(client: TestClient, session: Session) -> None:
    _file(client, ORIGINAL, "13812345678")
    _file(client, PARAPHRASES[0], "13812345678")
    run_worker_until_idle()
    add_staff(session, "boss", Role.supervisor)
    headers = bearer(client, "boss")
    link_id = client.get("/api/v1/complaints/2", headers=headers).json()["duplicates"][0]["link_id"]
    answer = client.post(
        "/api/v1/complaints/1/actions/dismiss-duplicate", json={"link_id": link_id}, headers=headers
    )
    assert answer.json()["duplicates"][0]["state"] == "dismissed"
    assert (
        client.post(
            "/api/v1/complaints/1/actions/dismiss-duplicate",
            json={"link_id": link_id},
            headers=headers,
        ).status_code
        == 409
    )


def test_a_wave_of_identical_filings_links_each_to_its_few_closest_only(
    client: TestClient, session: Session
) -> None:
    for n in range(12):
        _file(client, ORIGINAL, f"139000000{n:02d}")  # twelve people, one business, one text
    run_worker_until_idle()
    links = session.exec(select(DuplicateLink)).all()
    per_filing: dict[int, list[int]] = {}
    for link in links:
        per_filing.setdefault(link.complaint_id, []).append(link.duplicate_of_id)
    assert max(len(v) for v in per_filing.values()) == 5
    # The last one is linked to the five just before it (equal similarity: the newest win).
    last = max(per_filing)
    assert sorted(per_filing[last]) == list(range(last - 5, last))


def test_a_tip_off_is_linked_only_with_tip_offs(client: TestClient, session: Session) -> None:
    # A split call: the complaint carries the caller's number, the tip-off's reporter is in
    # the vault. A link would lead the tip-off's department to the caller's number.
    add_staff(session, "op", Role.operator)
    call = {
        "caller_phone": "13812345678",
        "caller_name": "张伟",
        "text": "在某超市买的充电器冒烟要求赔偿，另外举报该超市销售三无产品，请依法查处",
        "business_name": "某某超市",
        "business_address": "太原市小店区亲贤北街8号",
        "split": True,
    }
    op = bearer(client, "op")
    assert client.post("/api/v1/operator/calls", json=call, headers=op).status_code == 201
    # Another tip-off about the same business, in the same words: that one is linked.
    answer = client.post(
        "/api/v1/complaints",
        json=valid_filing(
            kind="tip",
            text=call["text"],
            contact_phone=None,
            business_name="某某超市",
            business_uscc=None,
        ),
    )
    assert answer.status_code == 201, answer.text
    run_worker_until_idle()
    kinds = {c.id: c.kind.value for c in session.exec(select(Complaint)).all()}
    links = session.exec(select(DuplicateLink)).all()
    pairs = [(kinds[link.complaint_id], kinds[link.duplicate_of_id]) for link in links]
    assert pairs == [("tip", "tip")]
