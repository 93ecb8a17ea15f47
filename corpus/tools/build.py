"""Render the sample corpus: every ``src/<group>/*.md`` into ``materials/<group>/<file>``.

Run from anywhere: ``.venv/bin/python corpus/tools/build.py``. The output format is picked by the
extension of the ``file:`` front-matter field (.docx .pdf .doc .pptx .txt .md .html). The build
also writes ``manifest.json`` and the file table in ``README.md`` (between the table markers).

Re-running gives byte-identical files: fixed zip timestamps and document dates in docx/pptx,
reportlab's invariant mode, and a fixed print date patched into chromium-printed PDFs. LibreOffice
(.doc) output was identical between runs here too; across tool versions only the text is promised.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parents[1]
PROJECT_DIR = CORPUS_DIR.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from library.content import AUDIENCES  # noqa: E402
from library.content import KINDS as _ALL_KINDS  # noqa: E402

# the kinds of the written sources; a recording (视频/音频, kind "media") is rendered from its
# script by build_mp4 (synthesized speech, slides, a sidecar .srt)
KINDS = {k: v for k, v in _ALL_KINDS.items() if k != "media"}
from library.taxonomy import Taxonomy  # noqa: E402

FORMATS = ("docx", "pdf", "doc", "pptx", "txt", "md", "html")
MEDIA_FORMATS = ("mp4",)
FIXED_DATE = datetime(2025, 3, 1, 9, 0, 0)
ZIP_DATE = (2025, 3, 1, 9, 0, 0)
AUTHOR = "宣讲素材库编辑组"
TABLE_START = "<!-- corpus-table:start -->"
TABLE_END = "<!-- corpus-table:end -->"


class SourceError(ValueError):
    """A source file that cannot be rendered; the message names the file."""


# ---------------------------------------------------------------------------------------------
# Source parsing


@dataclass
class Element:
    kind: str  # heading para list table page slide notes
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    path: Path
    group: str
    meta: dict
    elements: list[Element]
    footnotes: dict[str, str]
    body: str

    @property
    def file(self) -> str:
        return self.meta["file"]

    @property
    def fmt(self) -> str:
        return Path(self.file).suffix.lstrip(".").lower()

    @property
    def title(self) -> str:
        return self.meta["title"]

    @property
    def out_rel(self) -> str:
        return f"materials/{self.group}/{self.file}"

    @property
    def sidecar_rel(self) -> str | None:
        """A recording's subtitle file, written beside it with its base name."""
        if self.fmt not in MEDIA_FORMATS:
            return None
        return f"materials/{self.group}/{Path(self.file).stem}.srt"


def _parse_value(raw: str):
    raw = re.sub(r"\s{2,}#.*$", "", raw).strip()
    if raw.startswith("[") and raw.endswith("]"):
        return [v.strip().strip("'\"") for v in raw[1:-1].split(",") if v.strip()]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


def parse_front_matter(text: str, path: Path) -> tuple[dict, str]:
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        raise SourceError(f"{path}: missing front matter (--- … ---)")
    end = text.find("\n---", 3)
    if end < 0:
        raise SourceError(f"{path}: front matter is not closed with ---")
    meta: dict = {}
    for line in text[3:end].strip("\n").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise SourceError(f"{path}: bad front-matter line: {line!r}")
        meta[key.strip()] = _parse_value(value)
    body = text[end + 4 :]
    body = body[body.find("\n") + 1 :] if "\n" in body else ""
    return meta, body


FOOTNOTE_DEF = re.compile(r"^\[\^([^\]]+)\]:\s*(.*)$")
FOOTNOTE_REF = re.compile(r"\[\^([^\]]+)\]")
HEADING = re.compile(r"^(#{1,3})\s+(.*)$")


