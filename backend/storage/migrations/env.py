"""Alembic's entry: runs on the connection `schema.py` hands it (inside its transaction,
under the migration lock), or, from the `alembic` command, on HEIMDALL_DATABASE_URL or
the SQLite file in HEIMDALL_DATABASE_PATH."""

import os

import sqlalchemy
from alembic import context

from backend.storage.schema import sqlalchemy_url

connection = context.config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
else:
    url = os.environ.get("HEIMDALL_DATABASE_URL") or f"sqlite:///{os.environ.get('HEIMDALL_DATABASE_PATH', 'data/heimdall.db')}"
    engine = sqlalchemy.create_engine(sqlalchemy_url(url), poolclass=sqlalchemy.pool.NullPool)
    with engine.begin() as own:
        context.configure(connection=own, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
