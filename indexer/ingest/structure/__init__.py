"""Structuring: extracted blocks → quotes, passages or Q&A pairs, with title, date and outline.

Public surface::

    detect_kind(ex) -> "quotes" | "handout" | "script" | "case" | "qa"
    structure(ex, kind=None, filename="") -> Structured
    document_source(structured) -> str | None        # “来源：浙江日报” → “浙江日报”

Kind detection: the content decides when its signal is strong (a fifth of the text lines are
quotes with a 出处, or two labelled 【金句】/原文： records; three Q&A pairs making up 15% of
the lines); otherwise words in the title or file name decide (金句/名句/语录/摘编 → quotes,
问答/答问/百问 → qa, 讲稿/宣讲稿/党课/讲话稿/微宣讲/讲给 → script, 案例/故事 → case,
发言/致辞/讲话 → script, 讲义/课件/辅导/教案 → handout); then a weaker content signal (a few
sourced quotes or Q&A pairs; a case study's closing section such as 案例启示/以案说法/讲述提示;
a talk's opening “同志们”/“大家好”); the default is "handout".

The layouts each kind understands are described in ``indexer.ingest.structure.quotes`` (quote compilations)
and ``indexer.ingest.structure.passages`` (passages and Q&A). All output text is in display form.

Every other kind also yields quote records: the attributed quotations of its passages (Q&A:
the answers), found by ``indexer.ingest.structure.attributed`` — speaker, date and occasion as the text states
them, theme = the passage's innermost heading, page = the passage's page. The passages stay as
they are; the quotation's context is the passage that holds its text. ``extract_quotes=False``
turns this off for one document (the editor's “不提取引文” switch); ``speakers`` is the speaker
table (``SpeakerTable.load(home)`` for a library's own aliases; the packaged table otherwise).
"""

from __future__ import annotations

import re
from pathlib import PurePath

from indexer.ingest.extract._common import numbering_level
from indexer.ingest.extract.base import Extracted
from indexer.ingest.normalize import display, display_line
from indexer.ingest.structure.attributed import quotes_in_passages
from indexer.ingest.structure.dates import find_dates
from indexer.ingest.structure.outline import DASH_LINE, Line, fold, heading_rank, lines_of
from indexer.ingest.structure.passages import pack, passages_of, qa_pairs, qa_signals
from indexer.ingest.structure.quotes import demote_numbered_headings, parse_quotes, quote_signals
from indexer.ingest.structure.sources import SpeakerTable, default_speakers, source_line
from library.content import KINDS, Passage, Quote, Structured  # noqa: F401
from library.errors import UsageError

_TITLE_WORDS: list[tuple[str, re.Pattern]] = [
    ("qa", re.compile(r"问答|答问|百问|答疑|问与答|应知应会|热点问题")),
    ("quotes", re.compile(r"金句|名句|语录|摘编|名言|警句|经典语句|妙语")),
    ("script", re.compile(r"讲稿|宣讲稿|党课|讲话稿|演讲稿|微宣讲|讲给")),
    ("case", re.compile(r"案例|故事|典型|事迹")),
    ("script", re.compile(r"发言|致辞|讲话")),
    ("handout", re.compile(r"讲义|课件|辅导|教案|提纲|读本|教材")),
]
_TALK_OPENING = re.compile(
    r"^(?:同志们|大家好|各位(?:同志|朋友|老师|同学|乡亲|村民|居民)|乡亲们|朋友们)"
)
_TALK_CLOSING = re.compile(r"谢谢大家|谢谢！$")
# Closing sections that case studies have and handouts do not.
_CASE_HEADING = re.compile(r"案例启示|案例点评|以案说法|讲述提示|经验启示|案例分析|^启示$|^点评$")


def display_texts(ex: Extracted) -> list[str]:
    """Every block's text in display form, line breaks kept. A table row is displayed cell by
    cell and the cells joined again by a tab: ``display`` drops the tab as a control character,
    which ran a row's cells together (“厨余垃圾正确分类每次2分…”)."""
    return [
        "\t".join(display(c, keep_spaces=True) for c in b.text.split("\t"))
        if b.kind == "table"
        else display(b.text)
        for b in ex.blocks
    ]


def _title_kind(*texts: str) -> str | None:
    for kind, pattern in _TITLE_WORDS:
        if any(pattern.search(t) for t in texts if t):
            return kind
    return None


def _title_of(ex: Extracted, filename: str) -> tuple[str, set[int]]:
    """The document title and the blocks that only repeat it (left out of the outline)."""
    title = display_line(ex.title or "")
    skip: set[int] = set()
    if not title:
        for i, b in enumerate(ex.blocks):
            if b.kind in ("title", "heading") and display_line(b.text):
                if b.kind == "heading" and numbering_level(b.text):
                    break  # "一、…" opens a section; the file name is the better title
                title = display_line(b.text)
                skip.add(i)
                break
    else:
        for i, b in enumerate(ex.blocks[:3]):
            if display_line(b.text) == title and (not skip or b.kind in ("title", "heading")):
                skip.add(i)
    if not title and filename:
        title = display_line(PurePath(filename.replace("\\", "/")).stem)
    return title, skip


