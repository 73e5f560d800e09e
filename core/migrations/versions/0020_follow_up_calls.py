"""follow-up calls (回访): each call to a complainant after closing

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text_enum(*values: str, name: str) -> sa.Enum:
    # As schemas.enums.stored_as_text: VARCHAR, no database type and no CHECK constraint.
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=30)


def upgrade() -> None:
    # SAMR Order 121 has the regulator call complainants back after handling. One row per
    # attempt, never changed: who is due is worked out from the closed complaints and these
    # rows, so no row has to be made when a filing closes, and closed filings from before
    # this revision are due like any other. (complaint_id, attempt) is unique: two operators
    # recording one filing at once cannot both add its next attempt.
    op.create_table(
        "follow_up_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            _text_enum(
                "reached",
                "declined",
                "no_answer",
                "busy",
                "switched_off",
                "wrong_number",
                name="calloutcome",
            ),
            nullable=False,
        ),
        sa.Column(
            "satisfaction",
            _text_enum("satisfied", "basically", "unsatisfied", name="callsatisfaction"),
            nullable=True,
        ),
        sa.Column("rating_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("called_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.ForeignKeyConstraint(["rating_id"], ["satisfaction_ratings.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id", "attempt", name="uq_follow_up_attempt"),
    )
    with op.batch_alter_table("follow_up_calls", schema=None) as batch_op:
        # The supervisors' list of complainants who said 不满意 on a call.
        batch_op.create_index(
            "ix_follow_up_calls_satisfaction", ["satisfaction", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("follow_up_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_up_calls_satisfaction")
    op.drop_table("follow_up_calls")
