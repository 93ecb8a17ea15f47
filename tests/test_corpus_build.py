"""The corpus renderer (corpus/tools/build.py): sources written into tmp_path render into files
that open in their own format and carry the text, and the shipped corpus is complete."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def _load_build():
    spec = importlib.util.spec_from_file_location("corpus_build", CORPUS / "tools" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_build"] = module
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # nothing into corpus/
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


build = _load_build()

BODY = """\
# 示例讲义

一、总体要求

（一）提高认识

这是第一段正文，讲**西江**两岸的新变化[^1]。
这一行与上一行同属一段。

## 二级标题

- 列表第一项
  - 列表子项

| 项目 | 数量 |
| --- | --- |
| 茶园 | 三百亩 |

[page]

### 三级标题

最后一段：绿水青山就是金山银山。

[^1]: 脚注文字：以当地公布为准。
"""


def write_source(
    root: Path, name: str, file: str, body: str = BODY, group: str = "prose", **extra: str
) -> Path:
    meta = {
        "file": file,
        "title": "示例讲义",
        "kind": "handout",
        "topics": "[ecology, new-zhaoqing]",
        "audiences": "[rural]",
        "exercises": "测试用例",
        **extra,
    }
    front = "\n".join(f"{k}: {v}" for k, v in meta.items())
    path = root / "src" / group / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
    return path


def render_one(tmp_path: Path, file: str, **extra: str) -> Path:
    write_source(tmp_path, "a.md", file, **extra)
    build.build(tmp_path, log=lambda *_: None)
    return tmp_path / "materials" / "prose" / file


# --- parsing -------------------------------------------------------------------------------


def test_body_is_parsed_into_headings_paragraphs_lists_tables_and_breaks(tmp_path):
    path = write_source(tmp_path, "a.md", "x.md")
    src = build.load_source(path, "prose", build.Taxonomy.default())
    kinds = [e.kind for e in src.elements]
    # the leading "# 示例讲义" equals the title, so it is the title line, not a heading
    assert kinds == [
        "para",
        "para",
        "para",
        "heading",
        "list",
        "list",
        "table",
        "page",
        "heading",
        "para",
    ]
    assert src.elements[2].text.endswith("[^1]。\n这一行与上一行同属一段。")
    assert [e.level for e in src.elements if e.kind == "list"] == [1, 2]
    assert src.elements[6].rows == [["项目", "数量"], ["茶园", "三百亩"]]  # separator row dropped
    assert src.footnotes == {"1": "脚注文字：以当地公布为准。"}
    assert src.meta["topics"] == ["ecology", "new-zhaoqing"]
    assert src.meta["exercises"] == "测试用例"


def test_front_matter_comment_after_two_spaces_is_ignored(tmp_path):
    path = write_source(tmp_path, "a.md", "x.docx  # 输出文件名")
    src = build.load_source(path, "prose", build.Taxonomy.default())
    assert src.file == "x.docx"


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("topics", "[no-such-topic]", "unknown topics"),
        ("kind", "poem", "unknown kind"),
        ("file", "x.rtf", "unknown output format"),
        ("audiences", "[farmers]", "unknown audiences"),
    ],
)
def test_a_bad_source_is_refused_with_its_file_named(tmp_path, field, value, words):
    extra = {field: value}
    write_source(tmp_path, "bad.md", extra.pop("file", "x.docx"), **extra)
    with pytest.raises(build.SourceError, match=words) as err:
        build.build(tmp_path, log=lambda *_: None)
    assert "bad.md" in str(err.value)


def test_two_sources_may_not_write_the_same_file(tmp_path):
    write_source(tmp_path, "a.md", "same.txt")
    write_source(tmp_path, "b.md", "same.txt")
    with pytest.raises(build.SourceError, match="also made by"):
        build.build(tmp_path, log=lambda *_: None)


# --- renderers -----------------------------------------------------------------------------


def test_docx_has_heading_styles_numbered_normal_paragraphs_table_list_and_footnote(tmp_path):
    import docx

    out = render_one(tmp_path, "示例.docx")
    d = docx.Document(str(out))
    styled = [(p.style.name, p.text) for p in d.paragraphs if p.text]
    assert styled[0] == ("Title", "示例讲义")
    assert ("Normal", "一、总体要求") in styled  # numbering pattern, not a style
    assert ("Heading 2", "二级标题") in styled
    assert ("Heading 3", "三级标题") in styled
    assert ("List Bullet", "列表第一项") in styled
    assert ("List Bullet 2", "列表子项") in styled
    para = next(p for p in d.paragraphs if "第一段正文" in p.text)
    assert para.text == "这是第一段正文，讲西江两岸的新变化。\n这一行与上一行同属一段。"
    assert any(r.bold and r.text == "西江" for r in para.runs)
    assert d.tables[0].cell(1, 0).text == "茶园"
    assert d.core_properties.title == "示例讲义"
    with zipfile.ZipFile(out) as z:
        notes = z.read("word/footnotes.xml").decode("utf-8")
        document = z.read("word/document.xml").decode("utf-8")
    assert "脚注文字：以当地公布为准。" in notes
    assert 'w:footnoteReference w:id="1"' in document
    assert 'w:type="page"' in document


def test_wps_flavoured_docx_says_it_was_saved_by_wps(tmp_path):
    import docx

    out = render_one(tmp_path, "wps.docx", flavor="wps")
    with zipfile.ZipFile(out) as z:
        assert "WPS Office" in z.read("docProps/app.xml").decode("utf-8")
        assert "KSOProductBuildVer" in z.read("docProps/custom.xml").decode("utf-8")
        assert "仿宋_GB2312" in z.read("word/styles.xml").decode("utf-8")
    assert "一、总体要求" in [p.text for p in docx.Document(str(out)).paragraphs]


def test_pdf_has_text_running_header_and_page_number_footer_on_every_page(tmp_path):
    import pdfplumber

    out = render_one(tmp_path, "示例.pdf")
    with pdfplumber.open(out) as pdf:
        pages = [p.extract_text() for p in pdf.pages]
        assert pdf.metadata["Title"] == "示例讲义"
    assert len(pages) == 2  # [page] forced a break
    for n, text in enumerate(pages, start=1):
        lines = text.splitlines()
        assert lines[0] == "示例讲义"
        assert lines[-1] == f"— {n} —"
    joined = "".join(pages)
    assert "一、总体要求" in joined and "这一行与上一行同属一段。" in joined
    assert "绿水青山就是金山银山" in pages[1]
    assert "脚注文字" in pages[1]


def test_pdf_font_size_option_makes_more_pages(tmp_path):
    import pdfplumber

    long_body = "\n\n".join(
        f"{i}. 这是一段用来占篇幅的正文，讲基层宣讲的方法和体会。" * 3 for i in range(1, 40)
    )
    write_source(tmp_path, "a.md", "small.pdf", body=long_body)
    write_source(tmp_path, "b.md", "large.pdf", body=long_body, font_size="16")
    build.build(tmp_path, log=lambda *_: None)
    with (
        pdfplumber.open(tmp_path / "materials/prose/small.pdf") as small,
        pdfplumber.open(tmp_path / "materials/prose/large.pdf") as large,
    ):
        assert len(large.pages) > len(small.pages)


def test_pptx_has_cover_slides_titles_bullets_and_speaker_notes(tmp_path):
    from pptx import Presentation

    body = (
        "封面副标题\n> notes: 开场白。\n\n[slide]\n## 第一页\n\n- 要点一\n- 要点二\n"
        "> notes: 第一页的讲稿。\n\n[slide]\n## 第二页\n\n一段说明文字。\n"
    )
    write_source(tmp_path, "a.md", "课件.pptx", body=body, kind="script")
    build.build(tmp_path, log=lambda *_: None)
    prs = Presentation(str(tmp_path / "materials/prose/课件.pptx"))
    slides = list(prs.slides)
    assert [s.shapes.title.text for s in slides] == ["示例讲义", "第一页", "第二页"]
    assert slides[0].placeholders[1].text == "封面副标题"
    assert slides[1].placeholders[1].text_frame.text == "要点一\n要点二"
    assert slides[0].notes_slide.notes_text_frame.text == "开场白。"
    assert slides[1].notes_slide.notes_text_frame.text == "第一页的讲稿。"
    assert not slides[2].has_notes_slide


def test_txt_can_be_gb18030_with_crlf_line_ends(tmp_path):
    out = render_one(tmp_path, "示例.txt", encoding="gb18030", newline="crlf")
    raw = out.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[0] == "示例讲义"
    assert "\u3000\u3000一、总体要求" in lines
    assert "· 列表第一项" in lines and "茶园\t三百亩" in lines
    assert "[1] 脚注文字：以当地公布为准。" in lines


def test_txt_defaults_to_utf8_with_lf(tmp_path):
    out = render_one(tmp_path, "示例.txt")
    text = out.read_bytes().decode("utf-8")
    assert "\r" not in text and "最后一段：绿水青山就是金山银山。" in text


def test_md_keeps_the_body_but_drops_private_markers(tmp_path):
    out = render_one(tmp_path, "示例.md")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 示例讲义\n")
    assert "[page]" not in text
    assert "| 茶园 | 三百亩 |" in text and "## 二级标题" in text


def test_html_is_a_full_page_with_the_text_inside_article(tmp_path):
    out = render_one(tmp_path, "示例.html", site="测试宣讲网")
    page = out.read_text(encoding="utf-8")
    assert re.search(r"<title>示例讲义_测试宣讲网</title>", page)
    article = page.split("<article>", 1)[1].split("</article>", 1)[0]
    assert "<h1>示例讲义</h1>" in article
    assert "<p>一、总体要求</p>" in article
    assert "<h3>二级标题</h3>" in article
    assert "<strong>西江</strong>" in article
    assert "<td>茶园</td>" in article
    for noise in ("<nav", "<aside", "<footer", "版权所有"):
        assert noise in page and noise not in article


@pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")),
    reason="LibreOffice (soffice) is not installed",
)
def test_doc_is_a_word97_binary_holding_the_text(tmp_path):
    import olefile

    out = render_one(tmp_path, "示例.doc")
    assert olefile.isOleFile(str(out))
    with olefile.OleFileIO(str(out)) as ole:
        assert ole.exists("WordDocument")
        stream = ole.openstream("WordDocument").read()
    assert "绿水青山就是金山银山".encode("utf-16-le") in stream


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium is not installed")
def test_chromium_pdf_carries_kangxi_radicals_and_page_numbers(tmp_path):
    import pdfplumber

    out = render_one(tmp_path, "示例.pdf", engine="chromium")
    with pdfplumber.open(out) as pdf:
        text = "".join(p.extract_text() for p in pdf.pages)
    assert "— 1 —" in text
    # Chromium's CJK fonts map some ideographs to Kangxi radicals in the text layer
    assert re.search("[\u2f00-\u2fdf]", text)
    first = out.read_bytes()
    build.build(tmp_path, log=lambda *_: None)
    assert out.read_bytes() == first  # the print date is fixed


# --- the whole build -----------------------------------------------------------------------


def test_build_writes_sorted_manifest_and_readme_table_and_removes_stale_files(tmp_path):
    write_source(tmp_path, "b.md", "乙.txt", kind="case")
    write_source(tmp_path, "a.md", "甲.html", group="quotes", kind="quotes")
    stale = tmp_path / "materials" / "prose" / "旧文件.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        f"# 说明\n\n{build.TABLE_START}\nold table\n{build.TABLE_END}\n\n尾注\n", encoding="utf-8"
    )
    build.build(tmp_path, log=lambda *_: None)

    docs = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["documents"]
    assert [d["path"] for d in docs] == ["materials/prose/乙.txt", "materials/quotes/甲.html"]
    assert docs[0] == {
        "path": "materials/prose/乙.txt",
        "title": "示例讲义",
        "kind": "case",
        "topics": ["ecology", "new-zhaoqing"],
        "audiences": ["rural"],
        "format": "txt",
        "exercises": "测试用例",
        "source": "src/prose/b.md",
    }
    assert not stale.exists()
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "old table" not in readme and readme.rstrip().endswith("尾注")
    assert (
        "| `materials/prose/乙.txt` | 案例 | 生态文明建设、新时代新肇庆 | txt | 测试用例 |"
        in readme
    )


def test_rebuilding_gives_identical_files(tmp_path):
    for i, ext in enumerate(("docx", "pdf", "pptx", "txt", "md", "html")):
        write_source(tmp_path, f"{i}.md", f"示例.{ext}")
    build.build(tmp_path, log=lambda *_: None)
    first = {p.name: p.read_bytes() for p in (tmp_path / "materials/prose").iterdir()}
    build.build(tmp_path, log=lambda *_: None)
    second = {p.name: p.read_bytes() for p in (tmp_path / "materials/prose").iterdir()}
    assert first.keys() == second.keys() and len(first) == 6
    for name in first:
        assert first[name] == second[name], name


# --- the shipped corpus (read only) --------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return build.discover(CORPUS / "src", build.Taxonomy.default())


def test_shipped_corpus_covers_every_topic_kind_and_format(shipped):
    assert len(shipped) >= 40
    topics = [t for s in shipped for t in s.meta["topics"]]
    for slug in (t.slug for t in build.Taxonomy.default()):
        assert topics.count(slug) >= 3, slug
    kinds = [s.meta["kind"] for s in shipped]
    for kind in build.KINDS:
        assert kinds.count(kind) >= 5, kind
    formats = [s.fmt for s in shipped]
    for fmt in build.FORMATS:
        assert formats.count(fmt) >= 2, fmt
    audiences = {a for s in shipped for a in s.meta["audiences"]}
    assert audiences == set(build.AUDIENCES)
    assert any(s.fmt == "txt" and s.meta.get("encoding") == "gb18030" for s in shipped)


def _body_chars(src) -> int:
    text = "".join(e.text + "".join("".join(r) for r in e.rows) for e in src.elements)
    return len(re.sub(r"\s", "", text))


LENGTHS = {"handout": (2000, 6000), "script": (1500, 3000), "case": (800, 2000)}


def test_shipped_prose_documents_have_the_agreed_lengths(shipped):
    prose = [s for s in shipped if s.group == "prose"]
    assert len(prose) >= 32
    for s in prose:
        if s.meta["kind"] in LENGTHS:
            low, high = LENGTHS[s.meta["kind"]]
            assert low <= _body_chars(s) <= high, (s.path.name, _body_chars(s))
        elif s.meta["kind"] == "qa":
            questions = [
                e
                for e in s.elements
                if e.text.startswith(("问：", "**问：**"))
                or re.match(r"^\d+[.．、]\s*.*？$|^[一二三四五六七八九十]+、.*？$", e.text)
            ]
            assert 8 <= len(questions) <= 15, (s.path.name, len(questions))


def test_shipped_manifest_and_materials_match_the_sources(shipped):
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == build.manifest(shipped)
    for doc in manifest["documents"]:
        assert (CORPUS / doc["path"]).is_file(), doc["path"]


# --- the sample recording (视频) --------------------------------------------------------------

needs_speech = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("ffmpeg") and shutil.which("ffprobe")),
    reason="espeak-ng/ffmpeg missing (make test installs them: scripts/ensure-media.sh)",
)
needs_ffmpeg = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("ffprobe")), reason="ffmpeg missing"
)

RECORDING = """\
# 开场

