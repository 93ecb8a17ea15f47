"""The audit log: who did what to which document, quote, draft or account, and when."""

from __future__ import annotations

import json
import time

from .database import Database


class AuditLog:
    def __init__(self, db: Database):
        self.db = db

    def _target_name(self, target: str | None) -> str | None:
        """What a document or quote target is called now: its title, or its text."""
        kind, _, ident = (target or "").partition(":")
        if not ident.isdigit() or kind not in ("document", "quote"):
            return None
        sql = (
            "SELECT title FROM documents WHERE id = :i"
            if kind == "document"
            else "SELECT text FROM quotes WHERE id = :i"
        )
        return self.db.scalar(sql, i=int(ident))

    def write(
        self,
        actor: str,
        action: str,
        target: str | None,
        detail: dict | None = None,
        *,
        at: float | None = None,
    ) -> None:
        """One audit row, in the unit of work of the change it records. A row about a document
        or a quote keeps what it was called when the row was written (``detail["_name"]``: the
        title, or the quote's text), so that the log still names it after a rename or a purge."""
        detail = dict(detail or {})
        with self.db.transaction():
            if "_name" not in detail:
                name = self._target_name(target)
                if name:
                    detail["_name"] = name
            self.db.execute(
                "INSERT INTO audit_log (at, actor, action, target, detail) "
                "VALUES (:at, :actor, :action, :target, :detail)",
                {
                    "at": time.time() if at is None else at,
                    "actor": actor,
                    "action": action,
                    "target": target,
                    "detail": json.dumps(detail, ensure_ascii=False),
                },
            )

    def recent(self, limit: int = 100) -> list[dict]:
        rows = self.db.rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT :n", n=limit)
        for r in rows:
            r["detail"] = json.loads(r["detail"])
        return rows


__all__ = ["AuditLog"]
