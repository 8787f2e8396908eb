"""Alembic environment: migrations run on a connection handed over by ``biotoets.api.store.db.upgrade``."""

from __future__ import annotations

from alembic import context

from biotoets.api.store.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'biotoets db upgrade' (biotoets.api.store.db.upgrade)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
