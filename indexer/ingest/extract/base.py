"""What every extractor returns: a flat list of blocks in reading order.

Extractors do not interpret content (quotes, sources, passages): they only say what the text is
(a paragraph, a heading of some level, a list item, a table row, a footnote, slide notes) and
where it sits (page or slide number). ``indexer.ingest.structure`` makes quotes and passages of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Block kinds
PARA = "para"
HEADING = "heading"  # level 1 = top; from styles, outline level or numbering pattern
LIST_ITEM = "list"
TABLE_ROW = "table"  # cells joined with a tab
FOOTNOTE = "footnote"
NOTES = "notes"  # speaker notes of a slide
TITLE = "title"  # the document's own title line (at most one)


@dataclass
class Block:
    text: str
    kind: str = PARA
    level: int = 0  # heading level, 0 for non-headings
    page: int | None = None  # 1-based page (pdf) or slide number (pptx); None if unknown


@dataclass
class Extracted:
    format: str  # docx | pdf | doc | pptx | txt | md | html
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None  # document metadata title or first title line
    pages: int | None = None  # pages (pdf) / slides (pptx); None where unknown
    status: str = "ok"  # "ok" or "needs_ocr" (a PDF without text layer)
    warnings: list[str] = field(default_factory=list)  # Chinese, user-facing
    meta: dict = field(default_factory=dict)  # author, created, encoding, …

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)

    @property
    def char_count(self) -> int:
        return sum(len(b.text) for b in self.blocks)