def parse_body(body: str) -> tuple[list[Element], dict[str, str]]:
    """Markdown-ish body → elements. Lines of one paragraph are kept apart by "\\n"."""
    elements: list[Element] = []
    footnotes: dict[str, str] = {}
    para: list[str] = []

    def flush():
        if para:
            elements.append(Element("para", "\n".join(para)))
            para.clear()

    for raw in body.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if stripped in ("[page]", "[slide]"):
            flush()
            elements.append(Element(stripped[1:-1]))
            continue
        m = FOOTNOTE_DEF.match(stripped)
        if m:
            flush()
            footnotes[m.group(1)] = m.group(2).strip()
            continue
        m = HEADING.match(stripped)
        if m:
            flush()
            elements.append(Element("heading", m.group(2).strip(), level=len(m.group(1))))
            continue
        if stripped.startswith("> notes:"):
            flush()
            elements.append(Element("notes", stripped[len("> notes:") :].strip()))
            continue
        if stripped.startswith("- "):
            flush()
            level = 1 + (len(line) - len(line.lstrip())) // 2
            elements.append(Element("list", stripped[2:].strip(), level=level))
            continue
        if stripped.startswith("|") and stripped.endswith("|"):
            flush()
            cells = [c.strip() for c in stripped[1:-1].split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                continue  # markdown separator row
            if elements and elements[-1].kind == "table":
                elements[-1].rows.append(cells)
            else:
                elements.append(Element("table", rows=[cells]))
            continue
        para.append(stripped)
    flush()
    return elements, footnotes


def load_source(path: Path, group: str, taxonomy: Taxonomy) -> Source:
    meta, body = parse_front_matter(path.read_text(encoding="utf-8"), path)
    for key in ("file", "title", "kind", "topics"):
        if not meta.get(key):
            raise SourceError(f"{path}: front matter needs '{key}'")
    for key in ("topics", "audiences"):
        value = meta.get(key, [])
        meta[key] = [value] if isinstance(value, str) else list(value)
    fmt = Path(meta["file"]).suffix.lstrip(".").lower()
    if fmt not in FORMATS + MEDIA_FORMATS:
        raise SourceError(f"{path}: unknown output format '.{fmt}'")
    if meta["kind"] not in KINDS and meta["kind"] != "media":
        raise SourceError(f"{path}: unknown kind '{meta['kind']}'")
    if (meta["kind"] == "media") != (fmt in MEDIA_FORMATS):
        raise SourceError(f"{path}: kind 'media' goes with a recording's format ({MEDIA_FORMATS})")
    slugs = {t.slug for t in taxonomy}
    bad = [t for t in meta["topics"] if t not in slugs]
    if bad:
        raise SourceError(f"{path}: unknown topics {bad}")
    bad = [a for a in meta["audiences"] if a not in AUDIENCES]
    if bad:
        raise SourceError(f"{path}: unknown audiences {bad}")
    enc = meta.get("encoding", "utf-8")
    if fmt == "txt":
        "".encode(enc)  # raises LookupError for an unknown codec
    elements, footnotes = parse_body(body)
    # A leading "# <title>" is the document's title line, not a section heading.
    if elements and elements[0].kind == "heading" and elements[0].text == meta["title"]:
        elements = elements[1:]
    return Source(path, group, meta, elements, footnotes, body)


def discover(src_root: Path, taxonomy: Taxonomy) -> list[Source]:
    sources = []
    for path in sorted(src_root.glob("*/*.md")):
        sources.append(load_source(path, path.parent.name, taxonomy))
    seen: dict[str, Path] = {}
    for s in sources:
        if s.out_rel in seen:
            raise SourceError(f"{s.path}: output {s.out_rel} also made by {seen[s.out_rel]}")
        seen[s.out_rel] = s.path
    return sources


def plain(text: str) -> str:
    """Inline markup removed: **bold** → bold, [^1] → ［1］-less plain reference."""
    text = text.replace("**", "")
    return FOOTNOTE_REF.sub(lambda m: f"[{m.group(1)}]", text)


def footnote_list(src: Source) -> list[tuple[str, str]]:
    return list(src.footnotes.items())


# ---------------------------------------------------------------------------------------------
# Deterministic zip packages (docx, pptx)


def repack_zip(path: Path, edit=None) -> None:
    """Rewrite a zip package with fixed timestamps; ``edit(parts)`` may change the parts."""
    with zipfile.ZipFile(path) as zin:
        parts = {info.filename: zin.read(info.filename) for info in zin.infolist()}
    if edit is not None:
        edit(parts)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def _set_core(props, src: Source) -> None:
    props.title = src.title
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.revision = 1
    # No topic or kind in the metadata: the labels must not leak into what classifiers see.
    props.subject = ""
    props.keywords = ""
    props.comments = ""


# ---------------------------------------------------------------------------------------------
# docx


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
FOOTNOTES_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"

WPS_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    b"<Template>Normal</Template><Pages>1</Pages><Words>0</Words><Characters>0</Characters>"
    b"<Lines>0</Lines><Paragraphs>0</Paragraphs><TotalTime>0</TotalTime><ScaleCrop>false</ScaleCrop>"
    b"<LinksUpToDate>false</LinksUpToDate><CharactersWithSpaces>0</CharactersWithSpaces>"
    b"<Application>WPS Office_12.1.0.16929_F1E327BC-269C-435d-A152-05C5408002CA</Application>"
    b"<DocSecurity>0</DocSecurity></Properties>"
)
WPS_CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">'
    b"<vt:lpwstr>2052-12.1.0.16929</vt:lpwstr></property>"
    b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="ICV">'
    b"<vt:lpwstr>5A1C3E0B7D2F4E6A9B8C0D1E2F3A4B5C_12</vt:lpwstr></property></Properties>"
)


def _east_asian_font(style_or_run, name: str) -> None:
    from docx.oxml.ns import qn

    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), name)


