"""The store: documents, versions, passages, quotes and their occurrences, topics, audiences,
drafts, accounts, audit log, index outbox. It is the source of truth; the search index is
derived from :meth:`Store.records`.

``Store`` is a facade over one repository per concern, all on one database and sharing one
unit of work (``library.store.database``): ``store.documents``, ``store.quotes``,
``store.topics``, ``store.drafts``, ``store.trash``, ``store.audit_trail``, ``store.outbox``,
``store.index_records``, ``store.stored_values``, ``store.consistency``, ``store.users``. New
code may use them directly, inside ``with store.db.transaction():`` when a change spans several.

Every mutating method of the facade runs in one transaction and returns the set of record ids
(``"q:12"``, ``"p:34"``) whose searchable form may have changed, so the caller can bring the
index up to date: ids that :meth:`records` still returns are upserts, the others are deletes.
The same ids go to the index outbox in that transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..content import AUDIENCES, KINDS, Structured, clean_text, safe_filename
from ..db import open_engine, upgrade
from ..errors import DuplicateFileError, UsageError
from ..home import Home
from ..originals import DatabaseOriginals, Originals
from .audit import AuditLog
from .checks import Consistency
from .database import Database, retried
from .documents import DocumentRepository
from .drafts import DraftRepository
from .keyvalues import StoredValues
from .mediafiles import MediaFiles
from .outbox import Outbox
from .quotes import QuoteRepository
from .records import IndexRecords
from .throttle import LoginFailures
from .topics import SECONDARY_TOPIC_MIN, TopicRepository, member_sql
from .trash import TrashRepository


@dataclass
class IngestItem:
    """Everything the pipeline learned about one new file, ready to be stored."""

    data: bytes
    sha256: str
    filename: str
    format: str
    structured: Structured
    title_key: str  # normalized title, for version matching
    quote_keys: list[str]  # normalized text per structured quote (dedup key)
    status: str = "ok"  # ok | warning | needs_ocr
    warnings: list[str] = field(default_factory=list)
    pages: int | None = None
    chars: int = 0
    doc_topics: list[tuple[str, float]] = field(default_factory=list)
    topics_manual: bool = False
    quote_topics: list[list[tuple[str, float]]] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    # what OCR did when the text was read from scans (``Prepared.ocr``: engine, confidence,
    # pages {"n": confidence}, low_confidence_pages); None when nothing was OCR'd
    ocr: dict | None = None
    # a media file (视频/音频): its bytes are not in ``data`` but in the file at ``data_path``
    # (copied in chunks), ``size`` its length; ``media`` what ffprobe said of it and the hashes
    # of the files that go with it (poster, transcript), whose bytes are ``attachments``
    data_path: Path | None = None
    size: int | None = None
    media: dict | None = None
    attachments: list[bytes] = field(default_factory=list)


@dataclass
class Stored:
    document_id: int
    version_id: int
    version_number: int
    new_document: bool
    touched: set[str]


def _clean_item(item: IngestItem) -> None:
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


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"未知的材料类型“{kind}”。", "可用类型：" + "、".join(KINDS))


def _check_audiences(audiences: Iterable[str]) -> None:
    bad = [a for a in audiences if a not in AUDIENCES]
    if bad:
        raise UsageError(f"未知的宣讲对象“{bad[0]}”。", "可用：" + "、".join(AUDIENCES))


class Store:
    def __init__(self, home: Home):
        self.home = home
        # the embedded SQLite database in the home, or PostgreSQL (home.database_url)
        self.engine = open_engine(home.database_url, home.db_path)
        upgrade(self.engine)
        self.db = Database(self.engine)
        self.originals = (
            DatabaseOriginals(self.db, home.path / "cache" / "originals")
            if self.db.postgres
            else Originals(home.originals_path)
        )
        self.media_files = MediaFiles(self.db, self.originals)
        self.topics = TopicRepository(self.db)
        self.documents = DocumentRepository(self.db, self.topics)
        self.quotes = QuoteRepository(self.db, self.topics)
        self.drafts = DraftRepository(self.db, self.originals)
        self.trash = TrashRepository(self.db)
        self.audit_trail = AuditLog(self.db)
        self.outbox = Outbox(self.db)
        self.index_records = IndexRecords(self.db, self.topics, self.quotes)
        self.stored_values = StoredValues(self.db)
        self.consistency = Consistency(self.db)
        self.login_failures = LoginFailures(self.db)

    @cached_property
    def users(self):
        """Accounts (``library.users.Users``) on this store."""
        from ..users import Users

        return Users(self)

    @classmethod
    def open(cls, home: str | Path | Home | None = None) -> Store:
        return cls(home if isinstance(home, Home) else Home.open(home))

    def close(self) -> None:
        self.engine.dispose()

    # -- small helpers (kept for callers that query the database directly) ----------------

    def _rows(self, sql: str, **params) -> list[dict]:
        return self.db.rows(sql, **params)

    def _one(self, sql: str, **params) -> dict | None:
        return self.db.one(sql, **params)

    # -- lookups used by ingest ------------------------------------------------------------

    def version_by_sha(self, sha: str) -> dict | None:
        return self.documents.version_by_sha(sha)

    def document_by_title_key(self, key: str) -> dict | None:
        return self.documents.active_by_title_key(key)

    def quotes_by_keys(self, keys: Iterable[str]) -> dict[str, dict]:
        return self.quotes.by_keys(keys)

    # -- ingest ----------------------------------------------------------------------------

    @retried
    def store_file(self, item: IngestItem, *, actor: str = "cli") -> Stored:
        """Store a new file: a new document, or a new version of the active document with the
        same title. Atomic: either everything is stored or nothing is."""
        s = item.structured
        _clean_item(item)  # the store's door: no control characters get in
        _check_kind(s.kind)
        _check_audiences(item.audiences)
        # The original goes to disk first: content-addressed and idempotent, so a crash before
        # the commit below leaves at most an unreferenced file that `check --repair` removes.
        if item.data_path is not None:
            self.media_files.put_file(item.data_path, item.sha256)
        else:
            self.originals.put(item.data, item.sha256)
        for extra in item.attachments:
            self.originals.put(extra)
        now = time.time()
        touched: set[str] = set()
        with self.db.transaction():
            # two nodes storing files of one title at once: one after the other, so that the
            # second becomes a new version of the first's document (SQLite: its write lock);
            # the same file on two nodes at once: the second finds the first's version
            self.db.lock(f"title:{item.title_key}", f"sha:{item.sha256}")
            dup = self.documents.version_by_sha(item.sha256)
            if dup is not None:
                raise DuplicateFileError(dup)
            doc = self.documents.active_by_title_key(item.title_key)
            new_document = doc is None
            if new_document:
                doc_id = self.documents.create(
                    title=s.title,
                    title_key=item.title_key,
                    kind=s.kind,
                    date=s.date,
                    source=s.source,
                    topics_manual=item.topics_manual,
                    now=now,
                )
                number = 1
            else:
                doc_id = doc["id"]
                touched |= self.documents.version_record_ids(doc["current_version_id"])
                number = self.documents.refresh_for_new_version(
                    doc_id, kind=s.kind, date=s.date, source=s.source, now=now
                )
            vid = self.documents.add_version(
                doc_id,
                number,
                sha256=item.sha256,
                filename=item.filename,
                format=item.format,
                size=item.size if item.size is not None else len(item.data),
                pages=item.pages,
                chars=item.chars,
                status=item.status,
                warnings=item.warnings,
                headings=s.headings,
                passages=s.passages,
                now=now,
                ocr=item.ocr,
                media=item.media,
            )
            # topics and audiences of the document: manual choices survive a new version
            keep_manual = (not new_document) and doc["topics_manual"] and not item.topics_manual
            if not keep_manual:
                self.topics.set_document_topics(doc_id, item.doc_topics, manual=item.topics_manual)
            if item.audiences or new_document:
                self.topics.set_audiences(doc_id, item.audiences)
            touched |= self.quotes.attach(
                vid,
                s.quotes,
                item.quote_keys,
                cited=s.kind != "quotes",
                quote_topics=item.quote_topics,
                topics_manual=item.topics_manual,
                now=now,
            )
            touched |= self.documents.version_record_ids(vid)
            self.outbox.enqueue(touched)
            self.audit_trail.write(
                actor,
                "ingest" if new_document else "new_version",
                f"document:{doc_id}",
                {"file": item.filename, "sha256": item.sha256, "version": number},
            )
        return Stored(doc_id, vid, number, new_document, touched)

    # -- editing ---------------------------------------------------------------------------

    @retried
    def update_document(
        self,
        doc_id: int,
        *,
        actor: str,
        title: str | None = None,
        title_key: str | None = None,
        kind: str | None = None,
        date: str | None = None,
        source: str | None = None,
        topics: list[str] | None = None,
        audiences: list[str] | None = None,
    ) -> set[str]:
        row = self.documents.row(doc_id)
        if kind is not None:
            _check_kind(kind)
            if kind != row["kind"] and "media" in (kind, row["kind"]):
                # a recording is 视频/音频 because of its file, not of a label
                raise UsageError(
                    "录音/录像的类型不能改成文字材料，文字材料也不能改成视频/音频。",
                    "类型由文件决定：文字材料请另行上传录音/录像；录像的文稿可在录像页面更换。",
                )
        if audiences is not None:
            _check_audiences(audiences)
        with self.db.transaction():
            changes = self.documents.update_fields(
                doc_id, title=title, title_key=title_key, kind=kind, date=date, source=source
            )
            if topics is not None:
                self.topics.set_document_topics(doc_id, [(t, 1.0) for t in topics], manual=True)
                changes["topics"] = topics
            if audiences is not None:
                self.topics.set_audiences(doc_id, audiences)
                changes["audiences"] = audiences
            self.documents.touch(doc_id)
            changes.pop("title_key", None)  # derived from the title: not an edit of its own
            self.audit_trail.write(actor, "edit_document", f"document:{doc_id}", changes)
            touched = self.documents.record_ids(doc_id)
            self.outbox.enqueue(touched)
        return touched

    @retried
    def update_quote(
        self,
        quote_id: int,
        *,
        actor: str,
        text_: str | None = None,
        source: str | None = None,
        date: str | None = None,
        speaker: str | None = None,
        theme: str | None = None,
        topics: list[str] | None = None,
    ) -> set[str]:
        self.quotes.row(quote_id)
        with self.db.transaction():
            changes = self.quotes.update_fields(
                quote_id, text=text_, source=source, date=date, speaker=speaker, theme=theme
            )
            if topics is not None:
                self.topics.set_quote_topics(quote_id, topics)
                changes["topics"] = topics
            self.quotes.touch(quote_id)
            self.audit_trail.write(actor, "edit_quote", f"quote:{quote_id}", changes)
            self.outbox.enqueue({f"q:{quote_id}"})
        return {f"q:{quote_id}"}

    @retried
    def set_status(self, doc_id: int, status: str, *, actor: str) -> set[str]:
        """Move a document to the trash (``"trashed"``) or restore it (``"active"``)."""
        if status not in ("active", "trashed"):
            raise UsageError(f"未知的状态“{status}”。")
        self.documents.row(doc_id)
        with self.db.transaction():
            self.documents.set_status(doc_id, status)
            self.audit_trail.write(
                actor, "trash" if status == "trashed" else "restore", f"document:{doc_id}", {}
            )
            touched = self.documents.record_ids(doc_id)
            self.outbox.enqueue(touched)
        return touched

    @retried
    def purge(self, doc_id: int, *, actor: str) -> set[str]:
        """Delete a trashed document for good, with its versions; originals no other version
        uses are removed; quotes left with no occurrence are removed. Their ids are never
        given out again, and each leaves a tombstone (see ``library.store.trash``)."""
        row = self.documents.row(doc_id)
        if row["status"] != "trashed":
            raise UsageError("只能彻底删除回收站中的材料。", "请先移入回收站。")
        now = time.time()
        with self.db.transaction():
            shas, touched, passage_ids = self.documents.delete(doc_id)
            graves = [(f"document:{doc_id}", row["title"])]
            graves += [(f"passage:{pid}", row["title"]) for pid in passage_ids]
            graves += [(f"quote:{qid}", qtext) for qid, qtext in self.quotes.delete_orphans()]
            self.trash.bury(graves, at=now, actor=actor)
            self.audit_trail.write(
                actor,
                "purge",
                f"document:{doc_id}",
                {"title": row["title"], "_name": row["title"]},
                at=now,
            )
            self.outbox.enqueue(touched)
        for sha in shas:
            if not self.documents.sha_in_use(sha):
                self.originals.remove(sha)
                self.media_files.remove(sha)
        return touched

    @retried
    def attach_transcript(
        self,
        doc_id: int,
        *,
        passages: list,
        quotes: list,
        quote_keys: list[str],
        quote_topics: list,
        media: dict,
        status: str,
        warnings: list[str],
        chars: int,
        attachments: list[bytes],
        actor: str,
    ) -> set[str]:
        """Give a media document's current version its transcript: its passages (with their
        times) replace the old ones, quotes recognised in it are attached, the version's media
        record, status and warnings follow. One transaction."""
        row = self.documents.row(doc_id)
        vid = row["current_version_id"]
        s = Structured(kind="media", title=row["title"], quotes=quotes, passages=passages)
        _clean_item(IngestItem(b"", "", "x", "media", s, "", quote_keys))
        for extra in attachments:
            self.originals.put(extra)
        now = time.time()
        with self.db.transaction():
            touched = self.documents.version_record_ids(vid)
            old = self.db.rows("SELECT id FROM passages WHERE version_id = :v", v=vid)
            self.documents.replace_transcript(
                vid, passages, media=media, status=status, warnings=warnings, chars=chars
            )
            self.db.execute("DELETE FROM occurrences WHERE version_id = :v", {"v": vid})
            touched |= self.quotes.attach(
                vid,
                s.quotes,
                quote_keys,
                cited=True,
                quote_topics=quote_topics,
                topics_manual=False,
                now=now,
            )
            graves = [(f"passage:{r['id']}", row["title"]) for r in old]
            graves += [(f"quote:{qid}", qtext) for qid, qtext in self.quotes.delete_orphans()]
            self.trash.bury(graves, at=now, actor=actor)
            touched |= self.documents.version_record_ids(vid)
            self.documents.touch(doc_id, now)
            self.outbox.enqueue(touched)
            self.audit_trail.write(
                actor,
                "transcript",
                f"document:{doc_id}",
                {"file": (media.get("transcript") or {}).get("filename"), "_name": row["title"]},
            )
        return touched

    @retried
    def audit(self, actor: str, action: str, target: str | None = None, **detail) -> None:
        self.audit_trail.write(actor, action, target, detail)

    def tombstones(self, records: Iterable[str]) -> dict[str, dict]:
        """The purged among ``records`` (``"document:12"``, ``"passage:34"``, ``"quote:56"``):
        record → {record, title, at, actor} of its latest purge."""
        return self.trash.tombstones(records)

    def tombstone(self, record: str) -> dict | None:
        """The latest purge of ``record`` (see :meth:`tombstones`), or None."""
        return self.trash.tombstone(record)

    # -- reading ---------------------------------------------------------------------------

    def get_document_row(self, doc_id: int) -> dict:
        return self.documents.row(doc_id)

    def get_quote_row(self, quote_id: int) -> dict:
        return self.quotes.row(quote_id)

    def document_topics(self, doc_id: int) -> list[dict]:
        """Every topic row of a document, best first, each with ``member``."""
        return self.topics.document_topics(doc_id)

    def document_audiences(self, doc_id: int) -> list[str]:
        return self.topics.document_audiences(doc_id)

    def get_document(self, doc_id: int) -> dict:
        """A document with its current version, versions, outline, passages and quotes."""
        return self.documents.get(doc_id)

    def get_quote(self, quote_id: int) -> dict:
        return self.quotes.get(quote_id)

    def list_documents(
        self,
        *,
        status: str = "active",
        kind: str | None = None,
        topic: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict]:
        return self.documents.list(
            status=status, kind=kind, topic=topic, limit=limit, offset=offset
        )

    def counts(self) -> dict:
        return {**self.documents.counts(), "quotes": len(self.quotes.visible_ids())}

    def audit_log(self, limit: int = 100) -> list[dict]:
        return self.audit_trail.recent(limit)

    # -- upload drafts (the editor's preview before publishing) ---------------------------

    @retried
    def save_draft(self, actor: str, filename: str, sha: str, data: bytes, payload: dict) -> int:
        return self.drafts.save(actor, filename, sha, data, payload)

    def get_draft(self, draft_id: int) -> dict:
        return self.drafts.get(draft_id)

    def list_drafts(self, actor: str | None = None) -> list[dict]:
        return self.drafts.list(actor)

    @retried
    def delete_draft(self, draft_id: int) -> None:
        self.drafts.delete(draft_id)

    # -- topic packs ---------------------------------------------------------------------

    def topic_document_ids(self, slug: str, kinds: list[str] | None = None) -> list[int]:
        return self.topics.document_ids(slug, kinds)

    def topic_quote_ids(self, slug: str) -> list[int]:
        return self.index_records.quote_ids_in_topic(slug)

    def quote_topics(self, quote_ids: Iterable[int]) -> dict[int, list[dict]]:
        return self.topics.quote_topics(quote_ids)

    # -- values kept in the store (e.g. the learned topic model) ---------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        return self.stored_values.get(key, default)

    @retried
    def set_setting(self, key: str, value: str) -> None:
        self.stored_values.set(key, value)

    # -- what the index is derived from ----------------------------------------------------

    def record_ids(self) -> set[str]:
        """Ids of every unit that should be searchable now."""
        return self.index_records.ids()

    def count_records(self) -> int:
        return len(self.index_records.ids())

    def records(self, ids: Iterable[str] | None = None, *, batch: int = 500) -> Iterator[dict]:
        """Index records for the given ids, or for everything searchable (see
        ``library.store.records``)."""
        return self.index_records.records(ids, batch=batch)

    def pending_index(self, limit: int = 100_000) -> tuple[int, list[str]]:
        """(highest queue seq, distinct record ids) waiting to be applied to the index."""
        return self.outbox.pending(limit)

    def queue_head(self) -> int:
        return self.outbox.head()

    def clear_pending(self, upto_seq: int) -> None:
        self.outbox.clear(upto_seq)

    # -- consistency -----------------------------------------------------------------------

    def referenced_originals(self) -> set[str]:
        return self.consistency.referenced_originals()

    def integrity_problems(self) -> list[str]:
        """Problems inside the store itself (Chinese, one line each)."""
        return self.consistency.problems()


__all__ = ["Store", "IngestItem", "Stored", "SECONDARY_TOPIC_MIN", "member_sql", "Database"]
