"""ticket links for the visitor's phone, and small per-office values (issue 14)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_links",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("created_at", storage.models.EpochTime(), nullable=False),
        sa.Column("ended_at", storage.models.EpochTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("notified_ahead", sa.Boolean(), nullable=False),
        sa.Column("notified_call_seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("token"),
        sa.UniqueConstraint("office", "day", "number", name="uq_ticket_link_per_ticket"),
    )
    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_links_office_chat", ["office", "chat_id"], unique=False)
    op.create_table(
        "office_values",
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("at", storage.models.EpochTime(), nullable=False),
        sa.PrimaryKeyConstraint("office", "name"),
    )


def downgrade() -> None:
    op.drop_table("office_values")
    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_links_office_chat")
    op.drop_table("ticket_links")
