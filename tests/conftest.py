"""Shared fixtures: a freshly migrated database (SQLite or PostgreSQL), real Redis, the app."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlmodel import Session

from cases.policy import forget_policy
from core import migrate
from core.db import dispose_engines, get_engine
from core.redis import reset_redis
from core.settings import get_settings
from notify.gateway import forget_gateways
from notify.loopback import LoopbackInbox, loopback_app
from rewards.keys import keyring
from routing.engine import forget_engine
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from service.metrics import forget_counts
from tests.helpers import serving

PG_ADMIN_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# scripts/test runs the suite in two pytest-xdist workers; each flushes its own Redis
# database (TEST_REDIS_URL's number, plus the worker's).
_REDIS_BASE, _, _REDIS_DB = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9").rpartition(
    "/"
)
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_TEST_URL = f"{_REDIS_BASE}/{int(_REDIS_DB) + _WORKER}"

# Tests that take a minute or whole processes go first, so that the two workers do not end
# with one of them running a long drill alone.
_FIRST = ("drill", "browser", "slow")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        marks = {mark.name for mark in item.iter_markers()}
        return next((i for i, name in enumerate(_FIRST) if name in marks), len(_FIRST))

    items.sort(key=rank)  # stable: the same order on every worker


def _reset_process_caches() -> None:
    get_settings.cache_clear()
    reset_redis()
    dispose_engines()
    forget_engine()
    forget_gateways()
    forget_policy()
    keyring.cache_clear()
    forget_counts()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Staff passwords hashed with Argon2id at its lowest cost inside this test process.

    At the production parameters every test account and every sign-in costs 0.15 s, and a
    desk of six staff costs two seconds a test. Processes the tests start (the CLI, the API
    in production shape) keep the production parameters, and
    tests/accounts/test_auth.py::test_users_create_command checks them on a stored hash.
    """
    from argon2 import PasswordHasher

    from core import security

    production = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    security._hasher = production


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The real Redis on 127.0.0.1:6379, database 9, flushed before and after each test."""
    connection = Redis.from_url(REDIS_TEST_URL)
    connection.flushdb()
    yield REDIS_TEST_URL
    connection.flushdb()
    connection.close()


def _pg_base() -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"complaints_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{_pg_base()}/{name}"
    dispose_engines()
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'complaints.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Point the platform's settings at the given database and Redis for this test."""

    def _configure(*, database_url: str, redis_url: str, **extra: str) -> None:
        monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("COMPLAINTS_DATABASE_URL", database_url)
        monkeypatch.setenv("COMPLAINTS_REDIS_URL", redis_url)
        monkeypatch.setenv("COMPLAINTS_SECRET_KEY", "test-secret-key-" + "x" * 32)
        # The app's start-up warm-up is exercised by the serve test; here it only costs time.
        monkeypatch.setenv("COMPLAINTS_WARM_UP", "false")
        for key, value in extra.items():
            monkeypatch.setenv(f"COMPLAINTS_{key.upper()}", value)
        _reset_process_caches()

    yield _configure
    _reset_process_caches()


SMS_PATH_TOKEN = "s3cret-path-token"


def _migrate_and_load(url: str) -> None:
    """The schema migrated at `url` and the default registry loaded, through the platform's
    own engine (its SQLite pragmas, its PostgreSQL settings)."""
    migrate.upgrade(url)
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()


class Templates:
    """One migrated database with the default registry per backend, made the first time a
    test asks for it; each test then gets a copy (a file copy on SQLite, CREATE DATABASE …
    TEMPLATE on PostgreSQL) instead of running every migration and loading the registry
    again, which was half a second of each of a thousand tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def _build(self, url: str) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("COMPLAINTS_DATABASE_URL", url)
            patch.setenv("COMPLAINTS_DATA_DIR", str(self.root / "var"))
            patch.setenv("COMPLAINTS_REDIS_URL", REDIS_TEST_URL)
            patch.setenv("COMPLAINTS_SECRET_KEY", "test-secret-key-" + "x" * 32)
            _reset_process_caches()
            try:
                _migrate_and_load(url)
            finally:
                _reset_process_caches()

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self.root / "template.db"
            self._build(f"sqlite:///{path}")
            with sqlite3.connect(path) as connection:  # everything in the main file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            self._sqlite = path
        return self._sqlite

    def postgres(self) -> str:
        if self._postgres is None:
            name = f"complaints_template_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            self._build(f"{_pg_base()}/{name}")
            self._postgres = name
        return self._postgres

    def drop(self) -> None:
        if self._postgres is not None:
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self._postgres}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.drop()


def copy_of_template(templates: Templates, url: str) -> None:
    """The database at `url` (a path not yet written, or an empty PostgreSQL database)
    replaced by a copy of the migrated template."""
    if url.startswith("sqlite:///"):
        target = Path(url.removeprefix("sqlite:///"))
        if target.exists():
            raise RuntimeError(f"{target} exists: a template copy would overwrite it")
        shutil.copyfile(templates.sqlite(), target)
        return
    template = templates.postgres()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def migrated_platform(
    configure: Callable[..., None],
    url: str,
    redis_url: str,
    templates: Templates,
    **extra: str,
) -> str:
    """Settings pointed at `url`, holding a copy of the migrated database with the default
    registry."""
    copy_of_template(templates, url)
    configure(database_url=url, redis_url=redis_url, **extra)
    return url


@pytest.fixture
def platform(
    configure: Callable[..., None], database_url: str, redis_url: str, templates: Templates
) -> str:
    """A migrated database with the default registry, on both databases, with real Redis."""
    return migrated_platform(configure, database_url, redis_url, templates)


@pytest.fixture
def sqlite_platform(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> str:
    """As `platform`, on SQLite only, for tests whose subject is not the database."""
    return migrated_platform(configure, sqlite_url, redis_url, templates)


@pytest.fixture
def sms_platform(
    configure: Callable[..., None], database_url: str, redis_url: str, templates: Templates
) -> str:
    """As `platform`, with the SMS webhooks switched on (path token SMS_PATH_TOKEN)."""
    return migrated_platform(
        configure, database_url, redis_url, templates, sms_path_token=SMS_PATH_TOKEN
    )


@pytest.fixture
def sqlite_sms_platform(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> str:
    """As `sms_platform`, on SQLite only."""
    return migrated_platform(
        configure, sqlite_url, redis_url, templates, sms_path_token=SMS_PATH_TOKEN
    )


@pytest.fixture
def client() -> Iterator[TestClient]:
    from service.app import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def session() -> Iterator[Session]:
    """For the test's own reads and set-up writes. On SQLite each statement stands alone:
    it never blocks the app and always sees the app's latest commit."""
    with Session(get_engine(read_only=True), expire_on_commit=False) as db_session:
        yield db_session


@dataclass
class RunningGateway:
    url: str
    inbox: LoopbackInbox


@pytest.fixture
def sms_gateway(tmp_path: Path) -> Iterator[RunningGateway]:
    """The loopback SMS gateway on a real port, as the worker's httpx client reaches it."""
    inbox = LoopbackInbox(tmp_path / "sms.jsonl")
    with serving(loopback_app(inbox)) as url:
        yield RunningGateway(url=url, inbox=inbox)
