"""The 讲稿篮 (collection basket): the client keeps the list in localStorage and posts the ids
in order (with a short name of each item, used only to say which item is gone); the server
reads the text from the store (never trusting the client's copy) and writes a .docx with
python-docx: each item once with its citation in the house style
(``library.content.citation_line``), then one reference per source document.

Items whose document went to the trash or was purged are never dropped silently: the basket
page and the export both name them (“1 条已被删除，未导出：金句“……””)."""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from library.content import (
    HIT_KINDS,
    KINDS,
    citation_line,
    clean_text,
    clock,
    quote_with_citation,
)

_ID = re.compile(r"^[qp]:\d{1,12}$")
# hit id prefix → the store's tombstone record prefix (library.store.Store.tombstones)
_RECORDS = {"q": "quote:", "p": "passage:"}
PURGED = "该内容已被永久删除"
MAX_ITEMS = 200
NAME_CHARS = 30

RED = RGBColor(0xB7, 0x1C, 0x1C)
GREY = RGBColor(0x55, 0x55, 0x55)


def clean(text: str | None) -> str:
    """Text that may go into a .docx: no control characters, white space runs made one space."""
    return re.sub(r"\s+", " ", clean_text(text) or "").strip()


@dataclass
class Entry:
    """One basket item as the client posts it: its record id, and the kind and short name the
    client saw (only used to name the item when it is no longer in the library)."""

    id: str
    kind: str = ""
    name: str = ""
    purged: bool = False  # set by resolve(): the library deleted it for good

    @property
    def label(self) -> str:
        if self.kind in HIT_KINDS:
            return HIT_KINDS[self.kind]
        return HIT_KINDS["quote"] if self.id.startswith("q:") else "条目"

    def display_name(self) -> str:
        """金句“天下兴亡，匹夫有责。”, or 金句（编号 q:12） without a name; a purged item
        adds （该内容已被永久删除）."""
        shown = f"{self.label}“{self.name}”" if self.name else f"{self.label}（编号 {self.id}）"
        return shown + (f"（{PURGED}）" if self.purged else "")


def _entry(x) -> Entry | None:
    if isinstance(x, str):
        x = {"id": x}
    if not isinstance(x, dict):
        return None
    rid = x.get("id")
    if not (isinstance(rid, str) and _ID.match(rid)):
        return None
    kind = x.get("kind") if isinstance(x.get("kind"), str) else ""
    name = clean(x.get("name") if isinstance(x.get("name"), str) else "")
    if len(name) > NAME_CHARS:
        name = name[:NAME_CHARS] + "…"
    return Entry(rid, kind, name)


def parse_entries(raw: str) -> list[Entry]:
    """Basket entries from the posted JSON list (objects with "id", "kind", "name", or bare id
    strings), in order, each id once, at most MAX_ITEMS."""
    try:
        data = json.loads(raw or "[]")
    except ValueError:
        return []
    out: dict[str, Entry] = {}
    for x in data if isinstance(data, list) else []:
        e = _entry(x)
        if e is not None and e.id not in out:
            out[e.id] = e
    return list(out.values())[:MAX_ITEMS]


def parse_ids(raw: str) -> list[str]:
    """Record ids ("q:12", "p:34") from the posted JSON list (objects with "id" or strings)."""
    return [e.id for e in parse_entries(raw)]


def ids_from_query(value: str | None) -> list[str]:
    """Record ids from a comma-separated query parameter (``?ids=q:1,p:2``)."""
    return parse_ids(json.dumps((value or "").split(",")))


