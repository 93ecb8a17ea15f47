"""Issue 15, part 2: a new version keeps the document's metadata. The replace preview (上传新版本)
starts from the document's current title, kind, date, 来源, topics and audiences, shows what the
new file suggests beside them, and stores exactly what the form shows; quote corrections carry
over to the same quotes in the new version; warnings are recomputed from the stored data, so
they clear when fixed."""

from __future__ import annotations

import html
import io
import re

import pytest
from conftest import EDITOR, login, make_docx, post, text

WARNING = "有 1 条金句没有找到出处"

REPORT = [
    ("t", "乡村振兴专题讲义"),
    ("p", "来源：肇庆日报"),
    ("p", "一、为什么要推进乡村振兴"),
    (
        "p",
        "乡村振兴是关系全面建设社会主义现代化国家的全局性、历史性任务，"
        "各地要把农业农村优先发展落到实处。" * 3,
    ),
    ("p", "二、怎样把乡村振兴落到实处"),
    ("p", "要坚持农民主体地位，尊重村民意愿，办好一件件民生实事，让群众有更多获得感。" * 3),
]
REVISED = REPORT + [
    ("p", "三、数字乡村"),
    ("p", "数字乡村建设让村民足不出户办成事，电商直播带火了土特产。" * 3),
]

QUOTES = [
    ("h", "法治建设金句选编"),
    ("h", "一、法治"),
    ("p", "1. 法律是治国之重器，良法是善治之前提。"),
    ("p", "——在党的十八届四中全会第二次全体会议上的讲话（2014年10月23日）"),
    ("p", "2. 奉法者强则国强，奉法者弱则国弱。"),
    ("p", "3. 法治是最好的营商环境。"),
    ("p", "——在中央全面依法治国委员会第二次会议上的讲话（2019年2月25日）"),
]
QUOTES_V2 = QUOTES + [
    ("p", "4. 全面依法治国是国家治理的一场深刻革命。"),
    ("p", "——在中央全面依法治国工作会议上的讲话（2020年11月16日）"),
]


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def editor(app):
    c = app.test_client()
    login(c, EDITOR)
    return c


def store(app):
    return app.extensions["lecturelib"].svc.store


def upload(c, tmp_path, blocks, name, **extra) -> dict:
    data = make_docx(tmp_path / name, blocks).read_bytes()
    r = post(
        c,
        "/editor/upload",
        {"files": [(io.BytesIO(data), name)], **extra},
        headers={"X-Requested-With": "fetch"},
        content_type="multipart/form-data",
    )
    return r.get_json()["results"][0]


def form_of(page: str) -> dict:
    """The preview form's values as the browser would post them: text inputs, the selected
    kind, checked topics and audiences."""
    form = page[page.index('id="publish-form"') :]
    form = form[: form.index("</form>")]
    data = {}
    for m in re.finditer(r"<input\b[^>]*>", form):
        tag = m.group(0)
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or not kind:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        value = html.unescape(value.group(1)) if value else ""
        if kind.group(1) == "text":
            data[name.group(1)] = value
        elif kind.group(1) == "checkbox" and re.search(r"\bchecked\b", tag):
            data.setdefault(name.group(1), []).append(value)
    data["kind"] = re.search(r'<option value="(\w+)" selected', form).group(1)
    data.setdefault("topics", [])
    data.setdefault("audiences", [])
    return data


def publish(c, res, form) -> str:
    r = post(c, f"/editor/drafts/{res['draft_id']}/publish", form)
    assert r.status_code == 302, text(r)[:2000]
    return r.headers["Location"]


def metadata(app, doc_id) -> dict:
    doc = store(app).get_document(doc_id)
    return {
        "title": doc["title"],
        "kind": doc["kind"],
        "date": doc["date"],
        "source": doc["source"],
        "topics": sorted(t["topic"] for t in doc["topics"] if t["member"]),
        "audiences": sorted(doc["audiences"]),
    }


def first_version(app, editor, tmp_path) -> int:
    res = upload(editor, tmp_path, REPORT, "v1.docx")
    form = form_of(text(editor.get(res["preview_url"])))
    form.update(
        title="乡村振兴专题讲义（全文）",
        kind="script",
        date="2024-03-18",
        source="市委宣传部",
        topics=["new-zhaoqing", "situation-policy"],
        audiences=["agency", "enterprise"],
    )
    doc_id = int(publish(editor, res, form).rsplit("/", 1)[1])
    assert metadata(app, doc_id) == {
        "title": "乡村振兴专题讲义（全文）",
        "kind": "script",
        "date": "2024-03-18",
        "source": "市委宣传部",
        "topics": ["new-zhaoqing", "situation-policy"],
        "audiences": ["agency", "enterprise"],
    }
    return doc_id


def test_replace_preview_starts_from_the_documents_metadata(app, editor, tmp_path):
    doc_id = first_version(app, editor, tmp_path)
    before = metadata(app, doc_id)
    res = upload(editor, tmp_path, REVISED, "v2.docx", replace=str(doc_id))
    page = text(editor.get(res["preview_url"]))
    form = form_of(page)
    assert form["title"] == "乡村振兴专题讲义（全文）"
    assert form["kind"] == "script"
    assert form["date"] == "2024-03-18" and form["source"] == "市委宣传部"
    assert sorted(form["topics"]) == ["new-zhaoqing", "situation-policy"]
    assert sorted(form["audiences"]) == ["agency", "enterprise"]
    # what the new file suggests is shown beside each field
    notes = re.sub(r"<[^>]+>", "", page)
    assert "新文件：乡村振兴专题讲义" in notes  # the extracted title
    assert "新文件：讲义" in notes  # the detected kind
    assert "新文件：肇庆日报" in notes  # the 来源 line of the new file
    assert re.search(r"新文件建议：[^。]*乡村振兴", notes)  # its suggested topics
    # published unchanged: exactly what the form showed
    assert publish(editor, res, form) == f"/documents/{doc_id}"
    assert metadata(app, doc_id) == before
    assert store(app).get_document(doc_id)["version"]["number"] == 2


