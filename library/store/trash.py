"""The trash: moving documents in and out of it, and the tombstones of what was purged.

Purged ids are never given out again (AUTOINCREMENT), and each leaves a tombstone
(``"document:12"``, ``"passage:34"``, ``"quote:56"`` with what it was called), so that a link
to it can say it was purged instead of showing something else or nothing."""

from __future__ import annotations

from collections.abc import Iterable

from .database import Database


class TrashRepository:
    def __init__(self, db: Database):
        self.db = db

    def bury(self, graves: list[tuple[str, str | None]], *, at: float, actor: str) -> None:
        """Tombstones for purged records: (record, what it was called)."""
        if graves:
            self.db.execute(
                "INSERT INTO tombstones (record, title, at, actor) VALUES (:r, :t, :at, :a)",
                [{"r": r, "t": t, "at": at, "a": actor} for r, t in graves],
            )

    def tombstones(self, records: Iterable[str]) -> dict[str, dict]:
        """The purged among ``records``: record → {record, title, at, actor} of its latest
        purge."""
        records = sorted(set(records))
        out: dict[str, dict] = {}
        for i in range(0, len(records), 500):
            chunk = records[i : i + 500]
            marks = ",".join(f":r{n}" for n in range(len(chunk)))
            for r in self.db.rows(
                f"SELECT record, title, at, actor FROM tombstones "
                f"WHERE record IN ({marks}) ORDER BY at, id",
                **{f"r{n}": x for n, x in enumerate(chunk)},
            ):
                out[r["record"]] = r
        return out

    def tombstone(self, record: str) -> dict | None:
        return self.tombstones([record]).get(record)


__all__ = ["TrashRepository"]
