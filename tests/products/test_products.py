"""Products named in filings link up across channels; the defect signal opens one case; a
recall texts each complainant once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from schemas import (
    Complaint,
    FilingProduct,
    Product,
    ProductRiskCase,
    ProductRiskFiling,
    SmsOutbound,
)
from schemas.department import Department
from schemas.enums import Role
from schemas.staff import StaffUser
from tests.conftest import SMS_PATH_TOKEN
from tests.helpers import add_staff, bearer, valid_filing

BARCODE = "6901234567892"
KETTLE = {"gtin": BARCODE, "name": "电热水壶", "brand": "美好", "batch": "B2026-11"}
TEXT = "在超市买的美好牌电热水壶，用了三天底座就冒烟，开关失灵，要求退货赔偿并检查这批产品。"


ON_BOTH = pytest.mark.usefixtures("sms_platform")
ON_SQLITE = pytest.mark.usefixtures("sqlite_sms_platform")


def _file(client: TestClient, phone: str, text: str = TEXT, **product: Any) -> str:
    body = valid_filing(text=text, contact_phone=phone, product=KETTLE | product)
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["tracking_number"])


def _count(session: Session, table: Any) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def _cases(session: Session) -> list[ProductRiskCase]:
    return list(session.exec(select(ProductRiskCase)).all())


@ON_SQLITE
def test_a_bad_barcode_is_422_with_the_reason(client: TestClient, session: Session) -> None:
    body = valid_filing(product={"gtin": "6901234567890", "batch": "B1"})
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 422
    assert "check digit is 0, expected 2" in answer.text
    assert "error" in answer.json()
    nameless = client.post("/api/v1/complaints", json=valid_filing(product={"batch": "B1"}))
    assert nameless.status_code == 422
    assert "barcode (gtin) or its name" in nameless.text
    assert _count(session, Complaint) == 0
    checked = client.get("/api/v1/products/barcodes/036000291452")
    assert checked.json() == {"gtin": "036000291452", "gtin14": "00036000291452"}
    assert client.get("/api/v1/products/barcodes/036000291453").status_code == 422


@ON_BOTH
def test_three_channels_about_one_batch_link_to_one_product(
    client: TestClient, session: Session
) -> None:
    _file(client, "13800000001")
    sms = {
        "mobile": "13800000002",
        "nationcode": "86",
        "sign": "12315",
        "text": f"美好牌电热水壶底座冒烟，条码{BARCODE}，批号B2026-11，商家不给退。",
        "time": 1795000000,
    }
    assert client.post(f"/api/v1/sms/tencent/{SMS_PATH_TOKEN}", json=sms).status_code == 200
    add_staff(session, "op", Role.operator)
    call = {
        "caller_phone": "13800000003",
        "caller_name": "李秀英",
        "text": "来电人反映买的电热水壶冒烟，商家拒绝退货，要求处理。",
        "business_name": "某某超市",
        # By name only, spelled differently: still the barcoded product's record.
        "product": {"name": "电热 水壶", "brand": "美好", "batch": "b2026-11"},
    }
    answer = client.post("/api/v1/operator/calls", json=call, headers=bearer(client, "op"))
    assert answer.status_code == 201, answer.text
    product = session.exec(select(Product)).one()
    assert (product.gtin, product.batch) == ("0" + BARCODE, "B2026-11")
    links = session.exec(select(FilingProduct)).all()
    assert [link.product_id for link in links] == [product.id] * 3
    channels = {
        c.channel.value
        for c in session.exec(
            select(Complaint).where(col(Complaint.id).in_([x.complaint_id for x in links]))
        )
    }
    assert channels == {"web", "sms", "hotline"}
    # Three filings about one batch reach the default batch threshold (3): one case.
    [case] = _cases(session)
    assert case.trigger == "batch_threshold"
    assert _count(session, ProductRiskFiling) == 3


@ON_BOTH
def test_a_planted_cluster_opens_exactly_one_case_at_the_threshold(
    client: TestClient, session: Session
) -> None:
    # Other batches of the product: 4 filings, below the product threshold (5).
    for n, batch in enumerate(["A1", "A2", "A3", "A4"]):
        _file(client, f"1380000010{n}", batch=batch)
    assert _cases(session) == []
    _file(client, "13800000110", batch="A5")  # the fifth filing about the product
    [case] = _cases(session)
    assert case.trigger == "product_threshold"
    assert case.trigger_detail["filings"] == 5
    for n in range(3):  # more filings, one batch at its own threshold: the same case
        _file(client, f"1380000020{n}", batch="A1")
    assert len(_cases(session)) == 1
    assert _count(session, ProductRiskFiling) == 8
    view = client.get(
        f"/api/v1/product-risks/{case.id}", headers=_department_staff(client, session)
    ).json()
    assert view["department"]["code"] == "quality"
    assert len(view["filings"]) == 8
    assert view["batches"] == ["A1", "A2", "A3", "A4", "A5"]
    assert view["places"]  # the filings' region until the router names the place
    assert view["first_filed_on"] <= view["last_filed_on"]
    assert [e["to_state"] for e in view["history"]] == ["open"]


@ON_SQLITE
def test_an_injury_opens_a_case_at_once(client: TestClient, session: Session) -> None:
    _file(client, "13800000301", injury=True, gtin="4006381333931", batch=None)
    [case] = _cases(session)
    assert (case.trigger, case.state) == ("injury", "open")
    assert case.department_id is not None
    # An injury told in the text counts too, unless negated (没有受伤).
    _file(client, "13800000302", "热水壶漏电，幸好没有受伤，要求退货。", gtin="036000291452")
    assert len(_cases(session)) == 1
    _file(client, "13800000303", "热水壶漏电，孩子手被烫伤了，要求赔偿。", gtin="96385074")
    assert [c.trigger for c in _cases(session)] == ["injury", "injury"]


def _department_staff(client: TestClient, session: Session) -> dict[str, str]:
    """A member of the quality department, the default registry's product_quality sector."""
    if session.exec(select(StaffUser).where(StaffUser.username == "qd")).first() is None:
        add_staff(session, "qd", Role.department, department="quality")
    return bearer(client, "qd")


