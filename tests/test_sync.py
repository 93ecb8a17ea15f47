"""Store → index agreement: the outbox is drained after every change, crashes between the two
lose nothing, and the index writer survives a seeded global `random`."""

from __future__ import annotations

import random

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, make_docx

from indexer.app import sync
from indexer.app.service import LibraryService
from indexer.search import WRITERS


def test_changes_left_in_the_outbox_are_applied_on_next_start_not_by_a_search(tmp_path):
    make_docx(tmp_path / "in" / "q.docx", QUOTES_DOC)
    svc = LibraryService(tmp_path / "home")
    try:
        svc.ingest([tmp_path / "in"])
        # a crash after the store commit and before the index update: the outbox remembers
        doc = svc.store.list_documents()[0]
        svc.store.set_status(doc["id"], "trashed", actor="t")
        assert svc.store.pending_index()[1]
        assert "3 条" not in str(svc.check())  # check reports the pending change
        assert any("尚未写入索引" in p for p in svc.check())
        svc.search("金山银山")  # a search only reads ...
        assert svc.store.pending_index()[1]
        svc.ready()  # ... the next start applies it
        assert svc.search("金山银山")["total"] == 0
        assert svc.store.pending_index() == (0, [])
        assert svc.check() == []
    finally:
        svc.close()


@pytest.mark.parametrize("writer", WRITERS)
def test_segment_names_do_not_depend_on_the_global_random_state(tmp_path, writer, monkeypatch):
    monkeypatch.setenv("LECTURELIB_SEARCH_WRITER", writer)
    make_docx(tmp_path / "a" / "h.docx", HANDOUT_DOC)
    make_docx(tmp_path / "b" / "q.docx", QUOTES_DOC)
    svc = LibraryService(tmp_path / "home")
    try:
        random.seed(7)
        svc.ingest([tmp_path / "a"])
        random.seed(7)  # the same state again: whoosh would reuse the name
        svc.ingest([tmp_path / "b"])
        assert svc.search("金山银山")["total"] >= 1
        assert svc.search("产业兴旺")["total"] >= 1
    finally:
        svc.close()


def test_rebuild_keeps_changes_queued_after_it_started(tmp_path):
    make_docx(tmp_path / "in" / "h.docx", HANDOUT_DOC)
    svc = LibraryService(tmp_path / "home")
    try:
        svc.ingest([tmp_path / "in"])
        total = sync.rebuild(svc.store, svc.index)
        assert total == svc.store.count_records()
        assert svc.check() == []
    finally:
        svc.close()
