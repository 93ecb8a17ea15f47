"""Editors: upload with per-file statuses, preview and corrections, publish, edit, replace,
trash/restore/purge, dictionary and synonyms with a background rebuild."""

from __future__ import annotations

import io
import re

import pytest
from conftest import (
    ADMIN,
    EDITOR,
    HANDOUT,
    PDF_PAGES,
    QUOTES,
    login,
    make_docx,
    make_pdf,
    post,
    text,
)

# each test runs on SQLite + Whoosh and on PostgreSQL (store and search; tests/conftest.py)
pytestmark = pytest.mark.both_databases


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def editor(app):
    c = app.test_client()
    login(c, EDITOR)
    return c


def upload(c, files, json=True, **extra):
    data = {"files": [(io.BytesIO(b), name) for name, b in files], **extra}
    headers = {"X-Requested-With": "fetch"} if json else {}
    return post(c, "/editor/upload", data, headers=headers, content_type="multipart/form-data")


def docx_bytes(tmp_path, blocks, name="f.docx") -> bytes:
    return make_docx(tmp_path / name, blocks).read_bytes()


def test_upload_several_files_gives_a_result_per_file(editor, tmp_path):
    q = docx_bytes(tmp_path, QUOTES, "q.docx")
    pdf = make_pdf(tmp_path / "p.pdf", PDF_PAGES).read_bytes()
    r = upload(
        editor,
        [
            ("金句.docx", q),
            ("提纲.pdf", pdf),
            ("空文件.docx", b""),
            ("乱码.docx", b"this is not a docx at all"),
        ],
    )
    assert r.status_code == 200
    res = {x["filename"]: x for x in r.get_json()["results"]}
    assert res["金句.docx"]["status"] == "ok" and res["金句.docx"]["quotes"] == 3
    assert res["金句.docx"]["preview_url"] == f"/editor/drafts/{res['金句.docx']['draft_id']}"
    assert res["提纲.pdf"]["status"] in ("ok", "warning") and res["提纲.pdf"]["passages"] >= 1
    assert res["空文件.docx"]["status"] == "error" and "空" in res["空文件.docx"]["message"]
    assert res["乱码.docx"]["status"] == "error" and res["乱码.docx"]["message"]
    assert res["乱码.docx"]["status_label"] == "失败"
    # nothing is published yet: the drafts wait for the editor
    assert "待发布的上传（2）" in text(editor.get("/editor/"))
    assert editor.get("/api/search?q=绿水青山").get_json()["total"] == 0


def test_upload_without_javascript_renders_results_page(editor, tmp_path):
    r = upload(editor, [("金句.docx", docx_bytes(tmp_path, QUOTES))], json=False)
    assert r.status_code == 200
    page = text(r)
    assert "上传结果" in page and "预览并发布" in page and "成功" in page


