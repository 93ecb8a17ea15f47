"""Consistency of the store itself (``lecturelib check``)."""

from __future__ import annotations

import json

from .database import Database
from .mediafiles import referenced as media_referenced


class Consistency:
    def __init__(self, db: Database):
        self.db = db

    def referenced_originals(self) -> set[str]:
        """Hashes of every file a version or a draft needs (a media version: also its poster
        frame and its transcript file)."""
        shas = {
            r["sha256"]
            for r in self.db.rows("SELECT sha256 FROM versions UNION SELECT sha256 FROM drafts")
        }
        for r in self.db.rows("SELECT media FROM versions WHERE media IS NOT NULL"):
            media = json.loads(r["media"])
            shas |= {media[k] for k in ("poster", "transcript_sha256") if media.get(k)}
        return shas

    def referenced_media(self) -> dict[str, str]:
        """The recordings (视频/音频) a version needs: sha256 → its document's title. They are
        among :meth:`referenced_originals` too, but kept apart (``MediaFiles``)."""
        with self.db.reading() as conn:
            return media_referenced(conn)[0]

    def problems(self) -> list[str]:
        """Problems inside the store itself (Chinese, one line each)."""
        problems = []
        if not self.db.postgres:  # PostgreSQL checks its pages itself (and its WAL)
            res = self.db.scalar("PRAGMA integrity_check")
            if res != "ok":
                problems.append(f"数据库完整性检查未通过：{res}")
        for r in self.db.rows(
            "SELECT id, title FROM documents WHERE current_version_id IS NULL "
            "OR current_version_id NOT IN (SELECT id FROM versions) ORDER BY id"
        ):
            problems.append(f"材料 {r['id']}《{r['title']}》没有有效的版本。")
        return problems


__all__ = ["Consistency"]
