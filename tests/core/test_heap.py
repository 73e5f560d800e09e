"""The served app settles its worker's heap after start-up; an app made in tests does not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from core import heap
from service import app as service_app


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_settling_freezes_what_exists_and_collects_the_young_less_often() -> None:
    gc.unfreeze()
    long_lived = [object() for _ in range(10)]
    heap.settle()
    assert gc.get_freeze_count() > len(long_lived)
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD


@pytest.mark.usefixtures("sqlite_platform", "restored_gc")
def test_only_the_served_app_settles_the_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    settled: list[bool] = []
    monkeypatch.setattr(heap, "settle", lambda: settled.append(True))
    with TestClient(service_app.create_app()) as client:
        assert client.get("/healthz").status_code == 200
    assert settled == []
    with TestClient(service_app.create_served_app()) as client:
        assert client.get("/healthz").status_code == 200
    assert settled == [True]