class _Footnotes:
    """Real Word footnotes, added through XML (python-docx has no footnote API)."""

    def __init__(self, document):
        from docx.opc.packuri import PackURI
        from docx.opc.part import XmlPart
        from docx.oxml import parse_xml

        xml = (
            f'<w:footnotes xmlns:w="{W_NS}">'
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
            "</w:footnote>"
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
            "<w:continuationSeparator/></w:r></w:p></w:footnote></w:footnotes>"
        )
        self.part = XmlPart(
            PackURI("/word/footnotes.xml"), FOOTNOTES_CT, parse_xml(xml), document.part.package
        )
        document.part.relate_to(self.part, FOOTNOTES_RT)
        self.next_id = 1

    def add(self, paragraph, text: str) -> None:
        from docx.oxml import parse_xml

        fid = self.next_id
        self.next_id += 1
        note = parse_xml(
            f'<w:footnote xmlns:w="{W_NS}" w:id="{fid}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/>'
            '</w:pPr><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {html.escape(text, quote=False)}</w:t></w:r></w:p>'
            "</w:footnote>"
        )
        self.part.element.append(note)
        ref = parse_xml(
            f'<w:r xmlns:w="{W_NS}"><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
            f'<w:footnoteReference w:id="{fid}"/></w:r>'
        )
        paragraph._p.append(ref)


