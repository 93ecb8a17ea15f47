"""Export a topic as an offline topic pack (专题包); see ``library.pack`` for the format.

The pack's offline site searches with an index built here: a map from every character bigram
(search-normalized) to the records that contain it, plus the normalized text of each record.
The page narrows candidates with the bigram postings and then verifies the exact substring, so
any run of Chinese characters present in the pack is found, one character or more.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from library.content import AUDIENCES, HIT_KINDS, KINDS, citation
from library.errors import UsageError
from library.pack import PackWriter

from .normalize import for_search
from .pipeline import text_key

_EXT = {"docx": "docx", "pdf": "pdf", "doc": "doc", "pptx": "pptx", "txt": "txt", "md": "md",
        "html": "html"}


@dataclass
class ExportReport:
    path: Path
    topic: str
    documents: int
    quotes: int
    passages: int
    bytes: int
    seconds: float


def _cite(q: dict) -> str:
    return citation(q.get("source"), q.get("date"), q.get("speaker"))


def collect(svc, slug: str, kinds: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    """(documents, quotes) of a topic, as the rows written to data/*.jsonl."""
    store = svc.store
    docs, quotes = [], {}
    for doc_id in store.topic_document_ids(slug, kinds):
        d = store.get_document(doc_id)
        v = d["version"]
        occ = []
        for q in d["quotes"]:
            if q["id"] not in quotes:
                row = store.get_quote_row(q["id"])
                quotes[q["id"]] = {"key": text_key(row["text"]), "text": row["text"],
                                   "source": row["source"], "date": row["date"],
                                   "speaker": row["speaker"], "theme": row["theme"],
                                   "note": row["note"], "topics": []}
            occ.append({"key": quotes[q["id"]]["key"], "seq": q["seq"], "page": q["page"],
                        "theme": q["theme"]})
        docs.append({
            "id": doc_id, "title": d["title"], "kind": d["kind"], "date": d["date"],
            "source": d["source"], "topics": d["topics"], "audiences": d["audiences"],
            "version": {k: v[k] for k in ("sha256", "filename", "format", "pages", "chars",
                                          "status", "warnings")},
            "headings": [[h["level"], h["text"], h["page"]] for h in d["headings"]],
            "passages": [{k: p[k] for k in ("seq", "kind", "text", "question", "heading_path",
                                            "page")} for p in d["passages"]],
            "quotes": occ,
        })
    for qid, topics in store.quote_topics(quotes).items():
        quotes[qid]["topics"] = topics
    return docs, list(quotes.values())


def site_data(title: str, topic_name: str, docs: list[dict], quotes: list[dict]) -> dict:
    """What the offline page needs: documents to browse, records to search, bigram postings."""
    qby = {q["key"]: q for q in quotes}
    records, documents = [], []
    for d in docs:
        items = []
        for o in d["quotes"]:
            q = qby[o["key"]]
            items.append(len(records))
            records.append({"k": "quote", "t": q["text"], "s": _cite(q), "h": o["theme"] or "",
                            "d": len(documents), "p": o["page"]})
        for p in d["passages"]:
            items.append(len(records))
            text = p["text"] if p["kind"] != "qa" else f"问：{p['question']}\n答：{p['text']}"
            records.append({"k": "qa" if p["kind"] == "qa" else "passage", "t": text, "s": "",
                            "h": " › ".join(p["heading_path"]), "d": len(documents),
                            "p": p["page"]})
        documents.append({"title": d["title"], "kind": d["kind"], "date": d["date"],
                          "file": f"originals/{d['version']['sha256']}."
                                  f"{_EXT.get(d['version']['format'], 'bin')}",
                          "filename": d["version"]["filename"],
                          "headings": d["headings"], "items": items})
    norm, grams = [], {}
    for i, r in enumerate(records):
        n = for_search(" ".join([r["t"], r["s"], r["h"], documents[r["d"]]["title"]]))
        norm.append(n)
        for g in {n[j:j + 2] for j in range(len(n) - 1)}:
            grams.setdefault(g, []).append(i)
    return {"title": title, "topic": topic_name, "kinds": KINDS, "hitKinds": HIT_KINDS,
            "audiences": AUDIENCES, "documents": documents, "records": records, "norm": norm,
            "bigrams": grams}


def compilation_docx(title: str, topic_name: str, docs: list[dict], quotes: list[dict]) -> bytes:
    """Print-ready compilation: a table of contents, quotes grouped by theme with 出处 and
    date, then the handouts, scripts, cases and Q&A with their headings."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()
    st = d.styles["Normal"]
    st.font.size = Pt(12)
    st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    head = d.add_heading(f"{topic_name}专题宣讲素材汇编", level=0)
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    d.add_paragraph(f"{title} · 导出于 {time.strftime('%Y年%m月%d日')}").alignment = \
        WD_ALIGN_PARAGRAPH.CENTER
    d.add_heading("目录", level=1)
    p = d.add_paragraph()
    for tag, text_ in (("begin", None), (None, 'TOC \\o "1-3" \\h \\z \\u'), ("separate", None),
                       (None, None), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
            p.add_run()._r.append(el)
        elif text_:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text_
            p.add_run()._r.append(el)
        else:
            p.add_run("（在 Word 中右键“更新域”可生成页码目录）")
    if quotes:
        d.add_page_break()
        d.add_heading("一、金句", level=1)
        by_theme: dict[str, list[dict]] = {}
        for q in quotes:
            by_theme.setdefault(q["theme"] or "其他", []).append(q)
        for theme, qs in by_theme.items():
            d.add_heading(theme, level=2)
            for q in qs:
                d.add_paragraph(q["text"])
                cite = _cite(q)
                if cite:
                    c = d.add_paragraph(f"——{cite}")
                    c.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    prose = [x for x in docs if x["passages"]]
    if prose:
        d.add_page_break()
        d.add_heading(("二、" if quotes else "一、") + "讲义与材料", level=1)
        for x in prose:
            d.add_heading(f"《{x['title']}》（{KINDS.get(x['kind'], x['kind'])}）", level=2)
            last: list[str] = []
            for p_ in x["passages"]:
                if p_["heading_path"] and p_["heading_path"] != last:
                    d.add_heading(p_["heading_path"][-1], level=3)
                    last = p_["heading_path"]
                if p_["kind"] == "qa":
                    d.add_paragraph().add_run(f"问：{p_['question']}").bold = True
                    d.add_paragraph(f"答：{p_['text']}")
                else:
                    for para in p_["text"].split("\n"):
                        d.add_paragraph(para)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _asset(name: str) -> str:
    return resources.files("indexer").joinpath(f"data/pack_site/{name}").read_text("utf-8")


def export_topic(svc, topic: str, out: Path, *, kinds: list[str] | None = None) -> ExportReport:
    t0 = time.perf_counter()
    t = svc.taxonomy.resolve(topic)
    for k in kinds or []:
        if k not in KINDS:
            raise UsageError(f"未知的材料类型“{k}”。", "可用类型：" + "、".join(KINDS))
    docs, quotes = collect(svc, t.slug, kinds)
    if not docs:
        raise UsageError(f"专题“{t.name}”下还没有材料，无法导出。", "请先导入或为材料指定该专题。")
    library_name = svc.home.settings.get("library_name", "宣讲素材库")
    w = PackWriter()
    for d in docs:
        v = d["version"]
        w.add(f"originals/{v['sha256']}.{_EXT.get(v['format'], 'bin')}",
              svc.store.originals.read(v["sha256"]))
    w.add_jsonl("data/documents.jsonl", docs)
    w.add_jsonl("data/quotes.jsonl", quotes)
    w.add("compilation.docx", compilation_docx(library_name, t.name, docs, quotes))
    data = site_data(library_name, t.name, docs, quotes)
    w.add("assets/data.js", "window.PACK = " + json.dumps(data, ensure_ascii=False,
                                                           separators=(",", ":")) + ";\n")
    w.add("assets/app.js", _asset("app.js"))
    w.add("assets/style.css", _asset("style.css"))
    w.add("index.html", _asset("index.html").replace("{{TITLE}}", f"{t.name} · 专题包"))
    passages = sum(len(d["passages"]) for d in docs)
    manifest = w.write(out, {
        "library": library_name,
        "topic": {"slug": t.slug, "name": t.name},
        "kinds": kinds or [],
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "counts": {"documents": len(docs), "quotes": len(quotes), "passages": passages},
        "dictionary_version": svc.vocab.version,
    })
    svc.store.audit("cli", "export", f"topic:{t.slug}", file=str(out), counts=manifest["counts"])
    return ExportReport(Path(out), t.name, len(docs), len(quotes), passages,
                        Path(out).stat().st_size, time.perf_counter() - t0)


__all__ = ["export_topic", "collect", "site_data", "compilation_docx", "ExportReport"]
