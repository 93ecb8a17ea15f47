"""Every file has a budget that follows its size (issue 11), and the library's own speaker
table and the quote-extraction switch reach the worker processes (issue 14)."""

from __future__ import annotations

from builders import make_docx

from indexer.ingest.pipeline import Options, file_budget

SCRIPT = [
    ("t", "基层宣讲稿"),
    ("p", "一、开场"),
    ("p", "老支书常说：“群众的事再小也是大事。”我们要把这句话记在心里，落实到每一件小事上。" * 2),
    ("p", "习近平总书记指出：“民生无小事，枝叶总关情。”这句话道出了为民情怀。" * 2),
]


def test_budget_follows_the_file_size():
    opts = Options(timeout_s=600, seconds_per_mb=20, timeout_floor_s=30)
    assert file_budget(571, opts) == 30  # a tiny hostile PDF: 30 s, not 600
    assert file_budget(10 * 1024 * 1024, opts) == 230
    assert file_budget(100 * 1024 * 1024, opts) == 600  # capped


def test_quote_extraction_switch_and_home_speakers(library_factory, tmp_path):
    path = make_docx(tmp_path / "讲稿.docx", SCRIPT)
    svc = library_factory()
    svc.ingest([path], actor="t", extract_quotes=False)
    doc = svc.store.list_documents()[0]
    assert svc.store.get_document(doc["id"])["quotes"] == []
    svc2 = library_factory(name="home2")
    (svc2.home.path / "speakers.txt").write_text(
        "习近平 = 习近平总书记 = 近平同志\n", encoding="utf-8"
    )
    svc2.ingest([path], actor="t")
    quotes = svc2.store.get_document(svc2.store.list_documents()[0]["id"])["quotes"]
    assert any(q["speaker"] == "习近平" and "民生无小事" in q["text"] for q in quotes)


def test_cli_ingest_without_quote_extraction(library_factory, tmp_path, capsys):
    from cli import main as cli

    path = make_docx(tmp_path / "讲稿.docx", SCRIPT)
    svc = library_factory()
    assert cli.main(["--home", str(svc.home.path), "ingest", str(path), "--no-quotes", "-q"]) == 0
    doc = svc.store.list_documents()[0]
    assert svc.store.get_document(doc["id"])["quotes"] == []
