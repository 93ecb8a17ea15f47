"""Offline topic packs: export, verify, import, round trip, and the offline site in a browser."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, make_docx, make_pdf

from indexer.app.export import export_topic
from indexer.app.packimport import import_pack
from indexer.app.service import LibraryService
from library.errors import PackError, UsageError
from library.pack import read_pack

ECO_HANDOUT = [
    ("h", "生态文明建设讲义"),
    ("p", "一、守护绿水青山"),
    ("p", "河长制让每一条河流都有了守护人，村民自发清理河道，垃圾分类走进千家万户。" * 4),
    ("p", "二、推动绿色发展"),
    ("p", "碳达峰碳中和目标引领产业转型，光伏发电和生态旅游成为山区群众增收的新路子。" * 4),
]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("src")
    make_docx(tmp / "files" / "生态金句.docx", QUOTES_DOC)
    make_docx(tmp / "files" / "生态讲义.docx", ECO_HANDOUT)
    make_docx(tmp / "files" / "乡村讲义.docx", HANDOUT_DOC)
    make_pdf(
        tmp / "files" / "生态讲义二.pdf",
        [
            ["一、湿地保护", "湿地是地球之肾，保护湿地就是保护我们的家园。"],
            ["二、垃圾分类", "垃圾分类从我做起，绿色生活人人参与。"],
        ],
    )
    svc = LibraryService(tmp / "home")
    results = svc.ingest([tmp / "files"], topics=None)
    assert all(r.status in ("ok", "warning") for r in results), [r.message for r in results]
    # make the topic assignment deterministic for the test
    for r in results:
        if "乡村" in r.path:
            svc.update_document(r.document_id, actor="t", topics=["rural-revitalization"])
        else:
            svc.update_document(r.document_id, actor="t", topics=["ecology"])
    pack = tmp / "生态专题包.zip"
    rep = export_topic(svc, "生态文明建设", pack)
    yield svc, pack, rep, tmp
    svc.close()


GOLDEN = [
    "绿水青山",
    "绿水",
    "河长制",
    "碳达峰",
    "湿地",
    "金山银山",
    "地球之肾",
    "垃圾分类",
    "光伏",
]


def _hits(svc, q):
    res = svc.search(q, topic="ecology", limit=50)
    return sorted((h["kind"], h["text"], h.get("source") or "") for h in res["hits"])


def test_pack_has_manifest_with_checksums_and_all_parts(source):
    svc, pack, rep, _ = source
    contents = read_pack(pack)
    m = contents.manifest
    assert m["topic"] == {"slug": "ecology", "name": "生态文明建设"}
    assert m["format_version"] == 1 and m["dictionary_version"]
    assert m["counts"] == {"documents": 3, "quotes": 3, "passages": rep.passages, "sources": 0}
    names = set(m["files"])
    assert {
        "index.html",
        "assets/app.js",
        "assets/data.js",
        "compilation.docx",
        "data/documents.jsonl",
        "data/quotes.jsonl",
    } <= names
    assert sum(n.startswith("originals/") for n in names) == 3
    assert not any(
        "乡村讲义" in json.dumps(d, ensure_ascii=False)
        for d in contents.jsonl("data/documents.jsonl")
    )


def test_pack_members_unzip_readable_by_everyone(source, tmp_path):
    """A station unzips the pack and serves or shares the files: mode 0644, not 0600."""
    _, pack, _, _ = source
    with zipfile.ZipFile(pack) as z:
        infos = z.infolist()
        modes = {i.filename: (i.external_attr >> 16) for i in infos}
    assert "index.html" in modes and "manifest.json" in modes
    for name, mode in modes.items():
        assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o644, (name, oct(mode))
    if shutil.which("unzip"):
        out = tmp_path / "unzipped"
        subprocess.run(["unzip", "-q", str(pack), "-d", str(out)], check=True)
        assert stat.S_IMODE((out / "index.html").stat().st_mode) & 0o044 == 0o044
    assert read_pack(pack).manifest["topic"]["slug"] == "ecology"  # still verifies


def test_compilation_docx_has_toc_quotes_with_sources_then_handouts(source, tmp_path):
    import docx

    _, pack, _, _ = source
    with zipfile.ZipFile(pack) as z:
        (tmp_path / "c.docx").write_bytes(z.read("compilation.docx"))
    d = docx.Document(str(tmp_path / "c.docx"))
    texts = [p.text for p in d.paragraphs]
    assert "目录" in texts
    i = next(k for k, t in enumerate(texts) if t.endswith(". 绿水青山就是金山银山。"))
    assert texts[i + 1].startswith("——") and "2005年8月15日" in texts[i + 1]
    assert any("河长制" in t for t in texts[i:])
    assert "TOC \\o" in d.element.xml


def test_round_trip_golden_queries_return_the_same_hits(source, tmp_path):
    svc, pack, _, _ = source
    target = LibraryService(tmp_path / "target")
    try:
        rep = import_pack(target, pack)
        assert len(rep.added) == 3 and not rep.duplicates
        for q in GOLDEN:
            assert _hits(target, q) == _hits(svc, q), q
            assert _hits(target, q), q
        doc = target.store.list_documents()[0]
        assert doc["topics"] == ["ecology"]
        # the same pack twice changes nothing
        before = target.store.counts()
        again = import_pack(target, pack)
        assert not again.added and len(again.duplicates) == 3
        assert target.store.counts() == before
    finally:
        target.close()


def _rewrite(pack: Path, out: Path, change):
    with zipfile.ZipFile(pack) as z, zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            data = z.read(info.filename)
            res = change(info.filename, data)
            if res is not None:
                w.writestr(res[0], res[1])
        extra = change(None, None)
        if extra:
            w.writestr(extra[0], extra[1])
    return out


@pytest.mark.parametrize(
    "case", ["altered", "zip_slip", "truncated", "extra_member", "wrong_version", "not_a_zip"]
)
def test_bad_packs_are_refused_and_change_nothing(source, tmp_path, case):
    _, pack, _, _ = source
    bad = tmp_path / f"{case}.zip"
    if case == "altered":
        _rewrite(
            pack,
            bad,
            lambda n, d: (
                None
                if n is None
                else (
                    n,
                    d.replace("河长制".encode(), "河长治".encode())
                    if n == "data/documents.jsonl"
                    else d,
                )
            ),
        )
    elif case == "zip_slip":
        _rewrite(pack, bad, lambda n, d: ("../../evil.txt", b"x") if n is None else (n, d))
    elif case == "extra_member":
        _rewrite(pack, bad, lambda n, d: ("assets/extra.js", b"alert(1)") if n is None else (n, d))
    elif case == "truncated":
        data = pack.read_bytes()
        bad.write_bytes(data[: len(data) * 2 // 3])
    elif case == "wrong_version":

        def bump(n, d):
            if n == "manifest.json":
                m = json.loads(d)
                m["format_version"] = 99
                return n, json.dumps(m).encode()
            return None if n is None else (n, d)

        _rewrite(pack, bad, bump)
    else:
        bad.write_bytes(b"this is not a zip file")
    target = LibraryService(tmp_path / "target")
    try:
        with pytest.raises(PackError) as err:
            import_pack(target, bad)
        assert any("\u4e00" <= c <= "\u9fff" for c in str(err.value))
        assert target.store.counts()["documents"] == 0
        assert not (tmp_path / "evil.txt").exists()
    finally:
        target.close()


def test_export_unknown_or_empty_topic_is_a_clear_error(source, tmp_path):
    svc, _, _, _ = source
    with pytest.raises(UsageError) as e:
        export_topic(svc, "不存在的专题", tmp_path / "x.zip")
    assert "可用的专题" in str(e.value)
    with pytest.raises(UsageError) as e:
        export_topic(svc, "国防教育", tmp_path / "y.zip")
    assert "还没有材料" in str(e.value)
    assert not (tmp_path / "y.zip").exists()


def test_offline_site_finds_a_two_character_substring_from_file_url(source, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    _, pack, _, _ = source
    site = tmp_path / "site"
    with zipfile.ZipFile(pack) as z:
        z.extractall(site)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.goto((site / "index.html").as_uri())
            assert "生态文明建设" in page.title()
            page.fill("#q", "金山")  # a two-character run inside a quote
            page.click("#search button")
            page.wait_for_selector("#content mark")
            marks = page.locator("#content .quote mark").all_inner_texts()
            assert "金山" in marks
            assert "找到" in page.inner_text("#content .status")
            page.fill("#q", "之肾")  # cuts across jieba's words
            page.press("#q", "Enter")
            page.wait_for_function("document.querySelector('#content').innerText.includes('之肾')")
            assert page.locator("#content mark").first.inner_text() == "之肾"
        finally:
            browser.close()
