"""staff session epoch: a page session records the credentials version it was started under

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new password, role or a disable deletes the account's page sessions, but a sign-in
    # that checked the old password just before can still insert its row after that delete.
    # The row now records the version it was started under and is refused once the account's
    # version moved on. Sessions open at the upgrade take the account's current version, so
    # nobody is signed out by it (a session the bump had deleted is not there to copy).
    # Plain ALTER TABLE: SQLite adds (and since 3.35 drops) a column in place.
    op.add_column(
        "staff_sessions",
        sa.Column("token_epoch", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE staff_sessions SET token_epoch = "
        "(SELECT token_epoch FROM staff_users WHERE staff_users.id = staff_sessions.staff_id)"
    )


def downgrade() -> None:
    op.drop_column("staff_sessions", "token_epoch")
