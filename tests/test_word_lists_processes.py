"""The server runs several worker processes on one home: a dictionary or synonym edit made by
one of them reaches the others (they read the home's word lists again when the files change),
and until the index is rebuilt for the new words they keep answering with the old ones instead
of failing with "搜索索引已过期"."""

from __future__ import annotations

from builders import make_docx

from indexer.app import shared_files
from indexer.app.service import LibraryService


def test_a_sibling_process_picks_up_a_synonym_edit(library_factory, tmp_path, monkeypatch):
    monkeypatch.setattr(shared_files, "LOCAL_CHECK_S", 0.0, raising=False)
    doc = make_docx(
        tmp_path / "基层治理讲义.docx",
        [("h", "基层治理讲义"), ("p", "坚持和发展新时代枫桥经验，把矛盾纠纷化解在基层。")],
    )
    a = library_factory(files=[doc])
    b = LibraryService(a.home.path)  # the other worker process of the same server
    try:
        assert b.search("枫桥模式")["total"] == 0
        a.add_synonyms(["枫桥经验", "枫桥模式"], actor="bianji")
        # the rebuild for the new words has not run yet: B answers with the old ones
        assert b.search("枫桥经验")["total"] == 1
        a.reindex()
        assert b.search("枫桥模式")["total"] == 1
        assert any({"枫桥经验", "枫桥模式"} <= set(g) for g in b.synonym_groups())
    finally:
        b.close()
