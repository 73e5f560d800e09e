import re

import pytest
from fastapi.testclient import TestClient

from tests.helpers import valid_filing


@pytest.mark.usefixtures("sqlite_platform")
def test_each_request_is_logged_with_an_id_and_no_client_data(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="complaints.requests")
    answer = client.post(
        "/api/v1/complaints", json=valid_filing(), headers={"User-Agent": "CanaryBrowser/1.0"}
    )
    request_id = answer.headers["x-request-id"]
    [line] = [r.getMessage() for r in caplog.records if r.name == "complaints.requests"]
    assert line.startswith(f"{request_id} POST /api/v1/complaints 201 ")
    assert "testclient" not in caplog.text  # the client's address
    assert "CanaryBrowser" not in caplog.text
    assert "13812345678" not in caplog.text


@pytest.mark.usefixtures("sqlite_platform")
def test_secrets_numbers_and_ids_in_paths_are_not_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level("INFO", logger="complaints.requests")
    client.post("/api/v1/sms/aliyun/the-secret-path-token", json=[])
    client.post("/api/v1/sms/tencent/the-secret-path-token/extra", json={})
    client.get("/api/v1/operator/callers/13812345678/filings")
    client.get("/api/v1/complaints/4242")
    client.post("/api/v1/complaints/4242/actions/accept", json={})
    client.get("/api/v1/track/26112865638191")
    client.get("/no/such/page/13812345678")
    lines = [r.getMessage() for r in caplog.records if r.name == "complaints.requests"]
    paths = [line.split(" ")[2] for line in lines]
    assert paths == [
        "/api/v1/sms/aliyun/{path_token}",
        "/api/v1/sms/tencent/{path_token}/extra",
        "/api/v1/operator/callers/{phone}/filings",
        "/api/v1/complaints/{complaint_id}",
        "/api/v1/complaints/{complaint_id}/actions/accept",
        "/api/v1/track/{tracking_number}",
        "/no/such/page/{digits}",
    ]
    for secret in ("the-secret-path-token", "13812345678", "4242", "26112865638191"):
        assert secret not in caplog.text


@pytest.mark.usefixtures("sqlite_platform")
def test_requests_on_tip_off_paths_are_not_logged_at_all(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    answers = [
        client.get("/tipoff"),
        client.post("/tipoff", data={"receipt_code": "1" * 24}),
        client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": "1" * 24}),
        client.post("/api/v1/tipoffs/answers", json={"receipt_code": "1" * 24, "text": "补充"}),
        client.post("/api/v1/tipoffs/reward-claims", json={"receipt_code": "1" * 24}),
    ]
    assert [a.status_code for a in answers] == [200, 403, 404, 404, 422]
    assert all("x-request-id" in a.headers for a in answers)
    assert [r for r in caplog.records if r.name == "complaints.requests"] == []
    # (httpx, the test's own client, logs what it sent; the platform logs nothing of it.)
    ours = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert [r.getMessage() for r in ours if "tipoff" in r.getMessage()] == []
    client.get("/healthz")
    assert [r.name for r in caplog.records].count("complaints.requests") == 1


@pytest.mark.usefixtures("sqlite_platform")
def test_shared_filing_paths_log_no_duration(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # A tip-off takes longer than a complaint (the receipt code's hash, the vault): a
    # duration next to a time of day would tell which kind was filed.
    caplog.set_level("INFO", logger="complaints.requests")
    client.post("/api/v1/complaints", json=valid_filing())
    tip = valid_filing(kind="tip", contact_phone=None)
    client.post("/api/v1/complaints", json=tip)
    client.post("/api/v1/operator/calls", json={})
    client.get("/api/v1/track/26112865638191")
    lines = [r.getMessage() for r in caplog.records if r.name == "complaints.requests"]
    assert [line.split(" ")[1:] for line in lines[:3]] == [
        ["POST", "/api/v1/complaints", "201", "-"],
        ["POST", "/api/v1/complaints", "201", "-"],
        ["POST", "/api/v1/operator/calls", "401", "-"],
    ]
    assert re.fullmatch(r"\d+\.\dms", lines[3].split(" ")[-1])  # other paths keep theirs


@pytest.mark.usefixtures("sqlite_platform")
def test_nothing_reaches_an_opentelemetry_provider(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI's native OpenTelemetry is off: a provider the process has (an SDK, an agent)
    gets no spans, metrics or exception logs of a filing or a tip-off."""
    from fastapi import FastAPI
    from opentelemetry import _logs, metrics, trace

    used: list[str] = []

    class AnyProvider:
        """A provider as an SDK's would look to FastAPI, noting any use of it."""

        def __getattr__(self, name: str) -> object:
            used.append(name)
            raise RuntimeError("a provider was used")

    monkeypatch.setattr(trace, "get_tracer_provider", AnyProvider)
    monkeypatch.setattr(metrics, "get_meter_provider", AnyProvider)
    monkeypatch.setattr(_logs, "get_logger_provider", AnyProvider)
    answers = [
        client.post("/api/v1/complaints", json=valid_filing()),
        client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": "1" * 24}),
        client.get("/healthz"),
    ]
    assert [a.status_code for a in answers] == [201, 404, 200]
    assert used == []
    # A FastAPI app with its defaults does use the same provider: the test can see it.
    default = FastAPI()
    default.get("/")(lambda: {})
    with TestClient(default, raise_server_exceptions=False) as plain:
        plain.get("/")
    assert used
