"""disclosure inputs per year and paper CSAT questionnaires per half-year (issue 12)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:10:00.000000
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_inputs",
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=True),
        sa.Column("complaints", sa.Integer(), nullable=True),
        sa.Column("measures", sa.String(), nullable=False),
        sa.Column("remote_channels", sa.String(), nullable=False),
        sa.Column("saved_at", storage.models.EpochTime(), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("office", "year"),
    )
    op.create_table(
        "csat_paper",
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("half", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("office", "year", "half", "score"),
    )


def downgrade() -> None:
    op.drop_table("csat_paper")
    op.drop_table("disclosure_inputs")
