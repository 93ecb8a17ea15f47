"""The index outbox: ids of records whose searchable form changed, written in the same
transaction as the change itself, so a crash between the store's commit and the index update
loses nothing (the index applies and clears them)."""

from __future__ import annotations

from collections.abc import Iterable

from .database import Database


class Outbox:
    def __init__(self, db: Database):
        self.db = db

    def enqueue(self, ids: Iterable[str]) -> None:
        ids = sorted(set(ids))
        if ids:
            self.db.execute(
                "INSERT INTO index_queue (record_id) VALUES (:r)", [{"r": i} for i in ids]
            )

    def pending(self, limit: int = 100_000) -> tuple[int, list[str]]:
        """(highest queue seq, distinct record ids) waiting to be applied to the index."""
        rows = self.db.rows("SELECT seq, record_id FROM index_queue ORDER BY seq LIMIT :n", n=limit)
        if not rows:
            return 0, []
        return rows[-1]["seq"], list(dict.fromkeys(r["record_id"] for r in rows))

    def head(self) -> int:
        return self.db.scalar("SELECT COALESCE(MAX(seq), 0) FROM index_queue")

    def clear(self, upto_seq: int) -> None:
        self.db.execute("DELETE FROM index_queue WHERE seq <= :s", {"s": upto_seq})


__all__ = ["Outbox"]
