"""notification_deliveries: one delivery state per notification and channel, replacing
notifications.email_state (copied as channel "email")

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The states move through a plain table (_moving_email_states): rebuilding ``notifications``
# in batch mode drops the old table, which with foreign keys on would delete the deliveries
# that reference it.


def upgrade() -> None:
    op.execute(
        "CREATE TABLE _moving_email_states AS SELECT id, email_state, outbox_id FROM notifications"
    )
    with op.batch_alter_table(
        "notifications", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index("ix_notifications_email_state")
        batch_op.drop_column("outbox_id")
        batch_op.drop_column("email_state")
    op.create_table(
        "notification_deliveries",
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("channel", "notification_id"),
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_deliveries_notification", ["notification_id"], unique=False
        )
        batch_op.create_index(
            "ix_notification_deliveries_state", ["channel", "state"], unique=False
        )
    op.execute(
        "INSERT INTO notification_deliveries (channel, notification_id, state, outbox_id) "
        "SELECT 'email', id, email_state, outbox_id FROM _moving_email_states"
    )
    op.drop_table("_moving_email_states")


def downgrade() -> None:
    op.execute(
        "CREATE TABLE _moving_email_states AS SELECT notification_id AS id, state AS email_state, "
        "outbox_id FROM notification_deliveries WHERE channel = 'email'"
    )
    op.drop_table("notification_deliveries")
    with op.batch_alter_table(
        "notifications", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("email_state", sa.String(), nullable=False, server_default="skipped")
        )
        batch_op.add_column(sa.Column("outbox_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_notifications_outbox", "outbox", ["outbox_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(
            "ix_notifications_email_state", ["email_state", "created_at"], unique=False
        )
    op.execute(
        "UPDATE notifications SET (email_state, outbox_id) = (SELECT email_state, outbox_id "
        "FROM _moving_email_states m WHERE m.id = notifications.id) "
        "WHERE id IN (SELECT id FROM _moving_email_states)"
    )
    op.drop_table("_moving_email_states")
