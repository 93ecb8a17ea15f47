"""Quote compilations (金句汇编) → Quote records.

Recognised layouts (any mix within one document):

* quote, then a dash 出处 line (“——2012年11月15日，在……时的讲话”), or the dash source at the end
  of the quote's own line;
* quote with the 出处 in trailing brackets (“……。（《在……的讲话》，2018年8月24日）”), also when
  the brackets wrap onto the next line or block, date inside or after the brackets;
* labelled records: 【金句】/【原文】/原文：… + 【出处】/出处：… (+ 【释义】/释义：…), spread over
  one or several blocks;
* numbering or bullets before the quote (1． 1. 1、 （1） (1) ① ◆ ● ■ ★ ▲ ·);
* source-first items, as official compilations print them: date → speaker → occasion → verb →
  colon, comma or nothing → the quotation (“2013年3月17日，习近平在第十二届全国人民代表大会
  第一次会议上强调：“实现中国梦必须走中国道路。””); the attribution may stand in its own
  paragraph before the quotation. Parsed by ``indexer.ingest.structure.attributed.source_first``: speaker
  (canonical, see the speaker table), date at its precision, occasion as 出处.

What becomes a quote: a text that (a) got a 出处, or (b) is a labelled record, or (c) carries a
numbering/bullet and is at most 300 characters, or (d) is wholly wrapped in quotation marks, or
(e) is a source-first item.
Anything else (an introduction, an editor's note) is not a quote; it is returned as leftover
text and becomes ordinary passages, so nothing in the document is lost to search.
Quotes that repeat within a compilation are all kept (de-duplication is the store's job).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.ingest.structure.attributed import source_first
from indexer.ingest.structure.dates import find_date, find_dates, splits_date
from indexer.ingest.structure.outline import DASH, DASH_LINE, MARKER, HeadingStack, Line
from indexer.ingest.structure.sources import (
    SpeakerTable,
    default_speakers,
    looks_like_source,
    parse_source,
)
from library.content import Quote

_Q_LABELS = "金句|原文|名句|语录|引文"
_S_LABELS = "出处|来源|出自|摘自"
_N_LABELS = "释义|解读|解析|阐释|译文|注释|启示"
_D_LABELS = "时间|日期"
_P_LABELS = "作者|讲话人"
_LABEL = re.compile(
    rf"^\s*(?:【\s*({_Q_LABELS}|{_S_LABELS}|{_N_LABELS}|{_D_LABELS}|{_P_LABELS})\s*】\s*[：:]?"
    rf"|({_Q_LABELS}|{_S_LABELS}|{_N_LABELS}|{_D_LABELS}|{_P_LABELS})\s*[：:])\s*"
)
_LABEL_FIELD = {}
for _names, _field in (
    (_Q_LABELS, "text"),
    (_S_LABELS, "source"),
    (_N_LABELS, "note"),
    (_D_LABELS, "date"),
    (_P_LABELS, "speaker"),
):
    for _n in _names.split("|"):
        _LABEL_FIELD[_n] = _field

_ENDS = '。！？!?”’」』…；;"'
_SENT_END = re.compile(rf"[{_ENDS}]\s*$")
_TRAILING_DASH = re.compile(rf"(?<=[{_ENDS}.])\s*{DASH}\s*(?=\S)")
_TRAILING_BRACKET = re.compile(r"[（(]([^（）()]{2,160})[）)]([^（）()]{0,24})$")
_OPEN_QUOTES = {"“": "”", "「": "」", "『": "』", '"': '"'}
# a 出处 in brackets standing on its own line: “（2012年11月15日，习近平在……时的讲话）”
_BRACKET_LINE = re.compile(r"^\s*[（(〔]([^（）()〔〕]{2,160})[）)〕]\s*[。.]?\s*$")


def bracket_source_line(text: str) -> bool:
    """Whether a whole line is a bracketed 出处 (with a date, a speech or a book in it)."""
    m = _BRACKET_LINE.match(text)
    if not m:
        return False
    # what is left besides the dates must read as a 出处 (a speech, a work, a speaker):
    # “（2024年3月至4月）” opens a work plan's section, “（图为2023年……）” is a caption
    rest = m.group(1)
    for d in reversed(find_dates(rest)):
        rest = rest[: d.start] + rest[d.end :]
    return looks_like_source(rest)


MAX_UNSOURCED = 300


# “1．2013年3月17日，……”: MARKER leaves a numbering followed by a digit alone (“1.5”).
_NUM_BEFORE_YEAR = re.compile(
    r"^\s*\d{1,3}\s*[．.、]\s*(?=(?:\d{4}|[〇○零一二三四五六七八九]{4})\s*年)"
)


def _strip_marker(text: str) -> str:
    return MARKER.sub("", _NUM_BEFORE_YEAR.sub("", text, count=1), count=1).strip()


def label_of(text: str) -> tuple[str, str] | None:
    """(field, rest) for a labelled line such as “出处：……” or “【释义】……”."""
    m = _LABEL.match(text)
    if not m:
        return None
    return _LABEL_FIELD[m.group(1) or m.group(2)], text[m.end() :].strip()


def _trailing_bracket(text: str) -> tuple[str, str] | None:
    rest, parts = text, []
    for _ in range(2):
        m = _TRAILING_BRACKET.search(rest)
        if not m:
            break
        inner, tail = m.group(1), m.group(2).strip().strip("。.，,")
        if tail and not find_date(tail):
            break
        if not looks_like_source(inner) and not (parts and find_date(inner)):
            break
        parts.insert(0, f"（{inner}）{tail}")
        rest = rest[: m.start()].rstrip()
    if not parts:
        return None
    source = "".join(parts)
    strong = find_date(source) and re.search(r"《|讲话|会议|会上", source)
    if not rest or not (_SENT_END.search(rest) or strong):
        return None
    return rest, source


def split_trailing_source(text: str) -> tuple[str, str | None]:
    """Cut a 出处 off the end of a quote line: ``(quote, source_text or None)``."""
    for m in reversed(list(_TRAILING_DASH.finditer(text))):
        src = text[m.end() :]
        if looks_like_source(src) and "。" not in src.rstrip("。"):
            return text[: m.start()].rstrip(), src
    br = _trailing_bracket(text)
    if br:
        return br
    return text, None


def _wrapped(text: str) -> bool:
    """Whether the whole text is one quotation (“……” possibly followed by 。)."""
    t = text.rstrip("。.")
    if len(t) < 3 or t[0] not in _OPEN_QUOTES or t[-1] != _OPEN_QUOTES[t[0]]:
        return False
    o, c = t[0], _OPEN_QUOTES[t[0]]
    if o == c:
        return t.count(o) == 2
    depth = 0
    for i, ch in enumerate(t):
        depth += (ch == o) - (ch == c)
        if depth == 0 and i < len(t) - 1:
            return False
    return True


def clean_quote(text: str) -> str:
    t = MARKER.sub("", text, count=1).strip()
    if _wrapped(t):
        t = t.rstrip("。.")[1:-1].strip()
    return t


def _unclosed_bracket(text: str) -> bool:
    tail = re.split(rf"[{_ENDS}]", text)[-1]
    return tail.count("（") + tail.count("(") > tail.count("）") + tail.count(")")


_INLINE_LABEL = re.compile(
    rf"(?<=\S)\s*(?=【\s*(?:{_Q_LABELS}|{_S_LABELS}|{_N_LABELS}|{_D_LABELS}|{_P_LABELS})\s*】)"
    rf"|(?<=[。！？!?”」』）)])\s*(?=(?:{_S_LABELS}|{_N_LABELS})\s*[：:])"
)


def split_inline_labels(lines: list[Line]) -> list[Line]:
    """“【金句】……【出处】……【释义】……” on one line (Markdown soft breaks joined by the
    extractor) → one line per label."""
    out: list[Line] = []
    for line in lines:
        if line.kind != "para" or not _INLINE_LABEL.search(line.text):
            out.append(line)
            continue
        for part in _INLINE_LABEL.split(line.text):
            if part.strip():
                out.append(Line(part.strip(), line.kind, line.level, line.page, line.block))
    return out


def demote_numbered_headings(lines: list[Line]) -> list[Line]:
    """In a compilation an arabic numbering or bullet numbers quotes, so a “heading” that starts
    with one (as PDF outlines or numbering styles produce) is a quote line. When the next line
    repeats it with the full text, the heading is only a copy and is dropped."""
    out: list[Line] = []
    for i, line in enumerate(lines):
        if line.kind != "heading" or not MARKER.match(line.text):
            out.append(line)
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        stem = line.text.rstrip("。！？!?.；;")
        if nxt is not None and nxt.kind == "para" and nxt.text.startswith(stem):
            continue
        out.append(Line(line.text, "para", 0, line.page, line.block))
    return out


def join_wrapped(lines: list[Line]) -> list[Line]:
    """Join lines that continue a 出处 across a line or block break: an unclosed bracket
    (“……。（《在……” + “……讲话》，2018年8月24日）”) or a split date (“——2019年3月” + “18日……”)."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        cur = lines[i]
        i += 1
        while i < len(lines) and cur.kind == "para" and lines[i].kind == "para":
            nxt = lines[i].text
            if (
                _unclosed_bracket(cur.text)
                and re.search(r"[）)]", nxt[:120])
                and not MARKER.match(nxt)
                and not label_of(nxt)
            ):
                cur = Line(cur.text + nxt, cur.kind, cur.level, cur.page, cur.block)
                i += 1
                continue
            sourceish = (
                DASH_LINE.match(cur.text)
                or (label_of(cur.text) or ("",))[0] in ("source", "date")
                or "（" in cur.text
                or "(" in cur.text
            )
            if sourceish and splits_date(cur.text, nxt):
                cur = Line(cur.text + nxt.lstrip(), cur.kind, cur.level, cur.page, cur.block)
                i += 1
                continue
            break
        out.append(cur)
    return out


