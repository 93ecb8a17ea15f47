"""Index lifecycle: missing, ok, stale, corrupt; rebuild, apply, lock contention."""

from __future__ import annotations

import pytest

from indexer.search.vocab import Vocabulary
from indexer.search.whoosh import writer
from indexer.search.whoosh.index import SearchIndex
from library.errors import SearchIndexError


def rec(rid, text, doc=1):
    return {
        "id": rid,
        "kind": "passage",
        "text": text,
        "question": None,
        "heading": "",
        "source": "",
        "speaker": "",
        "date": "2024-01-01",
        "year": 2024,
        "topics": ["ecology"],
        "audiences": [],
        "doc_kind": "handout",
        "document_id": doc,
        "document_title": "讲义",
        "filename": "a.docx",
        "page": 1,
        "updated": 1.0,
        "seq": 1,
    }


RECS = [rec("p:1", "绿水青山就是金山银山"), rec("p:2", "宪法是国家的根本法", doc=2)]


@pytest.fixture
def vocab():
    return Vocabulary.load(None)


@pytest.fixture
def ix(tmp_path, vocab):
    index = SearchIndex(tmp_path / "index", vocab)
    index.rebuild(RECS, procs=1)
    yield index
    index.close()


def test_missing_then_ok(tmp_path, vocab):
    index = SearchIndex(tmp_path / "index", vocab)
    assert index.status() == "missing"
    with pytest.raises(SearchIndexError):
        index.search("宪法")
    index.rebuild(RECS, procs=1)
    assert index.status() == "ok"
    assert index.ids() == {"p:1", "p:2"}


def test_apply_upserts_and_deletes(ix):
    ix.apply([rec("p:3", "乡村振兴战略"), rec("p:1", "绿水青山换了新文字")], ["p:2"])
    assert ix.ids() == {"p:1", "p:3"}
    assert ix.search("宪法")["total"] == 0
    assert ix.search("乡村振兴")["hits"][0]["id"] == "p:3"
    assert ix.search("新文字")["hits"][0]["id"] == "p:1"
    assert ix.search("金山银山")["total"] == 0


def test_apply_on_missing_index_creates_it(tmp_path, vocab):
    index = SearchIndex(tmp_path / "index", vocab)
    index.apply([rec("p:9", "新质生产力")], [])
    assert index.status() == "ok"
    assert index.search("新质")["total"] == 1


def test_vocabulary_change_makes_index_stale(tmp_path, ix):
    ix.close()
    home = tmp_path / "home"
    home.mkdir()
    v2 = Vocabulary.load(home)
    v2.add_terms(["鼎湖山泉"])
    assert SearchIndex(ix.path, v2).status() == "stale"
    with pytest.raises(SearchIndexError) as e:
        SearchIndex(ix.path, v2).search("宪法")
    assert "reindex" in e.value.hint


def test_schema_version_change_makes_index_stale(ix):
    meta = writer.read_meta(ix.path)
    (ix.path / writer.META_FILE).write_text(
        '{"schema_version": 0, "vocabulary": "%s"}' % meta["vocabulary"], encoding="utf-8"
    )
    assert ix.status() == "stale"


def test_deleted_segment_file_is_corrupt(ix):
    ix.close()
    victims = [p for p in ix.path.iterdir() if p.suffix in (".seg", ".trm", ".pst")]
    assert victims
    for p in victims:
        p.unlink()
    assert ix.status() == "corrupt"
    with pytest.raises(SearchIndexError):
        SearchIndex(ix.path, ix.vocab).search("宪法")


def test_garbage_toc_is_corrupt(ix):
    ix.close()
    for toc in ix.path.glob("_MAIN_*.toc"):
        toc.write_bytes(b"garbage" * 10)
    assert ix.status() == "corrupt"


def test_rebuild_repairs_corrupt_index(ix):
    ix.close()
    for toc in ix.path.glob("_MAIN_*.toc"):
        toc.write_bytes(b"garbage")
    ix.rebuild(RECS, procs=1)
    assert ix.status() == "ok" and ix.search("宪法")["total"] == 1


def test_parallel_rebuild(tmp_path, vocab):
    index = SearchIndex(tmp_path / "index", vocab)
    many = [rec(f"p:{i}", f"第{i}段，绿水青山就是金山银山。", doc=i % 7) for i in range(600)]
    index.rebuild(many, procs=2, progress=lambda n: None)
    assert index.status() == "ok"
    assert len(index.ids()) == 600
    assert index.search("第599段")["hits"][0]["id"] == "p:599"


def test_failed_rebuild_keeps_old_index(ix):
    def bad():
        yield rec("p:7", "好的记录")
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError):
        ix.rebuild(bad(), procs=1)
    assert ix.status() == "ok"
    assert ix.ids() == {"p:1", "p:2"}


def test_lock_contention_is_retried_then_reported(ix, monkeypatch):
    monkeypatch.setattr(writer, "LOCK_TIMEOUT", 0.3)
    raw = writer.open_index(ix.path, ix.vocab)
    holder = raw.writer()
    try:
        with pytest.raises(SearchIndexError) as e:
            writer.apply(raw, [rec("p:5", "抢锁")], [])
        assert "等待超时" in e.value.message
    finally:
        holder.cancel()
    ix.apply([rec("p:5", "锁释放后写入")], [])
    assert "p:5" in ix.ids()