def item_view(rec: dict) -> dict:
    """What the basket shows of one store record, the same on the page and in the .docx: the
    text (a quote in quotation marks), a Q&A's question, the citation line in the house style,
    and where in its document it sits."""
    title = rec.get("document_title") or ""
    if rec["kind"] == "quote":
        text = quote_with_citation(rec["text"])
        cite = citation_line(
            rec.get("source") or (f"《{title}》" if title else None),
            rec.get("date"),
            rec.get("speaker"),
        )
        where = []
    else:
        text = rec["text"]
        cite = citation_line(f"《{title}》" if title else None, rec.get("date"))
        where = [f"第 {rec['page']} 页"] if rec.get("page") else []
        if rec.get("heading"):
            where.append(rec["heading"])
    said = spoken_at(rec)
    if said and rec["kind"] == "quote":  # say which recording the time is in
        where.append(f"《{title}》{said} 处")
    elif said:  # a recording's transcript: the moment it is said
        where.append(f"{said} 处")
    return {
        "id": rec["id"],
        "kind": rec["kind"],
        "kind_label": HIT_KINDS.get(rec["kind"], ""),
        "question": rec.get("question") if rec["kind"] == "qa" else None,
        "text": text,
        "citation": cite,
        "where": " · ".join(where),
        "page": rec.get("page"),
        "document_id": rec.get("document_id"),
        "document_title": title,
        "doc_kind": rec.get("doc_kind"),
        "said": said,
        "start": rec.get("start"),
    }


def spoken_at(rec: dict) -> str:
    """“0:10—0:21”: where a transcript passage (or a quote spoken in a recording) is said."""
    start, end = rec.get("start"), rec.get("end")
    if start is None:
        return ""
    return clock(start) + (f"—{clock(end)}" if end is not None and end > start else "")


@dataclass
class Reference:
    number: int
    title: str
    kind: str | None
    pages: list[int] = field(default_factory=list)
    times: list[tuple[float, str]] = field(default_factory=list)  # (start, “0:10—0:21”)

    def line(self) -> str:
        out = f"［{self.number}］《{self.title}》"
        if self.kind in KINDS:
            out += f"（{KINDS[self.kind]}）"
        if self.pages:
            out += "，第 " + "、".join(str(p) for p in sorted(self.pages)) + " 页"
        if self.times:  # in the order they are said
            out += "，" + "、".join(t for _, t in sorted(self.times)) + " 处"
        return out


@dataclass
class Basket:
    """The basket as the library sees it now: the items still there (in the basket's order,
    each with the number of its document's reference), the references (one per source
    document, in order of first use), and the entries that are gone."""

    items: list[dict]
    references: list[Reference]
    missing: list[Entry]

    def missing_note(self) -> str:
        """“1 条已被删除，未导出：金句“……””, or "" when nothing is gone."""
        if not self.missing:
            return ""
        names = "；".join(e.display_name() for e in self.missing)
        return f"{len(self.missing)} 条已被删除，未导出：{names}"


def resolve(svc, entries: list[Entry]) -> Basket:
    """Look the entries up in the library (the application service's ``records`` and
    ``tombstones``): ids no longer searchable (document trashed, purged or replaced) become
    ``missing``."""
    recs = {r["id"]: r for r in svc.records([e.id for e in entries])}
    gone = [e for e in entries if e.id not in recs]
    graves = svc.tombstones(_RECORDS[e.id[0]] + e.id[2:] for e in gone) if gone else {}
    items, missing, refs = [], [], {}
    for e in entries:
        rec = recs.get(e.id)
        if rec is None:
            e.purged = (_RECORDS[e.id[0]] + e.id[2:]) in graves
            missing.append(e)
            continue
        view = item_view(rec)
        key = rec.get("document_id")
        ref = refs.get(key)
        if ref is None:
            ref = refs[key] = Reference(len(refs) + 1, view["document_title"], view["doc_kind"])
        if view["page"] and view["page"] not in ref.pages:
            ref.pages.append(view["page"])
        if view["said"] and view["said"] not in (t for _, t in ref.times):
            ref.times.append((view["start"] or 0.0, view["said"]))
        view["ref"] = ref.number
        items.append(view)
    return Basket(items, list(refs.values()), missing)


# -- the .docx ------------------------------------------------------------------------------