def _date_line(text: str) -> str | None:
    """The ISO date of a short line that is essentially a date (“2024年3月18日”, “（2024年3月）”,
    “肇庆市委宣传部 2024年3月”): at most twelve other characters, no 《》【】 or colon, at least
    year and month."""
    if len(text) > 40 or DASH_LINE.match(text):
        return None
    dates = find_dates(text)
    if len(dates) != 1:
        return None
    d = dates[0]
    rest = (text[: d.start] + text[d.end :]).strip(" （）()〔〕[]，,。.·-—")
    if len(rest) > 12 or re.search(r"[《》【】：:（）()]", rest) or len(d.iso) < 7:
        return None
    return d.iso


# “——2025年1月19日在……会议上”, “2025年1月14日在……上……作政府工作报告。”
_SUBTITLE = re.compile(
    r"^(?:\s*[-－—―─]{1,4}\s*)?[（(]?\s*(?:\d{4}|[〇一二三四五六七八九]{4})"
    r".{0,80}?(?:会议|会上|讲话|报告|大会|发言|宣讲|辅导|座谈|论坛|培训|党课|致辞"
    r"|演讲|学习)"
)
# “（2025年1月15日在全县宣讲骨干培训班上）”: a line in brackets that opens with a date
_BRACKETED = re.compile(r"^[（(]\s*(?:\d{4}|[〇一二三四五六七八九]{4})\s*年[^（）()]{0,80}[）)]$")


def _front_matter(
    ex: Extracted, texts: list[str], skip: set[int], title: str = ""
) -> tuple[str | None, set[int], str | None]:
    """The document's own date, the blocks to leave out (one that holds only that date, a web
    page's info bar “来源：… 发布时间：… 字号：大 中 小”), and the
    source the text names (“来源：浙江日报” → 浙江日报).

    Looked for line by line in the first eight blocks before the first heading and in the last
    three: a line that is essentially a date (not a heading such as “一、2024年工作回顾”), or,
    among the first four blocks, a subtitle that opens with a date (“——2025年1月15日在……上的
    政府工作报告”, “（2025年1月15日……）”). A “来源：” line gives the source and is not a date
    line; the date it carries (“来源：人民网 2025年1月15日”) is the fallback, then what the
    file says outside its text (``ex.meta["published"]``/``["source"]``: a web page's meta tags
    or info bar, Markdown front matter), then a date in the title (“2025年浙江省政府工作报告”
    → 2025)."""
    order = [i for i in range(len(ex.blocks)) if i not in skip]
    first_heading = next(
        (n for n, i in enumerate(order) if ex.blocks[i].kind == "heading"), len(order)
    )
    head = order[: min(8, first_heading)]
    candidates = head + [i for i in order[-3:] if i not in head]
    date = date_block = source = published = None
    info_bars: set[int] = set()
    for i in candidates:
        b = ex.blocks[i]
        if b.kind not in ("para", "title"):
            continue
        lines = [t for t in (fold(x) for x in texts[i].split("\n")) if t]
        if lines and all(source_line(t) for t in lines) and _INFO_BAR.search(texts[i]):
            info_bars.add(i)  # a web page's info bar: its source and date are kept, not its text
        for text in lines:
            if heading_rank(text, True) is not None:
                continue
            src = source_line(text)
            if src:
                source = source or src[0]
                published = published or src[1]
                continue
            if date:
                continue
            iso = _date_line(text)
            if iso:
                date, date_block = iso, (i if len(lines) == 1 else None)
            elif (
                i in head[:4]
                and len(text) <= 120
                and (_SUBTITLE.match(text) or _BRACKETED.match(text))
            ):
                dates = find_dates(text)
                if dates and len(dates[0].iso) >= 7 and dates[0].start <= 5:
                    date = dates[0].iso
    # what the file itself says outside its text (a web page's meta tags or info bar, Markdown
    # front matter): after the text's own lines, before a year in the title
    meta_date = find_dates(str(ex.meta.get("published") or ""))
    if not date:
        in_title = find_dates(title)
        date = (
            published
            or (meta_date[0].iso if meta_date else None)
            or (in_title[0].iso if len(in_title) == 1 else None)
        )
    if not source and ex.meta.get("source"):
        source = display_line(str(ex.meta["source"])).strip(" ：:") or None
    return date, ({date_block} if date_block is not None else set()) | info_bars, source


# what only a web page's info bar holds besides its source and date (“字号：大 中 小”)
_INFO_BAR = re.compile(r"字号|浏览次数|阅读次数|点击数|【打印】|打印本页|关闭窗口|分享到")


def document_source(s: Structured) -> str | None:
    """Where the document says it was published (“来源：浙江日报” → “浙江日报”), or None.

    ``s.source`` when the structured document carries one; otherwise read again from its
    passages (the 来源 line stays in the text): a 来源 line among the first eight lines before
    the first heading or among the last two lines."""
    if getattr(s, "source", None):
        return s.source
    lines: list[str] = []
    for p in s.passages:
        if p.heading_path:
            break
        lines.extend(p.text.splitlines())
    lines = lines[:8]
    if s.passages:
        lines += s.passages[-1].text.splitlines()[-2:]
    for line in lines:
        found = source_line(line)
        if found:
            return found[0]
    return None


