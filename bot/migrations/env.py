"""Alembic environment. Every feature keeps its own branch of revisions (``branch_labels``),
so ``upgrade heads`` brings all of them up; the connection comes from :mod:`bot.migrate`."""

from __future__ import annotations

from alembic import context

from bot.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic is run by hand without our CLI
    raise RuntimeError("run migrations with `reconnect db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=config.attributes.get("include_object"),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