def _font(run, size: float, *, bold=False, color: RGBColor | None = None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = "SimSun"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    if color is not None:
        run.font.color.rgb = color


def _page_setup(doc) -> None:
    """A4 with the margins Word uses for Chinese A4 documents (2.54 cm / 3.18 cm), page numbers
    in the footer."""
    for s in doc.sections:
        s.page_width, s.page_height = Mm(210), Mm(297)
        s.top_margin = s.bottom_margin = Cm(2.54)
        s.left_margin = s.right_margin = Cm(3.18)
        foot = s.footer.paragraphs[0] if s.footer.paragraphs else s.footer.add_paragraph()
        foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
        field_ = OxmlElement("w:fldSimple")
        field_.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = "1"
        run.append(t)
        field_.append(run)
        foot._p.append(field_)
    normal = doc.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")


def _title_style(doc) -> None:
    """Word's Title style without the default template's blue rule under it: centred, in the
    document's Song typeface."""
    style = doc.styles["Title"]
    style.font.name = "SimSun"
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    ppr = style.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    style.paragraph_format.space_after = Pt(6)


def _properties(doc, title: str, library_name: str, count: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    cp = doc.core_properties
    cp.author = library_name
    cp.last_modified_by = library_name
    cp.title = title
    cp.subject = "讲稿篮导出"
    cp.category = "讲稿素材"
    cp.keywords = "讲稿篮"
    cp.comments = f"由{library_name}讲稿篮导出，共 {count} 条。"
    cp.language = "zh-CN"
    cp.created = cp.modified = now
    cp.revision = 1


def export_docx(
    basket: Basket, title: str = "讲稿素材", *, library_name: str = "宣讲素材库"
) -> tuple[io.BytesIO, str]:
    """The basket as a Word document: title (Word's Title style), count and date, the note on
    deleted items, each item numbered once (a Q&A with its question) with its citation and
    reference number, then the references. A4, the library named in the document properties.
    Returns the document and its file name: the title, as typed (“乡村振兴宣讲稿.docx”)."""
    title = clean(title) or "讲稿素材"
    library_name = clean(library_name) or "宣讲素材库"
    doc = Document()
    _page_setup(doc)
    _properties(doc, title, library_name, len(basket.items))

    # the title paragraph is Word's Title style (it shows in the navigation pane and in a
    # generated table of contents), set in the document's own font and red-less ink
    h = doc.add_paragraph(style="Title")
    h.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _title_style(doc)
    _font(h.add_run(title), 18, bold=True, color=RGBColor(0, 0, 0))
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(
        sub.add_run(
            f"共 {len(basket.items)} 条 · 整理于 {time.strftime('%Y年%m月%d日')} · {library_name}"
        ),
        10.5,
        color=RGBColor(0x66, 0x66, 0x66),
    )
    note = basket.missing_note()
    if note:
        p = doc.add_paragraph()
        _font(p.add_run(clean(note)), 10.5, bold=True, color=RED)

    for n, it in enumerate(basket.items, 1):
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(10)
        _font(p.add_run(f"{n}. [{it['kind_label']}] "), 12, bold=True, color=RED)
        if it.get("question"):
            _font(p.add_run(f"问：{clean(it['question'])}"), 12, bold=True)
            p.add_run().add_break()
            _font(p.add_run("答："), 12, bold=True)
        lines = [clean(x) for x in it["text"].split("\n") if clean(x)]
        for i, line in enumerate(lines):
            if i:
                p.add_run().add_break()
            _font(p.add_run(line), 12)
        c = doc.add_paragraph()
        c.paragraph_format.space_after = Pt(4)
        parts = [x for x in (it["citation"], it["where"]) if x]
        _font(c.add_run(clean("　".join(parts))), 10.5, color=GREY)
        if it.get("ref"):
            _font(c.add_run(f"［{it['ref']}］"), 10.5, color=GREY)

    if basket.references:
        doc.add_paragraph()
        end = doc.add_paragraph()
        _font(end.add_run("参考来源"), 14, bold=True)
        for ref in basket.references:
            _font(doc.add_paragraph().add_run(clean(ref.line())), 10.5)
    out = io.BytesIO()
    doc.save(out)
    out.seek(0)
    return out, f"{title}.docx"
