"""Schema changes: Alembic migrations are the only way the schema changes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from core.errors import InvalidInput
from core.settings import get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url or get_settings().effective_database_url)
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate to `revision`; InvalidInput if Alembic cannot (an unknown revision, say)."""
    try:
        command.upgrade(alembic_config(url), revision)
    except CommandError as exc:  # the message names the revision; nothing was changed
        raise InvalidInput(f"--revision: {exc}") from None


def schema_behind() -> bool:
    """True if the database is not at the newest migration (never migrated, or older code's).

    Read only; for telling an administrator why a command found no table.
    """
    from core.db import get_engine

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with get_engine(read_only=True).connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current != heads


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