def test_upload_without_files_is_an_error(editor):
    r = post(editor, "/editor/upload", {}, content_type="multipart/form-data")
    assert r.status_code == 302
    assert "请选择要上传的文件" in text(editor.get("/editor/upload"))
    r = post(
        editor,
        "/editor/upload",
        {},
        headers={"X-Requested-With": "fetch"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "请选择" in r.get_json()["error"]["message"]


def test_upload_too_large_gets_a_clear_chinese_413(make_app, tmp_path):
    app = make_app(settings={"max_file_mb": 0.05})
    c = app.test_client()
    login(c)
    r = upload(c, [("big.txt", b"x" * 2_000_000)], json=False)
    assert r.status_code == 413
    assert "超过了大小上限" in text(r) and "max_file_mb" in text(r)
    r = upload(c, [("big.txt", b"x" * 2_000_000)])
    assert r.status_code == 413 and "超过了大小上限" in r.get_json()["error"]["message"]


def test_duplicate_upload_reports_the_existing_document(make_app, tmp_path):
    f = make_docx(tmp_path / "q.docx", QUOTES)
    app = make_app(files=[f])
    c = app.test_client()
    login(c)
    res = upload(c, [("again.docx", f.read_bytes())]).get_json()["results"][0]
    assert res["status"] == "duplicate" and "已有相同文件" in res["message"]
    assert res["document_url"].startswith("/documents/")


def test_preview_shows_quotes_with_parsed_sources_and_passages(editor, tmp_path):
    res = upload(editor, [("q.docx", docx_bytes(tmp_path, QUOTES))]).get_json()["results"][0]
    page = text(editor.get(res["preview_url"]))
    assert "发布前预览" in page and "生态文明与初心使命金句汇编" in page
    assert 'value="在浙江安吉余村考察时的讲话"' in page and 'value="2005-08-15"' in page
    assert "绿水青山就是金山银山" in page
    assert re.search(r'name="topics" value="ecology" checked', page)
    res = upload(editor, [("h.docx", docx_bytes(tmp_path, HANDOUT, "h.docx"))]).get_json()[
        "results"
    ][0]
    page = text(editor.get(res["preview_url"]))
    assert "一、为什么要推进乡村振兴 › （一）产业兴旺是重点" in page
    assert editor.get("/editor/drafts/99999").status_code == 404


def publish_form(page: str) -> dict:
    """The preview form's current values, as a browser would post them."""
    data = {}
    for m in re.finditer(r'<input id="[^"]+" name="([^"]+)" type="text"[^>]*value="([^"]*)"', page):
        data[m.group(1)] = m.group(2).replace("&amp;", "&")
    data["kind"] = re.search(r'<option value="(\w+)" selected', page).group(1)
    data["topics"] = re.findall(r'name="topics" value="([\w-]+)" checked', page)
    data["audiences"] = re.findall(r'name="audiences" value="(\w+)" checked', page)
    return data


def test_publish_with_corrected_topic_and_source_makes_it_searchable(editor, app, tmp_path):
    res = upload(editor, [("q.docx", docx_bytes(tmp_path, QUOTES))]).get_json()["results"][0]
    form = publish_form(text(editor.get(res["preview_url"])))
    form.update(
        topics=["new-zhaoqing"],
        q0_source="在浙江安吉考察时的讲话（修订）",
        title="生态金句（修订版）",
        source="市委宣传部",
    )
    r = post(editor, f"/editor/drafts/{res['draft_id']}/publish", form)
    assert r.status_code == 302
    page = text(editor.get(r.headers["Location"]))
    assert "已发布《生态金句（修订版）》：3 条金句" in page and "市委宣传部" in page
    data = editor.get("/api/search?q=绿水青山&topic=新时代新肇庆").get_json()
    assert data["total"] == 1
    assert data["hits"][0]["source"] == "在浙江安吉考察时的讲话（修订）"
    # the draft is gone
    assert editor.get(res["preview_url"]).status_code == 404
    audit = app.extensions["lecturelib"].svc.store.audit_log()
    assert audit[0]["actor"] == EDITOR[0] and audit[0]["action"] in ("ingest", "edit_document")


def test_publish_form_errors_are_shown_in_chinese(editor, tmp_path):
    res = upload(editor, [("q.docx", docx_bytes(tmp_path, QUOTES))]).get_json()["results"][0]
    form = publish_form(text(editor.get(res["preview_url"])))
    form.update(title="", q1_date="去年某天", date="2022-13-45", kind="novel")
    r = post(editor, f"/editor/drafts/{res['draft_id']}/publish", form)
    assert r.status_code == 400
    page = text(r)
    assert "标题不能为空" in page and "第 2 条金句的日期" in page and "材料日期" in page
    assert "未知的材料类型" in page
    assert 'value="去年某天"' in page  # what the editor typed is kept


def test_discard_draft(editor, tmp_path):
    res = upload(editor, [("q.docx", docx_bytes(tmp_path, QUOTES))]).get_json()["results"][0]
    r = post(editor, f"/editor/drafts/{res['draft_id']}/discard")
    assert r.status_code == 302
    assert "已放弃上传" in text(editor.get("/editor/"))
    assert editor.get(res["preview_url"]).status_code == 404


@pytest.fixture
def library_app(make_app, tmp_path):
    return make_app(
        files=[make_docx(tmp_path / "q.docx", QUOTES), make_docx(tmp_path / "h.docx", HANDOUT)]
    )


def _doc(app, part):
    return next(
        d["id"]
        for d in app.extensions["lecturelib"].svc.store.list_documents()
        if part in d["title"]
    )


def test_edit_document_metadata(library_app):
    c = library_app.test_client()
    login(c)
    d = _doc(library_app, "乡村振兴")
    page = text(c.get(f"/editor/documents/{d}/edit"))
    assert 'value="乡村振兴专题讲义"' in page
    r = post(c, f"/editor/documents/{d}/edit", {"title": "", "kind": "bogus", "date": "x年"})
    assert r.status_code == 400
    assert "标题不能为空" in text(r) and "请选择材料类型" in text(r) and "日期" in text(r)
    r = post(
        c,
        f"/editor/documents/{d}/edit",
        {
            "title": "乡村振兴辅导讲义",
            "kind": "script",
            "date": "2024年3月",
            "source": "市委讲师团",
            "topics": ["rural-revitalization", "new-zhaoqing"],
            "audiences": ["rural", "community"],
        },
    )
    assert r.status_code == 302
    page = text(c.get(f"/documents/{d}"))
    assert "乡村振兴辅导讲义" in page and "2024年3月" in page and "进社区" in page
    data = c.get("/api/search?q=合作社&topic=new-zhaoqing").get_json()
    assert data["total"] >= 1 and data["hits"][0]["document"]["title"] == "乡村振兴辅导讲义"


def test_edit_quote(library_app):
    c = library_app.test_client()
    login(c)
    qid = c.get("/api/search?q=绿水青山").get_json()["hits"][0]["id"][2:]
    assert "编辑金句" in text(c.get(f"/editor/quotes/{qid}/edit"))
    r = post(c, f"/editor/quotes/{qid}/edit", {"text": "", "date": "bad"})
    assert r.status_code == 400 and "金句内容不能为空" in text(r)
    r = post(
        c,
        f"/editor/quotes/{qid}/edit",
        {
            "text": "绿水青山就是金山银山。",
            "source": "在安吉的讲话",
            "date": "2005-08-15",
            "speaker": "习近平",
            "topics": ["ecology"],
        },
    )
    assert r.status_code == 302
    assert c.get(f"/api/quotes/{qid}").get_json()["source"] == "在安吉的讲话"


def test_trash_restore_and_purge(library_app):
    c = library_app.test_client()
    login(c, EDITOR)
    d = _doc(library_app, "乡村振兴")
    assert post(c, f"/editor/documents/{d}/trash").status_code == 302
    assert c.get("/api/search?q=合作社").get_json()["total"] == 0
    anon = library_app.test_client()
    assert anon.get(f"/documents/{d}").status_code == 404
    assert anon.get(f"/documents/{d}/download").status_code == 404
    assert "回收站（1）" in text(c.get("/editor/"))
    assert "在回收站中" in text(c.get(f"/documents/{d}"))
    assert post(c, f"/editor/documents/{d}/restore").status_code == 302
    assert c.get("/api/search?q=合作社").get_json()["total"] >= 1
    post(c, f"/editor/documents/{d}/trash")
    assert post(c, f"/editor/documents/{d}/purge").status_code == 403  # editors cannot
    admin = library_app.test_client()
    login(admin, ADMIN)
    assert post(admin, f"/editor/documents/{d}/purge").status_code == 302
    assert admin.get(f"/documents/{d}").status_code == 404
    other = _doc(library_app, "金句")
    r = post(admin, f"/editor/documents/{other}/purge")
    assert r.status_code == 400 and "只能彻底删除回收站中的材料" in text(r)


def test_replace_file_with_new_version(library_app, tmp_path):
    c = library_app.test_client()
    login(c)
    d = _doc(library_app, "乡村振兴")
    assert "的新版本" in text(c.get(f"/editor/upload?replace={d}"))
    new = HANDOUT + [
        ("p", "三、新增的一节：数字乡村建设让村民足不出户办成事，电商直播带火了土特产。")
    ]
    res = upload(
        c, [("新版讲义.docx", docx_bytes(tmp_path, new, "n.docx"))], replace=str(d)
    ).get_json()["results"][0]
    page = text(c.get(res["preview_url"]))
    assert "的新版本，旧版本保留" in page
    r = post(c, f"/editor/drafts/{res['draft_id']}/publish", publish_form(page))
    assert r.headers["Location"] == f"/documents/{d}"
    page = text(c.get(f"/documents/{d}"))
    assert "第 2 版" in page and "电商直播" in page
    assert c.get(f"/documents/{d}/download?version=1").status_code == 200
    assert c.get("/api/search?q=电商直播").get_json()["total"] == 1


def test_edit_pages_of_missing_things_are_404(editor):
    for url in (
        "/editor/documents/999/edit",
        "/editor/quotes/999/edit",
        "/editor/upload?replace=999",
    ):
        assert editor.get(url).status_code == 404, url


def test_dictionary_change_rebuilds_index_in_background(library_app):
    c = library_app.test_client()
    login(c)
    lib = library_app.extensions["lecturelib"]
    r = post(c, "/editor/dictionary", {"action": "add", "words": "砂糖橘产业 鼎湖山民宿"})
    assert r.status_code == 302 and "job=" in r.headers["Location"]
    job_id = int(r.headers["Location"].split("job=")[1])
    lib.wait_for_jobs()
    job = c.get(f"/editor/jobs/{job_id}").get_json()
    assert job["state"] == "done" and job["percent"] == 100 and "索引已重建" in job["message"]
    page = text(c.get(f"/editor/dictionary?job={job_id}"))
    assert "砂糖橘产业" in page and "检索索引正在后台重建" in page
    assert lib.svc.index.status() == "ok"
    assert c.get("/api/search?q=合作社").get_json()["total"] >= 1
    assert "砂糖橘产业" in text(c.get("/editor/dictionary?q=砂糖橘"))
    r = post(c, "/editor/dictionary", {"action": "remove", "words": "砂糖橘产业"})
    assert r.status_code == 302
    lib.wait_for_jobs()
    r = post(c, "/editor/dictionary", {"action": "remove", "words": "从来没有这个词"})
    assert r.status_code == 302
    assert "没有需要删除的词" in text(c.get("/editor/dictionary"))
    r = post(c, "/editor/dictionary", {"action": "add", "words": "  "})
    assert r.status_code == 400 and "请输入要添加或删除的词" in text(r)
    assert c.get("/editor/jobs/9999").status_code == 404


def test_search_during_a_rebuild_answers_from_the_old_index(library_app):
    # the rebuild builds a new index beside the live one: searches never wait or fail (503)
    from web.library import Job

    lib = library_app.extensions["lecturelib"]
    lib.jobs[99] = Job(99, "按新词典重建索引", "test", done=5, total=10)
    try:
        c = library_app.test_client()
        r = c.get("/search?q=绿水")
        assert r.status_code == 200 and "绿水" in text(r)
        assert c.get("/api/index-status").get_json()["percent"] == 50
        res = c.get("/api/search?q=绿水")
        assert res.status_code == 200 and res.get_json()["total"] >= 1
    finally:
        lib.jobs[99].state = "done"


def test_synonyms_add_and_remove(library_app):
    c = library_app.test_client()
    login(c)
    lib = library_app.extensions["lecturelib"]
    assert "同义词组" in text(c.get("/editor/synonyms"))
    r = post(c, "/editor/synonyms", {"action": "add", "group": "砂糖橘 = 肇庆柑橘"})
    assert r.status_code == 302
    lib.wait_for_jobs()
    assert "砂糖橘 = 肇庆柑橘" in text(c.get("/editor/synonyms?q=砂糖橘"))
    assert c.get("/api/search?q=肇庆柑橘").get_json()["total"] >= 1  # found via 砂糖橘
    r = post(c, "/editor/synonyms", {"action": "add", "group": "孤词"})
    assert r.status_code == 400 and "至少需要两个词" in text(r)
    r = post(c, "/editor/synonyms", {"action": "remove", "word": "肇庆柑橘"})
    assert r.status_code == 302
    lib.wait_for_jobs()
    r = post(c, "/editor/synonyms", {"action": "remove", "word": "肇庆柑橘"})
    assert r.status_code == 400 and "没有包含“肇庆柑橘”的同义词组" in text(r)
    actions = [a["action"] for a in lib.svc.store.audit_log()]
    assert "synonyms_add" in actions and "synonyms_remove" in actions


def test_scanned_pdf_is_reported_as_needing_ocr(editor, tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    res = upload(editor, [("扫描件.pdf", path.read_bytes())]).get_json()["results"][0]
    assert res["status"] == "needs_ocr" and res["status_label"] == "需OCR"
    assert "OCR" in res["message"] and "未入库" in res["message"] and res["draft_id"] is None


def test_a_write_that_finds_the_index_stale_rebuilds_it_in_the_background(library_app):
    """Another process changed what the index was built for (a dictionary edit, an upgrade):
    the editor's request is not held for a whole rebuild; a background job rebuilds the index
    and the write is in it afterwards."""
    import json as _json

    lib = library_app.extensions["lecturelib"]
    if lib.svc.home.config.database_url:
        pytest.skip("the Whoosh index's own files")
    meta = lib.svc.home.path / "index" / "lecturelib-index.json"
    stale = _json.loads(meta.read_text(encoding="utf-8"))
    stale["vocabulary"] = "made-by-another-version"
    meta.write_text(_json.dumps(stale), encoding="utf-8")
    c = library_app.test_client()
    login(c, EDITOR)
    d = _doc(library_app, "乡村振兴")
    assert post(c, f"/editor/documents/{d}/trash").status_code == 302
    jobs = list(lib.jobs.values())
    assert [j.label for j in jobs] == ["检索索引需要重建（词典或程序版本有变化）"]
    lib.wait_for_jobs()
    assert lib.svc.index_status() == "ok"
    assert c.get("/api/search?q=合作社").get_json()["total"] == 0  # the trash is in it
    assert c.get("/api/search?q=绿水青山").get_json()["total"] >= 1


def test_a_draft_with_the_title_of_a_document_says_it_will_be_a_new_version(library_app, tmp_path):
    """A changed copy of a handout became 第 2 版 of the existing document without a word on
    the preview; the preview now says so before anything is published."""
    c = library_app.test_client()
    login(c, EDITOR)
    existing = _doc(library_app, "乡村振兴")
    title = library_app.extensions["lecturelib"].svc.document(existing)["title"]
    changed = HANDOUT + [("p", "新增一段：今年的合作社分红方案已经公布。")]
    r = upload(c, [("新版讲义.docx", docx_bytes(tmp_path, changed, "new.docx"))])
    [res] = r.get_json()["results"]
    page = text(c.get(res["preview_url"]))
    assert "资料库中已有同名材料" in page and f"《{title}》" in page
    assert "将保存为它的新版本" in page
    # a draft with a new title says nothing of the kind
    fresh = [("t", "社区宣讲志愿者工作手册"), ("p", "志愿者每月参加一次集中备课，做到讲前有准备。")]
    r = upload(c, [("另一份.docx", docx_bytes(tmp_path, fresh, "fresh.docx"))])
    [res] = r.get_json()["results"]
    assert "资料库中已有同名材料" not in text(c.get(res["preview_url"]))
