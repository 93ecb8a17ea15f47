"""What a reviewer found on a fresh clone (issues 9, 11, 15), each fixed with a test."""

from __future__ import annotations

import os
import stat


def test_the_database_is_not_world_readable(library_factory):
    svc = library_factory()
    db = next(svc.home.path.glob("*.sqlite3"))
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_a_long_query_says_it_was_cut(client):
    q = "乡村振兴" * 130  # 520 characters
    page = client.get("/search?q=" + q).get_data(as_text=True)
    assert "检索词过长，只使用了前 200 个字" in page
    res = client.get("/api/search?q=" + q).get_json()
    assert "检索词过长，只使用了前 200 个字。" in res["notices"]


def test_api_quote_citation_is_the_house_citation(client):
    hit = client.get("/api/search?q=绿水青山就是金山银山&kind=quote").get_json()["hits"][0]
    q = client.get(f"/api/quotes/{hit['id'][2:]}").get_json()
    assert q["citation"] == hit["citation"]
    assert q["copy"].startswith("“绿水青山就是金山银山。”") and q["copy"].endswith(hit["citation"])


def test_term_suggestions_lead_somewhere(client):
    res = client.get("/api/search?q=二十届三中全会").get_json()
    for s in res.get("suggestions") or []:
        if s["kind"] == "term":
            assert client.get("/api/search?q=" + s["query"]).get_json()["total"] > 0


def test_a_cold_search_keeps_its_budget_for_the_homophone_check(tmp_path):
    # jieba's start-up (0.6 s, more on a busy machine) no longer counts against the search's
    # budget: the first search of a CLI process is corrected like a warm one
    from builders import QUOTES_DOC, make_docx

    from indexer.app.service import LibraryService

    src = make_docx(tmp_path / "q.docx", QUOTES_DOC)
    svc = LibraryService(tmp_path / "home")
    svc.ingest([src], actor="t")
    svc.close()
    svc = LibraryService(tmp_path / "home")
    try:
        svc.index.budget_s = 0.5
        from indexer.search.whoosh import analysis

        analysis._TOKENIZERS.clear()  # cold: jieba loads in the search
        res = svc.search("绿水清山")
        assert res.get("corrected", {}).get("to") == "绿水青山"
    finally:
        svc.close()


def test_a_quote_keeps_its_compilation_theme_in_the_pack():
    # the first document citing it was a handout (no theme): the quote was filed under 其他
    from indexer.app.export import _themes

    docs = [
        {"quotes": [{"key": "k", "theme": None}]},
        {"quotes": [{"key": "k", "theme": "一、人与自然和谐共生"}]},
    ]
    assert _themes(docs, [{"key": "k", "theme": None}]) == [
        ("人与自然和谐共生", [{"key": "k", "theme": None}])
    ]


def test_the_busy_page_keeps_the_query_in_the_search_box(client, sample_app):
    lib = sample_app.extensions["lecturelib"]
    broad = " ".join("的一是在不了有和人这")
    assert lib._broad.acquire(timeout=1)
    try:
        page = client.get("/search?q=" + broad).get_data(as_text=True)
    finally:
        lib._broad.release()
    assert "检索繁忙" in page and f'value="{broad}"' in page


def test_cli_show_prints_the_source(library_factory, tmp_path, capsys):
    from builders import make_docx

    from cli import main as cli

    path = make_docx(
        tmp_path / "报告.docx",
        [
            ("t", "2025年某市政府工作报告"),
            ("p", "来源：浙江日报"),
            ("p", "一、过去一年的工作"),
            ("p", "全市经济运行稳中有进，民生福祉持续增进。" * 5),
        ],
    )
    svc = library_factory([path])
    doc_id = svc.store.list_documents()[0]["id"]
    assert cli.main(["--home", str(svc.home.path), "show", str(doc_id)]) == 0
    assert "来源：浙江日报" in capsys.readouterr().out
