"""closed office days rolled up for the reports (issue 12, fast cold reports)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leg_rollups",
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("part", sa.String(length=10), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.Float(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("office", "day", "part"),
    )
    with op.batch_alter_table("leg_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_leg_rollups_office_start", ["office", "start_s"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leg_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_leg_rollups_office_start")
    op.drop_table("leg_rollups")
