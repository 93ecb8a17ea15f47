"""Consistency of the store itself (``lecturelib check``)."""

from __future__ import annotations

from .database import Database


class Consistency:
    def __init__(self, db: Database):
        self.db = db

    def referenced_originals(self) -> set[str]:
        """Hashes of every file a version or a draft needs."""
        return {
            r["sha256"]
            for r in self.db.rows("SELECT sha256 FROM versions UNION SELECT sha256 FROM drafts")
        }

    def problems(self) -> list[str]:
        """Problems inside the store itself (Chinese, one line each)."""
        problems = []
        with self.db.reading() as conn:
            res = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if res != "ok":
                problems.append(f"数据库完整性检查未通过：{res}")
            for r in conn.exec_driver_sql(
                "SELECT id, title FROM documents WHERE current_version_id IS NULL "
                "OR current_version_id NOT IN (SELECT id FROM versions)"
            ):
                problems.append(f"材料 {r[0]}《{r[1]}》没有有效的版本。")
        return problems


__all__ = ["Consistency"]
