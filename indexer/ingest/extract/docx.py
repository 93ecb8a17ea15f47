"""Word .docx (python-docx for the package, styles and core properties; lxml for the body).

Reading order is the body's own: paragraphs, tables and content controls interleaved. A
paragraph's text is every ``w:t`` under it (runs, hyperlinks, smart tags, fields' results,
tracked insertions), so nothing python-docx's ``Paragraph.text`` skips is lost; text boxes
follow their host paragraph (the ``mc:Fallback`` copy is skipped).

Kinds: a heading from the paragraph's or its style chain's outline level (WPS), from the
style name (Heading N / 标题 N; Title / 标题 → TITLE), else from a numbering pattern
(see ``_common``); ``w:numPr`` (direct or via style) → LIST_ITEM; a table row → TABLE_ROW
(cells cleaned, joined by a tab; vertically merged continuation cells dropped); footnotes and
endnotes → FOOTNOTE blocks at the end. The first paragraph becomes the TITLE when it is a short
line that is not a sentence (≤ 40 characters, no final punctuation, not numbered) and no style
marks a title. A later short line set entirely in bold or centred, not ending in punctuation,
is a level-1 heading (“附件2 名词解释”); bold lead-ins ending in “：”/“。”
(“重点做好七个方面工作：”) stay paragraphs.
"""

from __future__ import annotations

import io
import re

from lxml import etree

from indexer.ingest.extract import _zip
from indexer.ingest.extract._common import (
    clean,
    looks_like_title_line,
    paragraph_blocks,
    pick_title,
)
from indexer.ingest.extract.base import (
    FOOTNOTE,
    HEADING,
    LIST_ITEM,
    TABLE_ROW,
    TITLE,
    Block,
    Extracted,
)
from library.errors import CorruptFileError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_w = "{%s}" % W
T, P, TBL, TR, TC = _w + "t", _w + "p", _w + "tbl", _w + "tr", _w + "tc"
TXBX = _w + "txbxContent"
FALLBACK = "{%s}Fallback" % MC
_TEXT_MARKS = {_w + "tab": "\t", _w + "br": "\n", _w + "cr": "\n", _w + "noBreakHyphen": "-"}
_SKIP = {TXBX, FALLBACK, _w + "pPr", _w + "rPr", _w + "delText", _w + "instrText"}
_CONTAINERS = {_w + "sdt", _w + "sdtContent", _w + "customXml", _w + "smartTag"}

_HEADING_NAME = re.compile(r"^(?:heading|标题)\s*([1-9])$")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _val(el, tag: str) -> str | None:
    child = el.find(_w + tag) if el is not None else None
    return child.get(_w + "val") if child is not None else None


class _Styles:
    """Paragraph style facts resolved through ``w:basedOn``: heading level, title, list."""

    def __init__(self, styles_el):
        self.raw: dict[str, tuple[str, int | None, str | None, bool]] = {}
        for st in styles_el.iter(_w + "style") if styles_el is not None else ():
            sid = st.get(_w + "styleId")
            name = (_val(st, "name") or "").strip().lower()
            ppr = st.find(_w + "pPr")
            outline = _val(ppr, "outlineLvl")
            level = int(outline) + 1 if outline and outline.isdigit() and int(outline) < 9 else None
            numbered = ppr is not None and ppr.find(_w + "numPr") is not None
            self.raw[sid] = (name, level, _val(st, "basedOn"), numbered)
        self._cache: dict[str, tuple[str, int, bool]] = {}

    def resolve(self, sid: str | None) -> tuple[str, int, bool]:
        """(kind, level, numbered): kind is HEADING, TITLE or "" (body)."""
        if sid is None:
            sid = next((k for k, v in self.raw.items() if v[0] == "normal"), None)
        if sid in self._cache:
            return self._cache[sid]
        kind, level, numbered, seen, cur = "", 0, False, set(), sid
        while cur and cur in self.raw and cur not in seen:
            seen.add(cur)
            name, outline, based, num = self.raw[cur]
            numbered = numbered or num
            if not kind:
                m = _HEADING_NAME.match(name)
                if name in ("title", "标题"):
                    kind = TITLE
                elif m:
                    kind, level = HEADING, int(m.group(1))
                elif outline:
                    kind, level = HEADING, outline
            cur = based
        self._cache[sid] = (kind, level, numbered)
        return self._cache[sid]


def _text(el) -> str:
    """All text under ``el`` in order, skipping text boxes, fallbacks and field codes."""
    out: list[str] = []

    def walk(node):
        for child in node:
            tag = child.tag
            if tag in _SKIP or not isinstance(tag, str):
                continue
            if tag == T:
                out.append(child.text or "")
            elif tag in _TEXT_MARKS:
                out.append(_TEXT_MARKS[tag])
            else:
                walk(child)

    walk(el)
    return "".join(out)


def _textbox_paragraphs(p) -> list:
    found = []
    for box in p.iter(TXBX):
        if any(a.tag == FALLBACK for a in box.iterancestors()):
            continue
        found.extend(box.iter(P))
    return found


