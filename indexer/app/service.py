"""The core object the CLI and the web app share: one library home, its store, taxonomy,
vocabulary, search index and ingest pipeline. Business logic lives here and below, not in
views or commands.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Callable, Iterable

from library.content import AUDIENCES, clean_text
from library.errors import UsageError
from library.home import Home
from library.store import Store
from library.taxonomy import Taxonomy

from indexer.app import sync
from indexer.ingest.pipeline import FileResult, Options, Pipeline


class LibraryService:
    def __init__(self, home: str | os.PathLike | Home | None = None):
        self.home = home if isinstance(home, Home) else Home.open(home)
        self.store = Store(self.home)
        self.taxonomy = Taxonomy.load(self.home.path)

    @cached_property
    def vocab(self):
        from indexer.search.vocab import Vocabulary
        return Vocabulary.load(self.home.path)

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
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        self.__dict__.pop("speakers", None)
        self.store.audit(actor, "speakers_" + ("remove" if line[0] in "-－" else "add"),
                         "speakers", group=group)
        return group

    @cached_property
    def index(self):
        from indexer.search import open_engine
        return open_engine(self.home.index_path, self.vocab)

    def close(self) -> None:
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
                raise UsageError(f"未知的宣讲对象“{n}”。",
                                 "可用：" + "、".join(f"{v}（{k}）" for k, v in AUDIENCES.items()))
            out.append(slug)
        return out

    # -- ingest --------------------------------------------------------------------------

    def ingest(self, paths: Iterable[str | os.PathLike], *, kind: str | None = None,
               topics: Iterable[str] | None = None, audiences: Iterable[str] | None = None,
               actor: str = "cli", extract_quotes: bool = True,
               progress: Callable[[FileResult, int, int], None] | None = None) -> list[FileResult]:
        opts = Options(kind=kind, topics=self.resolve_topics(topics),
                       audiences=self.resolve_audiences(audiences),
                       max_bytes=self.home.max_file_bytes,
                       workers=int(self.home.settings.get("ingest_workers", 2)), actor=actor,
                       timeout_s=int(self.home.settings.get("file_timeout_s", 600)),
                       seconds_per_mb=float(self.home.settings.get("file_seconds_per_mb", 20)),
                       memory_mb=int(self.home.settings.get("worker_memory_mb", 3072)),
                       extract_quotes=extract_quotes, speakers=self.speakers)
        pipeline = Pipeline(self.store, self.taxonomy, after_store=self.sync)
        return pipeline.ingest(paths, opts, progress)

    # -- index upkeep ----------------------------------------------------------------------

    def sync(self, progress: Callable[[int, int], None] | None = None) -> str:
        return sync.ensure(self.store, self.index, progress=progress)

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        return sync.rebuild(self.store, self.index, progress=progress)

    def check(self, repair: bool = False,
              progress: Callable[[int, int], None] | None = None) -> list[str]:
        return sync.check(self.store, self.index, repair=repair, progress=progress)

    # -- search ----------------------------------------------------------------------------

    def ready(self) -> str:
        """Make the index usable before serving reads: rebuild it when it is missing or stale
        (a new version of lecturelib, a dictionary change made elsewhere) and apply changes a
        crash left in the outbox. Called once by ``serve`` and by CLI reads; searches themselves
        never write."""
        return self.sync()

    def search(self, query: str, **kw) -> dict:
        """Read only: the newest committed index snapshot, no outbox, no lock."""
        return self.index.search(query, **kw)

    def explain(self, query: str) -> dict:
        return self.index.explain(query)

    # -- editing (store first, then the index from the outbox) -----------------------------

    def update_document(self, doc_id: int, *, actor: str, **changes) -> None:
        if "topics" in changes and changes["topics"] is not None:
            changes["topics"] = self.resolve_topics(changes["topics"])
        if "audiences" in changes and changes["audiences"] is not None:
            changes["audiences"] = self.resolve_audiences(changes["audiences"])
        if changes.get("title"):
            from indexer.ingest.pipeline import text_key
            changes["title_key"] = text_key(changes["title"])
        self.store.update_document(doc_id, actor=actor, **changes)
        self.sync()

    def update_quote(self, quote_id: int, *, actor: str, **changes) -> None:
        if "topics" in changes and changes["topics"] is not None:
            changes["topics"] = self.resolve_topics(changes["topics"])
        self.store.update_quote(quote_id, actor=actor, **changes)
        self.sync()

    def trash(self, doc_id: int, *, actor: str) -> None:
        self.store.set_status(doc_id, "trashed", actor=actor)
        self.sync()

    def restore(self, doc_id: int, *, actor: str) -> None:
        self.store.set_status(doc_id, "active", actor=actor)
        self.sync()

    def purge(self, doc_id: int, *, actor: str) -> None:
        self.store.purge(doc_id, actor=actor)
        self.sync()


__all__ = ["LibraryService"]
