"""Open311 GeoReport v2 with a real client: the `georeport` package against the running app.

georeport 0.3.1 lists services, reads definitions and reads requests, but has no call for
creating one; the POST is made with `requests` (georeport's own HTTP library) exactly as
the GeoReport v2 specification describes (form-encoded, api_key in the body).
"""

from __future__ import annotations

from datetime import date

import requests
from georeport import GeoReport
from sqlmodel import Session, select

from core.db import get_engine
from opendata.api_keys import create_key, revoke_key
from schemas import Complaint
from tests.helpers import run_worker_until_idle, serving, valid_filing

DESCRIPTION = (
    "小区电梯上个月困人两次，特种设备检验合格标志过期，物业一直不修。我叫张伟，电话13912345678。"
)


# A request as a client system posts it (with api_key added).
FIELDS = {
    "service_code": "special_equipment",
    "description": DESCRIPTION,
    "phone": "13812345678",
    "attribute[business_name]": "太原市某某物业服务有限公司",
    "attribute[complainant_name]": "李秀英",  # a complaint is made under a real name
}


def _key(name: str = "county-portal") -> str:
    with Session(get_engine()) as session:
        raw = create_key(session, name=name)
        session.commit()
    return raw


def _post(root: str, **fields: str) -> requests.Response:
    return requests.post(f"{root}/requests.json", data=fields, timeout=10)


def test_georeport_lists_services_posts_a_request_and_reads_it_back(platform: str) -> None:
    from service.app import create_app

    key = _key()
    with serving(create_app()) as url:
        root = f"{url}/open311/v2"
        client = GeoReport(root, api_key=key)

        services = client.get_service_list()
        codes = {s["service_code"]: s for s in services}
        assert codes["special_equipment"]["service_name"] == "特种设备"
        assert codes["special_equipment"]["group"] == "质量技术监督部门"
        definition = client.get_service_definition("special_equipment")
        assert next(a["code"] for a in definition["attributes"]) == "business_name"

        posted = _post(root, api_key=key, address_string="太原市小店区", **FIELDS)
        assert posted.status_code == 201, posted.text
        answer = posted.json()[0]
        request_id = answer["service_request_id"]
        assert "受理编号" in answer["service_notice"]
        run_worker_until_idle()

        one = client.get_service_request(request_id)
        assert one["service_request_id"] == request_id
        assert one["service_code"] == "special_equipment"
        assert one["status"] == "open"
        assert "电梯上个月困人两次" in one["description"]
        assert "张伟" not in one["description"]
        assert "13912345678" not in one["description"]
        assert one["address"] == "山西省太原市小店区"
        assert one["agency_responsible"]
        listed = client.get_service_requests(service_code="special_equipment", status="open")
        assert [r["service_request_id"] for r in listed] == [request_id]
        assert client.get_service_requests(status="closed") == []

        as_xml = GeoReport(root, api_key=key, output_format="xml")
        xml_services = as_xml.get_service_list()
        assert {s["service_code"] for s in xml_services} == set(codes)
        assert as_xml.get_service_request(request_id)["service_request_id"] == request_id


def test_posting_needs_a_valid_key_and_valid_fields(platform: str) -> None:
    from service.app import create_app

    key = _key()
    fields = FIELDS
    with serving(create_app()) as url:
        root = f"{url}/open311/v2"
        for bad_key in ({}, {"api_key": "o311_guessed"}):
            refused = _post(root, **fields, **bad_key)
            assert refused.status_code == 401
            assert "api_key" in refused.json()[0]["description"]
        for change, field in (
            ({"service_code": "nonsense"}, "service_code"),
            ({"description": "太短"}, "description"),
            ({"phone": "12345"}, "phone"),
            ({"phone": ""}, "phone"),
            ({"attribute[business_name]": ""}, "attribute[business_name]"),
            ({"attribute[complainant_name]": ""}, "attribute[complainant_name]"),
            ({"attribute[purchased_on]": "2999-01-01"}, "attribute[purchased_on]"),
            ({"attribute[purchased_on]": "去年"}, "attribute[purchased_on]"),
            ({"attribute[demand]": "退" * 501}, "attribute[demand]"),
            ({"attribute[complainant_name]": "名" * 61}, "attribute[complainant_name]"),
        ):
            refused = _post(root, **{**fields, **change, "api_key": key})
            assert refused.status_code == 422, refused.text
            # The field as posted, first: a missing one too, not the whole request.
            assert refused.json()[0]["description"].startswith(f"{field}: "), refused.text
        with Session(get_engine()) as session:
            revoke_key(session, name="county-portal")
            session.commit()
        assert _post(root, **fields, api_key=key).status_code == 401


def _complainant(answer: requests.Response) -> str | None:
    """The complainant's name stored for a request Open311 filed (201)."""
    assert answer.status_code == 201, answer.text
    notice = answer.json()[0]["service_notice"]
    number = notice.split("受理编号 ")[1].split("，")[0].replace(" ", "")
    with Session(get_engine()) as session:
        filed = session.exec(select(Complaint).where(Complaint.tracking_number == number)).one()
        return filed.complainant_name


