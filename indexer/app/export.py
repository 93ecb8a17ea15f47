"""Export a topic as an offline topic pack (专题包); see ``library.pack`` for the format.

The pack's offline site searches with an index built here: a map from every character bigram
(search-normalized) to the records that contain it, plus the normalized text of each record.
The page narrows candidates with the bigram postings and then verifies the exact substring, so
any run of Chinese characters present in the pack is found, one character or more.

Recordings (视频/音频) come with their media record, their transcript passages with the times
they are spoken, their poster frame and transcript file, and the recording itself when it fits
the export's size limit (``media_limit_mb``: all the recordings of one pack together, in the
topic's order; 0 = transcripts only). A recording left out is still listed, with its duration
and why, and its transcript is in the pack: the offline page says it was not included.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from indexer.ingest.normalize import for_search
from indexer.ingest.pipeline import text_key
from indexer.search import segment_texts
from library.content import AUDIENCES, HIT_KINDS, KINDS, citation, clean_data, clock
from library.errors import UsageError
from library.pack import MEDIA_EXTENSIONS, PackWriter
from library.store import SECONDARY_TOPIC_MIN

_EXT = {
    "docx": "docx",
    "pdf": "pdf",
    "doc": "doc",
    "pptx": "pptx",
    "txt": "txt",
    "md": "md",
    "html": "html",
    **{m: m for m in MEDIA_EXTENSIONS},
}
# a recording's transcript file, by the extension of its name (anything else: .txt)
_TRANSCRIPT_EXT = ("srt", "vtt", "lrc", "docx", "doc", "txt", "md", "pdf")
DEFAULT_MEDIA_LIMIT_MB = 200  # all the recordings of one pack together
_MB = 1024 * 1024


@dataclass
class ExportReport:
    path: Path
    topic: str
    documents: int
    quotes: int
    passages: int
    bytes: int
    seconds: float
    sources: int = 0  # documents present only as the source of some of the quotes
    media_included: int = 0  # recordings whose file is in the pack
    media_left_out: int = 0  # recordings in the pack by their transcript only
    media_limit_mb: float = DEFAULT_MEDIA_LIMIT_MB


def _cite(q: dict) -> str:
    return citation(q.get("source"), q.get("date"), q.get("speaker"))


_ENUM = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十百\d]+[）)]|"
    r"\d+[、.．)）]|第[一二三四五六七八九十百\d]+[章节部分篇]\s*)\s*"
)
_CN_NUM = "一二三四五六七八九十"


def _theme(text: str | None) -> str:
    """A compilation's theme heading without its own numbering (“二、绿水青山” → 绿水青山):
    themes from several compilations are merged and numbered again by the pack."""
    t = _ENUM.sub("", (text or "").strip()).strip()
    return t or "其他"


def _cn(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (enough for the theme numbers of a compilation)."""
    if n <= 10:
        return _CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    return (_CN_NUM[tens - 1] if tens > 1 else "") + "十" + (_CN_NUM[ones - 1] if ones else "")


