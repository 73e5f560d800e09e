"""merged into index: the filings merged into a filing, found without reading every filing

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Closing or answering a filing now looks up the filings merged into it, at any depth
    # (cases.repository.merged_into), to tell their citizens the outcome. Without an index
    # every close would read the whole complaints table, once per level of the chain.
    op.create_index("ix_complaints_merged_into_id", "complaints", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_complaints_merged_into_id", table_name="complaints")
