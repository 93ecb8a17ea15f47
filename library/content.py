"""The content model shared by every stage: what structuring produces and the store keeps.

Plain dataclasses, no storage concerns. Text fields are in *display* form
(see ``indexer.ingest.normalize.display``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Document kinds (类型) and their Chinese labels.
KINDS = {
    "quotes": "金句汇编",
    "handout": "讲义",
    "script": "讲稿",
    "case": "案例",
    "qa": "热点问答",
    "media": "视频/音频",
}

# Kinds of search hit.
HIT_KINDS = {"quote": "金句", "passage": "段落", "qa": "问答"}

# Audiences: the six 进.
AUDIENCES = {
    "rural": "进农村",
    "community": "进社区",
    "enterprise": "进企业",
    "agency": "进机关",
    "school": "进学校",
    "online": "进网络",
}


@dataclass
class Quote:
    text: str  # the quote itself, display form, no numbering or bullet
    source: str | None = None  # 出处: title of speech/article/book, occasion
    date: str | None = None  # ISO "YYYY-MM-DD" ("YYYY-MM" or "YYYY" if only that is given)
    speaker: str | None = None  # who said it, when named
    theme: str | None = None  # the heading it sits under in the compilation
    note: str | None = None  # 释义 / explanation that came with it
    page: int | None = None
    seq: int = 0  # order in the document


@dataclass
class Passage:
    text: str  # display form; paragraphs joined with "\n"
    heading_path: list[str] = field(default_factory=list)  # outermost first
    page: int | None = None  # page where the passage starts
    seq: int = 0
    kind: str = "passage"  # "passage" or "qa"
    question: str | None = None  # for kind == "qa": the question (text holds the answer)
    start: float | None = None  # a transcript passage: where it is spoken (seconds) …
    end: float | None = None  # … and where it ends


@dataclass
class Structured:
    kind: str  # one of KINDS
    title: str
    quotes: list[Quote] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    date: str | None = None  # the document's own date, ISO, if found
    source: str | None = None  # 来源 stated in the text (“来源：浙江日报”)
    headings: list[tuple[int, str, int | None]] = field(default_factory=list)  # (level, text, page)
    warnings: list[str] = field(default_factory=list)


@dataclass
class TopicSuggestion:
    slug: str
    score: float  # 0..1


def clock(seconds: float | None) -> str:
    """A time in a recording: “12:05”, or “1:02:05” past an hour."""
    s = int(seconds or 0)
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def join_notes(parts) -> str:
    """Messages joined into one: “第 2 页没有文字层；有 1 条金句没有找到出处。” — not “。；”,
    which is what joining sentences with “；” gave."""
    notes = [str(p).strip() for p in parts if p and str(p).strip()]
    if not notes:
        return ""
    head = [n.rstrip("。；;") for n in notes[:-1]]
    return "；".join(head + [notes[-1]])


__all__ = [
    "clock",
    "join_notes",
    "KINDS",
    "HIT_KINDS",
    "AUDIENCES",
    "Quote",
    "Passage",
    "Structured",
    "clean_text",
    "clean_data",
    "safe_filename",
    "name_chars",
    "date_zh",
    "citation",
    "citation_line",
    "quote_with_citation",
    "TopicSuggestion",
]


# Characters no stored text may hold: C0 controls but tab and newline, DEL, lone surrogates and
# the two noncharacters XML refuses (a \x01 in a quote made every Word export of it a 500).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str | None) -> str | None:
    """``text`` without control characters (tab and newline kept; a carriage return becomes a
    newline): the one cleaning applied at the store's door and before every export."""
    if text is None:
        return None
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", text)


_NAME_UNSAFE_ON_DISK = re.compile(r'[<>:"|?*]')
MAX_NAME = 200


def name_chars(name: str | None) -> str:
    """A name's characters fit for headers, terminals and disks: control, invisible formatting
    (bidi marks, zero-width) and unassigned characters removed, white space and line breaks
    made one space, no folder part, ``<>:"|?*`` made ``_``, no leading dots."""
    out = []
    for ch in unicodedata.normalize("NFC", str(name or "")):
        cat = unicodedata.category(ch)
        if ch.isspace() or cat in ("Zl", "Zp"):
            out.append(" ")
        elif cat not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(ch)
    text = "".join(out).replace("\\", "/").rsplit("/", 1)[-1]
    text = _NAME_UNSAFE_ON_DISK.sub("_", text)
    text = re.sub(r" +\.(?=[^.]*$)", ".", text)  # no space left before the extension
    return re.sub(r" +", " ", text).strip()


def safe_filename(name: str | None, default: str = "未命名", max_len: int = MAX_NAME) -> str:
    """A file name fit for headers, terminals and disks (:func:`name_chars`), at most
    ``max_len`` characters with the extension kept; an empty name becomes ``default``."""
    name = name_chars(name)
    if name.startswith(".") and name.count(".") == 1 and len(name) > 1:
        name = default + name  # only an extension was left: 未命名.docx
    name = name.lstrip(".").strip() or default
    if len(name) > max_len:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: max_len - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:max_len]
    return name


def clean_data(value):
    """:func:`clean_text` over every string of a JSON-like value (dicts, lists, tuples)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_data(v) for v in value)
    return value


def date_zh(date: str | None) -> str:
    """ "2005-08-15" → "2005年8月15日" ("2005-08" → "2005年8月", "2005" → "2005年")."""
    if not date:
        return ""
    parts = date.split("-")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        return date
    return "".join(f"{n}{unit}" for n, unit in zip(nums, ("年", "月", "日")))


def citation(source: str | None, date: str | None, speaker: str | None = None) -> str:
    """The house style for a 出处, the one every surface renders (card, quote page, 复制, basket,
    pack, CLI, JSON): speaker, then occasion/source, then the date in full-width brackets —
    "习近平在浙江安吉余村考察时提出（2005年8月15日）". The speaker is left out when the source
    already names them, the date when the source already holds it; any part may be missing."""
    src = (source or "").strip()
    who = (speaker or "").strip()
    if who and who not in src:
        src = who + src
    d = date_zh(date)
    if src and d and d not in src:
        return f"{src}（{d}）"
    return src or d


def citation_line(source: str | None, date: str | None, speaker: str | None = None) -> str:
    """The citation as it stands under a quote: "——习近平在……（2005年8月15日）", or ""."""
    cite = citation(source, date, speaker)
    return f"——{cite}" if cite else ""


def quote_with_citation(
    text: str, source: str | None = None, date: str | None = None, speaker: str | None = None
) -> str:
    """What the copy button puts on the clipboard: “quote” ——speaker source（date）."""
    body = (text or "").strip()
    if not (body.startswith("“") and body.endswith("”")):
        body = "“" + body.strip('“”"') + "”"
    line = citation_line(source, date, speaker)
    return f"{body} {line}" if line else body