def _kind_from_content(lines: list[Line]) -> tuple[str | None, str | None]:
    """(strong kind, weak kind) from the text itself."""
    sourced, labelled, n = quote_signals(lines)
    pairs, n_qa = qa_signals(lines)
    n = max(n, 1)
    q_share, a_share = sourced / n, pairs / max(n_qa, 1)
    strong_q = labelled >= 2 or (sourced >= 3 and q_share >= 0.2)
    strong_a = pairs >= 3 and a_share >= 0.15
    if strong_q and strong_a:
        return ("quotes" if max(q_share, labelled / n) >= a_share else "qa"), None
    if strong_q:
        return "quotes", None
    if strong_a:
        return "qa", None
    if sourced >= 2 and q_share >= 0.1:
        return None, "quotes"
    if pairs >= 2 and a_share >= 0.1:
        return None, "qa"
    if any(
        _CASE_HEADING.search(ln.text)
        for ln in lines
        if ln.kind == "heading" or (ln.kind == "para" and len(ln.text) <= 12)
    ):
        return None, "case"
    paras = [ln.text for ln in lines if ln.kind == "para"]
    if any(_TALK_OPENING.match(t) for t in paras[:3]) or any(
        _TALK_CLOSING.search(t) for t in paras[-2:]
    ):
        return None, "script"
    return None, None


def detect_kind(ex: Extracted, filename: str = "", *, _texts: list[str] | None = None) -> str:
    """The content kind of a document (see the module docstring for the rules)."""
    title, skip = _title_of(ex, filename)
    texts = _texts if _texts is not None else display_texts(ex)
    lines = lines_of(ex, promote_arabic=False, skip_blocks=skip, texts=texts)
    strong, weak = _kind_from_content(lines)
    if strong:
        return strong
    by_title = _title_kind(title, PurePath(filename).stem if filename else "")
    return by_title or weak or "handout"


def attributed_quotes(
    passages: list[Passage], table: SpeakerTable | None = None, named: set[str] | None = None
) -> list[Quote]:
    """Quote records for the attributed quotations in ``passages`` (see the module docstring)."""
    return [q for q, _ in quotes_in_passages(passages, table, named)]


def structure(
    ex: Extracted,
    kind: str | None = None,
    filename: str = "",
    *,
    extract_quotes: bool = True,
    speakers: SpeakerTable | None = None,
) -> Structured:
    """Quotes, passages or Q&A pairs of an extracted document, with its title, date, outline.
    ``extract_quotes``: also make quote records of the attributed quotations in a handout,
    script, case or Q&A (compilations are always split into quotes); ``speakers``: the speaker
    table (default: the packaged one)."""
    if kind is not None and kind not in KINDS:
        names = "、".join(f"{k}（{v}）" for k, v in KINDS.items())
        raise UsageError(f"没有“{kind}”这种素材类型。", f"可用的类型：{names}")
    texts = display_texts(ex)
    kind = kind or detect_kind(ex, filename, _texts=texts)
    title, skip = _title_of(ex, filename)
    date, front_blocks, source = _front_matter(ex, texts, skip, title)
    skip = skip | front_blocks
    lines = lines_of(ex, promote_arabic=kind != "quotes", skip_blocks=skip, texts=texts)
    # on paged documents (pdf), a paragraph that only repeats the title is a running header
    lines = [
        ln for ln in lines if not (ln.kind == "para" and ln.page is not None and ln.text == title)
    ]
    if kind == "quotes":
        lines = demote_numbered_headings(lines)
    out = Structured(
        kind=kind,
        title=title,
        date=date,
        headings=[(ln.level, ln.text, ln.page) for ln in lines if ln.kind == "heading"],
    )
    out.source = source
    table = speakers or default_speakers()
    named = (
        table.named_in("\n".join([title] + texts))
        if any("“" in t or "「" in t for t in texts)
        else set()
    )
    if kind == "quotes":
        out.quotes, leftover = parse_quotes(lines, table=table, named=named)
        out.passages = pack(leftover)
        if not out.quotes:
            out.warnings.append(
                "按金句汇编处理，但没有识别出金句。请检查文件格式，或改按讲义导入。"
            )
        else:
            missing = sum(1 for q in out.quotes if not q.source and not q.speaker)
            if missing:
                out.warnings.append(f"有 {missing} 条金句没有找到出处，请核对后补充。")
    elif kind == "qa":
        out.passages = qa_pairs(lines)
        if not any(p.kind == "qa" for p in out.passages):
            out.warnings.append("按热点问答处理，但没有识别出问答。请检查“问：”“答：”等标记。")
    else:
        out.passages = passages_of(lines)
    if kind != "quotes" and extract_quotes and named is not None:
        out.quotes = attributed_quotes(out.passages, table, named)
    return out


__all__ = ["detect_kind", "structure", "document_source", "display_texts", "attributed_quotes"]
