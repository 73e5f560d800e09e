"""The `complaints` chores an administrator runs: each mistake is one `error:` line and a
non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from routing.registry import DEFAULT_REGISTRY
from tests.helpers import run_cli

pytestmark = pytest.mark.slow


_run = run_cli


def _refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-1500:])
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr[-1500:]
    assert message in last, result.stderr[-1500:]


@pytest.fixture
def unmigrated(configure: Callable[..., None], sqlite_url: str, redis_url: str) -> str:
    """Settings pointed at a database no migration has run on yet."""
    configure(database_url=sqlite_url, redis_url=redis_url)
    return sqlite_url


def test_commands_on_a_database_not_yet_migrated_say_to_upgrade_it(unmigrated: str) -> None:
    for args in (
        ("departments", "load", str(DEFAULT_REGISTRY)),
        ("departments", "list"),
        ("retention", "purge"),
        ("users", "create", "--username", "a", "--password", "a-long-password", "--role", "admin"),
    ):
        _refused(_run(*args), "complaints db upgrade")
    assert _run("departments", "load", str(DEFAULT_REGISTRY), "--migrate").returncode == 0


def test_an_unknown_revision_is_refused_by_name(unmigrated: str) -> None:
    _refused(_run("db", "upgrade", "--revision", "nosuchrevision"), "nosuchrevision")


def test_a_database_url_of_no_known_kind_is_named(
    configure: Callable[..., None], redis_url: str
) -> None:
    configure(database_url="postgres-typo://localhost/complaints", redis_url=redis_url)
    _refused(_run("departments", "list"), "COMPLAINTS_DATABASE_URL")


def test_an_export_to_a_place_that_cannot_be_written_says_so_and_leaves_nothing(
    sqlite_platform: str, tmp_path: Path
) -> None:
    target = tmp_path / "exports"
    target.mkdir()
    _refused(_run("opendata", "export", "--out", str(tmp_path / "no" / "x.csv")), "--out")
    _refused(_run("opendata", "export", "--out", str(target)), "--out")
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []
    done = _run("opendata", "export", "--out", str(target / "x.csv"))
    assert done.returncode == 0, done.stderr
    assert (target / "x.csv").stat().st_size > 0  # the header row at least


@pytest.mark.usefixtures("platform")
def test_odr_add_checks_the_name_and_updates_by_code() -> None:
    from sqlmodel import Session, select

    from core.db import dispose_engines, get_engine
    from schemas.casework import OdrBusiness

    uscc = "91350100M000100Y43"
    _refused(_run("odr", "add", "--uscc", uscc, "--name", "   "), "--name")
    _refused(_run("odr", "add", "--uscc", uscc, "--name", "某" * 201), "--name")
    for name in ("某某电梯维保公司", " 某某电梯维保有限公司 "):
        done = _run("odr", "add", "--uscc", uscc.lower(), "--name", name)
        assert done.returncode == 0, done.stderr
    dispose_engines()
    with Session(get_engine(read_only=True)) as session:
        rows = session.exec(select(OdrBusiness)).all()
    assert [(r.business_uscc, r.name, r.active) for r in rows] == [
        (uscc, "某某电梯维保有限公司", True)
    ]
