"""queue by deadline: an index on (department, due date or the end of time, id)

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A department's queue sorted by deadline reads this index in order instead of sorting
    # all its filings (a million filings: from a sort per page to an index range).
    op.create_index(
        "ix_complaints_queue_by_deadline",
        "complaints",
        ["department_id", sa.text("coalesce(deadline_due_on, '9999-12-31')"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_complaints_queue_by_deadline", table_name="complaints")
