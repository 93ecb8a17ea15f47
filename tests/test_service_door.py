"""The application service is the one door: the publish workflow, searches and the dictionary
work through LibraryService alone, without Flask or the command line in between."""

from __future__ import annotations

from conftest import HANDOUT, QUOTES, make_docx
from stores import database, settings_for  # noqa: F401


def test_upload_preview_and_publish_through_the_service(
    request, library_factory, tmp_path, database
):
    from indexer.app.publish import Corrections

    svc = library_factory(settings=settings_for(request, database))
    svc.ready()  # as the web and CLI do
    data = make_docx(tmp_path / "金句.docx", QUOTES).read_bytes()
    res = svc.upload(data, "金句.docx", actor="编辑甲")
    assert res["status"] in ("ok", "warning") and res["draft_id"]
    assert svc.search("绿水青山")["total"] == 0  # a draft is not published
    draft = svc.draft(res["draft_id"])
    assert draft.prefill["kind"] == "quotes" and len(draft.prefill["quotes"]) == 3
    c = Corrections(
        title="生态金句（修订）",
        kind="quotes",
        date="2017-10",
        source=None,
        topics=[],
        audiences=["rural"],
    )
    c.rejected.add(2)  # 不忘初心 … is left out
    result = svc.publish(res["draft_id"], c, actor="编辑甲")
    assert result.status in ("ok", "warning")
    doc = svc.document(result.document_id)
    assert doc["title"] == "生态金句（修订）" and doc["date"] == "2017-10"
    assert doc["audiences"] == ["rural"] and len(doc["quotes"]) == 2
    assert svc.drafts() == []
    # published means searchable at once, and the second upload of the same file is a duplicate
    assert svc.search("绿水青山", kind="quote")["total"] == 1
    again = svc.upload(data, "金句.docx", actor="编辑甲")
    assert again["status"] == "duplicate" and again["document_id"] == result.document_id


def test_a_discarded_draft_is_gone_and_audited(request, library_factory, tmp_path, database):
    svc = library_factory(settings=settings_for(request, database))
    res = svc.upload(
        make_docx(tmp_path / "讲义.docx", HANDOUT).read_bytes(), "讲义.docx", actor="编辑甲"
    )
    row = svc.discard_draft(res["draft_id"], actor="编辑甲")
    assert row["filename"] == "讲义.docx" and svc.drafts() == []
    assert any(e.row["action"] == "discard_upload" for e in svc.audit_entries())


def test_a_search_never_applies_the_outbox(library_factory, tmp_path):
    svc = library_factory(files=[make_docx(tmp_path / "q.docx", QUOTES)])
    doc = svc.list_documents()[0]
    svc.store.set_status(doc["id"], "trashed", actor="test")  # written, not yet applied
    before = svc.store.outbox.pending()
    assert before[1]
    assert svc.search("绿水青山")["total"] >= 1  # the committed snapshot
    assert svc.store.outbox.pending() == before  # the search wrote nothing
    svc.sync()
    assert svc.search("绿水青山")["total"] == 0


def test_search_filters_resolve_chinese_names(library_factory):
    svc = library_factory()
    out = svc.resolve_filters(
        {
            "audience": ["进农村", "rural"],
            "kind": ["讲义", "金句"],
            "year": ["２０２３年"],
            "topic": ["生态文明建设"],
        }
    )
    assert out["audience"] == ["rural"]
    assert out["doc_kind"] == ["handout"] and out["kind"] == ["quote"]
    assert out["year"] == ["2023"] and out["topic"] == ["ecology"]


def test_dictionary_changes_from_the_command_line_are_audited(library_factory, capsys):
    from cli import main as cli

    svc = library_factory()
    home = str(svc.home.path)
    svc.close()
    assert cli.main(["--home", home, "dict", "add", "砂糖橘产业"]) == 0
    assert "已添加 1 个词" in capsys.readouterr().out
    from indexer.app.service import LibraryService

    svc = LibraryService(home)
    try:
        assert "砂糖橘产业" in svc.terms()
        rows = [e.row for e in svc.audit_entries() if e.row["action"] == "dict_add"]
        assert rows and rows[0]["actor"] == "cli"
    finally:
        svc.close()
