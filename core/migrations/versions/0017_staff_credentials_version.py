"""staff credentials version: bearer tokens stop working when a password or role changes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Bearer tokens are self-contained JWTs: without a version to compare, a password reset
    # or a move to another department would leave every token already issued working until
    # it expired. Existing accounts start at 0, the version a token without the claim is
    # read as (accounts.service.staff_from_token), so nobody is signed out by the upgrade.
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("token_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("token_epoch")
