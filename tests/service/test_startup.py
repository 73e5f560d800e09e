"""What a process pays to start: each CLI command, worker and API process imports the app's
modules, so what they do at import is paid by every one of them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from core import security
from rewards import receipts

# Loaded where they are used, not at import (0.07-0.2 s each, on every process start;
# psycopg is the PostgreSQL driver, which a SQLite deployment never needs).
NOT_AT_IMPORT = ("jieba", "rjieba", "httpx", "psycopg")


def test_importing_the_app_loads_no_segmenter_or_http_client_and_makes_no_hash() -> None:
    code = (
        "import json, sys, service.app\n"
        "from core import security\n"
        "from rewards import receipts\n"
        f"loaded = [m for m in {NOT_AT_IMPORT!r} if m in sys.modules]\n"
        "made = security.dummy_hash.cache_info().currsize\n"
        "made += receipts.dummy_hash.cache_info().currsize\n"
        "print(json.dumps({'modules': loaded, 'hashes': made}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.splitlines()[-1]) == {"modules": [], "hashes": 0}


@pytest.mark.usefixtures("sqlite_platform")
def test_the_api_makes_its_timing_hashes_before_the_first_request() -> None:
    """An unknown username or receipt code is checked against a hash made while the API
    starts, so the first such request costs what the others do."""
    from service.app import create_app

    security.dummy_hash.cache_clear()
    receipts.dummy_hash.cache_clear()
    with TestClient(create_app()):
        assert security.dummy_hash.cache_info().currsize == 1
        assert receipts.dummy_hash.cache_info().currsize == 1
    assert security.verify_password(None, "anything") is False
