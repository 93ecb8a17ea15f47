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

The SQL is portable: it runs on SQLite (the embedded library) and on PostgreSQL (several nodes,
one database). What differs is said here once: :meth:`Database.insert` returns the new row's id
(``RETURNING``), :meth:`Database.contains` is ``instr`` or ``strpos``, and :meth:`Database.retry`
runs a unit of work again when PostgreSQL reports a conflict with another node's concurrent
transaction (a serialization failure, a deadlock, or a unique key another writer took first:
the second attempt sees that writer's row).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

# PostgreSQL errors a unit of work may be run again after: another transaction won a race
# (serialization_failure, deadlock_detected, unique_violation)
RETRY_STATES = frozenset({"40001", "40P01", "23505"})
RETRIES = 8


def conflict(e: BaseException) -> bool:
    """Whether ``e`` is PostgreSQL telling us another transaction won a race."""
    orig = getattr(e, "orig", None)
    return isinstance(e, DBAPIError) and getattr(orig, "sqlstate", None) in RETRY_STATES


class Database:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._local = threading.local()

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

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

    def retry(self, work: Callable[[], T], *, attempts: int = RETRIES) -> T:
        """Run ``work`` (which opens its own unit of work) and, on PostgreSQL, run it again
        when it lost a race with another node's transaction (see ``RETRY_STATES``). Inside an
        open unit of work it runs once: the outermost caller retries the whole of it."""
        if not self.postgres or self.current is not None:
            return work()
        for n in range(attempts):
            try:
                return work()
            except DBAPIError as e:
                if not conflict(e) or n == attempts - 1:
                    raise
                time.sleep(random.uniform(0.005, 0.05) * (n + 1))
        raise AssertionError("unreachable")

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

    def insert(self, sql: str, params: dict, *, key: str = "id") -> int:
        """Run one ``INSERT`` and return the new row's ``key`` (``RETURNING``: SQLite ≥ 3.35
        and PostgreSQL; ids come from AUTOINCREMENT or a sequence, never reused)."""
        with self.transaction() as conn:
            return conn.execute(text(f"{sql} RETURNING {key}"), params).scalar_one()

    def contains(self, column: str, param: str) -> str:
        """SQL condition: ``column`` holds the text of the bound parameter ``param``."""
        fn = "strpos" if self.postgres else "instr"
        return f"{fn}({column}, :{param}) > 0"

    def lock(self, *keys: str) -> None:
        """Inside a unit of work on PostgreSQL: wait until no other transaction holds any of
        ``keys`` (advisory locks, released at commit). SQLite has one writer anyway."""
        if not self.postgres:
            return
        for k in sorted(set(keys)):
            self.execute("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))", {"k": k})


def retried(method: Callable[..., T]) -> Callable[..., T]:
    """A repository or facade method that is one unit of work, run again on a PostgreSQL
    conflict (``Database.retry``; the object has a ``db``)."""
    import functools

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        return self.db.retry(lambda: method(self, *args, **kwargs))

    return run


__all__ = ["Database", "conflict", "retried", "RETRY_STATES"]
