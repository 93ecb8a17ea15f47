"""Plain text (.txt) and Markdown (.md).

Decoding: see ``_decode`` (BOM, UTF-8, UTF-16, cp1252, GB18030); ``meta["encoding"]`` records
it, and a warning says when the text was read as Western (cp1252). Line ends → LF.

txt: every non-empty line is a paragraph (Chinese text files put one paragraph per line);
numbering patterns make headings; a short first line is the TITLE.
md: blank lines separate paragraphs (lines of one paragraph are joined — without a space
between CJK characters); ``#`` and setext (``===``/``---`` underlined) headings with their level
(the first level-1 heading is the title); ``-``/``*``/``+``/``1.`` lists → LIST_ITEM; ``>``
quotes and fenced code as paragraphs; tables → TABLE_ROW; ``[^1]: …`` footnotes → FOOTNOTE;
emphasis, inline code and links reduced to their text. Never passage text: YAML (``---``) or
TOML (``+++``) front matter, setext underlines and horizontal rules (also a stray ``===``),
images (``![alt](src)``: the alt text is a caption for the eye, not content), link reference
definitions (``[id]: https://…``), footnote references (``[^1]``), HTML comments, ``[TOC]``
and heading attributes (``{#id}``).
"""

from __future__ import annotations

import re

from indexer.ingest.extract._common import (
    clean,
    paragraph_blocks,
    pick_title,
    promote_first_line_title,
)
from indexer.ingest.extract._decode import decode
from indexer.ingest.extract.base import (
    FOOTNOTE,
    HEADING,
    LIST_ITEM,
    PARA,
    TABLE_ROW,
    Block,
    Extracted,
)

WESTERN = "文本按西文编码（Windows-1252）读取，内容可能不是中文；如出现乱码，请另存为 UTF-8 编码后再上传。"


def _decode(data: bytes) -> tuple[str, dict, list[str]]:
    text, encoding = decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    warnings = [WESTERN] if encoding == "cp1252" and re.search(r"[^\x00-\x7f]", text) else []
    return text, {"encoding": encoding}, warnings


def extract_txt(data: bytes, limits) -> Extracted:
    text, meta, warnings = _decode(data)
    blocks: list[Block] = []
    for line in text.split("\n"):
        blocks.extend(paragraph_blocks(line))
    promote_first_line_title(blocks)
    return Extracted(
        format="txt", blocks=blocks, title=pick_title(None, blocks), meta=meta, warnings=warnings
    )


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_SETEXT = re.compile(r"^(=+|-+)\s*$")
_MD_EQUALS = re.compile(r"^\s{0,3}={3,}\s*$")
_MD_LINK_DEF = re.compile(r"^\s{0,3}\[(?!\^)[^\]]+\]:\s*\S+")
_MD_FOOTNOTE_DEF = re.compile(r"^\s{0,3}\[\^([^\]]+)\]:\s*(.*)$")
_MD_IMAGE_LINE = re.compile(r"^\s*(?:\[?!\[[^\]]*\]\([^)]*\)\]?(?:\([^)]*\))?\s*)+$")
_MD_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD_TOC = re.compile(r"^\s*\[(?:TOC|toc|目录)\]\s*$")
_MD_HEADING_ATTR = re.compile(r"\s*\{[#.][^}]*\}\s*$")
_SETEXT_MAX = 60  # a longer paragraph above “---” is text followed by a rule
_MD_LIST = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CJK_CHAR = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _inline(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images: not text
    text = re.sub(r"\[\^[^\]]+\]", "", text)  # footnote references
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links → label
    text = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", text)  # reference links
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)  # autolinks
    text = re.sub(r"`([^`]+)`", r"\1", text)  # inline code
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)  # bold
    text = re.sub(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])", r"\2", text)  # italic
    text = re.sub(r"~~(.+?)~~", r"\1", text)  # strikethrough
    text = re.sub(r"</?[a-zA-Z][^>]*>", "", text)  # inline html tags
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|>])", r"\1", text)  # escapes


def _join_lines(lines: list[str]) -> str:
    out = ""
    for ln in lines:
        ln = ln.strip()
        if not out:
            out = ln
        elif _CJK_CHAR.match(ln[:1]) or _CJK_CHAR.match(out[-1:]):
            out += ln
        else:
            out += " " + ln
    return out


_FM_KEYS = {
    "title": "title",
    "标题": "title",
    "date": "published",
    "日期": "published",
    "published": "published",
    "source": "source",
    "来源": "source",
}


