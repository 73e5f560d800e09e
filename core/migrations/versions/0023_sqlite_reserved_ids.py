"""SQLite: filings and outbox rows take ids through sqlite_sequence (AUTOINCREMENT)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

import warnings
from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("complaints", "outbox_messages")


def upgrade() -> None:
    # A group of filings draws its ids before it takes SQLite's write lock
    # (core.write_behind): by raising sqlite_sequence, which every INSERT into an
    # AUTOINCREMENT table honours, so no other writer can take an id drawn and not yet
    # written. PostgreSQL's sequences already work so; SQLite copies the tables to change.
    _copy(autoincrement=True)


def downgrade() -> None:
    _copy(autoincrement=False)


def _copy(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with warnings.catch_warnings():
        # The copy cannot reflect the expression index on complaints: made again below.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression")
        for table in _TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
            ):
                pass
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_complaints_queue_by_deadline ON complaints "
        "(department_id, coalesce(deadline_due_on, '9999-12-31'), id)"
    )
