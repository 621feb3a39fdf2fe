"""containers and incidents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "containers",
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("container_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("image", sa.String(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("health", sa.String(), nullable=False),
        sa.Column("failing_streak", sa.Integer(), nullable=False),
        sa.Column("restart_count", sa.Integer(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("oom_killed", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.Integer(), nullable=True),
        sa.Column("group_kind", sa.String(), nullable=False),
        sa.Column("project", sa.String(), nullable=True),
        sa.Column("environment", sa.String(), nullable=True),
        sa.Column("resource", sa.String(), nullable=True),
        sa.Column("service", sa.String(), nullable=True),
        sa.Column("infrastructure", sa.Boolean(), nullable=False),
        sa.Column("ports", sa.Text(), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=True),
        sa.Column("memory_bytes", sa.Integer(), nullable=True),
        sa.Column("memory_limit_bytes", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("host_id", "container_id"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("container_id", sa.String(), nullable=False),
        sa.Column("container_name", sa.String(), nullable=False),
        sa.Column("app", sa.String(), nullable=True),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("opened_at", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_host_opened", ["host_id", "opened_at"], unique=False)
        batch_op.create_index(
            "uq_incidents_open",
            ["host_id", "kind", "subject"],
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
        )

    op.add_column(
        "hosts",
        sa.Column(
            "docker_socket", sa.String(), server_default="/var/run/docker.sock", nullable=False
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("docker_socket")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("uq_incidents_open", sqlite_where=sa.text("resolved_at IS NULL"))
        batch_op.drop_index("ix_incidents_host_opened")

    op.drop_table("incidents")
    op.drop_table("containers")
