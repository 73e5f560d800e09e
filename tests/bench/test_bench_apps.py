"""The apps bench/intake.py serves beside the platform answer as the bench expects: a bench
app that fails every request would be measured all the same (wrk counts answers)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import intake.api
from core.db import get_engine
from schemas.complaint import COMPLAINTS
from tests.helpers import valid_filing


def test_the_floor_app_answers_a_filing_201_and_stores_nothing(
    sqlite_platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The floor app swaps names in intake.api for its process; put them back after.
    for name in ("service", "run_once", "session_scope", "group_commit"):
        monkeypatch.setattr(intake.api, name, getattr(intake.api, name))
    from bench.floor_app import create_app

    with TestClient(create_app()) as client:
        answers = [client.post("/api/v1/complaints", json=valid_filing()) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert all(a.json()["tracking_number"] for a in answers)
    with get_engine(read_only=True).connect() as connection:
        assert connection.execute(select(func.count()).select_from(COMPLAINTS)).scalar() == 0


def test_the_bare_app_answers_a_filing_201() -> None:
    from bench.bare_app import create_app

    with TestClient(create_app()) as client:
        answer = client.post("/api/v1/complaints", json=valid_filing())
    assert answer.status_code == 201
    assert answer.json()["kind"] == valid_filing()["kind"]


def test_the_bench_apps_turn_off_fastapis_telemetry_as_the_platform_does() -> None:
    """The ceiling must not pay a per-request cost the platform does not (bench/bare_app.py
    writes the setting out, importing nothing of the platform)."""
    from bench.bare_app import TELEMETRY_OFF
    from service.app import NO_TELEMETRY

    assert TELEMETRY_OFF == NO_TELEMETRY


def test_the_least_durable_app_stores_each_filing_it_answers(platform: str) -> None:
    """Its rate is read as durable filings: each 201 must be a row written, with the
    platform's defaults, on SQLite and on PostgreSQL (the JSON INSERT)."""
    from bench.minimal_durable_app import create_app

    with TestClient(create_app()) as client:
        answers = [client.post("/api/v1/complaints", json=valid_filing()) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    numbers = {a.json()["tracking_number"] for a in answers}
    with get_engine(read_only=True).connect() as connection:
        stored = connection.execute(
            select(COMPLAINTS.c.tracking_number, COMPLAINTS.c.status, COMPLAINTS.c.text)
        ).all()
    assert {row.tracking_number for row in stored} == numbers
    assert {row.status for row in stored} == {"received"}
    assert {row.text for row in stored} == {valid_filing()["text"]}
