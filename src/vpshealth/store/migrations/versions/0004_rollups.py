"""rollups: 1-minute and 1-hour min/avg/max history and its progress

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollups",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("start_ts", sa.Integer(), nullable=False),
        sa.Column("end_ts", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("series_id", "resolution", "start_ts"),
    )
    op.create_table(
        "rollup_progress",
        sa.Column("resolution", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("done_until", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("resolution"),
    )


def downgrade() -> None:
    op.drop_table("rollup_progress")
    op.drop_table("rollups")