def _docx_runs(paragraph, text: str, src: Source, notes: _Footnotes | None) -> None:
    """Add text with **bold**, line breaks and footnote references to a paragraph."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        for piece in re.split(r"(\*\*[^*]+\*\*|\[\^[^\]]+\])", line):
            if not piece:
                continue
            m = FOOTNOTE_REF.fullmatch(piece)
            if m and notes is not None and m.group(1) in src.footnotes:
                notes.add(paragraph, src.footnotes[m.group(1)])
            elif piece.startswith("**") and piece.endswith("**"):
                paragraph.add_run(piece[2:-2]).bold = True
            else:
                paragraph.add_run(plain(piece))
        if i < len(lines) - 1:
            paragraph.add_run().add_break()


def build_docx(src: Source, out: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Pt

    wps = src.meta.get("flavor") == "wps"
    doc = Document()
    body_font = "仿宋_GB2312" if wps else "宋体"
    normal = doc.styles["Normal"]
    normal.font.size = Pt(16 if wps else 12)
    _east_asian_font(normal, body_font)
    for level, font in ((1, "黑体"), (2, "楷体_GB2312" if wps else "黑体"), (3, body_font)):
        _east_asian_font(doc.styles[f"Heading {level}"], font)
    _east_asian_font(doc.styles["Title"], "方正小标宋简体" if wps else "黑体")
    _set_core(doc.core_properties, src)

    notes = _Footnotes(doc) if src.footnotes else None
    title = doc.add_paragraph(src.title, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for el in src.elements:
        if el.kind == "heading":
            p = doc.add_paragraph(style=f"Heading {el.level}")
            _docx_runs(p, el.text, src, notes)
        elif el.kind == "para":
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(normal.font.size.pt * 2)
            _docx_runs(p, el.text, src, notes)
        elif el.kind == "list":
            style = "List Bullet" if el.level == 1 else "List Bullet 2"
            p = doc.add_paragraph(style=style)
            _docx_runs(p, el.text, src, notes)
        elif el.kind == "table":
            width = max(len(r) for r in el.rows)
            table = doc.add_table(rows=len(el.rows), cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(el.rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = plain(cell)
        elif el.kind == "page":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif el.kind == "notes":
            p = doc.add_paragraph()
            p.add_run(f"（讲解提示：{plain(el.text)}）").italic = True
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    repack_zip(out, _as_wps if wps else None)


def _as_wps(parts: dict[str, bytes]) -> None:
    """Make the package look saved by WPS: its app.xml and its custom.xml properties."""
    parts["docProps/app.xml"] = WPS_APP
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/docProps/custom.xml" ContentType='
        b'"application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
    )
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdWps1" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
    )
    parts["docProps/custom.xml"] = WPS_CUSTOM


# ---------------------------------------------------------------------------------------------
# pdf (reportlab)


def _rl_markup(text: str) -> str:
    # STSong-Light has no glyph for U+00B7 (the Chinese 间隔号 in 《荀子·君道》); U+30FB has one
    text = html.escape(plain(text.replace("**", "\x00")), quote=False).replace("\u00b7", "\u30fb")
    parts = text.split("\x00")
    out = []
    for i, part in enumerate(parts):
        out.append(part if i % 2 == 0 else f"<b>{part}</b>")
    return "<br/>".join("".join(out).split("\n"))


def build_pdf_reportlab(src: Source, out: Path) -> None:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import (
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    size = float(src.meta.get("font_size", 12))
    lead = size * 1.75
    base = dict(fontName=font, wordWrap="CJK", fontSize=size, leading=lead)
    body = ParagraphStyle("body", firstLineIndent=size * 2, spaceAfter=size * 0.3, **base)
    title_style = ParagraphStyle(
        "title",
        **{**base, "fontSize": size * 1.6, "leading": size * 2.4},
        alignment=TA_CENTER,
        spaceAfter=size * 1.2,
    )
    heads = {
        1: ParagraphStyle(
            "h1",
            **{**base, "fontSize": size * 1.3, "leading": size * 2},
            spaceBefore=size * 0.8,
            spaceAfter=size * 0.4,
        ),
        2: ParagraphStyle(
            "h2",
            **{**base, "fontSize": size * 1.15, "leading": size * 1.9},
            spaceBefore=size * 0.5,
            spaceAfter=size * 0.3,
        ),
        3: ParagraphStyle(
            "h3",
            **{**base, "fontSize": size * 1.05, "leading": size * 1.8},
            firstLineIndent=size * 2,
        ),
    }
    bullet = ParagraphStyle(
        "li", leftIndent=size * 2, bulletIndent=size * 0.8, bulletFontName=font, **base
    )
    cell = ParagraphStyle("cell", **{**base, "fontSize": size * 0.9, "leading": size * 1.4})
    note = ParagraphStyle("fn", **{**base, "fontSize": size * 0.8, "leading": size * 1.3})

    story = [Paragraph(html.escape(src.title), title_style)]
    for el in src.elements:
        if el.kind == "heading":
            story.append(Paragraph(_rl_markup(el.text), heads[el.level]))
        elif el.kind == "para":
            story.append(Paragraph(_rl_markup(el.text), body))
        elif el.kind == "list":
            story.append(Paragraph(_rl_markup(el.text), bullet, bulletText="●"))
        elif el.kind == "table":
            width = max(len(r) for r in el.rows)
            data = [
                [Paragraph(_rl_markup(c), cell) for c in r] + [""] * (width - len(r))
                for r in el.rows
            ]
            avail = A4[0] - 50 * mm
            t = Table(data, colWidths=[avail / width] * width, repeatRows=1)
            t.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, "#555555"),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story += [Spacer(1, size * 0.4), t, Spacer(1, size * 0.6)]
        elif el.kind == "page":
            story.append(PageBreak())
        elif el.kind == "notes":
            story.append(Paragraph(_rl_markup(f"（讲解提示：{el.text}）"), body))
    if src.footnotes:
        story.append(Spacer(1, size))
        story.append(Paragraph("注释", heads[3]))
        for key, text in footnote_list(src):
            story.append(Paragraph(html.escape(f"[{key}] {text}"), note))

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 9)
        w, h = A4
        canvas.drawCentredString(w / 2, h - 15 * mm, src.title)
        canvas.setLineWidth(0.5)
        canvas.line(25 * mm, h - 17 * mm, w - 25 * mm, h - 17 * mm)
        canvas.setFont(font, 10.5)
        canvas.drawCentredString(w / 2, 12 * mm, f"— {doc.page} —")
        canvas.restoreState()

    out.parent.mkdir(parents=True, exist_ok=True)
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=22 * mm,
        title=src.title,
        author=AUTHOR,
        creator="lecturelib corpus build",
        invariant=1,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)


def build_pdf(src: Source, out: Path) -> None:
    if src.meta.get("engine") == "scan":
        build_pdf_scan(src, out)
        return
    if src.meta.get("engine") == "chromium":
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium:
            build_pdf_chromium(src, out, chromium)
            return
        print(f"  warning: chromium not found, {src.file} rendered with reportlab instead")
    build_pdf_reportlab(src, out)


def build_pdf_scan(src: Source, out: Path, dpi: int = 200) -> None:
    """A scanned handout: the reportlab PDF printed to 200-dpi grey images, a little rotated,
    blurred and speckled like an office copier's scan, saved as an image-only PDF (no text layer:
    lecturelib must OCR it). Deterministic: fixed rotation, blur and noise seed."""
    import random

    import pypdfium2
    from PIL import Image, ImageFilter

    with tempfile.TemporaryDirectory() as tmp:
        typed = Path(tmp) / "typed.pdf"
        build_pdf_reportlab(src, typed)
        pdf = pypdfium2.PdfDocument(str(typed))
        pages = []
        for i in range(len(pdf)):
            img = pdf[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            img = img.rotate(
                0.6 if i % 2 == 0 else -0.4, resample=Image.BICUBIC, fillcolor=255
            ).filter(ImageFilter.GaussianBlur(0.6))
            rng = random.Random(1000 + i)
            px = img.load()
            for _ in range(int(img.width * img.height * 0.004)):
                px[rng.randrange(img.width), rng.randrange(img.height)] = rng.choice((40, 160))
            pages.append(img)
        pdf.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    pages[0].save(
        out,
        "PDF",
        resolution=dpi,
        save_all=True,
        append_images=pages[1:],
        title=src.title,
        author=AUTHOR,
        creator="lecturelib corpus build (scan)",
        creationDate=FIXED_DATE.strftime("D:%Y%m%d%H%M%S"),
        modDate=FIXED_DATE.strftime("D:%Y%m%d%H%M%S"),
    )


def build_pdf_chromium(src: Source, out: Path, chromium: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(render_html(src, print_only=True), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    if not out.is_file():
        raise SourceError(f"{src.path}: chromium produced no pdf")
    # Chromium stamps the print time; a same-length fixed date keeps the xref offsets valid.
    fixed = FIXED_DATE.strftime("D:%Y%m%d%H%M%S").encode("ascii")
    out.write_bytes(
        re.sub(
            rb"(/(?:CreationDate|ModDate) ?\()D:\d{14}",
            lambda m: m.group(1) + fixed,
            out.read_bytes(),
        )
    )


# ---------------------------------------------------------------------------------------------
# doc (docx converted by LibreOffice)


def build_doc(src: Source, out: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SourceError(
            f"{src.path}: .doc needs LibreOffice (apt-get install libreoffice-writer-nogui)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        docx = tmpdir / (Path(src.file).stem + ".docx")
        build_docx(src, docx)
        cmd = [
            soffice,
            f"-env:UserInstallation={(tmpdir / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "doc",
            "--outdir",
            str(tmpdir),
            str(docx),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=180)
        made = tmpdir / (Path(src.file).stem + ".doc")
        if not made.is_file():
            raise SourceError(f"{src.path}: LibreOffice produced no .doc")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, out)


# ---------------------------------------------------------------------------------------------
# pptx


def build_pptx(src: Source, out: Path) -> None:
    from pptx import Presentation
    from pptx.util import Pt

    prs = Presentation()
    _set_core(prs.core_properties, src)
    slides: list[list[Element]] = [[]]
    for el in src.elements:
        if el.kind == "slide":
            slides.append([])
        else:
            slides[-1].append(el)

    cover = prs.slides.add_slide(prs.slide_layouts[0])
    cover.shapes.title.text = src.title
    first = slides.pop(0)
    sub = [plain(e.text) for e in first if e.kind in ("para", "heading", "list")]
    cover.placeholders[1].text = "\n".join(sub) if sub else AUTHOR
    _pptx_notes(cover, first)

    for content in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        heads = [e for e in content if e.kind == "heading"]
        slide.shapes.title.text = plain(heads[0].text) if heads else src.title
        frame = slide.placeholders[1].text_frame
        items = [
            e
            for e in content
            if e.kind in ("para", "list", "table")
            or (e.kind == "heading" and heads and e is not heads[0])
        ]
        lines: list[tuple[str, int]] = []
        for e in items:
            if e.kind == "table":
                lines += [("　".join(plain(c) for c in row), 0) for row in e.rows]
            elif e.kind == "list":
                lines.append((plain(e.text), e.level - 1))
            else:
                lines.append((plain(e.text).replace("\n", ""), 0))
        for i, (text, level) in enumerate(lines):
            p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            p.text = text
            p.level = level
            if len(lines) > 5 or max(len(t) for t, _ in lines) > 40:
                for run in p.runs:
                    run.font.size = Pt(18)
        _pptx_notes(slide, content)
    out.parent.mkdir(parents=True, exist_ok=True)
    prs.save(out)
    repack_zip(out)


def _pptx_notes(slide, content: list[Element]) -> None:
    notes = [plain(e.text) for e in content if e.kind == "notes"]
    if notes:
        slide.notes_slide.notes_text_frame.text = "\n".join(notes)


# ---------------------------------------------------------------------------------------------
# txt / md / html


def render_text(src: Source) -> str:
    lines = [src.title, ""]
    for el in src.elements:
        if el.kind == "heading":
            lines += [plain(el.text), ""]
        elif el.kind == "para":
            text = plain(el.text).split("\n")
            lines += ["　　" + text[0]] + text[1:] + [""]
        elif el.kind == "list":
            lines.append("  " * (el.level - 1) + "· " + plain(el.text))
        elif el.kind == "table":
            lines += ["\t".join(plain(c) for c in row) for row in el.rows] + [""]
        elif el.kind == "notes":
            lines += [f"（讲解提示：{plain(el.text)}）", ""]
    if src.footnotes:
        lines += ["", "注释："] + [f"[{k}] {t}" for k, t in footnote_list(src)]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
    # a list followed directly by a paragraph: keep one blank line between them
    return re.sub(r"(\n· [^\n]*)\n(　　)", r"\1\n\n\2", text)


def build_txt(src: Source, out: Path) -> None:
    text = render_text(src)
    if src.meta.get("newline") == "crlf":
        text = text.replace("\n", "\r\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(text.encode(src.meta.get("encoding", "utf-8")))


def render_md(src: Source) -> str:
    kept = []
    for line in src.body.splitlines():
        s = line.strip()
        if s in ("[page]", "[slide]") or s.startswith("> notes:"):
            continue
        kept.append(line.rstrip())
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    if not body.startswith(f"# {src.title}"):
        body = f"# {src.title}\n\n" + body
    return body + "\n"


def build_md(src: Source, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_md(src), encoding="utf-8")


def _html_inline(text: str, src: Source) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    text = FOOTNOTE_REF.sub(
        lambda m: f'<sup><a href="#fn{m.group(1)}" id="ref{m.group(1)}">[{m.group(1)}]</a></sup>',
        text,
    )
    return text.replace("\n", "<br>\n")


def _article_html(src: Source) -> str:
    parts: list[str] = []
    in_list = False
    for el in src.elements:
        if el.kind != "list" and in_list:
            parts.append("</ul>")
            in_list = False
        if el.kind == "heading":
            n = el.level + 1
            parts.append(f"<h{n}>{_html_inline(el.text, src)}</h{n}>")
        elif el.kind == "para":
            parts.append(f"<p>{_html_inline(el.text, src)}</p>")
        elif el.kind == "list":
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{_html_inline(el.text, src)}</li>")
        elif el.kind == "table":
            rows = []
            for i, row in enumerate(el.rows):
                tag = "th" if i == 0 else "td"
                rows.append(
                    "<tr>"
                    + "".join(f"<{tag}>{_html_inline(c, src)}</{tag}>" for c in row)
                    + "</tr>"
                )
            parts.append("<table>\n" + "\n".join(rows) + "\n</table>")
        elif el.kind == "page":
            parts.append('<div class="page-break"></div>')
        elif el.kind == "notes":
            parts.append(f'<p class="note">（讲解提示：{_html_inline(el.text, src)}）</p>')
    if in_list:
        parts.append("</ul>")
    if src.footnotes:
        parts.append('<section class="footnotes"><h3>注释</h3><ol>')
        for key, text in footnote_list(src):
            parts.append(f'<li id="fn{html.escape(key)}">{html.escape(text)}</li>')
        parts.append("</ol></section>")
    return "\n".join(parts)


PRINT_CSS = """
@page { size: A4; margin: 25mm 22mm;
  @top-center { content: "__TITLE__"; font-size: 9pt; }
  @bottom-center { content: "— " counter(page) " —"; font-size: 10.5pt; } }
