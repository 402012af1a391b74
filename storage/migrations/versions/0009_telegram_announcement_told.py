"""the visitor's phone: which announcement each Telegram chat was told

``ticket_links.notified_notice_at``: the ``at`` of the announcement last told to the link's
chat (``storage.ticket_links.mark_notice``), so the hub's Telegram notifier tells the current
announcement once to every linked chat, across hub restarts and Telegram outages.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_links") as batch:
        batch.add_column(sa.Column("notified_notice_at", storage.models.EpochTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket_links") as batch:
        batch.drop_column("notified_notice_at")
