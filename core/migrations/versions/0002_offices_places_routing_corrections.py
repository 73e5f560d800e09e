"""offices, places, routing corrections

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("admin_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("province", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("county", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registry_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offices_code"), ["code"], unique=True)
        batch_op.create_index(
            "ix_offices_department_code", ["department_id", "admin_code"], unique=False
        )

    op.create_table(
        "routing_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("from_department", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("to_department", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff_users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routing_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_corrections_complaint_id"), ["complaint_id"], unique=False
        )

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("place_province", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.add_column(
            sa.Column("place_city", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.add_column(
            sa.Column("place_county", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.add_column(
            sa.Column("place_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True)
        )
        batch_op.add_column(
            sa.Column("split_suggested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_complaints_place_code"), ["place_code"], unique=False)
        batch_op.create_foreign_key(
            "fk_complaints_office_id_offices", "offices", ["office_id"], ["id"]
        )

    with op.batch_alter_table("registry_loads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("home_province", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )

    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_staff_users_office_id_offices", "offices", ["office_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint("fk_staff_users_office_id_offices", type_="foreignkey")
        batch_op.drop_column("office_id")

    with op.batch_alter_table("registry_loads", schema=None) as batch_op:
        batch_op.drop_column("home_province")

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_constraint("fk_complaints_office_id_offices", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_complaints_place_code"))
        batch_op.drop_column("split_suggested")
        batch_op.drop_column("place_code")
        batch_op.drop_column("place_county")
        batch_op.drop_column("place_city")
        batch_op.drop_column("place_province")
        batch_op.drop_column("office_id")

    with op.batch_alter_table("routing_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_corrections_complaint_id"))

    op.drop_table("routing_corrections")
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.drop_index("ix_offices_department_code")
        batch_op.drop_index(batch_op.f("ix_offices_code"))

    op.drop_table("offices")