def collect(svc, slug: str, kinds: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    """(documents, quotes) of a topic, as the rows written to data/*.jsonl — exactly the topic:

    * the quotes that belong to it (``Store.topic_quote_ids``: the same rule as the topic page,
      the search filter and the home tile), each once, with every document it is cited from;
    * the passages and Q&A of the documents that belong to it (``Store.topic_document_ids``);
    * a document that holds quotes of the topic without belonging to it (a compilation on
      another theme) comes only as their source: ``"role": "source"``, no passages, and only
      its quotes of the topic.
    """
    store = svc.store
    member_docs = store.topic_document_ids(slug, kinds)
    members = set(member_docs)
    topic_quotes = set(store.topic_quote_ids(slug))
    quotes: dict[int, dict] = {}
    source_docs: list[int] = []
    for qid in sorted(topic_quotes):
        q = store.get_quote(qid)
        occ_docs = [o["document_id"] for o in q["occurrences"] if o["status"] == "active"]
        if kinds and not any(store.get_document_row(d)["kind"] in kinds for d in occ_docs):
            continue
        quotes[qid] = {
            "key": text_key(q["text"]),
            "text": q["text"],
            "source": q["source"],
            "date": q["date"],
            "speaker": q["speaker"],
            "theme": q["theme"],
            "note": q["note"],
            "topics": [],
            "citation": None,
        }
        quotes[qid]["citation"] = _cite(quotes[qid])
        for d in occ_docs:
            if d not in members and d not in source_docs:
                source_docs.append(d)
    docs = []
    for doc_id in member_docs + sorted(source_docs):
        d = store.get_document(doc_id)
        v = d["version"]
        is_member = doc_id in members
        occ = [
            {"key": quotes[q["id"]]["key"], "seq": q["seq"], "page": q["page"], "theme": q["theme"]}
            for q in d["quotes"]
            if q["id"] in quotes
        ]
        docs.append(
            {
                "id": doc_id,
                "title": d["title"],
                "kind": d["kind"],
                "date": d["date"],
                "source": d["source"],
                "topics": d["topics"],
                "audiences": d["audiences"],
                "role": "member" if is_member else "source",
                "version": {
                    k: v[k]
                    for k in (
                        "sha256",
                        "filename",
                        "format",
                        "pages",
                        "chars",
                        "status",
                        "warnings",
                    )
                }
                | ({"size": v["size"], "media": v["media"]} if v.get("media") else {}),
                "headings": [[h["level"], h["text"], h["page"]] for h in d["headings"]]
                if is_member
                else [],
                "passages": [
                    {k: p[k] for k in ("seq", "kind", "text", "question", "heading_path", "page")}
                    | (
                        {"start": p["start_s"], "end": p["end_s"]}
                        if p.get("start_s") is not None
                        else {}
                    )
                    for p in d["passages"]
                ]
                if is_member
                else [],
                "quotes": occ,
            }
        )
    for qid, topics in store.quote_topics(quotes).items():
        quotes[qid]["topics"] = topics
    return docs, list(quotes.values())


def counts(docs: list[dict], quotes: list[dict]) -> dict:
    """The pack's figures, the same everywhere (manifest, CLI, offline page, Word)."""
    members = [d for d in docs if d.get("role", "member") == "member"]
    return {
        "documents": len(members),
        "quotes": len(quotes),
        "passages": sum(len(d["passages"]) for d in members),
        "sources": len(docs) - len(members),
    }


def _quote_sources(docs: list[dict]) -> dict[str, list[int]]:
    """quote key -> indexes (into ``docs``) of the documents citing it, in order."""
    out: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        for o in d["quotes"]:
            lst = out.setdefault(o["key"], [])
            if i not in lst:
                lst.append(i)
    return out


def _themes(docs: list[dict], quotes: list[dict]) -> list[tuple[str, list[dict]]]:
    """Quotes grouped by theme (numbering of the compilations removed), in order of first
    appearance; each quote once."""
    theme_of: dict[str, str] = {}
    for d in docs:
        for o in d["quotes"]:
            if o.get("theme"):  # a compilation's theme, not a handout's "none"
                theme_of.setdefault(o["key"], _theme(o["theme"]))
    groups: dict[str, list[dict]] = {}
    for q in quotes:
        groups.setdefault(theme_of.get(q["key"]) or _theme(q.get("theme")), []).append(q)
    return list(groups.items())


def site_data(title: str, topic_name: str, docs: list[dict], quotes: list[dict]) -> dict:
    """What the offline page needs: documents to browse, records to search, bigram postings.
    Each quote is one record, with every document that cites it."""
    sources = _quote_sources(docs)
    records, documents = [], []
    quote_record: dict[str, int] = {}
    for theme, qs in _themes(docs, quotes):
        for q in qs:
            src = sources.get(q["key"], [])
            quote_record[q["key"]] = len(records)
            records.append(
                {
                    "k": "quote",
                    "t": q["text"],
                    "s": q.get("citation") or _cite(q),
                    "h": theme,
                    "d": src[0] if src else 0,
                    "src": src,
                    "p": None,
                }
            )
    for n, d in enumerate(docs):
        items = [quote_record[o["key"]] for o in d["quotes"] if o["key"] in quote_record]
        for p in d["passages"]:
            items.append(len(records))
            text = p["text"] if p["kind"] != "qa" else f"问：{p['question']}\n答：{p['text']}"
            rec = {
                "k": "qa" if p["kind"] == "qa" else "passage",
                "t": text,
                "s": "",
                "h": " › ".join(p["heading_path"]),
                "d": n,
                "src": [n],
                "p": p["page"],
            }
            if p.get("start") is not None:  # a transcript passage: where it is spoken
                rec["ts"], rec["te"] = p["start"], p.get("end")
            records.append(rec)
        v = d["version"]
        entry = {
            "title": d["title"],
            "kind": d["kind"],
            "date": d["date"],
            "role": d.get("role", "member"),
            "file": f"originals/{v['sha256']}.{_EXT.get(v['format'], 'bin')}",
            "filename": v["filename"],
            "headings": d["headings"],
            "items": list(dict.fromkeys(items)),
        }
        if v.get("media"):
            entry["file"] = (d.get("recording") or {}).get("file")
            entry["media"] = _site_media(d)
        documents.append(entry)
    norm, grams = [], {}
    for i, r in enumerate(records):
        # punctuation-blind like the library: letters and digits, a space only between two
        # Latin letters/digits that something separated (app.js strip() does the same)
        n = "\n".join(
            " ".join(segment_texts(for_search(part)))
            for part in (r["t"], r["s"], r["h"], documents[r["d"]]["title"] if documents else "")
        )
        norm.append(n)
        for g in {n[j : j + 2] for j in range(len(n) - 1)}:
            grams.setdefault(g, []).append(i)
    return {
        "title": title,
        "topic": topic_name,
        "kinds": KINDS,
        "hitKinds": HIT_KINDS,
        "audiences": AUDIENCES,
        "documents": documents,
        "records": records,
        "norm": norm,
        "bigrams": grams,
        "counts": counts(docs, quotes),
        "media": {
            "recordings": sum(1 for d in documents if d.get("media")),
            "included": sum(1 for d in documents if (d.get("media") or {}).get("file")),
        },
    }


def _site_media(d: dict) -> dict:
    """What the offline page needs to play a recording, or to say why it cannot."""
    m, rec = d["version"]["media"], d.get("recording") or {}
    return {
        "file": rec.get("file"),
        "poster": rec.get("poster"),
        "video": bool(m.get("video")),
        "mime": m.get("mime") or "",
        "duration": m.get("duration"),
        "clock": clock(m.get("duration")),
        "speaker": m.get("speaker") or "",
        "size": d["version"].get("size"),
        "reason": rec.get("reason"),
    }


def _a4(d) -> None:
    from docx.shared import Mm

    for sec in d.sections:
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.left_margin = sec.right_margin = Mm(28)
        sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)


