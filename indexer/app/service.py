"""The application service: the one door the CLI and the web app go through. One library
home, its store, taxonomy, vocabulary, search index and ingest pipeline, and every use case
over them (ingest, publish, edit, trash, search, users, audit, backup, export, import,
dictionary, background rebuilds). Business logic lives here and in the small use-case modules
beside it (``publish``, ``searching``, ``accounts``, ``auditlog``, ``jobs``, ``export``,
``packimport``), never in views or commands.

Delivery code calls methods of :class:`LibraryService`; its ``store``, ``index`` and ``vocab``
are internals (``tests/test_layers.py`` fails when web/ or cli/ touches them). Searches only
read; every write takes the service's write lock and applies its own index changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from indexer.app import auditlog, media, publish, searching, shared_files, sync
from indexer.app.accounts import Accounts
from indexer.app.jobs import Job, Jobs
from indexer.ingest.pipeline import FileResult, Options, Pipeline
from library.content import AUDIENCES, clean_text
from library.errors import UsageError
from library.home import Home
from library.store import Store
from library.taxonomy import Taxonomy


class LibraryService:
    def __init__(self, home: str | os.PathLike | Home | None = None):
        self.home = home if isinstance(home, Home) else Home.open(home)
        self.store = Store(self.home)
        shared_files.pull(self)  # several nodes: the library's word lists from the database
        shared_files.remember(self)
        self.taxonomy = Taxonomy.load(self.home.path)
        self.jobs = Jobs()
        # writes in this process one at a time (and none while a rebuild runs); searches
        # never take it
        self._write_lock = threading.RLock()

    # -- homes (no open service needed) --------------------------------------------------------

    @staticmethod
    def open_home(path: str | os.PathLike | None = None, *, create: bool = True) -> Home:
        """The library home (settings, paths) at ``path``, else $LECTURELIB_HOME, else
        ./instance."""
        return Home.open(path, create=create)

    def shared_secret_key(self) -> str | None:
        """The web's signing key when the library lives in a shared database: behind a load
        balancer a request may reach any node, so every node must sign sessions and CSRF
        tokens with the same key (the first node to start stores it; the others read it).
        None in the embedded mode, where the home's ``secret_key`` file serves."""
        if not self.home.database_url:
            return None
        import secrets

        return self.store.stored_values.setdefault("web_secret_key", secrets.token_hex(32))

    @staticmethod
    def backup(
        home: str | os.PathLike | None,
        out: Path,
        *,
        no_secrets: bool = False,
        no_media: bool = False,
    ):
        """Back the library up into ``out`` (safe while the server runs); ``no_media``: without
        the recordings' files."""
        from library.backup import backup

        return backup(
            Home.open(home, create=False), Path(out), no_secrets=no_secrets, no_media=no_media
        )

    @classmethod
    def restore_backup(cls, archive: Path, home: str | os.PathLike | None) -> tuple[dict, int]:
        """Restore a backup into an empty home and rebuild its index. Returns the backup's
        manifest and the number of searchable records."""
        from library.backup import restore

        manifest = restore(Path(archive), Home.open(home))
        svc = cls(home)
        try:
            return manifest, svc.reindex()
        finally:
            svc.close()

    def migrate_to(self, url: str, progress=None):
        """Copy this library into the empty store at ``url`` (``postgresql://…`` or
        ``sqlite:///home``) and check the copy (``indexer.app.migrate``); ``progress(stage,
        done, total)``. Returns a ``MigrateReport``."""
        from indexer.app.migrate import migrate

        return migrate(self.store, url, progress)

    @staticmethod
    def stop_workers() -> None:
        """Stop the ingest worker processes this process started (server shutdown)."""
        from indexer.ingest.pipeline import shutdown_workers

        shutdown_workers()

    @contextmanager
    def writing(self):
        """Hold the write lock across several writes (each write method takes it too)."""
        with self._write_lock:
            yield self

    def reload_word_lists(self) -> bool:
        """Another process or node changed the dictionary, synonyms, speakers or topics: read
        them again (searches in flight finish on the engine they started with). While the index
        is still being rebuilt for new words, keep answering with the old ones (False: not yet;
        asked again on a later search)."""
        from indexer.search import open_engine
        from indexer.search.vocab import Vocabulary

        vocab = Vocabulary.load(self.home.path)
        engine = None
        if "vocab" in self.__dict__ and vocab.version != self.vocab.version:
            engine = open_engine(self.home.index_path, vocab)
            if engine.status() != "ok" and "index" in self.__dict__:
                if self.index.status() == "ok":
                    engine.close()
                    return False
        self.__dict__.pop("speakers", None)
        self.__dict__["vocab"] = vocab
        if engine is not None:
            self.__dict__["index"] = engine  # the old one: closed with its last snapshot
        else:
            self.__dict__.pop("index", None)
        shared_files.remember(self)
        self.taxonomy = Taxonomy.load(self.home.path)
        return True

    @cached_property
    def vocab(self):
        from indexer.search.vocab import Vocabulary

        return Vocabulary.load(self.home.path)

    @cached_property
    def packaged_terms(self) -> frozenset[str]:
        from indexer.search.vocab import Vocabulary

        return frozenset(Vocabulary.load(None).terms)

    @cached_property
    def speakers(self):
        """The speaker alias table: packaged, plus the home's ``speakers.txt``."""
        from indexer.ingest.structure.sources import SpeakerTable

        return SpeakerTable.load(self.home.path)

    def edit_speakers(self, line: str, *, actor: str) -> list[str]:
        """Add a speaker group (``习近平 = 习近平总书记``) or remove one (``-甲``) in the home's
        ``speakers.txt``; applies to quotes ingested from now on. Returns the group."""
        from indexer.ingest.structure.sources import SPEAKERS_FILE, _split_forms

        line = clean_text(line or "").strip().replace("＝", "=")
        if not line:
            raise UsageError("请输入说话人及其别名。", "例如：习近平 = 习近平总书记 = 习近平同志")
        table = self.speakers
        if line[0] in "-－":
            word = line[1:].strip()
            group = next((g for g in table.groups if word in {f.strip("[]") for f in g}), None)
            if group is None:
                raise UsageError(f"没有包含“{word}”的说话人组。")
        else:
            group = _split_forms(line.lstrip("+＋"))
            if not group or any(len(f) > 40 or " " in f for f in group):
                raise UsageError("说话人组的格式不正确。", "例如：习近平 = 习近平总书记 = [总书记]")
        path = self.home.path / SPEAKERS_FILE
        with self._write_lock:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            self.__dict__.pop("speakers", None)
            shared_files.push(self, SPEAKERS_FILE)
            self.store.audit(
                actor,
                "speakers_" + ("remove" if line[0] in "-－" else "add"),
                "speakers",
                group=group,
            )
        return group

    def speaker_groups(self) -> list[list[str]]:
        return self.speakers.groups

    @cached_property
    def index(self):
        from indexer.search import open_engine

        return open_engine(self.home.index_path, self.vocab)

    def close(self) -> None:
        self.wait_for_jobs()
        if "index" in self.__dict__:
            self.index.close()
        self.store.close()

    # -- options -------------------------------------------------------------------------

    def resolve_topics(self, names: Iterable[str] | None) -> list[str]:
        return [self.taxonomy.resolve(n).slug for n in (names or [])]

    @staticmethod
    def resolve_audiences(names: Iterable[str] | None) -> list[str]:
        out = []
        by_label = {v: k for k, v in AUDIENCES.items()}
        for n in names or []:
            n = n.strip()
            slug = n if n in AUDIENCES else by_label.get(n) or by_label.get("进" + n)
            if slug is None:
                raise UsageError(
                    f"未知的宣讲对象“{n}”。",
                    "可用：" + "、".join(f"{v}（{k}）" for k, v in AUDIENCES.items()),
                )
            out.append(slug)
        return out

    # -- ingest --------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | os.PathLike],
        *,
        kind: str | None = None,
        topics: Iterable[str] | None = None,
        audiences: Iterable[str] | None = None,
        actor: str = "cli",
        extract_quotes: bool = True,
        progress: Callable[[FileResult, int, int], None] | None = None,
        page_progress: Callable[[str, str, int, int], None] | None = None,
    ) -> list[FileResult]:
        """Ingest files and folders; ``progress(result, done, total)`` after each file,
        ``page_progress(path, stage, done, total)`` for OCR pages inside a file."""
        opts = Options(
            kind=kind,
            topics=self.resolve_topics(topics),
            audiences=self.resolve_audiences(audiences),
            max_bytes=self.home.max_file_bytes,
            workers=self.home.config.ingest_workers,
            actor=actor,
            timeout_s=self.home.config.file_timeout_s,
            seconds_per_mb=self.home.config.file_seconds_per_mb,
            memory_mb=self.home.config.worker_memory_mb,
            extract_quotes=extract_quotes,
            speakers=self.speakers,
            ocr=publish.ocr_setting(self.home),
            max_media_bytes=self.home.config.max_media_bytes,
        )
        pipeline = Pipeline(self.store, self.taxonomy, after_store=self.sync)
        return pipeline.ingest(paths, opts, progress, page_progress)

    # -- index upkeep ----------------------------------------------------------------------

    # A serving process (the web app) sets this (True, or a callable run when the rebuild is
    # done: the web drops its caches): a write that finds the index missing or stale
    # (a dictionary change made by another process, an upgrade) starts the rebuild as a
    # background job instead of rebuilding inside the editor's request; the rebuild's final
    # drain applies the write. The CLI keeps rebuilding in place (its process is the job).
    upkeep_in_background = False

    def sync(self, progress: Callable[[int, int], None] | None = None) -> str:
        """Apply the outbox to the index (rebuild it when missing or stale). Writers call it."""
        with self._write_lock:
            if self.upkeep_in_background and self.index.status() != "ok":
                done = self.upkeep_in_background
                self.start_rebuild(
                    "检索索引需要重建（词典或程序版本有变化）",
                    "system",
                    on_done=done if callable(done) else None,
                )
                return "rebuilding"
            return sync.ensure(self.store, self.index, progress=progress)

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        with self._write_lock:
            return sync.rebuild(self.store, self.index, progress=progress)

    def check(
        self, repair: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> list[str]:
        with self._write_lock:
            return sync.check(self.store, self.index, repair=repair, progress=progress)

    def index_status(self) -> str:
        return self.index.status()

    def start_rebuild(
        self, label: str, actor: str, on_done: Callable[[], None] | None = None
    ) -> Job:
        """Rebuild the index in a background thread (after a vocabulary change); writes wait
        for it, searches do not. Returns the running job if one is already running."""

        def work(job: Job) -> str:
            def progress(done: int, total: int) -> None:
                job.done, job.total = done, total

            with self._write_lock:
                job.total = self.store.count_records()
                n = self.reindex(progress=progress)
                job.done = job.total = n
            return f"索引已重建：{n} 条可检索内容。"

        return self.jobs.start(label, actor, work, on_done)

    def running_job(self) -> Job | None:
        return self.jobs.running()

    def job(self, job_id: int) -> Job | None:
        return self.jobs.get(job_id)

    def wait_for_jobs(self, timeout: float = 120) -> None:
        """Block until background jobs (rebuilds, uploads) finish (tests and shutdown)."""
        self.jobs.wait(timeout)
        if "_uploads" in self.__dict__:
            self._uploads.wait(timeout)

    # -- search ----------------------------------------------------------------------------

    def ready(self) -> str:
        """Make the index usable before serving reads: rebuild it when it is missing or stale
        (a new version of lecturelib, a dictionary change made elsewhere) and apply changes a
        crash left in the outbox. Called once by ``serve`` and by CLI reads; searches themselves
        never write."""
        with self._write_lock:
            return sync.ensure(self.store, self.index)

    def ready_to_read(self) -> None:
        """Before a one-off read (the CLI): build the index only when it is not usable (first
        use after an upgrade); an index that is fine is not touched."""
        if self.index.status() != "ok":
            self.ready()

    def search(self, query: str, **kw) -> dict:
        """Read only: the newest committed index snapshot, no outbox, no lock. An empty
        library answers "nothing found"."""
        shared_files.maybe_refresh(self)  # several nodes: another node's dictionary edits
        return searching.read(
            self, lambda: self.index.search(query, **kw), searching.empty_result(query)
        )

    def explain(self, query: str) -> dict:
        return self.index.explain(query)

    def autocomplete(self, prefix: str, limit: int = 8) -> list[dict]:
        return searching.read(self, lambda: self.index.autocomplete(prefix, limit=limit), [])

    def more_like_this(self, hit_id: str, limit: int = 5) -> list[dict]:
        return searching.read(self, lambda: self.index.more_like_this(hit_id, limit=limit), [])

    @staticmethod
    def is_expensive(query: str) -> bool:
        """A broad query that may need its whole budget (the web runs those one at a time)."""
        return searching.is_expensive(query)

    def resolve_filters(self, filters: dict[str, list[str]]) -> dict[str, list[str]]:
        """Search filter values as the engine's slugs (进农村 → rural, kind=讲义 →
        doc_kind=handout); unknown values stay as typed."""
        return searching.resolve_filters(self.taxonomy, filters)

    # -- reading the library ---------------------------------------------------------------

    def list_documents(self, **kw) -> list[dict]:
        return self.store.list_documents(**kw)

    def counts(self) -> dict:
        return self.store.counts()

    def document(self, doc_id: int) -> dict:
        """A document with its versions, topics, headings, passages and quotes."""
        return self.store.get_document(doc_id)

    def document_row(self, doc_id: int) -> dict:
        return self.store.get_document_row(doc_id)

    def quote(self, quote_id: int) -> dict:
        return self.store.get_quote(quote_id)

    def records(self, ids: list[str]) -> list[dict]:
        """Searchable records ("q:12", "p:34") still in the library, with their citation data."""
        return self.store.records(ids)

    def tombstone(self, record: str) -> dict | None:
        """What is left of a purged record ("document:12", "quote:34"), else None."""
        return self.store.tombstone(record)

    def tombstones(self, records: Iterable[str]) -> dict[str, dict]:
        return self.store.tombstones(records)

    def original_path(self, sha256: str) -> Path:
        """A file on this machine with the original (PostgreSQL mode: a copy from the database)."""
        path = self.store.originals.local_path(sha256)
        if not path.is_file():  # a recording (视频/音频): kept apart, in chunks on PostgreSQL
            path = self.store.media_files.path(sha256)
        return path

    # -- drafts, preview, publish -------------------------------------------------------------

    def upload(
        self, data: bytes, filename: str, *, actor: str, replace_of: int | None = None
    ) -> dict:
        """Prepare an uploaded file and keep it as a draft (nothing published yet)."""
        if replace_of:
            self.store.get_document_row(replace_of)  # NotFoundError when it is gone
        return publish.upload(self, data, filename, actor, replace_of)

    @cached_property
    def _uploads(self):
        from indexer.app.uploads import Uploads

        return Uploads(self)

    def start_upload(
        self, data: bytes, filename: str, *, actor: str, replace_of: int | None = None
    ) -> dict:
        """Like :meth:`upload`, in the background: returns the job at once (its ``id``, state,
        page progress); the result, once there, is :meth:`upload`'s."""
        if replace_of:
            self.store.get_document_row(replace_of)  # NotFoundError when it is gone
        return self._uploads.start(data, filename, actor=actor, replace_of=replace_of)

    def upload_job(self, job_id: str, *, actor: str) -> dict | None:
        """An upload job of ``actor`` (any process's), None when there is none."""
        return self._uploads.get(job_id, actor=actor)

    def cancel_upload(self, job_id: str, *, actor: str) -> dict | None:
        """Stop a running upload job before its next page; nothing of it is stored."""
        return self._uploads.cancel(job_id, actor=actor)

    def drafts(self) -> list[dict]:
        return self.store.list_drafts()

    def draft(self, draft_id: int) -> publish.Draft:
        """A draft with what its preview shows (the form's starting values)."""
        return publish.load_draft(self, draft_id)

    def draft_page_image(self, draft_id: int, page: int, width: int = 1000) -> bytes:
        """Page ``page`` of a draft's original (a scanned PDF or a page photo) as a PNG, for the
        preview beside the page's OCR'd text. NotFoundError when there is no such page."""
        from indexer.app.pageimages import render

        row = self.store.get_draft(draft_id)
        fmt = row["payload"]["prepared"]["format"]
        return render(self.store.originals.read(row["sha256"]), fmt, page, width)

    def publish(self, draft_id: int, corrections: publish.Corrections, *, actor: str) -> FileResult:
        with self._write_lock:
            return publish.publish(self, draft_id, corrections, actor)

    def discard_draft(self, draft_id: int, *, actor: str) -> dict:
        return publish.discard(self, draft_id, actor)

    # -- dictionary and synonyms (the index is rebuilt after: ``sync`` or ``start_rebuild``) --

    def terms(self) -> list[str]:
        return list(self.vocab.terms)

    def dictionary_changes(self) -> tuple[list[str], list[str]]:
        """The library's own words (added to the packaged dictionary) and the packaged words
        it removed."""
        current = set(self.vocab.terms)
        return sorted(current - self.packaged_terms), sorted(self.packaged_terms - current)

    def change_terms(self, action: str, words: list[str], *, actor: str) -> list[str]:
        """Add or remove dictionary words; returns those that changed (audited)."""
        if not words:
            raise UsageError("请输入要添加或删除的词。", "多个词用空格或逗号分开。")
        if action not in ("add", "remove"):
            raise UsageError("未知的操作。")
        with self._write_lock:
            changed = (
                self.vocab.add_terms(words) if action == "add" else self.vocab.remove_terms(words)
            )
            if changed:
                shared_files.push(self, "dictionary.txt")
                self.store.audit(actor, "dict_" + action, "dictionary", words=changed)
        return changed

    def synonym_groups(self) -> list[list[str]]:
        return self.vocab.synonym_groups

    def add_synonyms(self, forms: list[str], *, actor: str) -> list[str]:
        if len(forms) < 2:
            raise UsageError("同义词组至少需要两个词。", "例如：二十大 = 党的二十大")
        with self._write_lock:
            group = self.vocab.add_synonyms(forms)
            shared_files.push(self, "synonyms.txt")
            self.store.audit(actor, "synonyms_add", "synonyms", group=group)
        return group

    def remove_synonym_group(self, word: str, *, actor: str) -> list[str]:
        """Remove the synonym group holding ``word``; returns it ([] when there is none)."""
        with self._write_lock:
            group = self.vocab.remove_synonym_group(word) if word else []
            if group:
                shared_files.push(self, "synonyms.txt")
                self.store.audit(actor, "synonyms_remove", "synonyms", group=group)
        return group

    # -- accounts and the audit log --------------------------------------------------------

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self.store)

    @property
    def login_failures(self):
        """Failed logins shared by every process and node (the web's login throttle)."""
        return self.store.login_failures

    def audit(self, actor: str, action: str, target: str | None, **detail) -> None:
        self.store.audit(actor, action, target, **detail)

    def audit_entries(self, limit: int = 300) -> list[auditlog.AuditEntry]:
        return auditlog.entries(self.store, limit)

    # -- topic packs -------------------------------------------------------------------------

    def export_topic(
        self,
        topic: str,
        out: Path,
        *,
        kinds: list[str] | None = None,
        media_limit_mb: float | None = None,
        actor: str = "cli",
    ):
        """A topic pack at ``out``; recordings' files up to ``media_limit_mb`` in all (None:
        the default, 0: transcripts only)."""
        from indexer.app.export import DEFAULT_MEDIA_LIMIT_MB, export_topic

        limit = DEFAULT_MEDIA_LIMIT_MB if media_limit_mb is None else media_limit_mb
        with self._write_lock:
            return export_topic(
                self, topic, Path(out), kinds=kinds, media_limit_mb=limit, actor=actor
            )

    def import_pack(self, path: Path, *, actor: str = "cli"):
        from indexer.app.packimport import import_pack

        with self._write_lock:
            return import_pack(self, Path(path), actor=actor)

    # -- editing (store first, then the index from the outbox) -----------------------------

    def update_document(self, doc_id: int, *, actor: str, **changes) -> None:
        if "topics" in changes and changes["topics"] is not None:
            changes["topics"] = self.resolve_topics(changes["topics"])
        if "audiences" in changes and changes["audiences"] is not None:
            changes["audiences"] = self.resolve_audiences(changes["audiences"])
        if changes.get("title"):
            from indexer.ingest.pipeline import text_key

            changes["title_key"] = text_key(changes["title"])
        with self._write_lock:
            self.store.update_document(doc_id, actor=actor, **changes)
            self.sync()

    def update_quote(self, quote_id: int, *, actor: str, **changes) -> None:
        if "topics" in changes and changes["topics"] is not None:
            changes["topics"] = self.resolve_topics(changes["topics"])
        with self._write_lock:
            self.store.update_quote(quote_id, actor=actor, **changes)
            self.sync()

    def trash(self, doc_id: int, *, actor: str) -> None:
        with self._write_lock:
            self.store.set_status(doc_id, "trashed", actor=actor)
            self.sync()

    def restore(self, doc_id: int, *, actor: str) -> None:
        with self._write_lock:
            self.store.set_status(doc_id, "active", actor=actor)
            self.sync()

    def purge(self, doc_id: int, *, actor: str) -> None:
        with self._write_lock:
            self.store.purge(doc_id, actor=actor)
            self.sync()

    # -- media (视频/音频, indexer.app.media) ------------------------------------------------

    def upload_media(self, path: Path, filename: str, *, actor: str, **meta) -> FileResult:
        """Store a recording streamed to ``path`` (title, speaker, date, source, topics,
        audiences, transcript=(bytes, name)); published at once."""
        return media.upload(self, path, filename, actor=actor, **meta)

    def attach_transcript(self, doc_id: int, data: bytes, filename: str, *, actor: str) -> dict:
        """Give a recording (待补文稿 or not) the transcript in ``data`` (subtitle or document)."""
        return media.attach_transcript(self, doc_id, data, filename, actor=actor)

    def media(self, doc_id: int) -> dict:
        """A recording with its media record and its transcript's cues (start/end seconds)."""
        return media.media_document(self, doc_id)

    def media_file(self, doc_id: int) -> tuple[Path, str]:
        """(a file on this machine holding the recording, its MIME type), for the player."""
        return media.media_file(self, doc_id)

    def media_poster(self, doc_id: int) -> Path:
        return media.poster_file(self, doc_id)

    def media_upload_folder(self) -> Path:
        """Where a recording being uploaded is streamed to (in the home, so that storing it is
        a copy on one disk); the file is removed once stored."""
        folder = self.home.path / "run" / "media-uploads"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def max_media_bytes(self) -> int:
        return self.home.config.max_media_bytes


__all__ = ["LibraryService"]
