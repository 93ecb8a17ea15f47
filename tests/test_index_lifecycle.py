"""Index lifecycle: missing, ok, stale, corrupt; rebuild, apply, lock contention."""

from __future__ import annotations

import pytest

from indexer import writer
from indexer.index import SearchIndex
from indexer.vocab import Vocabulary
from library.errors import SearchIndexError


def rec(rid, text, doc=1):
    return {"id": rid, "kind": "passage", "text": text, "question": None, "heading": "",
            "source": "", "speaker": "", "date": "2024-01-01", "year": 2024,
            "topics": ["ecology"], "audiences": [], "doc_kind": "handout", "document_id": doc,
            "document_title": "讲义", "filename": "a.docx", "page": 1, "updated": 1.0, "seq": 1}


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
        '{"schema_version": 0, "vocabulary": "%s"}' % meta["vocabulary"], encoding="utf-8")
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