乡亲们好。
今天讲垃圾分类。

# 结尾

谢谢大家！
"""


def _probe(path: Path) -> dict:
    import subprocess

    run = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
        + [str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(run.stdout)


@needs_speech
def test_a_recording_source_becomes_a_video_with_speech_slides_tags_and_srt(tmp_path):
    write_source(
        tmp_path, "r.md", "社区微宣讲.mp4", body=RECORDING, group="media", kind="media",
        speaker="王芳", date="2025-04-01", occasion="社区微宣讲",
    )  # fmt: skip
    build.build(tmp_path, log=lambda *_: None)
    video = tmp_path / "materials/media/社区微宣讲.mp4"
    srt = video.with_suffix(".srt").read_text(encoding="utf-8")
    info = _probe(video)
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    tags = info["format"]["tags"]
    assert (
        tags["title"] == "示例讲义" and tags["artist"] == "王芳" and tags["comment"] == "社区微宣讲"
    )
    # one cue per spoken line, in order, ending before the recording does
    cues = [b.split("\n") for b in srt.strip().split("\n\n")]
    assert [c[2] for c in cues] == ["乡亲们好。", "今天讲垃圾分类。", "谢谢大家！"]
    ends = [float(c[1].split(" --> ")[1].replace(",", ".")[-6:]) for c in cues]
    assert ends == sorted(ends) and ends[-1] <= float(info["format"]["duration"])
    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["documents"][0]
    assert doc["kind"] == "media" and doc["transcript"] == "materials/media/社区微宣讲.srt"
    first = video.read_bytes()
    build.build(tmp_path, log=lambda *_: None)
    assert video.read_bytes() == first  # rebuilt byte for byte
    assert video.with_suffix(".srt").exists()  # the sidecar is not a stale file


def test_a_recording_needs_the_media_kind_and_a_recording_format(tmp_path):
    write_source(tmp_path, "r.md", "录像.mp4", body=RECORDING, group="media", kind="script")
    with pytest.raises(build.SourceError, match="media"):
        build.build(tmp_path, log=lambda *_: None)


@needs_ffmpeg
def test_the_shipped_recording_is_small_and_ingests_with_its_transcript(shipped, tmp_path):
    """The sample library's recording: under 300 KB, its .srt beside it, and once ingested a
    phrase takes the speaker to the second it is spoken; the quotation becomes a quote."""
    from indexer.app.service import LibraryService

    [src] = [s for s in shipped if s.meta["kind"] == "media"]
    video = CORPUS / src.out_rel
    assert video.stat().st_size < 300 * 1024
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(video, folder)
    shutil.copy(CORPUS / src.sidecar_rel, folder)
    svc = LibraryService(tmp_path / "home")
    try:
        [r] = svc.ingest([folder])
        assert r.status == "ok" and r.kind == "media", r.message
        doc = svc.media(r.document_id)
        assert doc["title"] == src.title and doc["media"]["speaker"] == src.meta["speaker"]
        assert doc["date"] == src.meta["date"]
        [hit] = [h for h in svc.search("护河公约")["hits"] if h["kind"] == "passage"]
        assert 20 < hit["start"] < hit["end"] < doc["media"]["duration"]
        quote = next(h for h in svc.search("绿水青山就是金山银山")["hits"] if h["kind"] == "quote")
        assert quote["speaker"] == "习近平" and quote["date"].startswith("2005-08")
    finally:
        svc.close()