@dataclass
class _Pending:
    parts: list[str] = field(default_factory=list)
    marker: bool = False
    labelled: bool = False
    origin: str = "plain"  # how the record began: "label" | "marker" | "plain"
    slot: str = "text"
    source: str | None = None
    date: str | None = None
    speaker: str | None = None
    note: str | None = None
    sourced: bool = False
    page: int | None = None
    path: list[str] = field(default_factory=list)
    block: int = -1

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def set_source(self, raw: str) -> None:
        s = parse_source(raw)
        if self.sourced and self.source and s.source:
            self.source = f"{self.source}{s.source}"
        else:
            self.source = s.source or self.source
        self.date = s.date or self.date
        self.speaker = s.speaker or self.speaker
        self.sourced = True


def _append(parts: list[str], text: str, new_block: bool) -> None:
    if parts and new_block and _SENT_END.search(parts[-1]):
        parts.append("\n" + text)
    else:
        parts.append(text)


class QuoteParser:
    def __init__(self, table: SpeakerTable | None = None, named: set[str] | None = None):
        self.table = table or default_speakers()
        self.named = named or set()
        self.quotes: list[Quote] = []
        self.leftover: list[tuple[str, list[str], int | None, str]] = []
        self.headings = HeadingStack()
        self.pending: _Pending | None = None
        self.last_quote: Quote | None = None

    # -- emitting ---------------------------------------------------------------------------
    def _flush(self) -> None:
        p, self.pending = self.pending, None
        if p is None:
            return
        raw = p.text
        if not p.labelled and ("“" in raw or "「" in raw):
            found = source_first(_strip_marker(raw), table=self.table, named=self.named)
            if found:
                for f in found:
                    q = Quote(
                        text=f.text,
                        source=f.source or p.source,
                        date=f.date or p.date,
                        speaker=f.speaker or p.speaker,
                        theme=p.path[-1] if p.path else None,
                        note=p.note,
                        page=p.page,
                        seq=len(self.quotes) + 1,
                    )
                    self.quotes.append(q)
                    self.last_quote = q
                return
        text = clean_quote(raw)
        if not text:
            if p.sourced and self.last_quote is not None and self.last_quote.source is None:
                self._attach(self.last_quote, p)
            return
        is_quote = (
            p.labelled
            or p.sourced
            or _wrapped(MARKER.sub("", raw, count=1).strip())
            or (p.marker and len(text) <= MAX_UNSOURCED)
        )
        if not is_quote:
            self.leftover.append((raw, p.path, p.page, "para"))
            return
        q = Quote(
            text=text,
            source=p.source,
            date=p.date,
            speaker=self.table.canonical(p.speaker),
            theme=p.path[-1] if p.path else None,
            note=p.note,
            page=p.page,
            seq=len(self.quotes) + 1,
        )
        self.quotes.append(q)
        self.last_quote = q

    @staticmethod
    def _attach(q: Quote, p: _Pending) -> None:
        q.source = q.source or p.source
        q.date = q.date or p.date
        q.speaker = q.speaker or p.speaker
        q.note = q.note or p.note

    def _new(self, line: Line, **kw) -> _Pending:
        self._flush()
        self.pending = _Pending(page=line.page, path=self.headings.path, block=line.block, **kw)
        return self.pending

    # -- walking ----------------------------------------------------------------------------
    def feed(self, line: Line) -> None:
        if line.kind == "heading":
            self._flush()
            self.headings.push(line.level, line.text)
            return
        if line.kind in ("table", "footnote"):
            self._flush()
            self.leftover.append((line.text, self.headings.path, line.page, line.kind))
            return
        text = line.text
        lab = label_of(text) or label_of(MARKER.sub("", text, count=1))
        if lab:
            self._labelled(line, *lab)
            return
        p = self.pending
        if DASH_LINE.match(text) or bracket_source_line(text):
            self._source_line(line, text)
            return
        marker = bool(MARKER.match(text))
        if marker:
            p = self._new(line, marker=True, origin="marker")
        elif (
            p is not None
            and p.labelled
            and (p.origin == "label" or p.block == line.block)
            and not (p.slot != "text" and split_trailing_source(text)[1])
        ):
            self._continue_field(p, text, line)
            return
        elif (
            p is not None
            and not p.sourced
            and (
                p.block == line.block
                or p.marker
                or not _SENT_END.search(p.text)
                or self._open_quote(p.text)
            )
        ):
            pass  # continuation of the pending quote
        else:
            p = self._new(line)
        body, src = split_trailing_source(text) if not p.sourced else (text, None)
        _append(p.parts, body, new_block=p.block != line.block)
        p.block = line.block
        if src:
            p.set_source(src)

    @staticmethod
    def _open_quote(text: str) -> bool:
        return text.count("“") > text.count("”")

    def _source_line(self, line: Line, text: str) -> None:
        p = self.pending
        if p is not None and p.parts and (not p.sourced or p.block == line.block):
            p.set_source(text)
            p.block = line.block
            return
        self._flush()
        q = self.last_quote
        if q is not None and q.source is None and q.date is None and q.speaker is None:
            tmp = _Pending()
            tmp.set_source(text)
            self._attach(q, tmp)
            return
        self.leftover.append((text, self.headings.path, line.page, "para"))

    def _labelled(self, line: Line, fld: str, rest: str) -> None:
        p = self.pending
        if fld == "text":
            if p is None or not p.labelled or p.parts:
                p = self._new(line, labelled=True, origin="label")
            p.slot = "text"
            if rest:
                body, src = split_trailing_source(rest)
                p.parts.append(body)
                if src:
                    p.set_source(src)
            return
        if p is None or (not p.labelled and p.sourced and fld == "source"):
            if fld == "note" and p is None and self.last_quote is not None:
                self.last_quote.note = rest or self.last_quote.note
                return
            p = self._new(line, labelled=True, origin="label")
        p.labelled = True
        p.slot = fld
        self._set_field(p, fld, rest)

    @staticmethod
    def _set_field(p: _Pending, fld: str, rest: str) -> None:
        if fld == "source":
            if rest:
                p.set_source(rest)
            else:
                p.sourced = True
        elif fld == "note":
            p.note = f"{p.note}{rest}" if p.note else (rest or None)
        elif fld == "date":
            p.date = find_date(rest).iso if find_date(rest) else p.date
        elif fld == "speaker":
            p.speaker = rest or p.speaker

    def _continue_field(self, p: _Pending, text: str, line: Line) -> None:
        if p.slot == "text":
            _append(p.parts, text, new_block=p.block != line.block)
        elif p.slot == "source":
            p.set_source(text)
        elif p.slot == "note":
            p.note = f"{p.note}\n{text}" if p.note else text
        p.block = line.block

    def finish(self) -> None:
        self._flush()


