"""Alembic's environment for the store. ``library.migrations.upgrade`` runs it on a connection
it has already locked (``config.attributes["connection"]``); the ``alembic`` command line runs
it on a URL (``-x url=sqlite:///path/library.sqlite3``), or prints the SQL (``--sql``).

No ``target_metadata``: the store is written in SQL, not with ORM models, so revisions are
written by hand (``alembic -c library/migrations/alembic.ini revision -m "what"``; name the
new revision id with the next schema number, see versions/0005_baseline.py). Keep them free of
SQLite-only SQL where the operation allows (``op.*`` and SQLAlchemy types; use
``op.batch_alter_table`` for what SQLite's ALTER TABLE cannot do): the PostgreSQL store runs
the same revisions.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def _options() -> dict:
    # batch mode: SQLite rebuilds a table for changes its ALTER TABLE lacks (a no-op
    # elsewhere); DDL runs inside the caller's transaction on both databases
    return {"render_as_batch": True, "transactional_ddl": True, "target_metadata": None}


def run_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    context.configure(url=url, literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("给出数据库：alembic -x url=sqlite:///路径/library.sqlite3 …")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
