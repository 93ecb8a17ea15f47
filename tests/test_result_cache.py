"""Repeated searches are answered from a cache keyed by the committed index generation: the
same answer, never a stale one after a write by another engine (another process), and a caller
changing its answer does not change the next one."""

from __future__ import annotations

from test_search_golden import RECORDS, rec

from indexer.search import IndexRecord, open_engine
from indexer.search.vocab import Vocabulary


def test_a_repeated_search_is_the_same_answer_and_callers_cannot_spoil_it(tmp_path):
    e = open_engine(tmp_path / "index", Vocabulary.load(None))
    e.rebuild(RECORDS, procs=1)
    try:
        first = e.search("绿水青山")
        first["hits"].clear()  # a view that edits its answer in place
        first["total"] = -1
        again = e.search("绿水青山")
        assert again["total"] >= 1 and again["hits"]
        assert again == e.search("绿水青山")
        again["hits"].clear()  # an answer served from the cache is the caller's own copy too
        assert e.search("绿水青山")["hits"]
    finally:
        e.close()


def test_a_write_by_another_engine_is_seen_at_once(tmp_path):
    vocab = Vocabulary.load(None)
    reader = open_engine(tmp_path / "index", vocab)
    reader.rebuild(RECORDS, procs=1)
    writer = open_engine(tmp_path / "index", vocab)  # another process's engine
    try:
        assert reader.search("独一无二的新段落")["total"] == 0
        writer.apply([IndexRecord.from_row(rec("p:777", "这是一个独一无二的新段落。"))], [])
        after = reader.search("独一无二的新段落")
        assert after["total"] == 1 and after["hits"][0]["id"] == "p:777"
        writer.delete(["p:777"])
        assert reader.search("独一无二的新段落")["total"] == 0
    finally:
        writer.close()
        reader.close()


def test_a_rebuild_by_another_engine_is_seen_although_generations_start_again(tmp_path):
    # another process rebuilds (a dictionary change): the new index directory's generation
    # numbers start again, so "same generation" must not mean "same index"
    vocab = Vocabulary.load(None)
    reader = open_engine(tmp_path / "index", vocab)
    reader.rebuild(RECORDS, procs=1)
    other = open_engine(tmp_path / "index", vocab)
    try:
        before = reader.search("绿水青山")
        assert before["total"] >= 1
        other.rebuild([r for r in RECORDS if "绿水青山" not in r.get("text", "")], procs=1)
        assert reader.search("绿水青山")["total"] == 0
        assert reader.search("绿水青山", limit=11)["total"] == 0
    finally:
        other.close()
        reader.close()
