"""head office: the offices whose events it gathers and their configuration versions (issue 15)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 07:35:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hq_offices",
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("branch", sa.String(length=100), nullable=True),
        sa.Column("first_seen", sa.Float(), nullable=True),
        sa.Column("last_seen", sa.Float(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("office"),
    )
    op.create_table(
        "hq_configs",
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Float(), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("office", "version"),
    )


def downgrade() -> None:
    op.drop_table("hq_configs")
    op.drop_table("hq_offices")
