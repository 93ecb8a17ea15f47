"""Blocks → lines with heading levels: the common first step of every structurer.

* A block's text is cut at line breaks only where the next line starts with a structural
  marker (a numbering, bullet, dash source line, label such as 出处：/问：, or a heading
  pattern); other line breaks are soft wraps and are folded by ``display_line``.
* A paragraph that looks like a heading (“一、坚持人民至上”, “（一）……”, “## 生态文明”, “第三章
  ……”) is promoted to a heading. Its level is the dense rank of its pattern among the promoted
  patterns of the document, counted below the extractor's most recent real heading.
  Arabic numberings (“1.”, “（1）”) are promoted only where asked (not in quote compilations,
  where they number quotes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.ingest.extract.base import Extracted
from indexer.ingest.normalize import display

# Numbering or bullet in front of a quote, a list item or a question.
MARKER = re.compile(
    r"^\s*(?:"
    r"\d{1,3}\s*[．.、)）](?!\d)"  # 1．  1.  1、  1)
    r"|[（(]\s*\d{1,3}\s*[）)]"  # （1） (1)
    r"|[①-⑳⑴-⒇⒈-⒛]"  # ① ⑴ ⒈
    r"|[◆●■★▲·•◇○□☆►▶✦❖※◎◉▪▫♦✔✓→\-*+](?![-—])"  # bullets (not a "--" dash)
    r")\s*"
)
DASH = r"(?:[—―─]{1,3}|[-－]{2,3}|—[-－]|[-－]—)"
DASH_LINE = re.compile(rf"^\s*{DASH}\s*(?=\S)")

_CN_NUM = "[一二三四五六七八九十百零〇]+"
_HEADING_PATTERNS: list[tuple[re.Pattern, int, bool]] = [
    # (pattern, rank, is_arabic)
    (re.compile(rf"^第{_CN_NUM}(?:编|部分|篇)|^第\d+(?:编|部分|篇)"), 10, False),
    (re.compile(rf"^第{_CN_NUM}(?:章|讲|课|单元)|^第\d+(?:章|讲|课|单元)"), 11, False),
    (re.compile(rf"^第{_CN_NUM}节|^第\d+节"), 12, False),
    (re.compile(rf"^{_CN_NUM}\s*[、．.]"), 20, False),
    (re.compile(rf"^[（(]\s*{_CN_NUM}\s*[）)]"), 21, False),
    (re.compile(r"^\d{1,2}\s*[．.、](?!\d)"), 22, True),
    (re.compile(r"^[（(]\s*\d{1,2}\s*[）)]"), 23, True),
]
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = "。！？!?；;，,：:…"

# Labels that begin a structural line (quote records, Q&A).
LABEL_WORDS = (
    "金句|原文|名句|语录|引文|出处|来源|出自|摘自|释义|解读|解析|阐释|译文|注释|启示|"
    "时间|日期|作者|讲话人|问|问题|提问|答|回答|Q|A"
)
_LINE_START = re.compile(
    rf"^\s*(?:【\s*(?:{LABEL_WORDS})\s*】|(?:{LABEL_WORDS})\s*\d*\s*[：:]|{DASH}\S|#{{1,6}}\s)"
)


_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK}) +(?={_CJK})")
_WS = re.compile(r"\s+")


def fold(text: str) -> str:
    """``display_line`` for text that is already in display form (display() is the costly
    part, about 3 µs per character, so it runs once per block)."""
    return _CJK_GAP.sub("", _WS.sub(" ", text).strip())


def display_blocks(ex: Extracted) -> list[str]:
    """``display`` of every block's text, line breaks kept."""
    return [display(b.text, keep_spaces=b.kind == "table") for b in ex.blocks]


@dataclass
class Line:
    text: str  # display form, one line
    kind: str  # heading | para | table | footnote
    level: int = 0
    page: int | None = None
    block: int = 0  # index of the source block (lines of one block share it)


