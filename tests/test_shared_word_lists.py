"""Several nodes, one library: the editors' dictionary, synonyms and speaker aliases edited on
one node apply on every node (the database holds the library's copy of the home's word lists)."""

from __future__ import annotations

import pytest

from indexer.app import shared_files
from indexer.app.service import LibraryService

pytestmark = pytest.mark.postgres


@pytest.fixture
def nodes(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("LECTURELIB_DATABASE_URL", pg_url)
    monkeypatch.setattr(shared_files, "CHECK_S", 0.0)
    made = []

    def node(name):
        svc = LibraryService(tmp_path / name)
        made.append(svc)
        return svc

    yield node
    for svc in made:
        svc.close()


def test_word_lists_edited_on_one_node_apply_on_the_others(nodes):
    a, b = nodes("a"), nodes("b")
    a.ready()  # what `serve` does first: the (empty) search tables
    assert "宣讲心坎词" not in b.terms()
    a.change_terms("add", ["宣讲心坎词"], actor="bianji")
    a.add_synonyms(["百千万工程", "百县千镇万村高质量发展工程"], actor="bianji")
    a.edit_speakers("张三同志 = 张三", actor="bianji")
    a.reindex()  # the rebuild a dictionary change starts (once, on the node that made it)

    b.search("百千万工程")  # a search on B looks for other nodes' edits
    assert "宣讲心坎词" in b.terms()
    assert ["百千万工程", "百县千镇万村高质量发展工程"] in b.synonym_groups()
    assert any("张三同志" in g for g in b.speakers.groups)

    c = nodes("c")  # a node started later has them from the start
    assert "宣讲心坎词" in c.terms()
    assert (c.home.path / "synonyms.txt").read_text(encoding="utf-8") == (
        a.home.path / "synonyms.txt"
    ).read_text(encoding="utf-8")


def test_the_embedded_mode_keeps_its_files_to_itself(tmp_path, monkeypatch):
    monkeypatch.delenv("LECTURELIB_DATABASE_URL", raising=False)
    svc = LibraryService(tmp_path / "home")
    try:
        svc.change_terms("add", ["本地词语"], actor="bianji")
        assert svc.store.get_setting("file:dictionary.txt") is None
    finally:
        svc.close()
