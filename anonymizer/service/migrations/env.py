"""Alembic's environment: migrations run on the connection database.migrate passes."""

from alembic import context

from anonymizer.service.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through anonymizer.service.database.migrate")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
