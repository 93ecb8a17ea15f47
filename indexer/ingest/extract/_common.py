"""Helpers shared by the extractors: block cleaning, numbering-pattern headings, title rules.

Numbering patterns (Chinese official-document style) and the heading level they give:
``一、`` → 1, ``（一）``/``(一)`` → 2, ``1.``/``1．``/``1、`` → 3, ``（1）``/``(1)`` → 4;
also ``一是……`` → 3, but only as a whole short line (never as a run-on heading).

A numbered paragraph is a heading when it is short (≤ ``SHORT_HEADING`` characters) and does not
end like a sentence. Government reports also write *run-on* headings: “（一）聚焦……。正文……”.
Then the first sentence (≤ ``LEAD_HEADING`` characters, final 。 dropped) becomes a HEADING block
and the *whole* paragraph follows as a PARA block, so that no text is lost from the passage;
the heading text therefore appears twice (:func:`split_lead_heading`).
"""

from __future__ import annotations

import re

from indexer.ingest.extract.base import HEADING, PARA, TITLE, Block
from indexer.ingest.normalize import display

SHORT_HEADING = 40
LEAD_HEADING = 50

_CN_NUM = "一二三四五六七八九十百零〇"
_PATTERNS = [
    (1, re.compile(rf"^[{_CN_NUM}]+、")),
    (2, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    (4, re.compile(r"^[（(]\d{1,3}[）)]")),
    (3, re.compile(r"^\d{1,3}(?:[.．](?![\d.．])|、)")),
]
# “一是……” enumerations: a heading only when the whole paragraph is a short line (Gansu's
# report); run-on “一是……。正文” paragraphs stay paragraphs.
_ENUM = re.compile(rf"^[{_CN_NUM}]+是\S")
ENUM_LEVEL = 3
SENTENCE_END = "。！？!?；;…"
_LEAD_END = re.compile(r"[。！？!?]")
TERMINAL = "。！？；：”」』…!?;:"


def clean(text: str) -> str:
    """Display form of one block's text, stripped (``display``, not ``display_line``)."""
    return display(text or "").strip()


def numbering_level(text: str) -> int:
    """Heading level implied by a numbering pattern at the start of ``text``; 0 if none."""
    for level, rx in _PATTERNS:
        if rx.match(text):
            return level
    return 0


def heading_level(text: str) -> int:
    """Level if the whole (stripped) paragraph is a short numbered heading, else 0."""
    level = numbering_level(text)
    if (
        not level
        and _ENUM.match(text)
        and len(text) <= SHORT_HEADING
        and text[-1] not in TERMINAL + "，、,"
    ):
        return ENUM_LEVEL
    if not level or len(text) > SHORT_HEADING or "\n" in text:
        return 0
    body = _numbering_body(text)
    if not body or text[-1] in SENTENCE_END:
        return 0
    return level


def _numbering_body(text: str) -> str:
    for _, rx in _PATTERNS:
        m = rx.match(text)
        if m:
            return text[m.end() :].strip()
    return text


def split_lead_heading(text: str) -> str | None:
    """For a long numbered paragraph whose first sentence is short, that sentence (without the
    final 。) — the run-on heading; else None."""
    if not numbering_level(text) or len(text) <= SHORT_HEADING:
        return None
    m = _LEAD_END.search(text, 0, LEAD_HEADING + 1)
    if not m or m.end() >= len(text):
        return None
    head = text[: m.start()].strip()
    return head if _numbering_body(head) else None


def paragraph_blocks(text: str, page: int | None = None) -> list[Block]:
    """Blocks for one plain paragraph: a numbered heading, a run-on heading + paragraph, or a
    paragraph."""
    text = clean(text)
    if not text:
        return []
    level = heading_level(text)
    if level:
        return [Block(text, HEADING, level, page)]
    lead = split_lead_heading(text)
    if lead:
        return [Block(lead, HEADING, numbering_level(lead), page), Block(text, PARA, 0, page)]
    return [Block(text, PARA, 0, page)]


def looks_like_title_line(text: str) -> bool:
    """A first line that can be the document's title: short, not a sentence, not numbered."""
    return (
        0 < len(text) <= SHORT_HEADING
        and "\n" not in text
        and text[-1] not in TERMINAL + "，、,"
        and not numbering_level(text)
    )


def promote_first_line_title(blocks: list[Block]) -> None:
    """Make the first block a TITLE when it is a plain short line (txt, doc)."""
    if blocks and blocks[0].kind == PARA and looks_like_title_line(blocks[0].text):
        blocks[0].kind = TITLE


def meaningful_title(value: str | None) -> str | None:
    """A metadata title worth keeping: not empty, not a tool's placeholder."""
    t = clean(value or "")
    t = re.sub(r"\s+", " ", t)
    if not t or len(t) > 200:
        return None
    low = t.lower()
    if low.startswith(("microsoft word -", "microsoft powerpoint -", "untitled", "无标题")):
        return None
    if re.fullmatch(
        r"(?i)(document|doc|title|slide|presentation|标题|文档)\s*\d*"
        r"|[\w\- ]+\.(docx?|pdf|pptx?|wps|txt)",
        t,
    ):
        return None
    return t


def pick_title(meta_title: str | None, blocks: list[Block]) -> str | None:
    """Metadata title if meaningful, else the TITLE block, else the first heading."""
    t = meaningful_title(meta_title)
    if t:
        return t
    for b in blocks:
        if b.kind == TITLE:
            return re.sub(r"\s+", " ", b.text)
    for b in blocks:
        if b.kind == HEADING:
            # a numbered first heading ("一、…") opens a section: the document has no title line
            return None if numbering_level(b.text) else re.sub(r"\s+", " ", b.text)
    return None


def drop_empty(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.text]


__all__ = [
    "clean",
    "numbering_level",
    "heading_level",
    "split_lead_heading",
    "paragraph_blocks",
    "looks_like_title_line",
    "promote_first_line_title",
    "meaningful_title",
    "pick_title",
    "drop_empty",
    "SHORT_HEADING",
    "TERMINAL",
]