# --- the bulk writer (writer.BulkSegmentWriter / BulkMpWriter) ------------------------------

MIXED = [
    rec(f"p:{i}", t, doc=i % 5)
    for i, t in enumerate(
        [
            "绿水青山就是金山银山，ＧＤＰ增长５％。",
            "宪法是国家的根本法，2024年12月4日是国家宪法日。",
            "新质生产力 New Quality Productive Forces",
            "乡村振兴战略：产业兴旺、生态宜居、乡风文明。",
            "党的二十大报告提出中国式现代化。",
            "绿水青山绿水青山绿水青山",
        ]
        * 40
    )
]


def _segment_files(path):
    """File contents of an index directory by kind (segment names are random)."""
    from pathlib import Path

    out = {}
    for f in sorted(Path(path).iterdir()):
        if f.suffix in (".toc", ".json") or "WRITELOCK" in f.name:
            continue
        out.setdefault(f.name.split(".", 1)[-1], []).append(f.read_bytes())
    return out


def test_bulk_writer_writes_the_same_files_as_whoosh(tmp_path, vocab):
    """The in-memory pool and the one-block fast path change nothing on disk."""
    from whoosh.writing import SegmentWriter

    from indexer.search.whoosh.schema import to_document

    def build(cls, name):
        ix = writer.create_empty(tmp_path / name, vocab)
        w = cls(ix, codec=writer.LeanCodec(), compound=False)
        for r in MIXED:
            w.add_document(**to_document(r))
        w.commit()
        ix.close()
        return _segment_files(tmp_path / name)

    assert build(writer.BulkSegmentWriter, "bulk") == build(SegmentWriter, "whoosh")


def test_merging_segments_through_the_bulk_pool(tmp_path, vocab, monkeypatch):
    merged = []
    real_add = writer._InvertedPool.add
    monkeypatch.setattr(
        writer._InvertedPool, "add", lambda self, item: (merged.append(1), real_add(self, item))
    )
    index = SearchIndex(tmp_path / "index", vocab)
    index.rebuild(MIXED[:100], procs=1)
    for i in range(0, 40, 10):  # small segments: the merge policy folds them together
        index.apply(
            [rec(f"n:{j}", f"补充材料第{j}条，生态文明建设。") for j in range(i, i + 10)],
            [f"p:{i}"],
        )
    assert index.search("补充材料")["total"] == 40
    assert index.search("第37条")["hits"][0]["id"] == "n:37"
    assert "p:10" not in index.ids() and "p:11" in index.ids()
    w = writer.BulkSegmentWriter(index._index(), codec=writer.LeanCodec(), compound=False)
    w.commit(optimize=True)  # everything through the merge path at once
    assert merged
    assert len(list(index._index()._segments())) == 1
    index._refresh()
    assert index.search("生态文明")["total"] == 40
    assert index.search("宪法日")["total"] == sum(
        1
        for r in MIXED[:100]
        if "宪法日" in r["text"] and r["id"] not in {"p:0", "p:10", "p:20", "p:30"}
    )
    index.close()


def test_large_apply_uses_worker_processes(tmp_path, vocab, monkeypatch):
    """A bulk drain (many records in one apply) is analysed in worker processes; the result
    is the same as with one writer: replaced records replaced, deleted ones gone."""
    index = SearchIndex(tmp_path / "index", vocab)
    index.rebuild(RECS, procs=1)
    monkeypatch.setattr(writer, "PARALLEL_APPLY_MIN", 50)
    used = []
    real = writer.BulkMpWriter.__init__

    def spy(self, *a, **kw):
        used.append(kw.get("procs"))
        real(self, *a, **kw)

    monkeypatch.setattr(writer.BulkMpWriter, "__init__", spy)
    batch = [rec(f"q:{i}", f"第{i}号金句：绿水青山就是金山银山。") for i in range(120)]
    index.apply(batch + [rec("p:1", "这一段已经换成了新的文字")], ["p:2"])
    assert used == [2]
    assert index.ids() == {f"q:{i}" for i in range(120)} | {"p:1"}
    assert index.search("第119号")["hits"][0]["id"] == "q:119"
    assert index.search("新的文字")["hits"][0]["id"] == "p:1"
    assert index.search("宪法")["total"] == 0
    assert index.search("金山银山")["total"] == 120
    index.close()


def test_single_process_rebuild_with_bounded_memory_makes_segments(tmp_path, vocab, monkeypatch):
    monkeypatch.setattr(writer, "REBUILD_LIMIT_MB", 0)  # every 256 records a new segment
    index = SearchIndex(tmp_path / "index", vocab)
    many = [rec(f"p:{i}", f"第{i}段，绿水青山就是金山银山。") for i in range(600)]
    index.rebuild(many, procs=1)
    assert len(list(index._index()._segments())) >= 2
    assert len(index.ids()) == 600
    assert index.search("第300段")["hits"][0]["id"] == "p:300"
    index.close()
