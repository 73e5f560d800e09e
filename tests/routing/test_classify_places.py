"""/classify picks the office of the place where the business operates."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from schemas.enums import Role
from tests.helpers import add_staff, bearer

pytestmark = pytest.mark.usefixtures("sqlite_platform")


def _classify(client: TestClient, session: Session, **draft: str) -> dict[str, Any]:
    add_staff(session, "op1", Role.operator)
    answer = client.post("/api/v1/classify", json=draft, headers=bearer(client, "op1"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_classify_sends_a_complaint_to_the_office_where_the_business_operates(
    client: TestClient, session: Session
) -> None:
    body = _classify(
        client,
        session,
        text="在这家商场买的电动车充电器是河北省保定市清苑区生产的，起火了，要求赔偿",
        business_name="某某商场",
        business_address="山西省太原市某某路88号",
    )
    assert body["department"]["code"] == "quality"
    assert body["office"]["name"] == "太原市质量技术监督局"
    assert (body["place"]["city"], body["place"]["county"]) == ("太原市", None)


def test_classify_does_not_send_a_breakfast_chain_to_yonghe_county(
    client: TestClient, session: Session
) -> None:
    body = _classify(
        client,
        session,
        text="在太原市柳巷的永和豆浆店买的油条里有头发，要求赔偿",
        business_name="永和豆浆",
    )
    assert (body["place"]["city"], body["place"]["county"]) == ("太原市", None)
