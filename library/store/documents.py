"""Documents and their versions: each version's file, outline (headings) and passages."""

from __future__ import annotations

import json
import time

from ..content import clean_text
from ..errors import NotFoundError
from .database import Database
from .topics import TopicRepository, member_sql


class DocumentRepository:
    def __init__(self, db: Database, topics: TopicRepository):
        self.db = db
        self.topics = topics

    # -- lookups ---------------------------------------------------------------------------

    def row(self, doc_id: int) -> dict:
        row = self.db.one("SELECT * FROM documents WHERE id = :d", d=doc_id)
        if row is None:
            raise NotFoundError(
                f"找不到编号为 {doc_id} 的材料。", "用 lecturelib list 查看已有材料。"
            )
        return row

    def version_by_sha(self, sha: str) -> dict | None:
        return self.db.one(
            "SELECT v.id AS version_id, v.number, v.document_id, d.title, d.status, d.kind "
            "FROM versions v JOIN documents d ON d.id = v.document_id WHERE v.sha256 = :s",
            s=sha,
        )

    def active_by_title_key(self, key: str) -> dict | None:
        return self.db.one(
            "SELECT * FROM documents WHERE title_key = :k AND status = 'active' "
            "ORDER BY id LIMIT 1",
            k=key,
        )

    def sha_in_use(self, sha: str) -> bool:
        return self.db.one("SELECT 1 AS x FROM versions WHERE sha256 = :s", s=sha) is not None

    # -- searchable units ------------------------------------------------------------------

    def version_record_ids(self, version_id: int | None) -> set[str]:
        """Index record ids of a version: its passages and the quotes it cites."""
        if version_id is None:
            return set()
        ids = {
            f"p:{r['id']}"
            for r in self.db.rows("SELECT id FROM passages WHERE version_id = :v", v=version_id)
        }
        ids |= {
            f"q:{r['quote_id']}"
            for r in self.db.rows(
                "SELECT DISTINCT quote_id FROM occurrences WHERE version_id = :v", v=version_id
            )
        }
        return ids

    def record_ids(self, doc_id: int) -> set[str]:
        """Index record ids of a document's current version."""
        cur = self.db.scalar("SELECT current_version_id FROM documents WHERE id = :d", d=doc_id)
        return self.version_record_ids(cur)

    # -- writing ---------------------------------------------------------------------------

    def create(
        self,
        *,
        title: str,
        title_key: str,
        kind: str,
        date: str | None,
        source: str | None,
        topics_manual: bool,
        now: float,
    ) -> int:
        return self.db.insert(
            "INSERT INTO documents (title, title_key, kind, status, date, source, topics_manual, "
            "created_at, updated_at) VALUES (:t, :k, :kind, 'active', :date, :src, :tm, :now, "
            ":now)",
            {
                "t": title,
                "k": title_key,
                "kind": kind,
                "date": date,
                "src": source,
                "tm": int(topics_manual),
                "now": now,
            },
        )

    def refresh_for_new_version(
        self, doc_id: int, *, kind: str, date: str | None, source: str | None, now: float
    ) -> int:
        """A new version of an existing document: its kind follows the file, its date and
        source fill what was missing. Returns the new version's number."""
        with self.db.transaction():
            number = self.db.scalar(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE document_id = :d", d=doc_id
            )
            self.db.execute(
                "UPDATE documents SET kind = :kind, date = COALESCE(:date, date), "
                "source = COALESCE(source, :src), updated_at = :now WHERE id = :d",
                {"kind": kind, "date": date, "src": source, "now": now, "d": doc_id},
            )
        return number

    def add_version(
        self,
        doc_id: int,
        number: int,
        *,
        sha256: str,
        filename: str,
        format: str,
        size: int,
        pages: int | None,
        chars: int,
        status: str,
        warnings: list[str],
        headings: list,
        passages: list,
        now: float,
        ocr: dict | None = None,
        media: dict | None = None,
    ) -> int:
        """Store a version with its outline and passages and make it the current one. ``ocr``
        (what OCR did, if it read any page) goes to ``versions.ocr``; each passage on an OCR'd
        page gets that page's confidence (``passages.ocr_confidence``)."""
        page_conf = {str(k): v for k, v in ((ocr or {}).get("pages") or {}).items()}
        with self.db.transaction():
            vid = self.db.insert(
                "INSERT INTO versions (document_id, number, sha256, filename, format, size, pages, "
                "chars, status, warnings, created_at, ocr, media) VALUES (:d, :n, :sha, :fn, :fmt, "
                ":size, :pages, :chars, :st, :w, :now, :ocr, :media)",
                {
                    "d": doc_id,
                    "n": number,
                    "sha": sha256,
                    "fn": filename,
                    "fmt": format,
                    "size": size,
                    "pages": pages,
                    "chars": chars,
                    "st": status,
                    "w": json.dumps(warnings, ensure_ascii=False),
                    "now": now,
                    "ocr": json.dumps(ocr, ensure_ascii=False) if ocr else None,
                    "media": json.dumps(media, ensure_ascii=False) if media else None,
                },
            )
            self.db.execute(
                "UPDATE documents SET current_version_id = :v WHERE id = :d",
                {"v": vid, "d": doc_id},
            )
            if headings:
                self.db.execute(
                    "INSERT INTO headings (version_id, seq, level, text, page) "
                    "VALUES (:v, :seq, :lvl, :t, :p)",
                    [
                        {"v": vid, "seq": i, "lvl": lvl, "t": t, "p": p}
                        for i, (lvl, t, p) in enumerate(headings)
                    ],
                )
            self._insert_passages(vid, passages, page_conf)
        return vid

    def _insert_passages(self, vid: int, passages: list, page_conf: dict | None = None) -> None:
        if not passages:
            return
        page_conf = page_conf or {}
        self.db.execute(
            "INSERT INTO passages (version_id, seq, kind, text, question, heading_path, page, "
            "ocr_confidence, start_s, end_s) VALUES (:v, :seq, :k, :t, :q, :h, :p, :oc, :st, :en)",
            [
                {
                    "v": vid,
                    "seq": p.seq,
                    "k": p.kind,
                    "t": p.text,
                    "q": p.question,
                    "h": json.dumps(p.heading_path, ensure_ascii=False),
                    "p": p.page,
                    "oc": page_conf.get(str(p.page)) if p.page is not None else None,
                    "st": getattr(p, "start", None),
                    "en": getattr(p, "end", None),
                }
                for p in passages
            ],
        )

    def replace_transcript(
        self,
        vid: int,
        passages: list,
        *,
        media: dict,
        status: str,
        warnings: list[str],
        chars: int,
    ) -> None:
        """A media version's passages replaced by a transcript's (see Store.attach_transcript)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM passages WHERE version_id = :v", {"v": vid})
            self._insert_passages(vid, passages)
            self.db.execute(
                "UPDATE versions SET media = :m, status = :s, warnings = :w, chars = :c "
                "WHERE id = :v",
                {
                    "m": json.dumps(media, ensure_ascii=False),
                    "s": status,
                    "w": json.dumps(warnings, ensure_ascii=False),
                    "c": chars,
                    "v": vid,
                },
            )

    def update_fields(self, doc_id: int, **fields: str | None) -> dict:
        """Set the given columns (title, title_key, kind, date, source; None: leave alone),
        cleaned; returns what changed."""
        changes: dict = {}
        with self.db.transaction():
            for col in ("title", "title_key", "kind", "date", "source"):
                val = fields.get(col)
                if val is not None:
                    val = clean_text(val)
                    self.db.execute(
                        f"UPDATE documents SET {col} = :v WHERE id = :d",
                        {"v": val or None, "d": doc_id},
                    )
                    changes[col] = val
        return changes

    def touch(self, doc_id: int, now: float | None = None) -> None:
        self.db.execute(
            "UPDATE documents SET updated_at = :now WHERE id = :d",
            {"now": time.time() if now is None else now, "d": doc_id},
        )

    def set_status(self, doc_id: int, status: str) -> None:
        self.db.execute(
            "UPDATE documents SET status = :s, updated_at = :now WHERE id = :d",
            {"s": status, "now": time.time(), "d": doc_id},
        )

    def delete(self, doc_id: int) -> tuple[list[str], set[str], list[int]]:
        """Delete a document with its versions (the database cascades to passages, headings,
        occurrences, topics and audiences). Returns the versions' file hashes, the index record
        ids of every version, and the ids of its passages."""
        with self.db.transaction():
            versions = self.db.rows(
                "SELECT id, sha256 FROM versions WHERE document_id = :d", d=doc_id
            )
            touched: set[str] = set()
            for v in versions:
                touched |= self.version_record_ids(v["id"])
            passages = [
                r["id"]
                for r in self.db.rows(
                    "SELECT p.id FROM passages p JOIN versions v ON v.id = p.version_id "
                    "WHERE v.document_id = :d",
                    d=doc_id,
                )
            ]
            self.db.execute("DELETE FROM documents WHERE id = :d", {"d": doc_id})
        return [v["sha256"] for v in versions], touched, passages

    # -- reading ---------------------------------------------------------------------------

    def get(self, doc_id: int) -> dict:
        """A document with its current version, versions, outline, passages and quotes."""
        doc = self.row(doc_id)
        doc["topics"] = self.topics.document_topics(doc_id)
        doc["audiences"] = self.topics.document_audiences(doc_id)
        doc["versions"] = self.db.rows(
            "SELECT * FROM versions WHERE document_id = :d ORDER BY number", d=doc_id
        )
        for v in doc["versions"]:
            v["warnings"] = json.loads(v["warnings"] or "[]")
            v["ocr"] = json.loads(v["ocr"]) if v.get("ocr") else None
            v["media"] = json.loads(v["media"]) if v.get("media") else None
        vid = doc["current_version_id"]
        doc["version"] = next((v for v in doc["versions"] if v["id"] == vid), None)
        doc["headings"] = self.db.rows(
            "SELECT level, text, page FROM headings WHERE version_id = :v ORDER BY seq", v=vid
        )
        doc["passages"] = self.db.rows(
            "SELECT * FROM passages WHERE version_id = :v ORDER BY seq", v=vid
        )
        for p in doc["passages"]:
            p["heading_path"] = json.loads(p["heading_path"])
        doc["quotes"] = self.db.rows(
            "SELECT q.id, q.text, q.source, q.date, q.speaker, o.theme, o.page, o.seq "
            "FROM occurrences o JOIN quotes q ON q.id = o.quote_id WHERE o.version_id = :v "
            "ORDER BY o.seq",
            v=vid,
        )
        return doc

    def list(
        self,
        *,
        status: str = "active",
        kind: str | None = None,
        topic: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict]:
        sql = (
            "SELECT d.*, v.filename, v.format, v.pages, v.number AS version_number, "
            "v.status AS version_status, v.size, "
            "(SELECT COUNT(*) FROM passages p WHERE p.version_id = v.id) AS passages, "
            "(SELECT COUNT(*) FROM occurrences o WHERE o.version_id = v.id) AS quotes "
            "FROM documents d LEFT JOIN versions v ON v.id = d.current_version_id "
            "WHERE d.status = :status"
        )
        params: dict = {"status": status}
        if kind:
            sql += " AND d.kind = :kind"
            params["kind"] = kind
        if topic:
            sql += (
                " AND d.id IN (SELECT document_id FROM document_topics t WHERE topic = :topic "
                f"AND {member_sql('document_topics', 'document_id')})"
            )
            params["topic"] = topic
        sql += " ORDER BY d.updated_at DESC, d.id DESC"
        if limit is not None:
            sql += " LIMIT :limit OFFSET :offset"
            params.update(limit=limit, offset=offset)
        rows = self.db.rows(sql, **params)
        for r in rows:
            r["topics"] = [t["topic"] for t in self.topics.document_topics(r["id"]) if t["member"]]
        return rows

    def counts(self) -> dict:
        """Active and trashed documents, all versions, current passages."""
        n = self.db.scalar
        return {
            "documents": n("SELECT COUNT(*) FROM documents WHERE status = 'active'"),
            "trashed": n("SELECT COUNT(*) FROM documents WHERE status = 'trashed'"),
            "versions": n("SELECT COUNT(*) FROM versions"),
            "passages": n(
                "SELECT COUNT(*) FROM passages p JOIN documents d "
                "ON d.current_version_id = p.version_id WHERE d.status = 'active'"
            ),
        }


__all__ = ["DocumentRepository"]