def _is_bold_or_centered(p) -> bool:
    ppr = p.find(_w + "pPr")
    if _val(ppr, "jc") == "center":
        return True
    runs = [r for r in p.iter(_w + "r") if "".join(t.text or "" for t in r.iter(T)).strip()]
    if not runs:
        return False

    def bold(r):
        b = r.find(f"{_w}rPr/{_w}b")
        return b is not None and b.get(_w + "val") not in ("0", "false", "off")

    return all(bold(r) for r in runs)


class _Walker:
    def __init__(self, styles: _Styles):
        self.styles = styles
        self.blocks: list[Block] = []
        self.has_title = False
        self.first_para = True

    def body(self, parent) -> None:
        for child in parent:
            tag = child.tag
            if tag == P:
                self.paragraph(child)
            elif tag == TBL:
                self.table(child)
            elif tag in _CONTAINERS:
                self.body(child)

    def paragraph(self, p, in_box: bool = False) -> None:
        text = clean(_text(p))
        if text:
            self._classify(p, text, in_box)
        if not in_box:
            for bp in _textbox_paragraphs(p):
                self.paragraph(bp, in_box=True)

    def _classify(self, p, text: str, in_box: bool) -> None:
        ppr = p.find(_w + "pPr")
        kind, level, numbered = self.styles.resolve(_val(ppr, "pStyle"))
        outline = _val(ppr, "outlineLvl")
        if outline and outline.isdigit():
            kind, level = (HEADING, int(outline) + 1) if int(outline) < 9 else ("", 0)
        numbered = numbered or (ppr is not None and ppr.find(_w + "numPr") is not None)
        first, self.first_para = self.first_para, False
        if kind == TITLE and self.has_title:
            kind, level = HEADING, 1
        if kind == TITLE:
            self.has_title = True
            self.blocks.append(Block(text, TITLE))
        elif kind == HEADING:
            self.blocks.append(Block(text, HEADING, level))
        elif numbered and not in_box:
            self.blocks.append(Block(text, LIST_ITEM))
        elif first and not in_box and not self.has_title and looks_like_title_line(text):
            self.has_title = True
            self.blocks.append(Block(text, TITLE))
        elif not in_box and looks_like_title_line(text) and _is_bold_or_centered(p):
            self.blocks.append(Block(text, HEADING, 1))
        else:
            self.blocks.extend(paragraph_blocks(text))

    def table(self, tbl) -> None:
        for tr in tbl.iter(TR):
            if tr.getparent() is not tbl and tr.getparent().tag != _w + "sdtContent":
                if next((a for a in tr.iterancestors(TBL)), None) is not tbl:
                    continue  # rows of nested tables are flattened into their cell's text
            cells = []
            for tc in tr.iter(TC):
                if next(tc.iterancestors(TR)) is not tr:
                    continue
                vmerge = tc.find(f"{_w}tcPr/{_w}vMerge")
                if vmerge is not None and vmerge.get(_w + "val") in (None, "continue"):
                    continue
                parts = [clean(_text(p)) for p in tc.iter(P)]
                cells.append(" ".join(x for x in parts if x))
            row = "\t".join(cells).strip("\t")
            if row.strip():
                self.blocks.append(Block(row, TABLE_ROW))


def _notes(zf, name: str, tag: str) -> list[Block]:
    try:
        raw = zf.read(name)
    except KeyError:
        return []
    try:
        root = etree.fromstring(raw, _XML_PARSER)
    except etree.XMLSyntaxError:
        return []
    out = []
    for note in root.iter(_w + tag):
        if note.get(_w + "type") not in (None, "normal"):
            continue  # separators
        text = clean(" ".join(_text(p) for p in note.iter(P)))
        if text:
            out.append(Block(text, FOOTNOTE))
    return out


def extract(data: bytes, limits) -> Extracted:
    zf = _zip.open_checked(data, "docx", limits)
    import docx  # python-docx

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        styles = _Styles(document.styles.element)
        props = document.core_properties
        meta_title, author = props.title, props.author
        created = props.created.isoformat() if props.created else None
    except CorruptFileError:
        raise
    except Exception:  # python-docx: KeyError, ValueError, XMLSyntaxError, PackageNotFoundError…
        raise CorruptFileError(
            "文件已损坏，无法读取（docx 内部结构不完整）。",
            "请用 Word 或 WPS 打开后另存为新文件再上传。",
        ) from None
    walker = _Walker(styles)
    walker.body(body)
    blocks = (
        walker.blocks
        + _notes(zf, "word/footnotes.xml", "footnote")
        + _notes(zf, "word/endnotes.xml", "endnote")
    )
    meta = {k: v for k, v in (("author", author), ("created", created)) if v}
    return Extracted(format="docx", blocks=blocks, title=pick_title(meta_title, blocks), meta=meta)


__all__ = ["extract"]
