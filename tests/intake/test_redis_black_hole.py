"""A Redis that neither answers nor refuses costs one filing its timeout, not every filing."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from core.db import get_engine
from schemas import Complaint, OutboxMessage
from tests.conftest import Templates, migrated_platform
from tests.helpers import valid_filing

TIMEOUT = 1.0


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A Redis URL whose server takes connections (the kernel does) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_filings_go_on_at_full_speed_while_redis_hangs(
    configure: Callable[..., None], sqlite_url: str, templates: Templates, black_hole: str
) -> None:
    migrated_platform(
        configure, sqlite_url, black_hole, templates, redis_timeout_seconds=str(TIMEOUT)
    )
    from service.app import create_app

    with TestClient(create_app()) as client:
        started = time.monotonic()
        first = client.post("/api/v1/complaints", json=valid_filing())
        assert first.status_code == 201, first.text
        assert time.monotonic() - started >= TIMEOUT  # the rate limits waited for Redis
        started = time.monotonic()
        later = [
            client.post("/api/v1/complaints", json=valid_filing(contact_phone=f"139{n:08d}"))
            for n in range(3)
        ]
        elapsed = time.monotonic() - started
    assert [answer.status_code for answer in later] == [201] * 3
    # Each would have waited twice (rate limits, then the after-commit hand-off): 6 s.
    assert elapsed < TIMEOUT, elapsed
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(func.count()).select_from(Complaint)).one() == 4
        # Every filing's routing and duplicate jobs are in the outbox for the relay.
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 8
