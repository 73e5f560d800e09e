"""complaint content: the complainant's name and address, the demand, purchase day, order number

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COLUMNS = (
    ("complainant_name", sqlmodel.sql.sqltypes.AutoString(length=60)),
    ("complainant_address", sqlmodel.sql.sqltypes.AutoString(length=300)),
    ("demand", sqlmodel.sql.sqltypes.AutoString(length=500)),
    ("purchased_on", sa.Date()),
    ("order_number", sqlmodel.sql.sqltypes.AutoString(length=100)),
)


def upgrade() -> None:
    # The rules ask a complaint for who complains (name, address) and what they want (诉求);
    # the 12315 web filing also asks when it was bought and the order number. Nullable:
    # filings made before, tip-offs and inquiries have none, and retention erases them.
    # Plain ALTER TABLE, not a batch copy: SQLite adds and (since 3.35) drops a column in
    # place, and copying `complaints` would trip the foreign keys of its history rows.
    for name, type_ in _COLUMNS:
        op.add_column("complaints", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(_COLUMNS):
        op.drop_column("complaints", name)
