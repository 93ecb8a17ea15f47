"""Upload drafts: an uploaded file and what was extracted from it, kept until the editor
publishes or discards it (the preview before publishing)."""

from __future__ import annotations

import json
import time

from ..errors import NotFoundError
from ..originals import Originals
from .database import Database


class DraftRepository:
    def __init__(self, db: Database, originals: Originals):
        self.db = db
        self.originals = originals

    def save(self, actor: str, filename: str, sha: str, data: bytes, payload: dict) -> int:
        """Keep a draft; the bytes go to the originals folder (content-addressed)."""
        self.originals.put(data, sha)
        return self.db.insert(
            "INSERT INTO drafts (actor, created_at, filename, sha256, payload) "
            "VALUES (:a, :t, :f, :s, :p)",
            {
                "a": actor,
                "t": time.time(),
                "f": filename,
                "s": sha,
                "p": json.dumps(payload, ensure_ascii=False),
            },
        )

    def get(self, draft_id: int) -> dict:
        row = self.db.one("SELECT * FROM drafts WHERE id = :i", i=draft_id)
        if row is None:
            raise NotFoundError("找不到这份待发布的上传。", "它可能已发布或已放弃，请重新上传。")
        row["payload"] = json.loads(row["payload"])
        return row

    def list(self, actor: str | None = None) -> list[dict]:
        sql = "SELECT id, actor, created_at, filename, sha256 FROM drafts"
        if actor:
            return self.db.rows(sql + " WHERE actor = :a ORDER BY id DESC", a=actor)
        return self.db.rows(sql + " ORDER BY id DESC")

    def delete(self, draft_id: int) -> None:
        """Forget a draft, and its file when no version or other draft uses it."""
        row = self.get(draft_id)
        self.db.execute("DELETE FROM drafts WHERE id = :i", {"i": draft_id})
        still_used = self.db.one(
            "SELECT 1 AS x FROM versions WHERE sha256 = :s UNION ALL "
            "SELECT 1 FROM drafts WHERE sha256 = :s",
            s=row["sha256"],
        )
        if not still_used:
            self.originals.remove(row["sha256"])


__all__ = ["DraftRepository"]
