"""Editors stay in charge of cited quotations (issue 14): the upload preview lists the
quotations found in a handout with their speaker, 出处 and date; each can be corrected or left
out, and one switch leaves them all out, before publishing."""

from __future__ import annotations

import re

import pytest
from conftest import EDITOR, login, post
from test_web_editor import docx_bytes, publish_form, text, upload

SCRIPT = [
    ("t", "基层宣讲稿"),
    ("p", "一、开场"),
    (
        "p",
        "习近平总书记指出：“民生无小事，枝叶总关情。”这句话道出了为民情怀，"
        "宣讲员要把群众的冷暖放在心上，把一件件小事办好办实。",
    ),
    (
        "p",
        "习近平总书记强调：“江山就是人民，人民就是江山。”我们要牢记在心，"
        "在基层宣讲中讲清楚为谁执政、靠谁执政的道理。",
    ),
]


@pytest.fixture
def editor(make_app):
    app = make_app()
    c = app.test_client()
    login(c, EDITOR)
    return c, app


def _preview(c, tmp_path):
    res = upload(c, [("讲稿.docx", docx_bytes(tmp_path, SCRIPT, "s.docx"))]).get_json()["results"][
        0
    ]
    page = text(c.get(res["preview_url"]))
    return res, page


def _quotes(app):
    store = app.extensions["lecturelib"].svc.store
    doc = store.list_documents()[0]
    return store.get_document(doc["id"])["quotes"]


def test_preview_lists_cited_quotations_with_keep_boxes(editor, tmp_path):
    c, _ = editor
    _, page = _preview(c, tmp_path)
    assert "民生无小事" in page and "江山就是人民" in page
    assert len(re.findall(r'name="q\d+_keep" value="1"\s+checked', page)) == 2
    assert 'name="no_cited_quotes"' in page and 'name="q0_speaker"' in page


def test_a_quotation_left_out_and_a_speaker_corrected(editor, tmp_path):
    c, app = editor
    res, page = _preview(c, tmp_path)
    form = publish_form(page)
    i_keep = 0 if "民生无小事" in page.split('name="q1_keep"')[0] else 1
    form.update(quotes_listed="1", **{f"q{i_keep}_keep": "1", f"q{i_keep}_speaker": "习近平同志"})
    r = post(c, f"/editor/drafts/{res['draft_id']}/publish", form)
    assert r.status_code == 302
    quotes = _quotes(app)
    assert len(quotes) == 1 and "民生无小事" in quotes[0]["text"]
    assert quotes[0]["speaker"] == "习近平同志"
    # the passages stay
    assert c.get("/api/search?q=江山就是人民").get_json()["total"] >= 1


def test_the_document_switch_leaves_every_cited_quotation_out(editor, tmp_path):
    c, app = editor
    res, page = _preview(c, tmp_path)
    form = publish_form(page)
    form.update(quotes_listed="1", q0_keep="1", q1_keep="1", no_cited_quotes="1")
    assert post(c, f"/editor/drafts/{res['draft_id']}/publish", form).status_code == 302
    assert _quotes(app) == []


def test_the_quote_page_shows_the_passage_around_each_citation(make_app, tmp_path):
    from conftest import make_docx

    compilation = [
        ("h", "民生金句"),
        ("h", "一、民生"),
        ("p", "1. 民生无小事，枝叶总关情。"),
        ("p", "——习近平在会见全国道德模范时的讲话（2013年9月26日）"),
    ]
    src = tmp_path / "src"
    app = make_app(
        files=[make_docx(src / "民生金句.docx", compilation), make_docx(src / "讲稿.docx", SCRIPT)]
    )
    c = app.test_client()
    hit = c.get("/api/search?q=民生无小事&kind=quote").get_json()["hits"][0]
    page = text(c.get(f"/quotes/{hit['id'][2:]}"))
    assert "被 2 份材料引用" in page
    assert 'class="occ-context"' in page and "宣讲员要把群众的冷暖放在心上" in page


def test_the_speaker_table_is_shown_and_extended_in_the_editor(editor, tmp_path):
    c, app = editor
    page = text(c.get("/editor/speakers"))
    assert "习近平 = 习近平总书记" in page
    r = post(c, "/editor/speakers", {"line": "张三 = 张三同志 = 张书记"})
    assert r.status_code == 302
    assert "张三 = 张三同志 = 张书记" in text(c.get("/editor/speakers"))
    home = app.extensions["lecturelib"].svc.home.path
    assert "张三 = 张三同志 = 张书记" in (home / "speakers.txt").read_text(encoding="utf-8")
    # what it changes: a quotation by 张书记 is now filed under 张三
    script = [
        ("t", "村里的讲稿"),
        ("p", "一、开场"),
        ("p", "张书记说：“路修好了，日子就有奔头。”大家都记住了这句话，也都行动起来了。"),
    ]
    res = upload(c, [("村.docx", docx_bytes(tmp_path, script, "v.docx"))]).get_json()["results"][0]
    form = publish_form(text(c.get(res["preview_url"])))
    assert post(c, f"/editor/drafts/{res['draft_id']}/publish", form).status_code == 302
    hits = c.get("/api/search?q=路修好了&kind=quote").get_json()["hits"]
    assert hits and hits[0]["speaker"] == "张三"
    assert post(c, "/editor/speakers", {"line": "  "}).status_code == 400
