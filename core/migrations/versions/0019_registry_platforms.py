"""registry platforms: e-commerce platforms and where they are registered

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A complaint about a platform seller with no address goes where the platform is
    # registered (SAMR Order 121); each registry load keeps the platforms it listed. Loads
    # made before listed none: '[]', so routing keeps its old rules until a registry with
    # platforms is loaded.
    op.add_column(
        "registry_loads",
        sa.Column("platforms", sa.JSON(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    op.drop_column("registry_loads", "platforms")
