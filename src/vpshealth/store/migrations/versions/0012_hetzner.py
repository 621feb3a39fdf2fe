"""Hetzner Cloud: the projects connected (their tokens stay in the secret store) and the
Hetzner server each imported host is

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hetzner_projects",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("token_ref", sa.String(), nullable=False),
        sa.Column("api_endpoint", sa.String(), nullable=True),
        sa.Column("created_at", sa.Integer(), nullable=False),
    )
    # plain ADD COLUMN: a batch copy of hosts would drop the old table, and with it (ON DELETE
    # CASCADE) every host's history
    op.add_column("hosts", sa.Column("hetzner_project", sa.String(), nullable=True))
    op.add_column("hosts", sa.Column("hetzner_server_id", sa.Integer(), nullable=True))
    op.create_index(
        "ix_hosts_hetzner_server", "hosts", ["hetzner_project", "hetzner_server_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_hosts_hetzner_server", "hosts")
    op.drop_column("hosts", "hetzner_server_id")
    op.drop_column("hosts", "hetzner_project")
    op.drop_table("hetzner_projects")
