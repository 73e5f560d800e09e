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