def test_the_complainants_name_may_come_as_georeports_first_and_last_name(
    platform: str,
) -> None:
    from service.app import create_app

    key = _key()
    named = {k: v for k, v in FIELDS.items() if k != "attribute[complainant_name]"}
    with serving(create_app()) as url:
        root = f"{url}/open311/v2"
        for first, last, stored in (("秀英", "李", "李秀英"), ("Anna", "Lee", "Anna Lee")):
            answer = _post(root, **named, first_name=first, last_name=last, api_key=key)
            assert _complainant(answer) == stored
        # The attribute wins over the standard fields; neither at all is still refused.
        answer = _post(root, **FIELDS, first_name="伟", last_name="张", api_key=key)
        assert _complainant(answer) == "李秀英"
        refused = _post(root, **named, api_key=key)
        assert refused.status_code == 422
        assert refused.json()[0]["description"].startswith("attribute[complainant_name]: ")


def test_tip_offs_and_inquiries_are_not_requests(platform: str) -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app()) as client:
        tip = client.post(
            "/api/v1/complaints",
            json=valid_filing(
                kind="tip", contact_phone=None, text="某仓库在卖假冒电热水器，请查处。"
            ),
        )
        assert tip.status_code == 201
        run_worker_until_idle()
        listed = client.get("/open311/v2/requests.json")
        assert listed.status_code == 200
        assert listed.json() == []
        missing = client.get("/open311/v2/requests/1.json")
        assert missing.status_code == 404
        assert missing.json() == [{"code": 404, "description": "no request 1"}]
        assert client.get("/open311/v2/requests/1.xml").text.endswith(
            "<errors><error><code>404</code><description>no request 1</description></error></errors>"
        )
        assert client.get("/open311/v2/services/nonsense.json").status_code == 404
        bad_date = client.get("/open311/v2/requests.json", params={"start_date": "yesterday"})
        assert bad_date.status_code == 422
        assert "start_date" in bad_date.json()[0]["description"]


def test_requests_publish_days_and_filter_by_days_not_times(platform: str) -> None:
    """Open data gives days, not times (docs/architecture.md): a filing's exact moment,
    next to its county and business, narrows down who filed it (the shop's till, the
    hotline's call log). The date filters must not recover it either."""
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient
    from sqlalchemy import update
    from sqlmodel import col

    from schemas.complaint import Complaint
    from service.app import create_app

    with TestClient(create_app()) as client:
        filed = client.post("/api/v1/complaints", json=valid_filing())
        assert filed.status_code == 201
        run_worker_until_idle()
        moment = datetime(2026, 11, 2, 2, 3, 7, tzinfo=UTC)  # 10:03:07 in China
        with Session(get_engine()) as session:
            session.execute(
                update(Complaint)
                .where(col(Complaint.tracking_number) == filed.json()["tracking_number"])
                .values(created_at=moment, updated_at=moment)
            )
            session.commit()

        def listed(**params: str) -> list[dict[str, str]]:
            answer = client.get("/open311/v2/requests.json", params=params)
            assert answer.status_code == 200, answer.text
            return list(answer.json())

        [one] = listed(start_date="2026-11-02T00:00:00+08:00")
        assert one["requested_datetime"] == "2026-11-02T00:00:00+08:00"
        assert one["updated_datetime"] == "2026-11-02T00:00:00+08:00"
        as_xml = client.get(f"/open311/v2/requests/{one['service_request_id']}.xml").text
        assert "10:03" not in as_xml
        # Whatever the time of day asked, the answer is the same for the whole day.
        for hour in ("00:00:01", "10:03:00", "10:04:00", "23:59:59"):
            assert listed(start_date=f"2026-11-02T{hour}+08:00") == []
            assert len(listed(end_date=f"2026-11-02T{hour}+08:00")) == 1
        assert listed(end_date="2026-11-01T23:59:59+08:00") == []
        assert len(listed(start_date="2026-11-01T16:00:00Z")) == 1  # China midnight in UTC


def test_a_request_carries_the_complaints_content_as_attributes_and_publishes_none_of_it(
    platform: str,
) -> None:
    """Name, address, demand, purchase day and order number are attribute[code] fields, stored
    as the JSON API stores them; the request read back shows none of the personal ones."""
    from schemas.complaint import Complaint
    from service.app import create_app
    from tests.intake.test_complaint_content import ADDRESS, CONTENT, NAME, ORDER

    key = _key()
    with serving(create_app()) as url:
        root = f"{url}/open311/v2"
        definition = GeoReport(root, api_key=key).get_service_definition("special_equipment")
        attributes = {a["code"]: a for a in definition["attributes"]}
        assert set(attributes) >= set(CONTENT)
        assert attributes["complainant_name"]["required"] is True  # SAMR Order 121
        assert attributes["demand"]["required"] is False
        content = {f"attribute[{name}]": value for name, value in CONTENT.items()}
        posted = _post(root, api_key=key, **(FIELDS | content))
        assert posted.status_code == 201, posted.text
        run_worker_until_idle()
        with Session(get_engine()) as session:
            row = session.exec(select(Complaint)).one()
        assert {name: getattr(row, name) for name in CONTENT} == CONTENT | {
            "purchased_on": date(2026, 3, 1)
        }
        request_id = posted.json()[0]["service_request_id"]
        published = requests.get(f"{root}/requests/{request_id}.json", timeout=10).text
        assert request_id in published
        for private in (NAME, ADDRESS, ORDER):
            assert private not in published
