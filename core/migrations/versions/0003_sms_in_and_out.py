"""sms in and out

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("dedup_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("received_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_inbound_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_inbound_dedup_key"), ["dedup_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_sms_inbound_sender"), ["sender"], unique=False)

    op.create_table(
        "sms_outbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("template", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column(
            "provider_message_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_outbound", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_outbound_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_outbound_to_number"), ["to_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_outbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_outbound_to_number"))
        batch_op.drop_index(batch_op.f("ix_sms_outbound_complaint_id"))

    op.drop_table("sms_outbound")
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_inbound_sender"))
        batch_op.drop_index(batch_op.f("ix_sms_inbound_dedup_key"))
        batch_op.drop_index(batch_op.f("ix_sms_inbound_complaint_id"))

    op.drop_table("sms_inbound")
