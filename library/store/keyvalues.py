"""Values the library keeps in its database (e.g. the learned topic model), by key. Not the
home's settings.json (``library.settings``)."""

from __future__ import annotations

from .database import Database


class StoredValues:
    def __init__(self, db: Database):
        self.db = db

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.one("SELECT value FROM settings WHERE key = :k", k=key)
        return row["value"] if row else default

    def set(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (:k, :v) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            {"k": key, "v": value},
        )

    def setdefault(self, key: str, value: str) -> str:
        """The stored value of ``key``, storing ``value`` first if there is none. Atomic across
        processes and nodes: the first writer wins and everybody reads its value."""
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (:k, :v) ON CONFLICT(key) DO NOTHING",
            {"k": key, "v": value},
        )
        return self.get(key, value)


__all__ = ["StoredValues"]