@ON_BOTH
def test_a_recall_texts_each_complainant_once(client: TestClient, session: Session) -> None:
    for phone in ("13800000401", "13800000402", "13800000401"):  # one phone filed twice
        _file(client, phone, injury=True)
    [case] = _cases(session)
    staff = _department_staff(client, session)
    url = f"/api/v1/product-risks/{case.id}/outcome"
    early = client.post(url, json={"outcome": "recall_ordered", "note": "直接召回"}, headers=staff)
    assert early.status_code == 409
    assert early.json()["allowed_next"] == ["defect_confirmed", "no_defect"]
    for outcome in ("defect_confirmed", "recall_ordered"):
        answer = client.post(url, json={"outcome": outcome, "note": "检验结论"}, headers=staff)
        assert answer.status_code == 200, answer.text
    recalls = session.exec(select(SmsOutbound).where(SmsOutbound.template == "recall")).all()
    assert sorted(m.to_number for m in recalls) == ["+8613800000401", "+8613800000402"]
    assert "电热水壶" in recalls[0].body
    again = client.post(url, json={"outcome": "recall_ordered", "note": "再次"}, headers=staff)
    assert again.status_code == 409
    _file(client, "13800000403")  # a complaint after the order is told too
    _file(client, "13800000402")  # but nobody twice
    recalls = session.exec(select(SmsOutbound).where(SmsOutbound.template == "recall")).all()
    assert sorted(m.to_number for m in recalls) == [
        "+8613800000401",
        "+8613800000402",
        "+8613800000403",
    ]
    done = client.post(url, json={"outcome": "recall_finished", "note": "召回完毕"}, headers=staff)
    view = done.json()
    assert (view["state"], view["recall_notices"]) == ("recall_finished", 3)
    assert [e["to_state"] for e in view["history"]] == [
        "open",
        "defect_confirmed",
        "recall_ordered",
        "recall_finished",
    ]
    # Finished: the next injury about the product opens a new case.
    _file(client, "13800000404", injury=True)
    assert len(_cases(session)) == 2


@ON_SQLITE
def test_other_departments_do_not_see_the_case_and_bad_outcomes_are_422(
    client: TestClient, session: Session
) -> None:
    _file(client, "13800000501", injury=True)
    [case] = _cases(session)
    add_staff(session, "housing", Role.department, department="housing")
    other = bearer(client, "housing")
    assert client.get(f"/api/v1/product-risks/{case.id}", headers=other).status_code == 404
    assert client.get("/api/v1/product-risks", headers=other).json()["count"] == 0
    staff = _department_staff(client, session)
    bad = client.post(
        f"/api/v1/product-risks/{case.id}/outcome",
        json={"outcome": "defective", "note": "x"},
        headers=staff,
    )
    assert bad.status_code == 422
    assert "error" in bad.json()
    assert client.get("/api/v1/product-risks", headers=staff).json()["count"] == 1


@ON_SQLITE
def test_a_registry_that_hands_product_quality_to_another_department_hands_over_its_cases(
    client: TestClient, session: Session
) -> None:
    """After the 2018 merger (quality → market), the unfinished product-risk case goes to
    the department the new registry gives product_quality: its staff see and work it, and
    later filings about the product join it there. A finished case stays where it was."""
    from typer.testing import CliRunner

    from routing.registry import DEFAULT_REGISTRY
    from service.cli import app as cli_app

    _file(client, "13800000601", injury=True)
    _file(client, "13800000602", injury=True, gtin="4006381333931", batch=None)
    unfinished, finished = sorted(_cases(session), key=lambda c: c.id or 0)
    staff = _department_staff(client, session)
    answer = client.post(
        f"/api/v1/product-risks/{finished.id}/outcome",
        json={"outcome": "no_defect", "note": "检验合格"},
        headers=staff,
    )
    assert answer.status_code == 200, answer.text
    merged = DEFAULT_REGISTRY.with_name("samr_merged.yaml")
    loaded = CliRunner().invoke(cli_app, ["departments", "load", str(merged)])
    assert loaded.exit_code == 0, loaded.output
    assert "1 product-risk case handed to market" in loaded.output
    add_staff(session, "sc", Role.department, department="market")
    market = bearer(client, "sc")
    listed = client.get("/api/v1/product-risks", headers=market).json()
    assert [c["id"] for c in listed["data"]] == [unfinished.id]
    view = client.get(f"/api/v1/product-risks/{unfinished.id}", headers=market).json()
    assert view["department"]["code"] == "market"
    moved = view["history"][-1]
    assert (moved["actor"], moved["from_state"], moved["to_state"]) == (
        "system:registry",
        "open",
        "open",
    )
    answer = client.post(
        f"/api/v1/product-risks/{unfinished.id}/outcome",
        json={"outcome": "defect_confirmed", "note": "抽检不合格"},
        headers=market,
    )
    assert answer.status_code == 200, answer.text
    _file(client, "13800000603")  # joins the case, now market's
    session.expire_all()
    assert [c.department_id for c in _cases(session)] == [
        session.exec(select(Department.id).where(Department.code == d)).one()
        for d in ("market", "quality")
    ]
