"""Business quality credit: grades on a table of businesses at each threshold; keys; changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cases.policy import DEFAULT_POLICY, Credit, CreditRules, parse_policy
from core.db import get_engine
from core.errors import InvalidInput
from insights.business_keys import business_key
from insights.credit import grade, refresh
from schemas.casework import ArbitrationTest, TipCase
from schemas.complaint import Complaint
from schemas.enums import Channel, Kind, Role, Status
from schemas.event import ComplaintEvent
from schemas.insights import BusinessCredit, CreditChange
from tests.helpers import add_staff, bearer

RULES = parse_policy(DEFAULT_POLICY).credit
MEDIATED = {"mediations_concluded": 10}

# (figures, grade, rules broken): each threshold of the default policy, just below and at it.
TABLE: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"complaints": 0}, "honest", []),
    ({"complaints": 9}, "honest", []),
    ({"complaints": 10}, "lacking", ["complaints"]),
    ({"complaints": 29}, "lacking", ["complaints"]),
    ({"complaints": 30}, "dishonest", ["complaints"]),
    ({**MEDIATED, "refusal_to_mediate_rate": 0.29}, "honest", []),
    ({**MEDIATED, "refusal_to_mediate_rate": 0.3}, "lacking", ["refusal_to_mediate_rate"]),
    ({**MEDIATED, "refusal_to_mediate_rate": 0.59}, "lacking", ["refusal_to_mediate_rate"]),
    ({**MEDIATED, "refusal_to_mediate_rate": 0.6}, "dishonest", ["refusal_to_mediate_rate"]),
    ({**MEDIATED, "failed_mediation_rate": 0.49}, "honest", []),
    ({**MEDIATED, "failed_mediation_rate": 0.5}, "lacking", ["failed_mediation_rate"]),
    ({**MEDIATED, "failed_mediation_rate": 1.0}, "lacking", ["failed_mediation_rate"]),
    # rates count only from min_concluded_mediations mediations: one refusal is not 100 %
    ({"mediations_concluded": 2, "refusal_to_mediate_rate": 1.0}, "honest", []),
    (
        {"mediations_concluded": 3, "refusal_to_mediate_rate": 1.0},
        "dishonest",
        ["refusal_to_mediate_rate"],
    ),
    ({"nonconforming_tests": 0}, "honest", []),
    ({"nonconforming_tests": 1}, "lacking", ["nonconforming_tests"]),
    ({"nonconforming_tests": 2}, "lacking", ["nonconforming_tests"]),
    ({"nonconforming_tests": 3}, "dishonest", ["nonconforming_tests"]),
    ({"violations_decided": 1}, "lacking", ["violations_decided"]),
    ({"violations_decided": 2}, "dishonest", ["violations_decided"]),
    (
        {**MEDIATED, "complaints": 12, "refusal_to_mediate_rate": 0.4, "nonconforming_tests": 1},
        "lacking",
        ["complaints", "refusal_to_mediate_rate", "nonconforming_tests"],
    ),
    ({"complaints": 31, "nonconforming_tests": 1}, "dishonest", ["complaints"]),
]


@pytest.mark.parametrize(("figures", "expected", "broken"), TABLE)
def test_grades_at_each_threshold(
    figures: dict[str, Any], expected: str, broken: list[str]
) -> None:
    graded = grade(figures, RULES)
    assert graded.grade == expected
    assert [r["rule"] for r in graded.reasons] == broken
    for reason in graded.reasons:
        assert reason["value"] >= reason["threshold"]
        assert "≥" in reason["text"]


def test_the_thresholds_are_the_policys() -> None:
    strict = Credit(lacking=CreditRules(complaints=2), dishonest=CreditRules(complaints=5))
    assert grade({"complaints": 2}, strict).grade == "lacking"
    assert grade({"complaints": 5}, strict).grade == "dishonest"
    with pytest.raises(ValueError, match="below lacking"):
        Credit(lacking=CreditRules(complaints=10), dishonest=CreditRules(complaints=5))


def test_a_bad_credit_rule_stops_the_policy(tmp_path: Any) -> None:
    import yaml

    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data["credit"]["lacking"]["refusal_to_mediate_rate"] = 1.5
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"credit\.lacking\.refusal_to_mediate_rate"):
        parse_policy(path)
    data["credit"]["lacking"]["refusal_to_mediate_rate"] = 0.3
    data["surges"]["p_value_threshold"] = 0
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"surges\.p_value_threshold"):
        parse_policy(path)


def test_one_business_by_code_else_by_normalised_name_and_address() -> None:
    assert business_key("91330100799655058B", "甲", "乙") == "uscc:91330100799655058B"
    a = business_key(None, "太原市 某某电梯有限责任公司", "山西省太原市小店区（亲贤北街1号）")
    b = business_key(None, "太原市某某电梯有限公司", "山西省太原市小店区亲贤北街1号")
    c = business_key(None, "太原市某某电梯有限公司", "山西省大同市平城区")
    assert a == b
    assert a != c
    assert a is not None
    assert a.startswith("name:")
    assert business_key(None, " ，。", None) is None


NOW = datetime.now(UTC) - timedelta(days=3)


def _complaint(session: Session, n: int, name: str, **extra: Any) -> Complaint:
    complaint = Complaint(
        tracking_number=f"{n:014d}",
        kind=extra.pop("kind", Kind.complaint),
        channel=Channel.web,
        status=Status.closed,
        text="生成的信用测试数据。",
        business_name=name,
        business_address="山西省太原市小店区某某路1号",
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )
    session.add(complaint)
    session.flush()
    return complaint


def _event(session: Session, complaint: Complaint, to: Status, **payload: Any) -> None:
    assert complaint.id is not None
    session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            at=NOW + timedelta(days=2),
            actor="system:test",
            from_status=Status.mediating,
            to_status=to,
            payload=payload,
        )
    )


def test_refresh_grades_businesses_from_their_filings_and_records_changes(
    platform: str, client: TestClient, session: Session
) -> None:
    with Session(get_engine()) as writer:
        n = 0
        # 乙: mediations refused — 2 of 4 concluded (50 %: 缺信, below 60 %).
        for outcome in ("party_refused", "party_refused", None, "impossible"):
            n += 1
            complaint = _complaint(writer, n, "太原市乙商贸有限公司")
            if outcome:
                _event(writer, complaint, Status.mediation_ended, reason_code=outcome)
            else:
                _event(writer, complaint, Status.resolved)
        # 丙: one arbitration test found the product nonconforming (缺信).
        n += 1
        tested = _complaint(writer, n, "太原市丙电器有限公司", business_uscc="91330100799655058B")
        writer.add(
            ArbitrationTest(
                complaint_id=tested.id,
                lab="省质检院",
                sample="热水器一台",
                basis="GB 4706",
                fee_fen=0,
                payer="business",
                payment_timing="出报告前",
                due_on=NOW.date(),
                outcome="nonconforming",
            )
        )
        # 丁: two filings, nothing against it (诚信).
        for _ in range(2):
            n += 1
            _complaint(writer, n, "太原市丁超市")
        writer.commit()
        first = refresh(writer)
        writer.commit()
        assert first.changed == first.businesses == 3

    rows = {r.business_name: r for r in session.exec(select(BusinessCredit)).all()}
    yi = rows["太原市乙商贸有限公司"]
    assert yi.grade == "lacking"
    assert yi.metrics["mediations_concluded"] == 4
    assert yi.metrics["refusal_to_mediate_rate"] == 0.5
    assert yi.metrics["failed_mediation_rate"] == 0.75
    assert [r["rule"] for r in yi.reasons] == ["refusal_to_mediate_rate", "failed_mediation_rate"]
    assert rows["太原市丙电器有限公司"].grade == "lacking"
    assert rows["太原市丙电器有限公司"].business_key == "uscc:91330100799655058B"
    assert rows["太原市丁超市"].grade == "honest"
    assert rows["太原市丁超市"].metrics["complaints"] == 2

    with Session(get_engine()) as writer:
        # 乙 refuses once more: 3 of 5 (60 %) → 失信; a refresh with nothing new changes nothing.
        complaint = _complaint(writer, 100, "太原市 乙商贸有限责任公司")
        _event(writer, complaint, Status.mediation_ended, reason_code="party_refused")
        writer.commit()
        assert refresh(writer).changed == 1
        writer.commit()
        assert refresh(writer).changed == 0
        writer.commit()
    changes = session.exec(
        select(CreditChange).where(CreditChange.business_key == yi.business_key)
    ).all()
    assert [(c.from_grade, c.to_grade) for c in changes] == [
        (None, "lacking"),
        ("lacking", "dishonest"),
    ]

    add_staff(session, "zj", Role.department, "quality")
    staff = bearer(client, "zj")
    listed = client.get("/api/v1/credit", headers=staff).json()
    assert [b["grade"] for b in listed] == ["dishonest", "lacking", "honest"]
    assert listed[0]["grade_label"] == "失信"
    one = client.get(f"/api/v1/credit/{yi.business_key}", headers=staff).json()
    assert [c["to_grade"] for c in one["changes"]] == ["lacking", "dishonest"]
    assert client.get("/api/v1/credit/uscc:nothing", headers=staff).status_code == 404
    assert client.get("/api/v1/credit").status_code == 401


def test_a_decided_tip_off_counts_against_its_business(platform: str, session: Session) -> None:
    with Session(get_engine()) as writer:
        tip = _complaint(writer, 1, "太原市戊食品厂", kind=Kind.tip)
        writer.add(TipCase(complaint_id=tip.id, decided_at=NOW, penalty_fen=500_000))
        writer.commit()
        refresh(writer)
        writer.commit()
    row = session.exec(select(BusinessCredit)).one()
    assert row.metrics["tips"] == 1
    assert row.metrics["violations_decided"] == 1
    assert row.grade == "lacking"


def test_credit_records_are_for_officials_only(
    sqlite_platform: str, session: Session, client: TestClient
) -> None:
    """A credit record shows a business's tip-offs and violations. A quality supervisor is a
    citizen volunteering and an operator decides nothing about a business: both get 403."""
    with Session(get_engine()) as writer:
        _complaint(writer, 1, "太原市己商店")
        writer.commit()
        refresh(writer)
        writer.commit()
    key = session.exec(select(BusinessCredit.business_key)).one()
    for username, role, department in (
        ("zj", Role.department, "quality"),
        ("sup", Role.supervisor, None),
        ("adm", Role.admin, None),
        ("reward", Role.reward_officer, None),
        ("qs", Role.quality_supervisor, None),
        ("op", Role.operator, None),
    ):
        add_staff(session, username, role, department)
    for username in ("zj", "sup", "adm", "reward"):
        headers = bearer(client, username)
        listed = client.get("/api/v1/credit", headers=headers)
        assert listed.status_code == 200, (username, listed.text)
        assert [row["business_key"] for row in listed.json()] == [key]
        assert client.get(f"/api/v1/credit/{key}", headers=headers).status_code == 200
    for username in ("qs", "op"):
        headers = bearer(client, username)
        for path in ("/api/v1/credit", f"/api/v1/credit/{key}", "/api/v1/credit/uscc:nothing"):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 403, (username, path, refused.text)
            assert "department" in refused.json()["detail"], refused.text
