"""The store: documents, versions, passages, quotes and their occurrences, topics, audiences,
audit log. It is the source of truth; the search index is derived from :meth:`Store.records`.

Every mutating method runs in one transaction and returns the set of record ids (``"q:12"``,
``"p:34"``) whose searchable form may have changed, so the caller can bring the index up to date:
ids that :meth:`records` still returns are upserts, the others are deletes.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import text

from .content import AUDIENCES, KINDS, Structured, clean_text, safe_filename
from .db import connect, migrate
from .errors import NotFoundError, StoreError, UsageError
from .home import Home
from .originals import Originals


@dataclass
class IngestItem:
    """Everything the pipeline learned about one new file, ready to be stored."""

    data: bytes
    sha256: str
    filename: str
    format: str
    structured: Structured
    title_key: str                          # normalized title, for version matching
    quote_keys: list[str]                   # normalized text per structured quote (dedup key)
    status: str = "ok"                      # ok | warning | needs_ocr
    warnings: list[str] = field(default_factory=list)
    pages: int | None = None
    chars: int = 0
    doc_topics: list[tuple[str, float]] = field(default_factory=list)
    topics_manual: bool = False
    quote_topics: list[list[tuple[str, float]]] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)


# Topic membership, one rule for every count and every list (topic page, home tile, search
# facets and filters, CLI, topic packs): a document or quote belongs to a topic when an editor
# chose it, when it is its best-scoring suggestion, or when a further suggestion scores at least
# SECONDARY_TOPIC_MIN (a report that is 16 % about ecology is not an ecology document).
SECONDARY_TOPIC_MIN = 0.30


def member_sql(table: str, col: str, alias: str = "t") -> str:
    """SQL condition on ``alias`` (a row of document_topics or quote_topics): the row makes its
    document/quote a member of the row's topic (see SECONDARY_TOPIC_MIN)."""
    return (f"({alias}.origin = 'manual' OR {alias}.score >= {SECONDARY_TOPIC_MIN} OR "
            f"{alias}.score >= (SELECT MAX(m.score) FROM {table} m WHERE m.{col} = {alias}.{col}))")


@dataclass
class Stored:
    document_id: int
    version_id: int
    version_number: int
    new_document: bool
    touched: set[str]


_PLAIN_DROP = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    """Text without punctuation and white space (for finding a quotation in a passage)."""
    return _PLAIN_DROP.sub("", text or "")


def _clean_item(item: "IngestItem") -> None:
    """Every text of an item to store, cleaned (``library.content.clean_text``), and its file
    name made safe (``safe_filename``), whether it comes from ingest, the editor or a pack."""
    s = item.structured
    s.title = clean_text(s.title) or ""
    s.source = clean_text(getattr(s, "source", None))
    for q in s.quotes:
        for f in ("text", "source", "date", "speaker", "theme", "note"):
            setattr(q, f, clean_text(getattr(q, f)))
    for p in s.passages:
        p.text = clean_text(p.text) or ""
        p.question = clean_text(p.question)
        p.heading_path = [clean_text(h) or "" for h in p.heading_path]
    s.headings = [(lvl, clean_text(t) or "", pg) for lvl, t, pg in s.headings]
    item.filename = safe_filename(item.filename)
    item.warnings = [clean_text(w) or "" for w in item.warnings]


def _now() -> float:
    return time.time()


def _year(date: str | None) -> int | None:
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


