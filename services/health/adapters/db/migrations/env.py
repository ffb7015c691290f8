"""Alembic environment of the health service: runs on the connection upgrade_to_head hands in."""

from __future__ import annotations

from alembic import context

VERSION_TABLE = "health_alembic_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