def compilation_docx(title: str, topic_name: str, docs: list[dict], quotes: list[dict]) -> bytes:
    """Print-ready compilation on A4: a table of contents Word updates, the quotes grouped by
    theme (numbered 一、二、… with the quotes numbered 1, 2, … throughout), each saying once with
    its complete citation and the documents it is taken from, then the handouts, scripts, cases
    and Q&A of the topic with their headings."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    # whatever reached the store before it cleaned its input, Word gets no control characters
    title, topic_name, docs, quotes = clean_data((title, topic_name, docs, quotes))
    d = docx.Document()
    _a4(d)
    props = d.core_properties
    props.author = props.last_modified_by = title
    props.title = f"{topic_name}专题宣讲素材汇编"
    props.subject = topic_name
    props.keywords = f"{topic_name}；专题包；{title}"
    props.comments = f"由{title}导出"
    st = d.styles["Normal"]
    st.font.size = Pt(12)
    st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    head = d.add_heading(f"{topic_name}专题宣讲素材汇编", level=0)
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    c = counts(docs, quotes)
    d.add_paragraph(
        f"{title} · 导出于 {time.strftime('%Y年%m月%d日')} · "
        f"{c['quotes']} 条金句、{c['documents']} 份材料"
    ).alignment = WD_ALIGN_PARAGRAPH.CENTER
    d.add_heading("目录", level=1)
    p = d.add_paragraph()
    for tag, text_ in (
        ("begin", None),
        (None, 'TOC \\o "1-3" \\h \\z \\u'),
        ("separate", None),
        (None, None),
        ("end", None),
    ):
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
    settings = d.settings.element  # Word refreshes the table of contents on opening
    upd = OxmlElement("w:updateFields")
    upd.set(qn("w:val"), "true")
    settings.append(upd)
    sources = _quote_sources(docs)
    part = 0
    if quotes:
        part += 1
        d.add_page_break()
        d.add_heading(f"{_cn(part)}、金句", level=1)
        n = 0
        for t_i, (theme, qs) in enumerate(_themes(docs, quotes), 1):
            d.add_heading(f"（{_cn(t_i)}）{theme}", level=2)
            for q in qs:
                n += 1
                d.add_paragraph(f"{n}. {q['text']}")
                cite = q.get("citation") or _cite(q)
                if cite:
                    c_ = d.add_paragraph(f"——{cite}")
                    c_.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                titles = [f"《{docs[i]['title']}》" for i in sources.get(q["key"], [])]
                if titles:
                    m = d.add_paragraph("摘自：" + "、".join(titles))
                    m.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                    for r in m.runs:
                        r.font.size = Pt(10)
    prose = [x for x in docs if x["passages"]]
    if prose:
        part += 1
        d.add_page_break()
        d.add_heading(f"{_cn(part)}、讲义与材料", level=1)
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
                elif p_.get("start") is not None:  # a recording's transcript: its time
                    para = d.add_paragraph()
                    para.add_run(f"〔{clock(p_['start'])}〕").font.size = Pt(10)
                    para.add_run(p_["text"])
                else:
                    for para in p_["text"].split("\n"):
                        d.add_paragraph(para)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _asset(name: str) -> str:
    return resources.files("indexer").joinpath(f"data/pack_site/{name}").read_text("utf-8")


def _transcript_ext(media: dict) -> str:
    ext = Path((media.get("transcript") or {}).get("filename") or "").suffix.lower().lstrip(".")
    return ext if ext in _TRANSCRIPT_EXT else "txt"


def _mb(n: float) -> str:
    return f"{n / _MB:.1f} MB"


def check_media_limit(media_limit_mb) -> float:
    """The export's size limit for recordings (MB, ≥ 0), or UsageError."""
    try:
        value = float(media_limit_mb)
    except (TypeError, ValueError):
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise UsageError(
            f"录音/录像大小上限“{media_limit_mb}”无效。",
            f"请填写不小于 0 的数（单位 MB，默认 {DEFAULT_MEDIA_LIMIT_MB}；0 表示只带文稿）。",
        )
    return value


