"""Open311 answers what its OpenAPI entries say: GeoReport v2 JSON or XML, and errors in
Open311's shape, [{"code": …, "description": …}], never the platform's ErrorBody nor a page.

The four cases schemathesis found: XML answers the schema did not declare, a 404 the schema
said was an ErrorBody, validation errors answered with a Chinese HTML page, and query
parameters the schema called plain strings that the code refused.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from opendata import open311
from opendata.open311_api import (
    Open311Error,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
)
from tests.helpers import run_worker_until_idle, valid_filing

ERRORS = TypeAdapter(list[Open311Error])
ERROR_SCHEMA = {"$ref": "#/components/schemas/Open311Error"}


def _schema(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _open311_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/open311/")
        for method, operation in operations.items()
    ]


def _error_list(client: TestClient, path: str, code: int, **params: Any) -> str:
    answer = client.get(path, params=params)
    assert answer.status_code == code, (params, answer.text)
    assert answer.headers["content-type"] == "application/json"
    errors = ERRORS.validate_python(answer.json())
    assert [e.code for e in errors] == [code]
    return errors[0].description


def test_every_open311_operation_declares_json_xml_and_open311_errors(
    sqlite_platform: str, client: TestClient
) -> None:
    document = _schema(client)
    operations = _open311_operations(document)
    assert len(operations) == 8
    for method, path, operation in operations:
        responses = operation["responses"]
        success = "201" if method == "post" else "200"
        assert "application/json" in responses[success]["content"], (method, path)
        may_be_xml = "{" in path  # services.{fmt}, services/{code}, requests/{request_id}, …
        for status, response in responses.items():
            if not status.isdigit():
                continue
            content = response["content"]
            assert ("text/xml" in content) is (may_be_xml and status != "413"), (path, status)
            if int(status) < 400:
                continue
            schema = content["application/json"]["schema"]
            if status == "413":  # the platform's body limit answers it, before Open311 does
                assert method == "post"
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}
            else:
                assert schema["type"] == "array", (method, path, status)
                assert schema["items"] == ERROR_SCHEMA, (method, path, status)
        assert "409" not in responses  # never answered here
        assert "429" not in responses
    # Everything else still declares the platform's ErrorBody on every error.
    for path, path_operations in document["paths"].items():
        if path.startswith("/open311/"):
            continue
        for operation in path_operations.values():
            for status, response in operation["responses"].items():
                if status.isdigit() and int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)


def test_xml_answers_are_text_xml_as_declared(sqlite_platform: str, client: TestClient) -> None:
    """Case 1: services.xml and requests.xml answer text/xml, which their entries declare."""
    document = _schema(client)
    for path in ("/open311/v2/services.xml", "/open311/v2/requests.xml"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/xml")
        assert answer.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
        template = path.replace(".xml", ".{fmt}")
        assert "text/xml" in document["paths"][template]["get"]["responses"]["200"]["content"]
    services = client.get("/open311/v2/services.json").json()
    assert TypeAdapter(list[Open311Service]).validate_python(services)
    definition = client.get(f"/open311/v2/services/{services[0]['service_code']}.json")
    Open311ServiceDefinition.model_validate(definition.json())


def test_a_missing_request_is_an_open311_404_as_declared(
    sqlite_platform: str, client: TestClient
) -> None:
    """Case 2: GET requests/0 answers [{"code": 404, …}], the shape its 404 declares."""
    assert _error_list(client, "/open311/v2/requests/0", 404) == "no request 0"
    missing = client.get("/open311/v2/requests/0.xml")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/xml")
    assert missing.text.endswith(
        "<errors><error><code>404</code><description>no request 0</description></error></errors>"
    )
    responses = _schema(client)["paths"]["/open311/v2/requests/{request_id}"]["get"]["responses"]
    assert responses["404"]["content"]["application/json"]["schema"]["items"] == ERROR_SCHEMA
    assert "text/xml" in responses["404"]["content"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/open311/v2/services.%C2%84", "fmt"),
        ("/open311/v2/services/" + "0" * 41, "code"),
        ("/open311/v2/requests/" + "0" * 65, "request_id"),  # longer than any id
        ("/open311/v2/requests/1-2", "request_id"),
    ],
)
def test_invalid_paths_answer_open311_errors_not_a_page(
    sqlite_platform: str, client: TestClient, path: str, field: str
) -> None:
    """Case 3: a request that fails validation answers Open311's list of errors (JSON)."""
    assert field in _error_list(client, path, 422)