class Store:
    def __init__(self, home: Home):
        self.home = home
        self.engine = connect(home.db_path)
        migrate(self.engine)
        self.originals = Originals(home.originals_path)

    @classmethod
    def open(cls, home: str | Path | Home | None = None) -> "Store":
        return cls(home if isinstance(home, Home) else Home.open(home))

    def close(self) -> None:
        self.engine.dispose()

    # -- small helpers ---------------------------------------------------------------------

    def _rows(self, sql: str, **params) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]

    def _one(self, sql: str, **params) -> dict | None:
        rows = self._rows(sql, **params)
        return rows[0] if rows else None

    @staticmethod
    def _enqueue(conn, ids: set[str]) -> None:
        """The index outbox: ids written in the same transaction as the change itself, so a
        crash between the store commit and the index update loses nothing (see drain_index)."""
        if ids:
            conn.execute(text("INSERT INTO index_queue (record_id) VALUES (:r)"),
                         [{"r": i} for i in sorted(ids)])

    @staticmethod
    def _target_name(conn, target: str | None) -> str | None:
        """What a document or quote target is called now: its title, or its text."""
        kind, _, ident = (target or "").partition(":")
        if not ident.isdigit() or kind not in ("document", "quote"):
            return None
        sql = ("SELECT title FROM documents WHERE id = :i" if kind == "document"
               else "SELECT text FROM quotes WHERE id = :i")
        return conn.execute(text(sql), {"i": int(ident)}).scalar()

    @classmethod
    def _audit(cls, conn, actor: str, action: str, target: str | None, detail: dict, *,
               at: float | None = None) -> None:
        """One audit row. A row about a document or a quote keeps what it was called when the
        row was written (``detail["_name"]``: the title, or the quote's text), so that the log
        still names it after a rename or a purge."""
        detail = dict(detail)
        if "_name" not in detail:
            name = cls._target_name(conn, target)
            if name:
                detail["_name"] = name
        conn.execute(text("INSERT INTO audit_log (at, actor, action, target, detail) "
                          "VALUES (:at, :actor, :action, :target, :detail)"),
                     {"at": _now() if at is None else at, "actor": actor, "action": action,
                      "target": target, "detail": json.dumps(detail, ensure_ascii=False)})

    # -- lookups used by ingest ------------------------------------------------------------

    def version_by_sha(self, sha: str) -> dict | None:
        return self._one(
            "SELECT v.id AS version_id, v.number, v.document_id, d.title, d.status, d.kind "
            "FROM versions v JOIN documents d ON d.id = v.document_id WHERE v.sha256 = :s", s=sha)

    def document_by_title_key(self, key: str) -> dict | None:
        return self._one("SELECT * FROM documents WHERE title_key = :k AND status = 'active' "
                         "ORDER BY id LIMIT 1", k=key)

    def quotes_by_keys(self, keys: Iterable[str]) -> dict[str, dict]:
        """Stored quotes by their de-duplication key (text_key → row): what a new file's
        quotes will be merged into, with the 出处, date and speaker editors may have corrected."""
        keys = sorted({k for k in keys if k})
        out: dict[str, dict] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join(f":k{n}" for n in range(len(chunk)))
            for r in self._rows(f"SELECT * FROM quotes WHERE text_key IN ({marks})",
                                **{f"k{n}": k for n, k in enumerate(chunk)}):
                out[r["text_key"]] = r
        return out

    # -- ingest ----------------------------------------------------------------------------

    def store_file(self, item: IngestItem, *, actor: str = "cli") -> Stored:
        """Store a new file: a new document, or a new version of the active document with the
        same title. Atomic: either everything is stored or nothing is."""
        s = item.structured
        _clean_item(item)                 # the store's door: no control characters get in
        if item.structured.kind not in KINDS:
            raise UsageError(f"未知的材料类型“{s.kind}”。", "可用类型：" + "、".join(KINDS))
        bad_aud = [a for a in item.audiences if a not in AUDIENCES]
        if bad_aud:
            raise UsageError(f"未知的宣讲对象“{bad_aud[0]}”。", "可用：" + "、".join(AUDIENCES))
        # The original goes to disk first: content-addressed and idempotent, so a crash before
        # the commit below leaves at most an unreferenced file that `check --repair` removes.
        self.originals.put(item.data, item.sha256)
        now = _now()
        touched: set[str] = set()
        with self.engine.begin() as conn:
            ex = lambda sql, **p: conn.execute(text(sql), p)  # noqa: E731
            doc = ex("SELECT * FROM documents WHERE title_key = :k AND status = 'active' "
                     "ORDER BY id LIMIT 1", k=item.title_key).mappings().first()
            new_document = doc is None
            if new_document:
                doc_id = ex("INSERT INTO documents (title, title_key, kind, status, date, "
                            "source, topics_manual, created_at, updated_at) VALUES (:t, :k, "
                            ":kind, 'active', :date, :src, :tm, :now, :now)",
                            t=s.title, k=item.title_key, kind=s.kind, date=s.date,
                            src=s.source, tm=int(item.topics_manual), now=now).lastrowid
                number = 1
            else:
                doc_id = doc["id"]
                old_vid = doc["current_version_id"]
                touched |= self._version_ids(conn, old_vid)
                number = ex("SELECT COALESCE(MAX(number), 0) + 1 FROM versions "
                            "WHERE document_id = :d", d=doc_id).scalar()
                ex("UPDATE documents SET kind = :kind, date = COALESCE(:date, date), "
                   "source = COALESCE(source, :src), updated_at = :now WHERE id = :d",
                   kind=s.kind, date=s.date, src=s.source, now=now, d=doc_id)
            vid = ex("INSERT INTO versions (document_id, number, sha256, filename, format, size, "
                     "pages, chars, status, warnings, created_at) VALUES (:d, :n, :sha, :fn, "
                     ":fmt, :size, :pages, :chars, :st, :w, :now)",
                     d=doc_id, n=number, sha=item.sha256, fn=item.filename, fmt=item.format,
                     size=len(item.data), pages=item.pages, chars=item.chars, st=item.status,
                     w=json.dumps(item.warnings, ensure_ascii=False), now=now).lastrowid
            ex("UPDATE documents SET current_version_id = :v WHERE id = :d", v=vid, d=doc_id)
            if s.headings:
                conn.execute(text("INSERT INTO headings (version_id, seq, level, text, page) "
                                  "VALUES (:v, :seq, :lvl, :t, :p)"),
                             [{"v": vid, "seq": i, "lvl": lvl, "t": t, "p": p}
                              for i, (lvl, t, p) in enumerate(s.headings)])
            if s.passages:
                conn.execute(text("INSERT INTO passages (version_id, seq, kind, text, question, "
                                  "heading_path, page) VALUES (:v, :seq, :k, :t, :q, :h, :p)"),
                             [{"v": vid, "seq": p.seq, "k": p.kind, "t": p.text, "q": p.question,
                               "h": json.dumps(p.heading_path, ensure_ascii=False), "p": p.page}
                              for p in s.passages])
            # topics and audiences of the document: manual choices survive a new version
            keep_manual = (not new_document) and doc["topics_manual"] and not item.topics_manual
            if not keep_manual:
                ex("DELETE FROM document_topics WHERE document_id = :d", d=doc_id)
                origin = "manual" if item.topics_manual else "auto"
                for slug, score in item.doc_topics:
                    ex("INSERT INTO document_topics VALUES (:d, :t, :s, :o)",
                       d=doc_id, t=slug, s=score, o=origin)
                ex("UPDATE documents SET topics_manual = :m WHERE id = :d",
                   m=int(item.topics_manual), d=doc_id)
            if item.audiences or new_document:
                ex("DELETE FROM document_audiences WHERE document_id = :d", d=doc_id)
                for a in dict.fromkeys(item.audiences):
                    ex("INSERT INTO document_audiences VALUES (:d, :a)", d=doc_id, a=a)
            # quotes: one record per normalized text, one occurrence per appearance. A quotation
            # cited in running text (a handout, script, case, Q&A) that is part of a longer quote
            # is another occurrence of that quote, whichever document came first: a new cited
            # quotation joins the shortest stored quote whose key holds it (its pieces in order
            # when it leaves words out with “……”); a new quote absorbs the shorter quotations
            # only cited so far (never an editor-edited one or one with chosen topics).
            import re as _re
            import unicodedata as _ud
            min_part = 6                                  # characters of key; shorter: no linking

            def _pieces_of(text_: str) -> list[str]:
                parts = _re.split(r"…+|⋯+|\.{3,}", text_)
                return [k for k in (_re.sub(r"[\s\W_]+", "", _ud.normalize("NFKC", t).casefold())
                                    for t in parts) if k]

            def _holds(long_key: str, parts: list[str]) -> bool:
                pos = 0
                for part in parts:
                    pos = long_key.find(part, pos)
                    if pos < 0:
                        return False
                    pos += len(part)
                return True

            cited = s.kind != "quotes"
            for i, q in enumerate(s.quotes):
                key = item.quote_keys[i]
                row = ex("SELECT id, source, date, speaker, theme, note FROM quotes "
                         "WHERE text_key = :k", k=key).mappings().first()
                if row is None and cited and len(key) >= min_part:
                    parts = _pieces_of(q.text) or [key]
                    probe = max(parts, key=len)
                    for cand in ex("SELECT id, source, date, speaker, theme, note, text_key "
                                   "FROM quotes WHERE length(text_key) > :n AND "
                                   "instr(text_key, :p) > 0 ORDER BY length(text_key), id",
                                   n=len(key), p=probe).mappings():
                        if _holds(cand["text_key"], parts):
                            row = cand
                            break
                if row is None:
                    qid = ex("INSERT INTO quotes (text, text_key, source, date, speaker, theme, "
                             "note, topics_manual, created_at, updated_at) VALUES (:t, :k, :src, "
                             ":date, :sp, :th, :note, :tm, :now, :now)",
                             t=q.text, k=key, src=q.source, date=q.date, sp=q.speaker,
                             th=q.theme, note=q.note, tm=int(item.topics_manual), now=now).lastrowid
                    qt = item.quote_topics[i] if i < len(item.quote_topics) else []
                    origin = "manual" if item.topics_manual else "auto"
                    for slug, score in qt:
                        ex("INSERT OR IGNORE INTO quote_topics VALUES (:q, :t, :s, :o)",
                           q=qid, t=slug, s=score, o=origin)
                    if len(key) > min_part:
                        shorter = ex(
                            "SELECT x.id, x.text, x.text_key, x.source, x.date, x.speaker "
                            "FROM quotes x WHERE x.id != :q AND length(x.text_key) >= :m "
                            "AND length(x.text_key) < :n AND x.topics_manual = 0 "
                            "AND NOT EXISTS (SELECT 1 FROM occurrences o JOIN versions v ON "
                            "v.id = o.version_id JOIN documents d ON d.id = v.document_id "
                            "WHERE o.quote_id = x.id AND d.kind = 'quotes') "
                            "AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = "
                            "'edit_quote' AND a.target = 'quote:' || x.id)",
                            q=qid, m=min_part, n=len(key)).mappings().all()
                        for sh in shorter:
                            if not _holds(key, _pieces_of(sh["text"]) or [sh["text_key"]]):
                                continue
                            ex("UPDATE occurrences SET quote_id = :q WHERE quote_id = :old",
                               q=qid, old=sh["id"])
                            ex("UPDATE quotes SET source = COALESCE(source, :src), date = "
                               "COALESCE(date, :date), speaker = COALESCE(speaker, :sp) "
                               "WHERE id = :q", src=sh["source"], date=sh["date"],
                               sp=sh["speaker"], q=qid)
                            ex("DELETE FROM quote_topics WHERE quote_id = :old", old=sh["id"])
                            ex("DELETE FROM quotes WHERE id = :old", old=sh["id"])
                            touched.add(f"q:{sh['id']}")
                else:
                    qid = row["id"]
                    # fill what the first occurrence did not say
                    ex("UPDATE quotes SET source = COALESCE(source, :src), date = COALESCE(date, "
                       ":date), speaker = COALESCE(speaker, :sp), theme = COALESCE(theme, :th), "
                       "note = COALESCE(note, :note), updated_at = :now WHERE id = :q",
                       src=q.source, date=q.date, sp=q.speaker, th=q.theme, note=q.note,
                       now=now, q=qid)
                ex("INSERT INTO occurrences (quote_id, version_id, seq, page, theme, source, date) "
                   "VALUES (:q, :v, :seq, :p, :th, :src, :date)",
                   q=qid, v=vid, seq=q.seq, p=q.page, th=q.theme, src=q.source, date=q.date)
            touched |= self._version_ids(conn, vid)
            self._enqueue(conn, touched)
            self._audit(conn, actor, "ingest" if new_document else "new_version",
                        f"document:{doc_id}",
                        {"file": item.filename, "sha256": item.sha256, "version": number})
        return Stored(doc_id, vid, number, new_document, touched)

    @staticmethod
    def _version_ids(conn, version_id: int | None) -> set[str]:
        if version_id is None:
            return set()
        ids = {f"p:{r[0]}" for r in conn.execute(
            text("SELECT id FROM passages WHERE version_id = :v"), {"v": version_id})}
        ids |= {f"q:{r[0]}" for r in conn.execute(
            text("SELECT DISTINCT quote_id FROM occurrences WHERE version_id = :v"),
            {"v": version_id})}
        return ids

    def _document_ids(self, conn, doc_id: int) -> set[str]:
        cur = conn.execute(text("SELECT current_version_id FROM documents WHERE id = :d"),
                           {"d": doc_id}).scalar()
        return self._version_ids(conn, cur)

    # -- editing ---------------------------------------------------------------------------

    def update_document(self, doc_id: int, *, actor: str, title: str | None = None,
                        title_key: str | None = None, kind: str | None = None,
                        date: str | None = None, source: str | None = None,
                        topics: list[str] | None = None, audiences: list[str] | None = None
                        ) -> set[str]:
        self.get_document_row(doc_id)
        if kind is not None and kind not in KINDS:
            raise UsageError(f"未知的材料类型“{kind}”。", "可用类型：" + "、".join(KINDS))
        changes: dict = {}
        with self.engine.begin() as conn:
            ex = lambda sql, **p: conn.execute(text(sql), p)  # noqa: E731
            for col, val in (("title", title), ("title_key", title_key), ("kind", kind),
                             ("date", date), ("source", source)):
                if val is not None:
                    val = clean_text(val)
                    ex(f"UPDATE documents SET {col} = :v WHERE id = :d", v=val or None, d=doc_id)
                    changes[col] = val
            if topics is not None:
                ex("DELETE FROM document_topics WHERE document_id = :d", d=doc_id)
                for slug in dict.fromkeys(topics):
                    ex("INSERT INTO document_topics VALUES (:d, :t, 1.0, 'manual')",
                       d=doc_id, t=slug)
                ex("UPDATE documents SET topics_manual = 1 WHERE id = :d", d=doc_id)
                changes["topics"] = topics
            if audiences is not None:
                bad = [a for a in audiences if a not in AUDIENCES]
                if bad:
                    raise UsageError(f"未知的宣讲对象“{bad[0]}”。", "可用：" + "、".join(AUDIENCES))
                ex("DELETE FROM document_audiences WHERE document_id = :d", d=doc_id)
                for a in dict.fromkeys(audiences):
                    ex("INSERT INTO document_audiences VALUES (:d, :a)", d=doc_id, a=a)
                changes["audiences"] = audiences
            ex("UPDATE documents SET updated_at = :now WHERE id = :d", now=_now(), d=doc_id)
            changes.pop("title_key", None)        # derived from the title: not an edit of its own
            self._audit(conn, actor, "edit_document", f"document:{doc_id}", changes)
            touched = self._document_ids(conn, doc_id)
            self._enqueue(conn, touched)
            return touched

    def update_quote(self, quote_id: int, *, actor: str, text_: str | None = None,
                     source: str | None = None, date: str | None = None,
                     speaker: str | None = None, theme: str | None = None,
                     topics: list[str] | None = None) -> set[str]:
        self.get_quote_row(quote_id)
        changes: dict = {}
        with self.engine.begin() as conn:
            ex = lambda sql, **p: conn.execute(text(sql), p)  # noqa: E731
            for col, val in (("text", text_), ("source", source), ("date", date),
                             ("speaker", speaker), ("theme", theme)):
                if val is not None:
                    val = clean_text(val)
                    ex(f"UPDATE quotes SET {col} = :v WHERE id = :q", v=val or None, q=quote_id)
                    changes[col] = val
            if topics is not None:
                ex("DELETE FROM quote_topics WHERE quote_id = :q", q=quote_id)
                for slug in dict.fromkeys(topics):
                    ex("INSERT INTO quote_topics VALUES (:q, :t, 1.0, 'manual')", q=quote_id, t=slug)
                ex("UPDATE quotes SET topics_manual = 1 WHERE id = :q", q=quote_id)
                changes["topics"] = topics
            ex("UPDATE quotes SET updated_at = :now WHERE id = :q", now=_now(), q=quote_id)
            self._audit(conn, actor, "edit_quote", f"quote:{quote_id}", changes)
            self._enqueue(conn, {f"q:{quote_id}"})
        return {f"q:{quote_id}"}

    def set_status(self, doc_id: int, status: str, *, actor: str) -> set[str]:
        """Move a document to the trash (``"trashed"``) or restore it (``"active"``)."""
        if status not in ("active", "trashed"):
            raise UsageError(f"未知的状态“{status}”。")
        self.get_document_row(doc_id)
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE documents SET status = :s, updated_at = :now WHERE id = :d"),
                         {"s": status, "now": _now(), "d": doc_id})
            self._audit(conn, actor, "trash" if status == "trashed" else "restore",
                        f"document:{doc_id}", {})
            touched = self._document_ids(conn, doc_id)
            self._enqueue(conn, touched)
            return touched

    def purge(self, doc_id: int, *, actor: str) -> set[str]:
        """Delete a trashed document for good, with its versions; originals no other version
        uses are removed; quotes left with no occurrence are removed. Their ids are never
        given out again (AUTOINCREMENT), and each leaves a tombstone (``"document:12"``,
        ``"passage:34"``, ``"quote:56"`` with what it was called), so that a link to it can say
        it was purged instead of showing something else or nothing."""
        row = self.get_document_row(doc_id)
        if row["status"] != "trashed":
            raise UsageError("只能彻底删除回收站中的材料。", "请先移入回收站。")
        now = _now()
        with self.engine.begin() as conn:
            touched = set()
            shas = [r[0] for r in conn.execute(
                text("SELECT sha256 FROM versions WHERE document_id = :d"), {"d": doc_id})]
            for (vid,) in conn.execute(text("SELECT id FROM versions WHERE document_id = :d"),
                                       {"d": doc_id}).all():
                touched |= self._version_ids(conn, vid)
            graves = [{"r": f"document:{doc_id}", "t": row["title"]}]
            graves += [{"r": f"passage:{pid}", "t": row["title"]} for (pid,) in conn.execute(
                text("SELECT p.id FROM passages p JOIN versions v ON v.id = p.version_id "
                     "WHERE v.document_id = :d"), {"d": doc_id})]
            conn.execute(text("DELETE FROM documents WHERE id = :d"), {"d": doc_id})
            orphans = conn.execute(text("SELECT id, text FROM quotes WHERE id NOT IN "
                                        "(SELECT DISTINCT quote_id FROM occurrences)")).all()
            graves += [{"r": f"quote:{qid}", "t": qtext} for qid, qtext in orphans]
            conn.execute(text("DELETE FROM quotes WHERE id NOT IN "
                              "(SELECT DISTINCT quote_id FROM occurrences)"))
            conn.execute(text("INSERT INTO tombstones (record, title, at, actor) "
                              "VALUES (:r, :t, :at, :a)"),
                         [dict(g, at=now, a=actor) for g in graves])
            self._audit(conn, actor, "purge", f"document:{doc_id}",
                        {"title": row["title"], "_name": row["title"]}, at=now)
            self._enqueue(conn, touched)
        for sha in shas:
            if not self._one("SELECT 1 AS x FROM versions WHERE sha256 = :s", s=sha):
                self.originals.remove(sha)
        return touched

    def audit(self, actor: str, action: str, target: str | None = None, **detail) -> None:
        with self.engine.begin() as conn:
            self._audit(conn, actor, action, target, detail)

    def tombstones(self, records: Iterable[str]) -> dict[str, dict]:
        """The purged among ``records`` (``"document:12"``, ``"passage:34"``, ``"quote:56"``):
        record → {record, title, at, actor} of its latest purge."""
        records = sorted(set(records))
        out: dict[str, dict] = {}
        for i in range(0, len(records), 500):
            chunk = records[i:i + 500]
            marks = ",".join(f":r{n}" for n in range(len(chunk)))
            for r in self._rows(f"SELECT record, title, at, actor FROM tombstones "
                                f"WHERE record IN ({marks}) ORDER BY at, id",
                                **{f"r{n}": x for n, x in enumerate(chunk)}):
                out[r["record"]] = r
        return out

    def tombstone(self, record: str) -> dict | None:
        """The latest purge of ``record`` (see :meth:`tombstones`), or None."""
        return self.tombstones([record]).get(record)

    # -- reading ---------------------------------------------------------------------------

    def get_document_row(self, doc_id: int) -> dict:
        row = self._one("SELECT * FROM documents WHERE id = :d", d=doc_id)
        if row is None:
            raise NotFoundError(f"找不到编号为 {doc_id} 的材料。", "用 lecturelib list 查看已有材料。")
        return row

    def get_quote_row(self, quote_id: int) -> dict:
        row = self._one("SELECT * FROM quotes WHERE id = :q", q=quote_id)
        if row is None:
            raise NotFoundError(f"找不到编号为 {quote_id} 的金句。")
        return row

    def document_topics(self, doc_id: int) -> list[dict]:
        """Every topic row of a document, best first, each with ``member``: whether the document
        counts under that topic (the rule above); the others are weak suggestions."""
        return self._rows(f"SELECT topic, score, origin, {member_sql('document_topics', 'document_id')} "
                          "AS member FROM document_topics t WHERE document_id = :d "
                          "ORDER BY score DESC, topic", d=doc_id)

    def document_audiences(self, doc_id: int) -> list[str]:
        return [r["audience"] for r in self._rows(
            "SELECT audience FROM document_audiences WHERE document_id = :d ORDER BY audience",
            d=doc_id)]

    def get_document(self, doc_id: int) -> dict:
        """A document with its current version, versions, outline, passages and quotes."""
        doc = self.get_document_row(doc_id)
        doc["topics"] = self.document_topics(doc_id)
        doc["audiences"] = self.document_audiences(doc_id)
        doc["versions"] = self._rows("SELECT * FROM versions WHERE document_id = :d ORDER BY number",
                                     d=doc_id)
        for v in doc["versions"]:
            v["warnings"] = json.loads(v["warnings"] or "[]")
        vid = doc["current_version_id"]
        doc["version"] = next((v for v in doc["versions"] if v["id"] == vid), None)
        doc["headings"] = self._rows("SELECT level, text, page FROM headings WHERE version_id = :v "
                                     "ORDER BY seq", v=vid)
        doc["passages"] = self._rows("SELECT * FROM passages WHERE version_id = :v ORDER BY seq",
                                     v=vid)
        for p in doc["passages"]:
            p["heading_path"] = json.loads(p["heading_path"])
        doc["quotes"] = self._rows(
            "SELECT q.id, q.text, q.source, q.date, q.speaker, o.theme, o.page, o.seq "
            "FROM occurrences o JOIN quotes q ON q.id = o.quote_id WHERE o.version_id = :v "
            "ORDER BY o.seq", v=vid)
        return doc

    def get_quote(self, quote_id: int) -> dict:
        q = self.get_quote_row(quote_id)
        q["topics"] = self._rows("SELECT topic, score, origin FROM quote_topics WHERE quote_id = :q "
                                 "ORDER BY score DESC", q=quote_id)
        q["occurrences"] = self._rows(
            "SELECT d.id AS document_id, d.title, d.kind, d.status, v.filename, o.page, o.theme, "
            "o.source, o.date, v.id AS version_id FROM occurrences o "
            "JOIN versions v ON v.id = o.version_id "
            "JOIN documents d ON d.id = v.document_id AND d.current_version_id = v.id "
            "WHERE o.quote_id = :q AND d.status = 'active' ORDER BY d.id", q=quote_id)
        for o in q["occurrences"]:
            o["context"] = self._context_of(q["text"], o.pop("version_id"))
        return q

    def _context_of(self, quote: str, version_id: int) -> dict | None:
        """The passage of a version that cites ``quote`` (punctuation and spaces ignored; a
        quotation cut with …… matches by its first words), with its heading path and page; None
        for a compilation, whose quotes are not passages."""
        key = _plain(quote)
        heads = [k for k in (_plain(part) for part in re.split(r"…+|\.{3,}", quote)) if k]
        probe = heads[0][:12] if heads else key[:12]
        if not probe:
            return None
        for p in self._rows("SELECT text, heading_path, page, seq FROM passages "
                            "WHERE version_id = :v ORDER BY seq", v=version_id):
            if probe in _plain(p["text"]):
                return {"text": p["text"], "heading_path": json.loads(p["heading_path"]),
                        "page": p["page"]}
        return None

    def list_documents(self, *, status: str = "active", kind: str | None = None,
                       topic: str | None = None, limit: int | None = None,
                       offset: int = 0) -> list[dict]:
        sql = ("SELECT d.*, v.filename, v.format, v.pages, v.number AS version_number, "
               "v.status AS version_status, v.size, "
               "(SELECT COUNT(*) FROM passages p WHERE p.version_id = v.id) AS passages, "
               "(SELECT COUNT(*) FROM occurrences o WHERE o.version_id = v.id) AS quotes "
               "FROM documents d LEFT JOIN versions v ON v.id = d.current_version_id "
               "WHERE d.status = :status")
        params: dict = {"status": status}
        if kind:
            sql += " AND d.kind = :kind"
            params["kind"] = kind
        if topic:
            sql += (" AND d.id IN (SELECT document_id FROM document_topics t WHERE topic = :topic "
                    f"AND {member_sql('document_topics', 'document_id')})")
            params["topic"] = topic
        sql += " ORDER BY d.updated_at DESC, d.id DESC"
        if limit is not None:
            sql += " LIMIT :limit OFFSET :offset"
            params.update(limit=limit, offset=offset)
        rows = self._rows(sql, **params)
        for r in rows:
            r["topics"] = [t["topic"] for t in self.document_topics(r["id"]) if t["member"]]
        return rows

    def counts(self) -> dict:
        one = lambda sql: self._one(sql)["n"]  # noqa: E731
        return {
            "documents": one("SELECT COUNT(*) AS n FROM documents WHERE status = 'active'"),
            "trashed": one("SELECT COUNT(*) AS n FROM documents WHERE status = 'trashed'"),
            "versions": one("SELECT COUNT(*) AS n FROM versions"),
            "passages": one("SELECT COUNT(*) AS n FROM passages p JOIN documents d "
                            "ON d.current_version_id = p.version_id WHERE d.status = 'active'"),
            "quotes": len(self._visible_quote_ids()),
        }

    def _visible_quote_ids(self, conn=None) -> list[int]:
        sql = ("SELECT DISTINCT o.quote_id FROM occurrences o JOIN documents d "
               "ON d.current_version_id = o.version_id WHERE d.status = 'active' "
               "ORDER BY o.quote_id")
        if conn is not None:
            return [r[0] for r in conn.execute(text(sql))]
        return [r["quote_id"] for r in self._rows(sql)]

    def audit_log(self, limit: int = 100) -> list[dict]:
        rows = self._rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT :n", n=limit)
        for r in rows:
            r["detail"] = json.loads(r["detail"])
        return rows

    # -- upload drafts (the editor's preview before publishing) ---------------------------

    def save_draft(self, actor: str, filename: str, sha: str, data: bytes, payload: dict) -> int:
        """Keep an uploaded file and what was extracted from it until the editor publishes or
        discards it. The bytes go to the originals folder (content-addressed)."""
        self.originals.put(data, sha)
        with self.engine.begin() as conn:
            return conn.execute(text("INSERT INTO drafts (actor, created_at, filename, sha256, "
                                     "payload) VALUES (:a, :t, :f, :s, :p)"),
                                {"a": actor, "t": _now(), "f": filename, "s": sha,
                                 "p": json.dumps(payload, ensure_ascii=False)}).lastrowid

    def get_draft(self, draft_id: int) -> dict:
        row = self._one("SELECT * FROM drafts WHERE id = :i", i=draft_id)
        if row is None:
            raise NotFoundError("找不到这份待发布的上传。", "它可能已发布或已放弃，请重新上传。")
        row["payload"] = json.loads(row["payload"])
        return row

    def list_drafts(self, actor: str | None = None) -> list[dict]:
        sql = "SELECT id, actor, created_at, filename, sha256 FROM drafts"
        if actor:
            return self._rows(sql + " WHERE actor = :a ORDER BY id DESC", a=actor)
        return self._rows(sql + " ORDER BY id DESC")

    def delete_draft(self, draft_id: int) -> None:
        row = self.get_draft(draft_id)
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM drafts WHERE id = :i"), {"i": draft_id})
        still_used = self._one("SELECT 1 AS x FROM versions WHERE sha256 = :s UNION ALL "
                               "SELECT 1 FROM drafts WHERE sha256 = :s", s=row["sha256"])
        if not still_used:
            self.originals.remove(row["sha256"])

    # -- topic packs ---------------------------------------------------------------------

    def topic_document_ids(self, slug: str, kinds: list[str] | None = None) -> list[int]:
        """Active documents that belong to a topic (the membership rule above)."""
        rows = self._rows(
            "SELECT d.id, d.kind FROM documents d WHERE d.status = 'active' AND d.id IN "
            "(SELECT document_id FROM document_topics t WHERE topic = :t AND "
            f"{member_sql('document_topics', 'document_id')}) ORDER BY d.id", t=slug)
        return [r["id"] for r in rows if not kinds or r["kind"] in kinds]

    def topic_quote_ids(self, slug: str) -> list[int]:
        """Visible quotes that belong to a topic: exactly the quote records the search index
        files under it (their own topics, else their document's; see ``_quote_records``)."""
        out = []
        for r in self._quote_records(None, 500):
            if slug in r["topics"]:
                out.append(int(r["id"][2:]))
        return out

    def quote_topics(self, quote_ids: Iterable[int]) -> dict[int, list[dict]]:
        ids = sorted(set(int(i) for i in quote_ids))
        out: dict[int, list[dict]] = {}
        for i in range(0, len(ids), 500):
            marks = ",".join(str(x) for x in ids[i:i + 500])
            for r in self._rows(f"SELECT quote_id, topic, score, origin FROM quote_topics "
                                f"WHERE quote_id IN ({marks}) ORDER BY score DESC, topic"):
                out.setdefault(r["quote_id"], []).append(
                    {"topic": r["topic"], "score": r["score"], "origin": r["origin"]})
        return out

    # -- settings kept in the store (e.g. the learned topic model) -------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key = :k", k=key)
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("INSERT INTO settings (key, value) VALUES (:k, :v) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
                         {"k": key, "v": value})

    # -- what the index is derived from ----------------------------------------------------

    def record_ids(self) -> set[str]:
        """Ids of every unit that should be searchable now."""
        ids = {f"p:{r['id']}" for r in self._rows(
            "SELECT p.id FROM passages p JOIN documents d ON d.current_version_id = p.version_id "
            "WHERE d.status = 'active'")}
        ids |= {f"q:{q}" for q in self._visible_quote_ids()}
        return ids

    def count_records(self) -> int:
        return len(self.record_ids())

    def records(self, ids: Iterable[str] | None = None, *, batch: int = 500) -> Iterator[dict]:
        """Index records (see indexer.search.whoosh.index) for the given ids, or for everything searchable.
        Ids that are not searchable any more (trashed, superseded, deleted) are simply absent."""
        if ids is None:
            pids = None
            qids = None
        else:
            ids = list(ids)
            pids = [int(i[2:]) for i in ids if i.startswith("p:")]
            qids = [int(i[2:]) for i in ids if i.startswith("q:")]
        yield from self._passage_records(pids, batch)
        yield from self._quote_records(qids, batch)

    def _batches(self, base: str, ids: list[int] | None, batch: int) -> Iterator[list[dict]]:
        """Rows of ``base`` in id order, ``batch`` at a time (keyset paging keeps memory flat)."""
        if ids is None:
            last = 0
            while True:
                rows = self._rows(base + "AND x.id > :last ORDER BY x.id LIMIT :lim",
                                  last=last, lim=batch)
                if not rows:
                    return
                yield rows
                last = rows[-1]["id"]
        else:
            for i in range(0, len(ids), batch):
                marks = ",".join(str(int(x)) for x in ids[i:i + batch])
                rows = self._rows(base + f"AND x.id IN ({marks}) ORDER BY x.id")
                if rows:
                    yield rows

    def _passage_records(self, ids: list[int] | None, batch: int) -> Iterator[dict]:
        if ids is not None and not ids:
            return
        base = ("SELECT x.*, d.id AS document_id, d.title AS document_title, d.kind AS doc_kind, "
                "d.date AS doc_date, d.updated_at, v.filename FROM passages x "
                "JOIN documents d ON d.current_version_id = x.version_id "
                "JOIN versions v ON v.id = x.version_id WHERE d.status = 'active' ")
        for rows in self._batches(base, ids, batch):
            doc_ids = {r["document_id"] for r in rows}
            topics = self._topics_for("document_topics", "document_id", doc_ids)
            auds = self._audiences_for(doc_ids)
            for r in rows:
                yield {
                    "id": f"p:{r['id']}",
                    "kind": "qa" if r["kind"] == "qa" else "passage",
                    "text": r["text"],
                    "question": r["question"],
                    "heading": " › ".join(json.loads(r["heading_path"])),
                    "source": "",
                    "speaker": "",
                    "date": r["doc_date"],
                    "year": _year(r["doc_date"]),
                    "topics": topics.get(r["document_id"], []),
                    "audiences": auds.get(r["document_id"], []),
                    "doc_kind": r["doc_kind"],
                    "document_id": r["document_id"],
                    "document_title": r["document_title"],
                    "filename": r["filename"],
                    "page": r["page"],
                    "updated": r["updated_at"],
                    "seq": r["seq"],
                }

    def _quote_records(self, ids: list[int] | None, batch: int) -> Iterator[dict]:
        if ids is not None and not ids:
            return
        # the first current occurrence gives the document a quote hit links to
        base = ("SELECT x.*, o.page, o.seq AS occ_seq, d.id AS document_id, "
                "d.title AS document_title, d.kind AS doc_kind, v.filename "
                "FROM quotes x JOIN occurrences o ON o.id = (SELECT o2.id FROM occurrences o2 "
                "JOIN documents d2 ON d2.current_version_id = o2.version_id "
                "WHERE o2.quote_id = x.id AND d2.status = 'active' ORDER BY o2.id LIMIT 1) "
                "JOIN versions v ON v.id = o.version_id JOIN documents d ON d.id = v.document_id "
                "WHERE 1 = 1 ")
        for rows in self._batches(base, ids, batch):
            qtopics = self._topics_for("quote_topics", "quote_id", {r["id"] for r in rows})
            doc_ids = {r["document_id"] for r in rows}
            dtopics = self._topics_for("document_topics", "document_id", doc_ids)
            auds = self._audiences_for(doc_ids)
            for r in rows:
                yield {
                    "id": f"q:{r['id']}",
                    "kind": "quote",
                    "text": r["text"],
                    "question": None,
                    "heading": r["theme"] or "",
                    "source": r["source"] or "",
                    "speaker": r["speaker"] or "",
                    "date": r["date"],
                    "year": _year(r["date"]),
                    "topics": qtopics.get(r["id"]) or dtopics.get(r["document_id"], []),
                    "audiences": auds.get(r["document_id"], []),
                    "doc_kind": r["doc_kind"],
                    "document_id": r["document_id"],
                    "document_title": r["document_title"],
                    "filename": r["filename"],
                    "page": r["page"],
                    "updated": r["updated_at"],
                    "seq": r["occ_seq"],
                }

    def _topics_for(self, table: str, col: str, ids: set[int]) -> dict[int, list[str]]:
        if not ids:
            return {}
        marks = ",".join(str(int(i)) for i in ids)
        out: dict[int, list[str]] = {}
        for r in self._rows(f"SELECT {col} AS k, topic FROM {table} t WHERE {col} IN ({marks}) "
                            f"AND {member_sql(table, col)} ORDER BY score DESC, topic"):
            out.setdefault(r["k"], []).append(r["topic"])
        return out

    def _audiences_for(self, doc_ids: set[int]) -> dict[int, list[str]]:
        if not doc_ids:
            return {}
        marks = ",".join(str(int(i)) for i in doc_ids)
        out: dict[int, list[str]] = {}
        for r in self._rows(f"SELECT document_id AS k, audience FROM document_audiences "
                            f"WHERE document_id IN ({marks}) ORDER BY audience"):
            out.setdefault(r["k"], []).append(r["audience"])
        return out

    def pending_index(self, limit: int = 100_000) -> tuple[int, list[str]]:
        """(highest queue seq, distinct record ids) waiting to be applied to the index."""
        rows = self._rows("SELECT seq, record_id FROM index_queue ORDER BY seq LIMIT :n", n=limit)
        if not rows:
            return 0, []
        return rows[-1]["seq"], list(dict.fromkeys(r["record_id"] for r in rows))

    def queue_head(self) -> int:
        return self._one("SELECT COALESCE(MAX(seq), 0) AS n FROM index_queue")["n"]

    def clear_pending(self, upto_seq: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM index_queue WHERE seq <= :s"), {"s": upto_seq})

    # -- consistency -----------------------------------------------------------------------

    def referenced_originals(self) -> set[str]:
        return {r["sha256"] for r in self._rows("SELECT sha256 FROM versions UNION "
                                                "SELECT sha256 FROM drafts")}

    def integrity_problems(self) -> list[str]:
        """Problems inside the store itself (Chinese, one line each)."""
        problems = []
        with self.engine.connect() as conn:
            res = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if res != "ok":
                problems.append(f"数据库完整性检查未通过：{res}")
            for r in conn.exec_driver_sql(
                    "SELECT id, title FROM documents WHERE current_version_id IS NULL "
                    "OR current_version_id NOT IN (SELECT id FROM versions)"):
                problems.append(f"材料 {r[0]}《{r[1]}》没有有效的版本。")
        return problems


__all__ = ["Store", "IngestItem", "Stored", "SECONDARY_TOPIC_MIN", "member_sql"]
