"""quality supervisors, products named in filings, product-risk cases and recall notices

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@contextmanager
def _copying_complaints() -> Iterator[None]:
    """SQLAlchemy warns that the copy skips the expression index: it is made again below."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression")
        yield


def _restore_deadline_index() -> None:
    # SQLite alters `complaints` by copying it, and the copy cannot reflect an index on an
    # expression: 0012's deadline index is made again (PostgreSQL altered in place kept it).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_complaints_queue_by_deadline ON complaints "
            "(department_id, coalesce(deadline_due_on, '9999-12-31'), id)"
        )


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("product_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("gtin", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("batch", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_key"),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_gtin"), ["gtin"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_product_key"), ["product_key"], unique=False)

    op.create_table(
        "product_risk_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("open_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("trigger_detail", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key", name="uq_product_risk_cases_open_key"),
    )
    with op.batch_alter_table("product_risk_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_risk_cases_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_product_risk_cases_product_key"), ["product_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_product_risk_cases_state"), ["state"], unique=False)

    op.create_table(
        "product_risk_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("from_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("to_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff_users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["product_risk_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("product_risk_events", schema=None) as batch_op:
        batch_op.create_index("ix_product_risk_events_case", ["case_id", "id"], unique=False)

    op.create_table(
        "quality_supervisors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("appointed_by_id", sa.Integer(), nullable=False),
        sa.Column("appointed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointed_by_id"],
            ["staff_users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["staff_users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quality_supervisors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_supervisors_phone"), ["phone"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_supervisors_staff_id"), ["staff_id"], unique=False
        )

    op.create_table(
        "filing_products",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("injury", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("complaint_id"),
    )
    with op.batch_alter_table("filing_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_filing_products_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "product_risk_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["product_risk_cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "complaint_id", name="uq_product_risk_filing"),
    )
    with op.batch_alter_table("product_risk_filings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_risk_filings_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_product_risk_filings_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "supervisor_inspections",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("quality_supervisor_id", sa.Integer(), nullable=False),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("inspected_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.ForeignKeyConstraint(
            ["quality_supervisor_id"],
            ["quality_supervisors.id"],
        ),
        sa.PrimaryKeyConstraint("complaint_id"),
    )
    with op.batch_alter_table("supervisor_inspections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervisor_inspections_quality_supervisor_id"),
            ["quality_supervisor_id"],
            unique=False,
        )

    op.create_table(
        "product_recall_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("sms_id", sa.Integer(), nullable=True),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["product_risk_cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sms_id"],
            ["sms_outbound.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "complaint_id", name="uq_recall_notice"),
    )
    with op.batch_alter_table("product_recall_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_recall_notices_case_id"), ["case_id"], unique=False
        )

    with _copying_complaints(), op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality_supervisor_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            batch_op.f("ix_complaints_quality_supervisor_id"),
            ["quality_supervisor_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            "fk_complaints_quality_supervisor_id",
            "quality_supervisors",
            ["quality_supervisor_id"],
            ["id"],
        )
    _restore_deadline_index()


def downgrade() -> None:
    with _copying_complaints(), op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_constraint("fk_complaints_quality_supervisor_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_complaints_quality_supervisor_id"))
        batch_op.drop_column("priority")
        batch_op.drop_column("quality_supervisor_id")
    _restore_deadline_index()

    with op.batch_alter_table("product_recall_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_recall_notices_case_id"))

    op.drop_table("product_recall_notices")
    with op.batch_alter_table("supervisor_inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervisor_inspections_quality_supervisor_id"))

    op.drop_table("supervisor_inspections")
    with op.batch_alter_table("product_risk_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_risk_filings_complaint_id"))
        batch_op.drop_index(batch_op.f("ix_product_risk_filings_case_id"))

    op.drop_table("product_risk_filings")
    with op.batch_alter_table("filing_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_products_product_id"))

    op.drop_table("filing_products")
    with op.batch_alter_table("quality_supervisors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_supervisors_staff_id"))
        batch_op.drop_index(batch_op.f("ix_quality_supervisors_phone"))

    op.drop_table("quality_supervisors")
    with op.batch_alter_table("product_risk_events", schema=None) as batch_op:
        batch_op.drop_index("ix_product_risk_events_case")

    op.drop_table("product_risk_events")
    with op.batch_alter_table("product_risk_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_risk_cases_state"))
        batch_op.drop_index(batch_op.f("ix_product_risk_cases_product_key"))
        batch_op.drop_index(batch_op.f("ix_product_risk_cases_department_id"))

    op.drop_table("product_risk_cases")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_product_key"))
        batch_op.drop_index(batch_op.f("ix_products_name_key"))
        batch_op.drop_index(batch_op.f("ix_products_gtin"))

    op.drop_table("products")