def test_errors_on_open311_paths_follow_the_paths_format(
    sqlite_platform: str, client: TestClient
) -> None:
    as_xml = client.get("/open311/v2/requests/" + "0" * 65 + ".xml")
    assert as_xml.status_code == 422
    assert as_xml.headers["content-type"].startswith("text/xml")
    assert "<errors><error><code>422</code><description>request_id" in as_xml.text
    bad_status = client.get("/open311/v2/requests.xml", params={"status": "pending"})
    assert bad_status.status_code == 422
    assert "<code>422</code><description>status" in bad_status.text
    assert "no route" not in _error_list(client, "/open311/v2/nothing", 404)
    refused = client.delete("/open311/v2/services")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET"
    assert refused.json()[0]["code"] == 405
    # Pages keep their Chinese error page.
    page = client.get("/staff/nothing-here")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


def test_the_query_parameters_state_their_formats_and_the_code_takes_them(
    sqlite_platform: str, client: TestClient
) -> None:
    """Case 4: the filters' schema says what the code reads, so nothing it calls valid is
    refused, and what it calls invalid is refused in Open311's shape."""
    parameters = {
        p["name"]: p["schema"]["anyOf"][0]
        for p in _schema(client)["paths"]["/open311/v2/requests.{fmt}"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert parameters["service_request_id"]["pattern"] == open311.REQUEST_IDS
    assert parameters["service_code"]["pattern"] == open311.SERVICE_CODES
    assert parameters["status"]["pattern"] == open311.STATUSES
    assert parameters["start_date"]["format"] == "date-time"
    assert parameters["end_date"]["format"] == "date-time"

    long = "0" * 1000
    found = _error_list(
        client,
        "/open311/v2/requests.json",
        422,
        service_request_id=long,
        service_code=long,
        end_date=long,
    )
    assert "service_request_id" in found
    for params in (
        {"service_request_id": "0" * 65},  # longer than any id
        {"service_request_id": "1,,2"},
        {"service_request_id": ""},
        {"status": "open,pending"},
        {"service_code": "Special_Equipment"},
        {"start_date": ""},
        {"start_date": "2026-01-01"},  # a date, no time: RFC 3339 wants both
        {"start_date": "2026-01-01T00:00:00"},  # no time zone
        {"start_date": "2026-02-30T00:00:00Z"},
        {"end_date": "2024-01-01T12:99:00Z"},
        {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
    ):
        _error_list(client, "/open311/v2/requests.json", 422, **params)

    complaint = client.post("/api/v1/complaints", json=valid_filing())
    assert complaint.status_code == 201
    run_worker_until_idle()
    request_id = client.get("/open311/v2/requests.json").json()[0]["service_request_id"]
    for params in (
        # An unknown id in the list (a raw database id) matches nothing, and is no error.
        {"service_request_id": f"999999999999999999, {request_id.upper()}"},
        {"status": "open,closed"},
        {"status": "closed , open"},
        {"service_code": "special_equipment,product_quality"},
        {"start_date": "0001-01-01T00:00:00+23:59", "end_date": "9999-12-31T23:59:59-23:59"},
        {"start_date": "2000-02-29t00:00:00.1234567z"},
        {"end_date": "2100-01-01T00:00:60+08:00"},  # a leap second
    ):
        answer = client.get("/open311/v2/requests.json", params=params)
        assert answer.status_code == 200, (params, answer.text)
        assert TypeAdapter(list[Open311Request]).validate_python(answer.json()) is not None
    assert (
        client.get(
            "/open311/v2/requests.json", params={"service_request_id": request_id.upper()}
        ).json()[0]["service_request_id"]
        == request_id
    )
    for unknown in ("1", "0" * 32, "Z" * 64):
        listed = client.get("/open311/v2/requests.json", params={"service_request_id": unknown})
        assert listed.status_code == 200
        assert listed.json() == []


def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map("{:02d}".format)


# RFC 3339 date-times (`format: date-time`), as a client or schemathesis writes them.
DATE_TIMES = st.builds(
    "{}{}{}:{}:{}{}{}".format,
    st.dates().map(str),
    st.sampled_from("Tt"),
    _two(0, 23),
    _two(0, 59),
    _two(0, 60),
    st.just("") | st.from_regex(r"\.[0-9]{1,9}", fullmatch=True),
    st.sampled_from(["Z", "z"])
    | st.builds("{}{}:{}".format, st.sampled_from("+-"), _two(0, 23), _two(0, 59)),
)


@settings(max_examples=300, deadline=None)
@given(
    ids=st.from_regex(open311.REQUEST_IDS, fullmatch=True),
    codes=st.from_regex(open311.SERVICE_CODES, fullmatch=True),
    status=st.from_regex(open311.STATUSES, fullmatch=True),
    start=DATE_TIMES,
)
def test_whatever_the_patterns_admit_the_parser_reads(
    ids: str, codes: str, status: str, start: str
) -> None:
    query = open311.RequestQuery.parse(
        service_request_id=ids,
        service_code=codes,
        start_date=start,
        end_date=None,
        status=status,
    )
    assert query.ids
    assert all(re.fullmatch(open311.REQUEST_ID, i) for i in query.ids)
    assert query.service_codes
    assert query.statuses
    assert query.start
