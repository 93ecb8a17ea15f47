"""Reading the audit log: each row with the current name of the document or quote it is
about, and whether that record was purged since the row was written."""

from __future__ import annotations

from dataclasses import dataclass

from library.errors import NotFoundError


@dataclass
class AuditEntry:
    row: dict  # the stored row, its detail without the kept name
    kind: str  # "document", "quote", … (the target's prefix) or ""
    ident: str  # the target's id, or ""
    name: str | None  # what the target is called (when written, now, or when purged)
    purged: bool  # the target was purged after this row was written
    exists: bool  # the target is still in the library (a link can point at it)


def _current_names(store, rows) -> dict[str, str]:
    """What the documents and quotes the rows point at are called now, where they still exist
    (rows written before titles were kept in the detail fall back on it)."""
    names: dict[str, str] = {}
    for r in rows:
        target = r.get("target") or ""
        kind, _, ident = target.partition(":")
        if target in names or kind not in ("document", "quote") or not ident.isdigit():
            continue
        try:
            if kind == "document":
                names[target] = store.get_document_row(int(ident))["title"]
            else:
                names[target] = store.get_quote_row(int(ident))["text"]
        except NotFoundError:
            continue
    return names


def entries(store, limit: int = 300) -> list[AuditEntry]:
    """The newest ``limit`` rows. Each row names its document or quote as it was called when
    the row was written (``detail["_name"]``); a row about something purged since says so
    (before ids were kept forever, a purged id could be given to another document: a row
    older than the purge is about the purged one)."""
    rows = store.audit_log(limit=limit)
    current = _current_names(store, rows)
    graves = store.tombstones(
        r["target"] for r in rows if (r.get("target") or "").startswith(("document:", "quote:"))
    )
    out = []
    for r in rows:
        target = r.get("target") or ""
        kind, _, ident = target.partition(":")
        detail = dict(r["detail"]) if isinstance(r.get("detail"), dict) else {}
        kept = detail.pop("_name", None)
        grave = graves.get(target)
        purged = grave is not None and r["at"] <= grave["at"]
        name = kept or (grave.get("title") if purged else current.get(target))
        out.append(
            AuditEntry(
                dict(r, detail=detail), kind, ident, name, purged, target in current and not purged
            )
        )
    return out


__all__ = ["AuditEntry", "entries"]
