"""signature bands by recency: the LSH lookup index on (band hash, filing) instead of
(band hash, band)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The duplicate search takes the most recent filings of each band from this index, in
    # order and bounded (intake.duplicates._candidates): a wave of identical filings no
    # longer makes each new one read every earlier one's bands. The band number is hashed
    # into band_hash, so (band_hash, band) told the lookup nothing more.
    op.drop_index("ix_signature_bands_lookup", table_name="signature_bands")
    op.create_index("ix_signature_bands_lookup", "signature_bands", ["band_hash", "complaint_id"])


def downgrade() -> None:
    op.drop_index("ix_signature_bands_lookup", table_name="signature_bands")
    op.create_index("ix_signature_bands_lookup", "signature_bands", ["band_hash", "band"])