def _starts_structure(line: str, promote_arabic: bool) -> bool:
    s = line.strip()
    if not s:
        return False
    if MARKER.match(s) or _LINE_START.match(s):
        return True
    return any(p.match(s) for p, _, arabic in _HEADING_PATTERNS if promote_arabic or not arabic)


def _split_block(text: str, promote_arabic: bool) -> list[str]:
    raw = text.split("\n")
    if len(raw) == 1:
        return raw
    out = [raw[0]]
    for line in raw[1:]:
        if _starts_structure(line, promote_arabic):
            out.append(line)
        else:
            out[-1] = out[-1] + "\n" + line
    return out


def heading_rank(text: str, promote_arabic: bool) -> int | None:
    """The pattern rank of a paragraph that reads as a heading, else None."""
    m = _MD_HEADING.match(text)
    if m:
        return len(m.group(1))
    if len(text) > 40:
        return None
    for pattern, rank, arabic in _HEADING_PATTERNS:
        if arabic and not promote_arabic:
            continue
        m = pattern.match(text)
        if not m:
            continue
        rest = text[m.end() :].strip()
        if not rest:
            return None
        if arabic or rank >= 20:
            # numbered headings are short and do not end like a sentence; Chinese-numbered
            # ones may end with 。 when very short (公文: “（一）坚持稳中求进。”)
            if rest[-1] in _SENTENCE_END and (arabic or rest[-1] not in "。" or len(rest) > 24):
                return None
        return rank
    return None


def clean_heading(text: str) -> str:
    m = _MD_HEADING.match(text)
    return m.group(2).strip() if m else text


def lines_of(
    ex: Extracted,
    *,
    promote_arabic: bool = True,
    skip_blocks: set[int] | None = None,
    texts: list[str] | None = None,
) -> list[Line]:
    """Flatten blocks to lines, promote heading-like paragraphs, assign heading levels.
    ``texts``: the blocks' texts already in display form (see :func:`display_blocks`)."""
    skip_blocks = skip_blocks or set()
    texts = texts if texts is not None else display_blocks(ex)
    staged: list[tuple[Line, int | None]] = []  # (line, promoted rank)
    for i, b in enumerate(ex.blocks):
        if i in skip_blocks or b.kind == "title":
            continue
        text = texts[i]
        if b.kind == "heading":
            t = fold(text)
            if t:
                staged.append(
                    (Line(clean_heading(t), "heading", max(1, b.level or 1), b.page, i), None)
                )
            continue
        kind = b.kind if b.kind in ("table", "footnote") else "para"
        if kind == "table":
            t = " | ".join(c for c in (fold(c) for c in text.split("\t")) if c)
            if t:
                staged.append((Line(t, kind, 0, b.page, i), None))
            continue
        for part in _split_block(text, promote_arabic):
            t = fold(part)
            if not t:
                continue
            rank = heading_rank(t, promote_arabic) if kind == "para" else None
            staged.append((Line(t, kind, 0, b.page, i), rank))

    # Dense ranks of promoted (non-markdown) patterns.
    ranks = sorted({r for _, r in staged if r is not None and r >= 10})
    dense = {r: n + 1 for n, r in enumerate(ranks)}
    out: list[Line] = []
    base = 0
    for line, rank in staged:
        if line.kind == "heading":
            base = line.level
        elif rank is not None:
            line.kind = "heading"
            if rank < 10:  # markdown: "#" count is the level
                line.level = rank
                line.text = clean_heading(line.text)
            else:
                line.level = base + dense[rank]
        out.append(line)
    return out


class HeadingStack:
    """Current heading path while walking the lines."""

    def __init__(self):
        self._stack: list[tuple[int, str]] = []

    def push(self, level: int, text: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))

    @property
    def path(self) -> list[str]:
        return [t for _, t in self._stack]


__all__ = [
    "Line",
    "lines_of",
    "fold",
    "display_blocks",
    "HeadingStack",
    "MARKER",
    "DASH",
    "DASH_LINE",
    "heading_rank",
]