def test_replace_stores_what_the_editor_changed_in_the_form(app, editor, tmp_path):
    doc_id = first_version(app, editor, tmp_path)
    res = upload(editor, tmp_path, REVISED, "v2.docx", replace=str(doc_id))
    form = form_of(text(editor.get(res["preview_url"])))
    form.update(
        title="乡村振兴专题讲义（2025年修订）",
        topics=["rural-revitalization"],
        audiences=["rural"],
        source="",
        date="2025",
        kind="handout",
    )
    publish(editor, res, form)
    assert metadata(app, doc_id) == {
        "title": "乡村振兴专题讲义（2025年修订）",
        "kind": "handout",
        "date": "2025",
        "source": None,
        "topics": ["rural-revitalization"],
        "audiences": ["rural"],
    }


def quote_by_text(app, doc_id, start: str) -> dict:
    doc = store(app).get_document(doc_id)
    return next(q for q in doc["quotes"] if q["text"].startswith(start))


def test_quote_corrections_carry_over_to_the_new_version(app, editor, tmp_path):
    res = upload(editor, tmp_path, QUOTES, "q1.docx")
    page = text(editor.get(res["preview_url"]))
    assert WARNING in page
    form = form_of(page)
    assert form["q1_source"] == ""
    form["q1_source"] = "《韩非子·有度》"
    doc_id = int(publish(editor, res, form).rsplit("/", 1)[1])
    # an editor corrects another quote afterwards: 出处, date and speaker
    q0 = quote_by_text(app, doc_id, "法律是治国之重器")
    r = post(
        editor,
        f"/editor/quotes/{q0['id']}/edit",
        {
            "text": q0["text"],
            "source": "在十八届四中全会第二次全体会议上的讲话（修订）",
            "date": "2014-10-23",
            "speaker": "习近平",
        },
    )
    assert r.status_code == 302

    res = upload(editor, tmp_path, QUOTES_V2, "q2.docx", replace=str(doc_id))
    page = text(editor.get(res["preview_url"]))
    form = form_of(page)
    assert form["q0_source"] == "在十八届四中全会第二次全体会议上的讲话（修订）"
    assert form["q1_source"] == "《韩非子·有度》"
    assert WARNING not in page  # the preview counts what it shows
    publish(editor, res, form)
    doc = store(app).get_document(doc_id)
    assert doc["version"]["number"] == 2 and len(doc["quotes"]) == 4
    q0 = quote_by_text(app, doc_id, "法律是治国之重器")
    assert (q0["source"], q0["date"], q0["speaker"]) == (
        "在十八届四中全会第二次全体会议上的讲话（修订）",
        "2014-10-23",
        "习近平",
    )
    assert quote_by_text(app, doc_id, "奉法者强")["source"] == "《韩非子·有度》"
    page = text(editor.get(f"/documents/{doc_id}"))
    assert WARNING not in page and "没有找到出处" not in page


def test_a_changed_quote_source_in_the_replace_preview_is_stored(app, editor, tmp_path):
    res = upload(editor, tmp_path, QUOTES, "q1.docx")
    doc_id = int(
        publish(editor, res, form_of(text(editor.get(res["preview_url"])))).rsplit("/", 1)[1]
    )
    res = upload(editor, tmp_path, QUOTES_V2, "q2.docx", replace=str(doc_id))
    form = form_of(text(editor.get(res["preview_url"])))
    form["q2_source"] = "在中央全面依法治国委员会第二次会议上的讲话（2019年）"
    publish(editor, res, form)
    assert (
        quote_by_text(app, doc_id, "法治是最好的营商环境")["source"]
        == "在中央全面依法治国委员会第二次会议上的讲话（2019年）"
    )


def test_the_missing_source_warning_clears_when_fixed(app, editor, tmp_path):
    # filled in the preview: no warning once published
    res = upload(editor, tmp_path, QUOTES, "q1.docx")
    form = form_of(text(editor.get(res["preview_url"])))
    form["q1_source"] = "《韩非子·有度》"
    doc_id = int(publish(editor, res, form).rsplit("/", 1)[1])
    assert WARNING not in text(editor.get(f"/documents/{doc_id}"))


def test_the_missing_source_warning_clears_after_editing_the_quote(app, editor, tmp_path):
    res = upload(editor, tmp_path, QUOTES, "q1.docx")
    doc_id = int(
        publish(editor, res, form_of(text(editor.get(res["preview_url"])))).rsplit("/", 1)[1]
    )
    assert WARNING in text(editor.get(f"/documents/{doc_id}"))
    q = quote_by_text(app, doc_id, "奉法者强")
    post(
        editor,
        f"/editor/quotes/{q['id']}/edit",
        {"text": q["text"], "source": "《韩非子·有度》", "date": "", "speaker": ""},
    )
    assert WARNING not in text(editor.get(f"/documents/{doc_id}"))
