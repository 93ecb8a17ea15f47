"""Text is clean before it is stored (issue 11, findings 5 and 10): control characters are
removed from every text, title, 出处, name and file name at the store's door — ingest, editor
forms, pack import, user names — and file names keep their extension."""

from __future__ import annotations

import pytest
from builders import QUOTES_DOC, make_docx

from library.content import clean_text, safe_filename
from library.errors import UsageError
from library.users import Users


def test_clean_text_keeps_tab_and_newline_only():
    assert clean_text("a\x01b\x0bc\x1b[31md\te\nf\r\ng\x7f\ud800") == "abc[31md\te\nf\ng"


def test_safe_filename_keeps_the_extension():
    assert safe_filename("报告\x00\x1b[2J\r\n.docx") == "报告[2J.docx"
    assert safe_filename("../../etc/passwd") == "passwd"
    long = "长" * 300 + ".pdf"
    assert len(safe_filename(long)) == 200 and safe_filename(long).endswith(".pdf")
    assert safe_filename("\u202eexe.docx") == "exe.docx"
    assert safe_filename("\x00\x1b.docx") == "未命名.docx"


def test_ingest_and_editor_edits_store_clean_text(library_factory, tmp_path):
    path = make_docx(tmp_path / "金句\x1b汇编.docx", QUOTES_DOC)
    svc = library_factory([path])
    doc = svc.store.list_documents()[0]
    assert "\x1b" not in doc["filename"] and doc["filename"].endswith(".docx")
    q = svc.store.get_document(doc["id"])["quotes"][0]
    svc.update_quote(q["id"], actor="t", text_="改过\x01的\x0b金句", source="出处\x1b")
    row = svc.store.get_quote_row(q["id"])
    assert row["text"] == "改过的金句" and row["source"] == "出处"
    svc.update_document(doc["id"], actor="t", title="标题\x07", source="来源\x00")
    d = svc.store.get_document_row(doc["id"])
    assert d["title"] == "标题" and d["source"] == "来源"


def test_user_names_refuse_control_characters(library_factory):
    svc = library_factory()
    with pytest.raises(UsageError):
        Users(svc.store).add("编辑\x1b甲", "password-123", actor="t")
    with pytest.raises(UsageError):
        Users(svc.store).add("a/b", "password-123", actor="t")
