"""Scans uploaded on the web (issue 13, part 1): the upload runs as a job the page polls for its
OCR progress and can cancel; the preview shows each page's image beside its OCR'd text, marks
the pages read with low confidence, and publishes the text as the editor corrected it."""

from __future__ import annotations

import html
import io
import re
import time

import pytest
import scans
import small_scans
from conftest import ADMIN, login, post, text
from PIL import Image

from indexer.app.uploads import describe
from indexer.ingest.extract import ocr

pytestmark = pytest.mark.skipif(
    not ocr.available() or scans.font_path() is None,
    reason="no OCR engine or CJK font (make test installs both)",
)
TRUE_PAGE_2 = "很多村民说，宣讲员讲的都是实在事，听得进、记得住。"


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def editor(app):
    c = app.test_client()
    login(c)
    return c


def start(c, name: str, data: bytes) -> dict:
    r = post(
        c,
        "/editor/uploads",
        {"files": [(io.BytesIO(data), name)]},
        headers={"X-Requested-With": "fetch"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_data(as_text=True)
    [job] = r.get_json()["jobs"]
    assert job["state"] == "running" and job["filename"] == name
    return job


def poll(c, job: dict, until, seen: list | None = None, deadline_s: float = 300) -> dict:
    """Poll the job's status URL (as the page does) until ``until(job)``."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        j = c.get(job["status_url"]).get_json()
        if seen is not None:
            seen.append(j["text"])
        if until(j):
            return j
        time.sleep(0.05)
    raise AssertionError(f"job never reached the state wanted: {j}")


def finished(j):
    return j["state"] != "running"


def scan_pdf(tmp_path, pages) -> bytes:
    return small_scans.pdf(tmp_path / "scan.pdf", pages).read_bytes()


def test_job_text_says_which_page_is_being_read():
    job = {"id": "0" * 16, "filename": "讲义.pdf", "state": "running", "result": None}
    assert describe(dict(job, progress=None))["text"] == "正在提取文字"
    j = describe(dict(job, progress={"stage": "ocr", "done": 1, "total": 3}))
    assert j["text"] == "正在识别第 2/3 页" and j["percent"] == 33
    assert describe(dict(job, progress={"stage": "ocr", "done": 3, "total": 3}))["text"] == (
        "已识别 3 页，正在整理"
    )
    assert describe(dict(job, cancel_requested=True))["text"] == "正在取消…"


def test_scan_upload_job_then_preview_with_page_images_and_low_confidence_mark(
    app, editor, tmp_path
):
    pages = [
        small_scans.strip(small_scans.PAGES[0]),
        small_scans.bad(small_scans.strip(small_scans.PAGES[1])),
        small_scans.strip(small_scans.PAGES[2]),
    ]
    job = start(editor, "宣讲讲义扫描件.pdf", scan_pdf(tmp_path, pages))
    j = poll(editor, job, finished)
    assert j["state"] == "done"
    # the worker reported every page (the last report stays with the job)
    assert (j["stage"], j["done"], j["total"]) == ("ocr", 3, 3)
    result = j["result"]
    assert result["status"] == "warning" and result["draft_id"]
    assert "OCR" in result["message"] and result["status_label"] == "有提示"
    assert result["preview_url"] == f"/editor/drafts/{result['draft_id']}"

    page = text(editor.get(result["preview_url"]))
    assert "原件与识别文字（3 页）" in page
    articles = dict(
        re.findall(
            r'<article class="ocr-page[^"]*" id="page-(\d)"[^>]*>(.*?)</article>', page, re.S
        )
    )
    assert sorted(articles) == ["1", "2", "3"]
    # page 2 is the speckled one: marked; the clean pages are not
    assert "识别置信度低，请核对" in articles["2"]
    assert "识别置信度低" not in articles["1"] and "识别置信度低" not in articles["3"]
    assert "桥梁和纽带" in articles["3"]
    img = f"/editor/drafts/{result['draft_id']}/pages/2.png"
    assert f'src="{img}"' in articles["2"]

    r = editor.get(img)
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert small_scans.is_png(r.data)
    assert Image.open(io.BytesIO(r.data)).width <= 1000
    big = editor.get(img + "?w=99999")
    assert Image.open(io.BytesIO(big.data)).width <= 1600
    assert editor.get(f"/editor/drafts/{result['draft_id']}/pages/4.png").status_code == 404
    # editors only
    assert app.test_client().get(img).status_code in (302, 401, 403)

    # the editor corrects the badly read page and publishes
    form = {
        m.group(1): m.group(2).replace("&amp;", "&")
        for m in re.finditer(
            r'<input id="[^"]+" name="([^"]+)" type="text"[^>]*value="([^"]*)"', page
        )
    }
    form["kind"] = re.search(r'<option value="(\w+)" selected', page).group(1)
    areas = re.findall(r'<textarea id="(p\d+)_text"[^>]*>(.*?)</textarea>', page, re.S)
    texts = {name: html.unescape(body) for name, body in areas}
    # the misread heading did not start a passage: page 1's passage runs on into page 2
    [wrong] = [n for n, t in texts.items() if "村民" in t]
    form.update({f"{n}_text": t for n, t in texts.items()})
    form[f"{wrong}_text"] = texts[wrong].split("\n")[0] + "\n" + TRUE_PAGE_2
    # headings are editable too: a misread one is corrected once, in passages and outline
    headings = [k for k in form if re.fullmatch(r"h\d+_text", k)]
    assert headings, "the OCR'd headings are offered for correction"
    first = form[headings[0]]
    form[headings[0]] = "一、宣讲要讲群众爱听的话"
    r = post(editor, f"/editor/drafts/{result['draft_id']}/publish", form)
    assert r.status_code == 302, text(r)
    hits = editor.get("/api/search?q=实在事，听得进").get_json()
    assert hits["total"] == 1 and "实在事，听得进、记得住" in hits["hits"][0]["text"]
    # the published version says it was OCR'd, by which engine, with what confidence
    doc_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    svc = app.extensions["lecturelib"].svc
    [version] = svc.document(doc_id)["versions"]
    assert any("文字由 OCR 识别" in w and "置信度" in w for w in version["warnings"])
    assert any("第 2 页识别置信度低于" in w for w in version["warnings"])
    doc = svc.document(doc_id)
    paths = [p["heading_path"] for p in doc["passages"]]
    assert any("一、宣讲要讲群众爱听的话" in p for p in paths)
    assert not any(first in p for p in paths)


def test_cancel_a_scan_while_its_pages_are_read(app, editor, tmp_path):
    pages = [small_scans.strip(small_scans.PAGES[k % 3]) for k in range(6)]
    job = start(editor, "六页扫描件.pdf", scan_pdf(tmp_path, pages))
    seen: list[str] = []
    poll(editor, job, lambda j: j["text"].startswith("正在识别第") or finished(j), seen)
    assert any(re.fullmatch(r"正在识别第 [1-6]/6 页", t) for t in seen), seen

    # someone else cannot see or cancel it
    other = app.test_client()
    login(other, ADMIN)
    assert other.get(job["status_url"]).status_code == 404
    assert post(other, job["cancel_url"], headers={"X-Requested-With": "fetch"}).status_code == 404

    r = post(editor, job["cancel_url"], headers={"X-Requested-With": "fetch"})
    assert r.status_code == 200
    assert r.get_json()["text"] in ("正在取消…", "已取消，文件未保存。需要时可重新上传。")
    j = poll(editor, job, finished)
    assert j["state"] == "cancelled" and j["result"]["status"] == "cancelled"
    assert j["result"]["status_label"] == "已取消" and j["result"]["draft_id"] is None
    assert j["done"] < 6  # it stopped before the last page
    assert "待发布的上传" not in text(editor.get("/editor/"))
    # cancelling again changes nothing
    assert post(editor, job["cancel_url"], headers={"X-Requested-With": "fetch"}).get_json()[
        "state"
    ] == ("cancelled")


def test_unknown_job_is_404(editor):
    assert editor.get("/editor/uploads/0123456789abcdef").status_code == 404
    assert editor.get("/editor/uploads/..%2Fsecret_key").status_code == 404


def test_upload_page_without_javascript_still_posts_and_waits(editor, tmp_path):
    page = text(editor.get("/editor/upload"))
    assert 'action="/editor/upload"' in page and 'data-jobs-url="/editor/uploads"' in page
    photo = small_scans.png(small_scans.strip(small_scans.PAGES[2]))
    r = post(
        editor,
        "/editor/upload",
        {"files": [(io.BytesIO(photo), "讲义照片.png")]},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200
    assert "上传结果" in text(r) and "预览并发布" in text(r)


def test_a_job_cut_off_by_a_server_restart_says_so(app, editor):
    import json

    from conftest import EDITOR

    home = app.extensions["lecturelib"].svc.home.path
    (home / "run" / "uploads").mkdir(parents=True, exist_ok=True)
    job = {"id": "00000000deadbeef", "filename": "讲义.pdf", "actor": EDITOR[0]}
    job.update(state="running", started=0, result=None)
    (home / "run" / "uploads" / "00000000deadbeef.json").write_text(json.dumps(job))
    j = editor.get("/editor/uploads/00000000deadbeef").get_json()
    assert j["state"] == "error" and "处理被中断" in j["result"]["message"]
