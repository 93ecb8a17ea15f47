"""Topic packs on the web: who may export, what the download is, and the editors' import page."""

from __future__ import annotations

import io
import zipfile

from conftest import login, post


def _topic_with_material(app):
    lib = app.extensions["lecturelib"]
    return next(t.slug for t in lib.svc.taxonomy if lib.svc.store.list_documents(topic=t.slug))


def test_export_button_and_download_for_editors_only(make_app, sample_dir):
    app = make_app(files=sorted(sample_dir.iterdir()))
    c = app.test_client()
    slug = _topic_with_material(app)
    page = c.get(f"/topics/{slug}").get_data(as_text=True)
    assert "导出离线专题包" not in page
    assert c.get(f"/topics/{slug}/pack.zip").status_code == 403
    login(c)
    page = c.get(f"/topics/{slug}").get_data(as_text=True)
    assert "导出离线专题包" in page
    r = c.get(f"/topics/{slug}/pack.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert (
        "专题包.zip" in r.headers["Content-Disposition"]
        or "filename*" in r.headers["Content-Disposition"]
    )
    names = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    assert "manifest.json" in names and "index.html" in names and "compilation.docx" in names
    assert c.get("/topics/no-such-topic/pack.zip").status_code == 404


def test_speakers_may_export_when_the_setting_allows(make_app, sample_dir):
    app = make_app(files=sorted(sample_dir.iterdir()), settings={"public_export": True})
    c = app.test_client()
    slug = _topic_with_material(app)
    assert "导出离线专题包" in c.get(f"/topics/{slug}").get_data(as_text=True)
    assert c.get(f"/topics/{slug}/pack.zip").status_code == 200


def test_import_page_imports_once_and_refuses_a_tampered_pack(make_app, sample_dir):
    source = make_app(files=sorted(sample_dir.iterdir()))
    sc = source.test_client()
    login(sc)
    slug = _topic_with_material(source)
    pack = sc.get(f"/topics/{slug}/pack.zip").data

    target = make_app()
    c = target.test_client()
    assert c.get("/editor/import").status_code == 302  # anonymous → login
    login(c)
    assert "导入专题包" in c.get("/editor/import").get_data(as_text=True)
    r = post(
        c,
        "/editor/import",
        {"pack": (io.BytesIO(pack), "pack.zip")},
        content_type="multipart/form-data",
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "新增材料" in body
    docs = target.extensions["lecturelib"].svc.store.counts()["documents"]
    assert docs >= 1
    r = post(
        c,
        "/editor/import",
        {"pack": (io.BytesIO(pack), "pack.zip")},
        content_type="multipart/form-data",
    )
    assert "新增材料：0 份" in r.get_data(as_text=True)
    assert target.extensions["lecturelib"].svc.store.counts()["documents"] == docs

    bad = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(pack)) as z, zipfile.ZipFile(bad, "w") as w:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "data/documents.jsonl":
                data = data.replace("。".encode(), "！".encode(), 1)
            w.writestr(info.filename, data)
    r = post(
        c,
        "/editor/import",
        {"pack": (io.BytesIO(bad.getvalue()), "篡改.zip")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "篡改.zip" in r.get_data(as_text=True)
    assert "校验和不符" in r.get_data(as_text=True)
    r = post(c, "/editor/import", {}, content_type="multipart/form-data")
    assert r.status_code == 400 and "请选择" in r.get_data(as_text=True)