def _add_media(svc, w: PackWriter, docs: list[dict], limit_mb: float) -> dict | None:
    """Put each recording's poster, transcript file and — within ``limit_mb`` for all of them
    together, in the topic's order — the recording itself into the pack; note on each
    document's row (``recording``) what is in the pack and, for one left out, why. Returns the
    manifest's ``media`` section (None when the pack holds no recordings)."""
    store = svc.store
    limit = int(limit_mb * _MB)
    used = 0
    included, left_out = 0, []
    for d in docs:
        v = d["version"]
        m = v.get("media")
        if not m:
            continue
        rec: dict = {"file": None, "poster": None, "transcript": None, "reason": None}
        if m.get("poster") and store.originals.has(m["poster"]):
            rec["poster"] = f"originals/{m['poster']}.jpg"
            w.add(rec["poster"], store.originals.read(m["poster"]))
        tsha = m.get("transcript_sha256")
        if tsha and store.originals.has(tsha):
            rec["transcript"] = f"originals/{tsha}.{_transcript_ext(m)}"
            w.add(rec["transcript"], store.originals.read(tsha))
        size = int(v.get("size") or 0)
        member = f"originals/{v['sha256']}.{v['format']}"
        path = None
        if v["format"] not in MEDIA_EXTENSIONS:
            rec["reason"] = f"格式 {v['format']} 不是可以随包的录音/录像格式"
        elif not store.media_files.has(v["sha256"]):
            rec["reason"] = "导出方的资料库中也没有这段录音/录像的文件"
        elif limit == 0:
            rec["reason"] = "导出时选择只带文稿（录音/录像大小上限 0 MB）"
        elif used + size > limit:
            rec["reason"] = (
                f"超出导出时设定的大小上限（全包录音/录像合计不超过 {limit_mb:g} MB，"
                f"这一段 {_mb(size)}）"
            )
        else:
            path = store.media_files.path(v["sha256"])  # PostgreSQL: this node's copy
            if not path.is_file():
                path = None
                rec["reason"] = "导出方的资料库中也没有这段录音/录像的文件"
        if path is not None:
            w.add_file(member, path)
            used += size
            included += 1
            rec["file"] = member
        else:
            left_out.append(
                {
                    "title": d["title"],
                    "duration": m.get("duration"),
                    "clock": clock(m.get("duration")),
                    "size": size,
                    "reason": rec["reason"],
                }
            )
        d["recording"] = rec
    if not included and not left_out:
        return None
    return {"limit_mb": limit_mb, "included": included, "bytes": used, "left_out": left_out}


