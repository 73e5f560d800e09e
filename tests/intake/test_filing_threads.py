"""Filings of their own transaction (with an Idempotency-Key, tip-offs, SMS) run in at most
`filing_threads` threads per process; the others wait their turn. Keyless filings go to the
committer instead (intake.group_commit, tests/intake/test_group_commit.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlmodel import Session, func, select

import intake.service
from core.db import get_engine
from schemas import Complaint
from tests.conftest import Templates, migrated_platform
from tests.helpers import valid_filing

FILINGS = 6


def _file_at_once(monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[int]]:
    """File FILINGS at once through the JSON API, each with its own Idempotency-Key; the
    most filings in progress together, and the answers' status codes."""
    file_counted = intake.service.file_counted
    busy, most = 0, 0
    lock = threading.Lock()

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        try:
            time.sleep(0.05)  # long enough for every other request to arrive meanwhile
            return file_counted(*args, **kwargs)
        finally:
            with lock:
                busy -= 1

    monkeypatch.setattr(intake.service, "file_counted", counted)
    from service.app import create_app

    async def post_all() -> list[int]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/complaints",
                        json=valid_filing(contact_phone=f"1381234{n:04d}"),
                        headers={"Idempotency-Key": f"filing-{n}"},
                    )
                    for n in range(FILINGS)
                )
            )
        return [answer.status_code for answer in answers]

    codes = asyncio.run(post_all())
    return most, codes


@pytest.mark.parametrize("threads", [1, 3])
def test_filings_take_turns_in_their_own_threads(
    threads: int,
    configure: Callable[..., None],
    sqlite_url: str,
    redis_url: str,
    templates: Templates,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    migrated_platform(configure, sqlite_url, redis_url, templates, filing_threads=str(threads))
    most, codes = _file_at_once(monkeypatch)
    assert codes == [201] * FILINGS  # every one waited for its turn and was filed
    assert most == threads
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(func.count()).select_from(Complaint)).one() == FILINGS
