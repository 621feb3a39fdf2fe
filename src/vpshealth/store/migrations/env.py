"""Alembic environment: runs on the connection handed over by ``vpshealth.store.database``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from vpshealth.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:  # developer use: `alembic -x ...` with sqlalchemy.url set in the config
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
