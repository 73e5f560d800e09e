"""merged notes without numbers: a merged filing's public note no longer names the filing
it was merged into

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The texts as they were written (cases.merge), frozen here: a migration must not change
# with the code.
OLD_NOTE = "与受理编号%为同一事项，合并办理"
NEW_NOTE = "已与反映同一事项的另一件登记合并，由承办部门一并办理"


def upgrade() -> None:
    # The old note named the survivor's tracking number on the duplicate's public tracking
    # page: another citizen's key to their page and their one rating. The number stays in
    # the event's staff-only payload. History is otherwise never rewritten; this redaction
    # is done the way retention redacts personal data, in place.
    op.execute(
        sa.text(
            "UPDATE complaint_events SET public_note = :new "
            "WHERE to_status = 'merged' AND public_note LIKE :old"
        ).bindparams(new=NEW_NOTE, old=OLD_NOTE)
    )


def downgrade() -> None:
    # Nothing to undo: putting another citizen's number back on a public page is no
    # earlier state worth restoring, and the code before 0015 reads either note.
    pass
