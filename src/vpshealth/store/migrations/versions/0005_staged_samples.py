"""staged_samples: the newest samples in time order, moved to their series every few minutes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staged_samples",
        sa.Column("ts", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ts", "series_id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.execute(
        "INSERT INTO samples (series_id, ts, value) SELECT series_id, ts, value "
        "FROM staged_samples WHERE true ON CONFLICT (series_id, ts) DO NOTHING"
    )
    op.drop_table("staged_samples")
