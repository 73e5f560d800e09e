"""recovered amount: what the consumer got back when a complaint was settled (挽回经济损失)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In fen, up to 10^13: BIGINT. Nullable: complaints not settled, and those settled
    # before the amount was asked for (their agreements' text may say it; no guess is made).
    op.add_column("complaints", sa.Column("recovered_fen", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("complaints", "recovered_fen")
