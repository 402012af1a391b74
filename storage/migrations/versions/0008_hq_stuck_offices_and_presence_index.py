"""head office: an office whose event cannot be applied is marked stuck; presence by (office, id)

``hq_offices.stuck_*``: the office's event HQ's ingest could not apply (``storage.hq.mark_stuck``),
shown on HQ's live page. ``ix_presence_office_id``: an office's newest presence row
(``storage.presence.last_id``, ``storage.hq.presence_marks``) without scanning its rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hq_offices") as batch:
        batch.add_column(sa.Column("stuck_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("stuck_since", sa.Float(), nullable=True))
        batch.add_column(sa.Column("stuck_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("presence") as batch:
        batch.create_index("ix_presence_office_id", ["office", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("presence") as batch:
        batch.drop_index("ix_presence_office_id")
    with op.batch_alter_table("hq_offices") as batch:
        batch.drop_column("stuck_reason")
        batch.drop_column("stuck_since")
        batch.drop_column("stuck_seq")
