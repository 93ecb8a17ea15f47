"""Searches read (issue 10, point 4): whatever a reader asks of the engine, it never applies the
outbox, never reopens a stale index for writing or rebuilds it, never takes the writer's lock
and never writes a byte under the library home. Watched through Python's audit hooks (every
file opened for writing, renamed, removed or created) and by comparing the index files."""

from __future__ import annotations

import os
import sys

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, make_docx

from indexer.app.service import LibraryService
from indexer.search import open_engine
from indexer.search.vocab import Vocabulary
from library.errors import SearchIndexError

_WATCH: list = []  # [root, events] while a block is watched; audit hooks stay forever
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {
    "os.rename",
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "os.truncate",
    "os.chmod",
    "os.link",
    "os.symlink",
    "os.utime",
    "shutil.rmtree",
    "shutil.move",
    "shutil.copyfile",
}


def _hook(event, args):
    if not _WATCH:
        return
    root, events = _WATCH
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing and str(path).startswith(root):
            events.append((event, str(path)))
    elif event in _CHANGES and any(str(a).startswith(root) for a in args if a is not None):
        events.append((event, tuple(str(a) for a in args)))


sys.addaudithook(_hook)


class _Watch:
    def __init__(self, root):
        self.root, self.events = str(root), []

    def __enter__(self):
        _WATCH[:] = [self.root, self.events]
        return self

    def __exit__(self, *exc):
        _WATCH.clear()


def _files(path):
    return {
        p.relative_to(path): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def library(tmp_path):
    make_docx(tmp_path / "in" / "q.docx", QUOTES_DOC)
    make_docx(tmp_path / "in" / "h.docx", HANDOUT_DOC)
    svc = LibraryService(tmp_path / "home")
    svc.ingest([tmp_path / "in"])
    yield svc
    svc.close()


def test_no_search_drains_the_outbox_or_writes(library):
    svc = library
    assert svc.search("金山银山")["total"] >= 1
    doc = next(d for d in svc.store.list_documents() if d["kind"] == "quotes")
    svc.store.set_status(doc["id"], "trashed", actor="t")  # committed, not yet applied
    pending = svc.store.pending_index()
    assert pending[1]
    before = _files(svc.home.index_path)
    fresh = open_engine(svc.home.index_path, svc.vocab)  # a cold reader too
    with _Watch(svc.home.path) as watch:
        for engine in (svc.index, fresh):
            for q in (
                "金山银山",
                "乡村振兴 kind:passage",
                "没有的词语组合",
                "绿水清山",
                "的 了 是",
            ):
                engine.search(q)
                engine.search(q, sort="date", page=2, limit=3)
            engine.facets("乡村振兴")
            engine.suggest("乡村振兴 -产业")
            engine.autocomplete("绿水")
            engine.more_like_this(engine.search("金山银山")["hits"][0]["id"])
            engine.explain("绿水青山 -金山")
            engine.highlight("绿水青山就是金山银山", "金山")
            engine.status()
            engine.ids()
        svc.search("金山银山")
        svc.explain("金山银山")
    fresh.close()
    assert watch.events == []
    assert _files(svc.home.index_path) == before
    assert svc.store.pending_index() == pending  # still waiting for a writer
    assert svc.search("金山银山")["total"] >= 1  # the trash is not seen yet ...
    svc.ready()
    assert svc.search("金山银山")["total"] == 0  # ... until a writer applies it


def test_a_stale_index_is_reported_not_rebuilt_by_a_search(library, tmp_path):
    svc = library
    path = svc.home.index_path
    edited = Vocabulary.load(tmp_path / "elsewhere")
    edited.add_terms(["星湖绿道"])  # another vocabulary: stale
    engine = open_engine(path, edited)
    before = _files(path)
    with _Watch(svc.home.path) as watch:
        assert engine.status() == "stale"
        with pytest.raises(SearchIndexError) as e:
            engine.search("金山银山")
        assert "过期" in str(e.value) and "reindex" in str(e.value.hint)
    engine.close()
    assert watch.events == []
    assert _files(path) == before


def test_the_watch_sees_a_write(library):
    """The audit hook does see what a writer does (so an empty list above means something)."""
    svc = library
    doc = svc.store.list_documents()[0]
    svc.store.set_status(doc["id"], "trashed", actor="t")
    with _Watch(svc.home.path) as watch:
        svc.ready()
    assert any(str(svc.home.index_path) in str(e[1]) for e in watch.events)


def test_a_read_that_loses_a_race_with_a_merge_is_read_again_from_a_fresh_snapshot(
    library, monkeypatch
):
    """Under heavy writes a search's stored-field read failed with a TypeError (a merge in
    another process removed the segment between the snapshot check and the read) and the
    speaker got a server error. The search reads once more from a fresh snapshot."""
    index = library.index
    if not hasattr(index, "_search_uncached"):
        pytest.skip("the Whoosh backend's snapshots")
    real, calls = index._search_uncached, []
    other = LibraryService(library.home.path)  # another process's writer, as it were

    def loses_once(req, snap):
        calls.append(snap)
        if len(calls) == 1:
            # a write commits meanwhile, and the old snapshot's read fails as the race did
            other.trash(other.list_documents()[0]["id"], actor="t")
            raise TypeError("'NoneType' object is not subscriptable")
        return real(req, snap)

    monkeypatch.setattr(index, "_search_uncached", loses_once)
    try:
        res = library.search("绿水青山")
    finally:
        other.close()
    assert len(calls) == 2 and calls[0] is not calls[1] and "total" in res

    def bug(req, snap):
        raise TypeError("a programming error, not a race")

    # with no commit since the snapshot, the error is not a race: it is not hidden
    monkeypatch.setattr(index, "_search_uncached", bug)
    with pytest.raises(TypeError, match="programming error"):
        library.search("金山银山 宣讲")