def export_topic(
    svc,
    topic: str,
    out: Path,
    *,
    kinds: list[str] | None = None,
    media_limit_mb: float = DEFAULT_MEDIA_LIMIT_MB,
    actor: str = "cli",
) -> ExportReport:
    t0 = time.perf_counter()
    t = svc.taxonomy.resolve(topic)
    for k in kinds or []:
        if k not in KINDS:
            raise UsageError(f"未知的材料类型“{k}”。", "可用类型：" + "、".join(KINDS))
    limit_mb = check_media_limit(media_limit_mb)
    docs, quotes = collect(svc, t.slug, kinds)
    if not docs:
        raise UsageError(f"专题“{t.name}”下还没有材料，无法导出。", "请先导入或为材料指定该专题。")
    library_name = svc.home.config.library_name
    w = PackWriter()
    for d in docs:
        v = d["version"]
        if not v.get("media"):
            w.add(
                f"originals/{v['sha256']}.{_EXT.get(v['format'], 'bin')}",
                svc.store.originals.read(v["sha256"]),
            )
    media = _add_media(svc, w, docs, limit_mb)
    w.add_jsonl("data/documents.jsonl", docs)
    w.add_jsonl("data/quotes.jsonl", quotes)
    w.add("compilation.docx", compilation_docx(library_name, t.name, docs, quotes))
    data = site_data(library_name, t.name, docs, quotes)
    w.add(
        "assets/data.js",
        "window.PACK = " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + ";\n",
    )
    w.add("assets/app.js", _asset("app.js"))
    w.add("assets/style.css", _asset("style.css"))
    w.add("index.html", _asset("index.html").replace("{{TITLE}}", f"{t.name} · 专题包"))
    figures = counts(docs, quotes)
    extra = {"media": media} if media else {}
    manifest = w.write(
        out,
        extra
        | {
            "library": library_name,
            "topic": {"slug": t.slug, "name": t.name},
            "kinds": kinds or [],
            "membership": {
                "secondary_topic_min": SECONDARY_TOPIC_MIN,
                "rule": "编辑指定的专题、得分最高的专题，或得分不低于 "
                f"{SECONDARY_TOPIC_MIN:.0%} 的其他专题",
            },
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "counts": figures,
            "dictionary_version": svc.vocab.version,
        },
    )
    svc.store.audit(
        actor,
        "export",
        f"topic:{t.slug}",
        title=t.name,
        file=Path(out).name,
        counts=manifest["counts"],
        **(
            {"media_included": media["included"], "media_left_out": len(media["left_out"])}
            if media
            else {}
        ),
    )
    return ExportReport(
        Path(out),
        t.name,
        figures["documents"],
        figures["quotes"],
        figures["passages"],
        Path(out).stat().st_size,
        time.perf_counter() - t0,
        figures["sources"],
        media["included"] if media else 0,
        len(media["left_out"]) if media else 0,
        limit_mb,
    )


__all__ = [
    "export_topic",
    "check_media_limit",
    "collect",
    "counts",
    "site_data",
    "compilation_docx",
    "ExportReport",
    "DEFAULT_MEDIA_LIMIT_MB",
]
