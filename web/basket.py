"""The 讲稿篮 (collection basket): the client keeps the list in localStorage and posts the ids
in order; the server reads the text from the store (never trusting the client's copy) and
writes a .docx with python-docx: each item with its 出处, and the list of sources at the end."""

from __future__ import annotations

import io
import json
import re
import time

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from .formatting import date_cn

_ID = re.compile(r"^[qp]:\d{1,12}$")
MAX_ITEMS = 200


def parse_ids(raw: str) -> list[str]:
    """Record ids ("q:12", "p:34") from the posted JSON list (objects with "id" or strings)."""
    try:
        data = json.loads(raw or "[]")
    except ValueError:
        return []
    out = []
    for x in data if isinstance(data, list) else []:
        rid = x.get("id") if isinstance(x, dict) else x
        if isinstance(rid, str) and _ID.match(rid) and rid not in out:
            out.append(rid)
    return out[:MAX_ITEMS]


def load_items(store, ids: list[str]) -> list[dict]:
    """Store records for ids, in the basket's order; ids no longer searchable are dropped."""
    recs = {r["id"]: r for r in store.records(ids)}
    return [recs[i] for i in ids if i in recs]


def source_line(rec: dict) -> str:
    """出处 of an item: a quote's speech/occasion and date; a passage's document and page."""
    if rec["kind"] == "quote":
        src = rec.get("source") or f"《{rec['document_title']}》"
        who = rec.get("speaker") or ""
        if who and who not in src:
            src = who + src
        when = date_cn(rec.get("date"))
        return f"{src}（{when}）" if when and when not in src else src
    out = f"《{rec['document_title']}》"
    if rec.get("page"):
        out += f"第 {rec['page']} 页"
    if rec.get("heading"):
        out += f" · {rec['heading']}"
    return out


def _font(run, size: float, *, bold=False, color: RGBColor | None = None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = "SimSun"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    if color is not None:
        run.font.color.rgb = color


def export_docx(items: list[dict], title: str = "讲稿素材") -> tuple[io.BytesIO, str]:
    doc = Document()
    h = doc.add_paragraph()
    h.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(h.add_run(title), 18, bold=True)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(sub.add_run(f"共 {len(items)} 条 · 整理于 {time.strftime('%Y年%m月%d日')}"), 10.5,
          color=RGBColor(0x66, 0x66, 0x66))

    sources: list[str] = []
    for n, rec in enumerate(items, 1):
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(10)
        label = "金句" if rec["kind"] == "quote" else ("问答" if rec["kind"] == "qa" else "段落")
        _font(p.add_run(f"{n}. [{label}] "), 12, bold=True, color=RGBColor(0xB7, 0x1C, 0x1C))
        if rec["kind"] == "quote":
            body = "“" + rec["text"].strip().strip("“”") + "”"
        elif rec["kind"] == "qa" and rec.get("question"):
            body = f"问：{rec['question']}\n答：{rec['text']}"
        else:
            body = rec["text"]
        _font(p.add_run(body), 12)
        src = source_line(rec)
        c = doc.add_paragraph()
        _font(c.add_run(f"出处：{src}"), 10.5, color=RGBColor(0x55, 0x55, 0x55))
        doc_src = f"《{rec['document_title']}》"
        for s in (src, doc_src):
            if s not in sources:
                sources.append(s)

    doc.add_paragraph()
    end = doc.add_paragraph()
    _font(end.add_run("参考来源"), 14, bold=True)
    for i, s in enumerate(sources, 1):
        _font(doc.add_paragraph().add_run(f"［{i}］{s}"), 10.5)
    out = io.BytesIO()
    doc.save(out)
    out.seek(0)
    return out, f"讲稿篮-{time.strftime('%Y%m%d')}.docx"
