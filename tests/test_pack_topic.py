"""A pack is its topic (issue 9, observation 1): a topic pack holds the quotes of the topic, the
passages and Q&A of its documents, and nothing else; every count (CLI, topic page, home tile,
offline page, Word compilation) comes from one membership rule; the Word compilation numbers
its themes once, shows each saying once with all its sources, and is A4 with real properties."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from conftest import _build_app, make_docx
from sqlalchemy import text

from indexer.app.export import export_topic
from indexer.app.packimport import import_pack
from indexer.app.service import LibraryService

GREEN = "绿水青山就是金山银山。"

RURAL_COMPILATION = [
    ("h", "乡村振兴金句摘编"),
    ("h", "一、产业振兴"),
    ("p", "1. 产业振兴是乡村振兴的重中之重。"),
    ("p", "——习近平在参加十三届全国人大一次会议山东代表团审议时的讲话（2018年3月8日）"),
    ("h", "二、生态宜居"),
    ("p", "2. " + GREEN),
    ("p", "——习近平在浙江安吉余村考察时提出（2005年8月15日）"),
    ("h", "三、人才振兴"),
    ("p", "3. 乡村振兴，关键在人。"),
    ("p", "——习近平在中央农村工作会议上的讲话（2017年12月28日）"),
]
ECO_COMPILATION = [
    ("h", "生态文明建设金句摘编"),
    ("h", "一、绿水青山"),
    ("p", "1. " + GREEN),
    ("p", "——习近平在浙江安吉余村考察时提出（2005年8月15日）"),
    ("h", "二、生态惠民"),
    ("p", "2. 良好生态环境是最普惠的民生福祉。"),
    ("p", "——习近平在海南考察时的讲话（2013年4月10日）"),
]
ECO_HANDOUT = [
    ("t", "守护一江清水——生态文明讲义"),
    ("p", "一、为什么要保护西江"),
    ("p", "河长制让每一段河道都有人管，垃圾分类让村庄更干净，这是生态文明建设的日常功夫。" * 3),
]
REPORT = [
    ("t", "某县乡村振兴工作报告"),
    ("p", "一、产业发展"),
    ("p", "全县发展特色种植，带动农民增收，顺带提到一句河道保洁的生态工作。" * 3),
]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    home = tmp_path_factory.mktemp("home")
    files = [
        make_docx(src / "乡村振兴金句摘编.docx", RURAL_COMPILATION),
        make_docx(src / "生态文明建设金句摘编.docx", ECO_COMPILATION),
        make_docx(src / "生态讲义.docx", ECO_HANDOUT),
        make_docx(src / "工作报告.docx", REPORT),
    ]
    svc = LibraryService(home)
    res = svc.ingest(files, kind=None, actor="test")
    assert not [r for r in res if r.failed]
    ids = {d["title"]: d["id"] for d in svc.store.list_documents()}
    rural_c = ids["乡村振兴金句摘编"]
    eco_c = ids["生态文明建设金句摘编"]
    eco_h = ids["守护一江清水——生态文明讲义"]
    report = ids["某县乡村振兴工作报告"]
    svc.update_document(rural_c, actor="test", topics=["乡村振兴"])
    svc.update_document(eco_c, actor="test", topics=["生态文明建设"])
    svc.update_document(eco_h, actor="test", topics=["生态文明建设"])
    for q in svc.store.get_document(rural_c)["quotes"]:
        svc.update_quote(
            q["id"], actor="test", topics=["生态文明建设"] if q["text"] == GREEN else ["乡村振兴"]
        )
    for q in svc.store.get_document(eco_c)["quotes"]:
        svc.update_quote(q["id"], actor="test", topics=["生态文明建设"])
    # the report: 84 % rural revitalisation, 16 % ecology (a weak second suggestion)
    with svc.store.engine.begin() as c:
        c.execute(text("DELETE FROM document_topics WHERE document_id = :d"), {"d": report})
        c.execute(
            text(
                "INSERT INTO document_topics VALUES (:d, 'rural-revitalization', 0.84, "
                "'auto'), (:d, 'ecology', 0.16, 'auto')"
            ),
            {"d": report},
        )
    svc.reindex()
    out = tmp_path_factory.mktemp("out") / "p.zip"
    rep = export_topic(svc, "生态文明建设", out)
    svc.close()
    app = _build_app(home, users=False)
    yield {"app": app, "out": out, "rep": rep, "ids": ids, "home": home}
    app.extensions["lecturelib"].close()


def _rows(out, name):
    with zipfile.ZipFile(out) as z:
        return [json.loads(line) for line in z.read(name).decode("utf-8").splitlines() if line]


def test_pack_holds_only_quotes_of_its_topic(lib):
    quotes = _rows(lib["out"], "data/quotes.jsonl")
    assert sorted(q["text"] for q in quotes) == sorted([GREEN, "良好生态环境是最普惠的民生福祉。"])
    for q in quotes:
        assert "ecology" in [t["topic"] for t in q["topics"]]


def test_other_compilations_come_only_as_the_source_of_their_topic_quotes(lib):
    docs = {d["title"]: d for d in _rows(lib["out"], "data/documents.jsonl")}
    assert "某县乡村振兴工作报告" not in docs  # ecology only as a 16 % second suggestion
    src = docs["乡村振兴金句摘编"]
    assert src["role"] == "source" and not src["passages"] and len(src["quotes"]) == 1
    assert docs["生态文明建设金句摘编"]["role"] == "member"
    assert docs["守护一江清水——生态文明讲义"]["passages"]


def test_every_count_agrees(lib):
    rep = lib["rep"]
    assert (rep.documents, rep.quotes) == (2, 2)
    with zipfile.ZipFile(lib["out"]) as z:
        manifest = json.loads(z.read("manifest.json"))
        data = z.read("assets/data.js").decode("utf-8")
    assert manifest["counts"]["documents"] == 2 and manifest["counts"]["quotes"] == 2
    assert manifest["membership"]["secondary_topic_min"] == 0.3
    pack = json.loads(data[len("window.PACK = ") :].rstrip().rstrip(";"))
    assert pack["counts"]["documents"] == 2 and pack["counts"]["quotes"] == 2
    assert sum(r["k"] == "quote" for r in pack["records"]) == 2  # each saying once
    client = lib["app"].test_client()
    page = client.get("/topics/ecology").get_data(as_text=True)
    assert "金句（2）" in page
    docs_on_page = sum(
        int(n) for n in re.findall(r'<h3 class="subhead">[^<（]+（(\d+)）</h3>', page)
    )
    assert docs_on_page == 2
    home = client.get("/").get_data(as_text=True)
    tile = home.split('href="/topics/ecology"', 1)[1].split("</a>", 1)[0]
    assert "2 份材料 · 2 条金句" in tile


def test_compilation_is_grouped_numbered_once_a4_and_cites_speaker(lib):
    import docx
    from docx.shared import Mm

    with zipfile.ZipFile(lib["out"]) as z:
        path = lib["home"] / "c.docx"
        path.write_bytes(z.read("compilation.docx"))
    d = docx.Document(str(path))
    texts = [p.text for p in d.paragraphs]
    themes = [t for t in texts if re.match(r"^（[一二三四五六七八九十]+）", t)]
    assert themes == ["（一）绿水青山", "（二）生态惠民"]
    numbered = [t for t in texts if re.match(r"^\d+\. ", t)]
    assert [t.split(".")[0] for t in numbered] == ["1", "2"]
    assert sum(GREEN in t for t in texts) == 1
    i = next(k for k, t in enumerate(texts) if GREEN in t)
    assert texts[i + 1] == "——习近平在浙江安吉余村考察时提出（2005年8月15日）"
    assert "《乡村振兴金句摘编》" in texts[i + 2] and "《生态文明建设金句摘编》" in texts[i + 2]
    sec = d.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(1) and abs(sec.page_height - Mm(297)) < Mm(1)
    assert d.core_properties.author == "宣讲素材库"
    assert "python-docx" not in (d.core_properties.author + d.core_properties.comments)
    assert "TOC \\o" in d.element.xml


def test_offline_site_cites_the_speaker(lib):
    with zipfile.ZipFile(lib["out"]) as z:
        data = z.read("assets/data.js").decode("utf-8")
    assert "习近平在浙江安吉余村考察时提出（2005年8月15日）" in data


def test_exported_pack_imports_into_another_library(lib, tmp_path):
    target = LibraryService(tmp_path / "t")
    try:
        rep = import_pack(target, lib["out"])
        assert len(rep.added) == 3
        res = target.search(GREEN)
        assert any(h["kind"] == "quote" for h in res["hits"])
    finally:
        target.close()
