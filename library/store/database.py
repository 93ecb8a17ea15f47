"""The unit of work the store's repositories share: one connection, one transaction.

``Database.transaction()`` opens a transaction on this thread, or joins the one already open
there, so a use case that writes through several repositories (a new file touches documents,
quotes, topics, the audit log and the index outbox) commits or rolls back as one::

    with store.db.transaction():
        store.documents.update(...)
        store.audit_trail.write(...)
        store.outbox.enqueue(...)

Reads (``rows``, ``one``) run on the open transaction when there is one (they see its
uncommitted writes), else on a connection of their own. The transaction belongs to the thread
that opened it: the web app shares one store between its threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine


class Database:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._local = threading.local()

    @property
    def current(self) -> Connection | None:
        """The connection of the transaction open on this thread, if any."""
        return getattr(self._local, "conn", None)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Open a transaction (committed when the block ends, rolled back if it raises), or
        join the one open on this thread (then the outermost block commits)."""
        conn = self.current
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        conn = self.current
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as conn:
            yield conn

    def rows(self, sql: str, **params) -> list[dict]:
        with self.reading() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]

    def one(self, sql: str, **params) -> dict | None:
        rows = self.rows(sql, **params)
        return rows[0] if rows else None

    def scalar(self, sql: str, **params):
        with self.reading() as conn:
            return conn.execute(text(sql), params).scalar()

    def execute(self, sql: str, params: dict | list[dict] | None = None):
        """Run a write inside the unit of work (its own transaction when none is open)."""
        with self.transaction() as conn:
            return conn.execute(text(sql), params if params is not None else {})


__all__ = ["Database"]