body { font-family: "Noto Serif CJK SC", serif; font-size: 12pt; line-height: 1.75; }
h1 { text-align: center; font-size: 19pt; }
h2 { font-size: 15pt; } h3 { font-size: 13.5pt; } h4 { font-size: 12.5pt; }
p { text-indent: 2em; margin: 0.3em 0; }
table { border-collapse: collapse; } td, th { border: 1px solid #555; padding: 2pt 6pt; }
.page-break { break-after: page; }
"""

WEB_CSS = """
body { margin: 0; font-family: "Microsoft YaHei", "PingFang SC", sans-serif; color: #222; }
.topbar { background: #b71c1c; color: #fff; padding: 6px 24px; font-size: 13px; }
nav.main-nav a { color: #fff; margin-right: 18px; text-decoration: none; }
header.site-header { padding: 16px 24px; border-bottom: 3px solid #b71c1c; }
.wrap { display: flex; max-width: 1100px; margin: 0 auto; }
main { flex: 3; padding: 16px 24px; } aside { flex: 1; padding: 16px; background: #f6f6f6; }
article p { text-indent: 2em; line-height: 1.9; }
footer { text-align: center; font-size: 12px; color: #777; padding: 20px; border-top: 1px solid #ddd; }
"""


def render_html(src: Source, print_only: bool = False) -> str:
    title = html.escape(src.title)
    article = _article_html(src)
    if print_only:
        return (
            f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>{PRINT_CSS.replace('__TITLE__', title)}</style></head>\n<body>\n"
            f"<h1>{title}</h1>\n{article}\n</body></html>\n"
        )
    site = src.meta.get("site", "肇庆宣讲在线")
    date = src.meta.get("date", "2025-03-01")
    topics = {t.slug: t.name for t in Taxonomy.default()}
    topic_links = "\n".join(
        f'<li><a href="/topic/{slug}/">{html.escape(name)}</a></li>'
        for slug, name in topics.items()
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}_{html.escape(site)}</title>
<meta name="keywords" content="理论宣讲,基层宣讲,宣讲素材">
<meta name="description" content="{title}">
<style>{WEB_CSS}</style>
<script>window.dataLayer = window.dataLayer || []; function track(e) {{ dataLayer.push(e); }}</script>
</head>
<body>
<div class="topbar">
<nav class="main-nav">
<a href="/">首页</a><a href="/news/">要闻动态</a><a href="/xuanjiang/">理论宣讲</a>
<a href="/jiceng/">基层声音</a><a href="/video/">微视频</a><a href="/about/">关于我们</a>
</nav>
</div>
<header class="site-header">
<div class="logo">{html.escape(site)}</div>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/xuanjiang/">理论宣讲</a> &gt; 正文</div>
</header>
<div class="wrap">
<main>
<article>
<h1>{title}</h1>
<div class="meta">来源：{html.escape(site)}　发布时间：{html.escape(date)}　字号：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a></div>
<div class="article-body">
{article}
</div>
</article>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#" onclick="window.print()">打印本页</a></div>
<div class="prev-next"><a href="#">上一篇：基层宣讲工作简报</a> <a href="#">下一篇：理论学习资料汇编</a></div>
</main>
<aside class="sidebar">
<h3>宣讲专题</h3>
<ul>
{topic_links}
</ul>
<h3>热门文章</h3>
<ul>
<li><a href="/hot/1.html">“百姓宣讲团”走进田间地头</a></li>
<li><a href="/hot/2.html">宣讲员培训班开班</a></li>
<li><a href="/hot/3.html">微宣讲作品征集启事</a></li>
</ul>
</aside>
</div>
<footer>
<p>版权所有 © 2025 {html.escape(site)}　未经许可不得转载</p>
<p>主办单位：宣讲素材库编辑组（示例站点）　技术支持：lecturelib</p>
</footer>
</body>
</html>
"""


def build_html(src: Source, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(src), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# A recording (视频/音频): the script spoken by espeak-ng's Mandarin voice, one slide per
# section, and the sidecar .srt with the exact time of every line


VOICE_RATE = 240  # words per minute in espeak-ng's terms: about 4 characters a second
LINE_GAP_S = 0.35  # silence after a line
SECTION_GAP_S = 0.9  # ... and after a section
LEAD_IN_S = 0.5
SLIDE_SIZE = (480, 270)
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def media_script(src: Source) -> list[tuple[str, list[str]]]:
    """(slide heading, spoken lines) per section; every line of a paragraph is one cue."""
    sections: list[tuple[str, list[str]]] = []
    for el in src.elements:
        if el.kind == "heading":
            sections.append((el.text, []))
        elif el.kind == "para":
            if not sections:
                sections.append((src.title, []))
            sections[-1][1].extend(ln for ln in el.text.split("\n") if ln.strip())
    return [(h, lines) for h, lines in sections if lines]


def _speak(text: str, out: Path) -> None:
    tool = shutil.which("espeak-ng")
    if not tool:
        raise SourceError("a recording needs espeak-ng: apt-get install espeak-ng")
    subprocess.run(
        [tool, "-v", "cmn", "-s", str(VOICE_RATE), "-w", str(out), plain(text)],
        check=True,
        capture_output=True,
    )


def _srt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _slide(path: Path, heading: str, src: Source) -> None:
    from PIL import Image, ImageDraw, ImageFont

    w, h = SLIDE_SIZE
    img = Image.new("RGB", SLIDE_SIZE, (176, 30, 35))
    draw = ImageDraw.Draw(img)
    big = ImageFont.truetype(CJK_FONT, 26)
    small = ImageFont.truetype(CJK_FONT, 15)
    draw.text((24, 20), plain(src.title), font=small, fill=(255, 226, 160))
    draw.text((24, h // 2 - 20), heading, font=big, fill=(255, 255, 255))
    foot = f"主讲：{src.meta.get('speaker', '')}　{src.meta.get('occasion', '')}"
    draw.text((24, h - 40), foot, font=small, fill=(255, 226, 160))
    img.save(path, format="PNG")


def build_mp4(src: Source, out: Path) -> None:
    """Speech, slides and the sidecar .srt. Deterministic: espeak-ng's output, PCM joined here,
    and ffmpeg with one thread and bitexact flags give the same bytes on a rebuild."""
    import wave

    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise SourceError("a recording needs ffmpeg: apt-get install ffmpeg")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pcm, rate, params = bytearray(), 22050, None
        cues: list[tuple[float, float, str]] = []
        slides: list[tuple[Path, float]] = []

        def silence(seconds: float) -> None:
            pcm.extend(b"\0\0" * int(round(seconds * rate)))

        silence(LEAD_IN_S)
        shown_until = 0.0  # the first slide covers the lead-in too
        for k, (heading, lines) in enumerate(media_script(src)):
            for n, line in enumerate(lines):
                wav = tmp / f"{k}-{n}.wav"
                _speak(line, wav)
                with wave.open(str(wav)) as w:
                    params = params or w.getparams()
                    rate = w.getframerate()
                    start = len(pcm) / 2 / rate
                    pcm.extend(w.readframes(w.getnframes()))
                cues.append((start, len(pcm) / 2 / rate, plain(line)))
                silence(LINE_GAP_S)
            silence(SECTION_GAP_S - LINE_GAP_S)
            png = tmp / f"slide-{k}.png"
            _slide(png, heading, src)
            slides.append((png, len(pcm) / 2 / rate - shown_until))
            shown_until = len(pcm) / 2 / rate
        speech = tmp / "speech.wav"
        with wave.open(str(speech), "wb") as w:
            w.setparams(params)
            w.writeframes(bytes(pcm))
        listing = tmp / "slides.txt"
        lines = ["ffconcat version 1.0"]
        for png, seconds in slides:
            lines += [f"file '{png.name}'", f"duration {seconds:.3f}"]
        lines.append(f"file '{slides[-1][0].name}'")  # the concat demuxer's last-frame rule
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tags = {
            "title": src.title,
            "artist": src.meta.get("speaker", ""),
            "date": src.meta.get("date", ""),
            "comment": src.meta.get("occasion", ""),
        }
        cmd = [
            ffmpeg, "-v", "error", "-y", "-threads", "1",
            "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(speech),
            "-map", "0:v", "-map", "1:a", "-map_metadata", "-1",
            "-c:v", "libx264", "-preset", "veryslow", "-tune", "stillimage", "-crf", "30",
            "-r", "5", "-pix_fmt", "yuv420p", "-x264-params", "threads=1",
            "-c:a", "aac", "-b:a", "24k", "-ac", "1", "-ar", "16000",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-movflags", "+faststart", "-t", f"{len(pcm) / 2 / rate:.3f}",
        ]  # fmt: skip
        for key, value in tags.items():
            if value:
                cmd += ["-metadata", f"{key}={value}"]
        subprocess.run(cmd + [str(out)], check=True, capture_output=True, cwd=tmp)
    srt = "\n".join(
        f"{i}\n{_srt_time(a)} --> {_srt_time(b)}\n{text}\n"
        for i, (a, b, text) in enumerate(cues, 1)
    )
    (out.parent / f"{Path(src.file).stem}.srt").write_text(srt, encoding="utf-8")


RENDERERS = {
    "mp4": build_mp4,
    "docx": build_docx,
    "pdf": build_pdf,
    "doc": build_doc,
    "pptx": build_pptx,
    "txt": build_txt,
    "md": build_md,
    "html": build_html,
}


# ---------------------------------------------------------------------------------------------
# Manifest and README


def manifest(sources: list[Source]) -> dict:
    docs = [
        {
            "path": s.out_rel,
            "title": s.title,
            "kind": s.meta["kind"],
            "topics": s.meta["topics"],
            "audiences": s.meta["audiences"],
            "format": s.fmt,
            "exercises": s.meta.get("exercises", ""),
            "source": f"src/{s.group}/{s.path.name}",
            **({"transcript": s.sidecar_rel} if s.sidecar_rel else {}),
        }
        for s in sources
    ]
    return {"documents": sorted(docs, key=lambda d: d["path"])}


def readme_table(sources: list[Source], taxonomy: Taxonomy) -> str:
    names = {t.slug: t.name for t in taxonomy}
    rows = ["| 文件 | 类型 | 选题 | 格式 | 检验要点 |", "|---|---|---|---|---|"]
    for s in sorted(sources, key=lambda s: s.out_rel):
        fmt = s.fmt + ("（GB18030）" if s.meta.get("encoding", "").lower() == "gb18030" else "")
        rows.append(
            " | ".join(
                [
                    f"| `{s.out_rel}`",
                    _ALL_KINDS[s.meta["kind"]],
                    "、".join(names[t] for t in s.meta["topics"]),
                    fmt,
                    s.meta.get("exercises", "").replace("|", "/"),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def update_readme(readme: Path, table: str) -> None:
    block = f"{TABLE_START}\n{table}\n{TABLE_END}"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else "# 示例素材库\n\n"
    if TABLE_START in text and TABLE_END in text:
        head, rest = text.split(TABLE_START, 1)
        tail = rest.split(TABLE_END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------


def build(corpus_dir: Path, only: str | None = None, log=print) -> list[Source]:
    """Render every source under ``corpus_dir/src`` into ``corpus_dir/materials``."""
    taxonomy = Taxonomy.default()
    sources = discover(corpus_dir / "src", taxonomy)
    materials = corpus_dir / "materials"
    wanted = {s.out_rel for s in sources} | {s.sidecar_rel for s in sources if s.sidecar_rel}
    for group in {s.group for s in sources}:
        folder = materials / group
        if folder.is_dir() and only is None:
            for f in folder.iterdir():
                if f.is_file() and f"materials/{group}/{f.name}" not in wanted:
                    f.unlink()
    for s in sources:
        if only and not Path(s.file).match(only) and not s.path.match(only):
            continue
        out = corpus_dir / s.out_rel
        RENDERERS[s.fmt](s, out)
        log(f"  {s.out_rel}")
    (corpus_dir / "manifest.json").write_text(
        json.dumps(manifest(sources), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    update_readme(corpus_dir / "README.md", readme_table(sources, taxonomy))
    return sources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the sample corpus from corpus/src.")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=CORPUS_DIR,
        help="corpus folder holding src/ (default: this corpus)",
    )
    parser.add_argument("--only", help="render only files whose name matches this glob")
    args = parser.parse_args(argv)
    try:
        sources = build(args.corpus, only=args.only)
    except (SourceError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(sources)} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