def parse_quotes(
    lines: list[Line], *, table: SpeakerTable | None = None, named: set[str] | None = None
) -> tuple[list[Quote], list[tuple[str, list[str], int | None, str]]]:
    """Quotes and the leftover text of a compilation. ``table``: the speaker table (packaged by
    default); ``named``: the speakers the document names (for bare titles such as 总书记)."""
    parser = QuoteParser(table, named)
    for line in join_wrapped(split_inline_labels(demote_numbered_headings(lines))):
        parser.feed(line)
    parser.finish()
    return parser.quotes, parser.leftover


def quote_signals(lines: list[Line]) -> tuple[int, int, int]:
    """(sourced lines, labelled quote records, text lines) — used by kind detection."""
    sourced = labelled = text_lines = 0
    for line in join_wrapped(split_inline_labels(demote_numbered_headings(lines))):
        if line.kind != "para":
            continue
        text_lines += 1
        lab = label_of(line.text)
        if lab:
            if lab[0] == "text":
                labelled += 1
            continue
        if DASH_LINE.match(line.text):
            if looks_like_source(line.text):
                sourced += 1
            continue
        if bracket_source_line(line.text):
            sourced += 1
            continue
        if split_trailing_source(line.text)[1]:
            sourced += 1
        elif "“" in line.text and find_date(line.text):
            found = source_first(_strip_marker(line.text))
            if found and (found[0].date or found[0].source):
                sourced += 1
    return sourced, labelled, text_lines


__all__ = ["parse_quotes", "quote_signals", "split_trailing_source", "clean_quote", "label_of"]
