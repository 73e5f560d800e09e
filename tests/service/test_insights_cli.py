"""`complaints open311 …` and `complaints insights …` as an administrator runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import Session

from core.db import dispose_engines, get_engine
from opendata.api_keys import key_for

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_keys_are_made_once_and_revoked_and_jobs_run_by_hand(sqlite_platform: str) -> None:
    dispose_engines()
    made = _run("open311", "add-key", "--name", "county-portal")
    assert made.returncode == 0, made.stderr
    raw = made.stdout.strip()
    with Session(get_engine()) as session:
        key = key_for(session, raw)
        assert key is not None
        assert key.key_hash != raw  # only the hash is kept
    again = _run("open311", "add-key", "--name", "county-portal")
    assert again.returncode == 2
    assert "error: a key named 'county-portal' exists" in again.stderr
    assert _run("open311", "revoke-key", "--name", "county-portal").returncode == 0
    with Session(get_engine()) as session:
        assert key_for(session, raw) is None
    unknown = _run("open311", "revoke-key", "--name", "nobody")
    assert unknown.returncode == 2
    assert "error: no key named 'nobody'" in unknown.stderr

    surges = _run("insights", "surges")
    assert surges.returncode == 0, surges.stderr
    assert "0 new alerts" in surges.stdout
    credit = _run("insights", "credit")
    assert credit.returncode == 0, credit.stderr
    assert "businesses graded" in credit.stdout
