"""The product-risk case in the department desk and the quality supervisor's own page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from schemas import Complaint, ProductRiskCase, SmsOutbound
from schemas.enums import Role
from tests.helpers import add_staff, bearer, form_token, sign_in_page, valid_filing

pytestmark = pytest.mark.usefixtures("sqlite_platform")

KETTLE = {"gtin": "6901234567892", "name": "电热水壶", "brand": "美好", "batch": "B2026-11"}
TEXT = "在超市买的美好牌电热水壶，用了三天底座漏电，孩子手被电击烫伤，要求赔偿并检查这批产品。"


def test_the_department_works_a_product_risk_case_from_its_desk(
    client: TestClient, session: Session
) -> None:
    body = valid_filing(text=TEXT, product=KETTLE)
    assert client.post("/api/v1/complaints", json=body).status_code == 201
    case = session.exec(select(ProductRiskCase)).one()
    add_staff(session, "qd", Role.department, department="quality")
    add_staff(session, "housing", Role.department, department="housing")
    sign_in_page(client, "housing")
    assert client.get(f"/staff/product-risks/{case.id}").status_code == 404
    assert "目前没有产品风险案件" in client.get("/staff/product-risks").text
    sign_in_page(client, "qd")
    listing = client.get("/staff/product-risks")
    assert listing.status_code == 200
    assert "电热水壶" in listing.text
    assert "有投诉反映造成人身伤害" in listing.text
    page = client.get(f"/staff/product-risks/{case.id}")
    assert "B2026-11" in page.text
    assert 'id="evidence"' in page.text
    url = f"/staff/product-risks/{case.id}/outcome"
    empty = client.post(
        url, data={"outcome": "defect_confirmed", "csrf_token": form_token(page.text)}
    )
    assert empty.status_code == 422
    assert "请选择结论" in empty.text
    for outcome in ("defect_confirmed", "recall_ordered"):
        page = client.get(f"/staff/product-risks/{case.id}")
        done = client.post(
            url,
            data={
                "outcome": outcome,
                "note": "检验报告 2026-88",
                "csrf_token": form_token(page.text),
            },
        )
        assert done.status_code == 200  # after the redirect
        assert 'id="notice"' in done.text
    assert "已责令召回" in done.text
    recalls = session.exec(select(SmsOutbound).where(SmsOutbound.template == "recall")).all()
    assert len(recalls) == 1
    late = client.post(
        url, data={"outcome": "no_defect", "note": "晚了", "csrf_token": form_token(done.text)}
    )
    assert late.status_code == 409


def test_a_quality_supervisor_sees_its_own_filings_and_record(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "boss", Role.supervisor)
    add_staff(session, "qs1", Role.quality_supervisor)
    appointment = {
        "username": "qs1",
        "name": "王监督",
        "phone": "13900000001",
        "region": "太原市小店区",
        "sectors": ["product_quality"],
    }
    boss = bearer(client, "boss")
    assert client.post("/api/v1/quality-supervisors", json=appointment, headers=boss).is_success
    inspection = {"place": "小店区某商场二楼", "inspected_at": "2026-12-01T10:30:00+08:00"}
    filing = valid_filing(contact_phone="13900000001", product=KETTLE, inspection=inspection)
    filed = client.post(
        "/api/v1/quality-supervision/filings", json=filing, headers=bearer(client, "qs1")
    )
    assert filed.status_code == 201, filed.text
    # The desk shows who filed it, the inspection and the product (not routed yet: the
    # supervisor's view).
    complaint = session.exec(select(Complaint)).one()
    sign_in_page(client, "boss")
    desk = client.get(f"/staff/desk/{complaint.id}").text
    assert "社会质量监督员报送" in desk
    assert "小店区某商场二楼 · 2026-12-01 10:30" in desk
    assert "条码 06901234567892 批次 B2026-11" in desk
    sign_in_page(client, "qs1")
    home = client.get("/staff/supervision")
    assert home.status_code == 200
    assert "王监督" in home.text
    assert filed.json()["tracking_number"] in home.text
    assert client.get("/staff/product-risks").status_code == 403
    sign_in_page(client, "boss")
    listing = client.get("/staff/supervision")
    assert "王监督" in listing.text
    assert 'id="supervisors"' in listing.text