def _front_matter_fields(lines: list[str]) -> dict[str, str]:
    """title / published / source from front matter lines (``key: value``), quotes removed."""
    out: dict[str, str] = {}
    for ln in lines:
        m = re.match(r"^\s*([\w\u4e00-\u9fff]+)\s*[:=]\s*(.+?)\s*$", ln)
        if m and m.group(1).lower() in _FM_KEYS:
            value = m.group(2).strip().strip("\"'")
            if value:
                out.setdefault(_FM_KEYS[m.group(1).lower()], value)
    return out


def _front_matter_end(lines: list[str]) -> int:
    """The index of the first line after YAML (---) or TOML (+++) front matter, else 0."""
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None or lines[first].strip() not in ("---", "+++"):
        return 0
    fence = lines[first].strip()
    closers = ("---", "...") if fence == "---" else ("+++",)
    end = next(
        (i for i in range(first + 1, min(len(lines), first + 200)) if lines[i].strip() in closers),
        None,
    )
    if end is None:
        return 0
    body = [ln for ln in lines[first + 1 : end] if ln.strip()]
    # front matter is key: value (or key = value) lines; a rule above a paragraph is not
    if body and all(re.match(r"^\s*(?:[\w\-\u4e00-\u9fff]+\s*[:=]|[-#]|\s)", ln) for ln in body):
        return end + 1
    return 0


def extract_md(data: bytes, limits) -> Extracted:
    text, meta, warnings = _decode(data)
    text = _MD_COMMENT.sub("", text.lstrip("\ufeff"))
    lines = text.split("\n")
    cut = _front_matter_end(lines)
    fields = _front_matter_fields(lines[:cut])
    lines = lines[cut:]
    meta.update({k: v for k, v in fields.items() if k in ("published", "source")})
    blocks: list[Block] = []
    notes: list[Block] = []
    para: list[str] = []

    def flush():
        if para:
            blocks.extend(paragraph_blocks(_inline(_join_lines(para))))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            flush()
            fence, code = stripped[:3], []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            body = clean("\n".join(code))
            if body:
                blocks.append(Block(body, PARA))
        elif (
            para
            and _MD_SETEXT.match(stripped)
            and len(_join_lines(para)) <= _SETEXT_MAX
            and not (stripped[0] == "-" and _join_lines(para)[-1:] in "。！？!?；;")
        ):
            t = clean(_inline(_join_lines(para)))
            para.clear()
            if t:
                blocks.append(Block(t, HEADING, 1 if stripped[0] == "=" else 2))
        elif (
            not stripped
            or _MD_RULE.match(line)
            or _MD_EQUALS.match(line)
            or _MD_TOC.match(line)
            or _MD_LINK_DEF.match(line)
            or _MD_IMAGE_LINE.match(line)
        ):
            flush()
        elif m := _MD_FOOTNOTE_DEF.match(line):
            flush()
            t = clean(_inline(m.group(2)))
            if t:
                notes.append(Block(t, FOOTNOTE))
        elif m := _MD_HEADING.match(stripped):
            flush()
            t = clean(_inline(_MD_HEADING_ATTR.sub("", m.group(2))))
            if t:
                blocks.append(Block(t, HEADING, len(m.group(1))))
        elif m := _MD_LIST.match(line):
            flush()
            t = clean(_inline(m.group(1)))
            if t:
                blocks.append(Block(t, LIST_ITEM))
        elif stripped.startswith("|") and "|" in stripped[1:]:
            flush()
            if not _MD_TABLE_SEP.match(stripped):
                cells = [clean(_inline(c)) for c in stripped.strip("|").split("|")]
                row = "\t".join(cells).strip("\t")
                if row.strip():
                    blocks.append(Block(row, TABLE_ROW))
        elif m := _MD_QUOTE.match(line):
            inner = re.sub(r"^(?:\s{0,3}>\s?)+", "", m.group(1))
            if inner.strip():
                para.append(inner)
            else:
                flush()
        else:
            para.append(line)
        i += 1
    flush()
    blocks.extend(notes)
    title = next((b.text for b in blocks if b.kind == HEADING and b.level == 1), None) or (
        clean(fields["title"]) if fields.get("title") else None
    )
    return Extracted(
        format="md",
        blocks=blocks,
        title=title or pick_title(None, blocks),
        meta=meta,
        warnings=warnings,
    )


__all__ = ["extract_txt", "extract_md"]
