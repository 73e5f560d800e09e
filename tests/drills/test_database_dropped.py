"""PostgreSQL drops the connection mid-request: a clear 503, nothing half-written, and the
next request works without a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from intake import service
from tests.conftest import PG_ADMIN_DSN
from tests.drills.helpers import pending_outbox
from tests.helpers import valid_filing

pytestmark = [pytest.mark.drill, pytest.mark.postgres]


def _complaints() -> int:
    from sqlalchemy import func, select

    from core.db import get_engine
    from schemas import Complaint

    with Session(get_engine(read_only=True)) as session:
        return int(session.execute(select(func.count()).select_from(Complaint)).scalar_one())


@pytest.fixture
def postgres_platform(configure: Callable[..., None], postgres_url: str, redis_url: str) -> str:
    """As `platform`, on PostgreSQL only: SQLite has no connection for a server to drop."""
    from core import migrate
    from core.db import get_engine
    from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry

    configure(database_url=postgres_url, redis_url=redis_url)
    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()
    return postgres_url


@pytest.mark.usefixtures("postgres_platform")
def test_a_connection_killed_mid_request_is_a_503_with_nothing_half_written(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = service.create_filing
    killed: list[int] = []

    def file_then_lose_the_connection(session: Session, **kwargs: Any) -> Any:
        complaint = original(session, **kwargs)
        session.flush()  # the rows are written in the open transaction…
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:  # …then the server
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))  # drops the connection
        killed.append(int(pid))
        return complaint

    monkeypatch.setattr(service, "create_filing", file_then_lose_the_connection)
    answer = client.post("/api/v1/complaints", json=valid_filing())
    assert killed
    assert answer.status_code == 503, answer.text
    assert answer.json() == {
        "error": "ServiceUnavailable",
        "detail": "the database is unavailable; try again shortly",
    }
    assert _complaints() == 0
    assert pending_outbox() == 0

    monkeypatch.setattr(service, "create_filing", original)
    again = client.post("/api/v1/complaints", json=valid_filing())
    assert again.status_code == 201, again.text  # the pool replaced the dead connection
    assert _complaints() == 1
    assert client.get("/readyz").status_code == 200
