"""A saved web article (.html), parsed with lxml.html.

Charset: BOM, else ``<meta charset>`` / ``http-equiv`` content-type, else the text decoding
rules of ``_decode``. Main text, not the page around it: script/style/nav/header/footer/aside/
form and elements whose class or id name navigation, menus, footers, sidebars, comments,
sharing or breadcrumbs are dropped; then the content root is ``<article>``, else ``<main>``,
else the element whose direct ``<p>`` children hold the most CJK text, else ``<body>``.
h1–h6 → HEADING (level = the tag's number), li → LIST_ITEM, tr → TABLE_ROW, p/div text and
other block text → PARA, in document order. Title: ``<title>`` (site suffix after “_”, “|”,
“-” removed when the rest is long enough), else the first h1.

A saved news article keeps where and when it was published even when that line sits outside
the content root (a “来源：… 发布时间：…” bar above the text, a ``<p class="source">西江日报
2024年5月4日</p>``) or only in ``<meta>`` tags: ``meta["source"]`` and ``meta["published"]``
(raw text; structuring reads the date from it). The source comes from a source meta tag or a
“来源：” line, never from the site name alone; the date from a publication meta tag or a
short date line in the page's info bar.
"""

from __future__ import annotations

import codecs
import re

from indexer.ingest.extract._common import clean, paragraph_blocks, pick_title
from indexer.ingest.extract._decode import decode
from indexer.ingest.extract.base import HEADING, LIST_ITEM, TABLE_ROW, Block, Extracted
from library.errors import CorruptFileError

_DROP_TAGS = {
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "textarea",
    "iframe",
    "svg",
    "template",
    "head",
}
_NOISE = re.compile(
    r"(?:^|[\s_-])(nav|navbar|menu|footer|foot|sidebar|side-bar|comment|comments|"
    r"share|sharing|breadcrumb|crumb|toolbar|advert|ads|related|recommend|"
    r"copyright|login)(?:$|[\s_-])",
    re.I,
)
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "blockquote",
    "pre",
    "td",
    "th",
    "dd",
    "dt",
    "figcaption",
    "center",
    "address",
}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Characters XML cannot hold: lxml parses them but refuses them when a tree is edited
# (drop_tree), so a saved page with one stray control character would fail as “corrupt”.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def _decode_html(data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode(data)
    m = _META_CHARSET.search(data[:4096])
    if m:
        name = m.group(1).decode("ascii").lower()
        if name in ("gb2312", "gbk", "x-gbk"):
            name = "gb18030"  # supersets: GB2312 pages routinely contain GBK characters
        try:
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(data)


def _noise(el) -> bool:
    if el.tag in _DROP_TAGS:
        return True
    attrs = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}"
    return bool(attrs.strip()) and bool(_NOISE.search(attrs)) and el.tag not in ("body", "html")


def _content_root(body):
    for tag in ("article", "main"):
        found = [e for e in body.iter(tag)]
        if found:
            return max(found, key=lambda e: len(_CJK.findall(e.text_content())))
    best, best_score = body, 0
    for el in body.iter("div", "section", "td"):
        score = sum(len(_CJK.findall(p.text_content())) for p in el if p.tag == "p")
        if score > best_score:
            best, best_score = el, score
    return best if best_score >= 50 else body


class _Collector:
    def __init__(self):
        self.blocks: list[Block] = []
        self.buf: list[str] = []

    def flush(self):
        text = "".join(self.buf)
        self.buf.clear()
        self.blocks.extend(paragraph_blocks(text))

    def walk(self, el):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag and _noise(el):
            self._tail(el)
            return
        if tag in _HEADINGS:
            self.flush()
            t = clean(el.text_content()).replace("\n", " ")
            if t:
                self.blocks.append(Block(t, HEADING, _HEADINGS[tag]))
        elif tag == "li":
            self.flush()
            t = clean(el.text_content())
            if t:
                self.blocks.append(Block(t, LIST_ITEM))
        elif tag == "tr":
            self.flush()
            cells = [
                clean(c.text_content()).replace("\n", " ")
                for c in el
                if isinstance(c.tag, str) and c.tag in ("td", "th")
            ]
            row = "\t".join(cells).strip("\t")
            if row.strip():
                self.blocks.append(Block(row, TABLE_ROW))
        elif tag == "br":
            self.flush()
        elif tag:
            block = tag in _BLOCK_TAGS
            if block:
                self.flush()
            if el.text:
                self.buf.append(el.text)
            for child in el:
                self.walk(child)
            if block:
                self.flush()
        self._tail(el)

    def _tail(self, el):
        if el.tail:
            self.buf.append(el.tail)


_SOURCE_META = (
    "source",
    "article:source",
    "dc.source",
    "contentsource",
    "citation_publisher",
    "mediaid",
)
_DATE_META = (
    "publishdate",
    "pubdate",
    "publish_date",
    "publishtime",
    "article:published_time",
    "og:release_date",
    "dc.date",
    "dc.date.issued",
    "date",
    "ptime",
    "firstpublishedtime",
    "citation_publication_date",
)
_INFO_CLASS = re.compile(
    r"(?:^|[\s_-])(info|meta|source|time|date|pubtime|publish|author|"
    r"article-info|art-info|sub-title|subtitle)(?:$|[\s_-])",
    re.I,
)
_DATE_TEXT = re.compile(
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
    r"(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
_SOURCE_LABEL = re.compile(r"(?:稿件|信息|文章|新闻)?来\s*源\s*[：:]\s*([^\s|｜　]{1,30})")


def _published(doc, body) -> dict[str, str]:
    """Where and when the article was published: meta tags first, then the page's info bar."""
    out: dict[str, str] = {}
    for m in doc.iter("meta"):
        name = (m.get("name") or m.get("property") or m.get("itemprop") or "").strip().lower()
        content = clean(m.get("content") or "").replace("\n", " ")
        if not content:
            continue
        if name in _SOURCE_META and len(content) <= 40:
            out.setdefault("source", content)
        elif name in _DATE_META and re.search(r"\d{4}", content):
            out.setdefault("published", content)
    # short lines in info bars, or any short line that says “来源：”
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag in _DROP_TAGS:
            continue
        raw = el.text_content()
        if not raw.strip() or len(raw) > 200:
            continue
        attrs = f"{el.get('class', '')} {el.get('id', '')}"
        text = clean(raw).replace("\n", " ")
        if len(text) > 80:
            continue
        src = _SOURCE_LABEL.search(text)
        if src and "source" not in out:
            out["source"] = src.group(1)
        info = bool(_INFO_CLASS.search(attrs)) or bool(src)
        if info and "published" not in out:
            d = _DATE_TEXT.search(text)
            if d:
                out["published"] = d.group(0)
                if "source" not in out:
                    rest = text[: d.start()].strip(" 　|｜")
                    if rest and len(rest) <= 20 and not re.search(r"[：:，。]", rest):
                        out["source"] = rest
        if "source" in out and "published" in out:
            break
    return out


def _page_title(doc) -> str | None:
    t = doc.find(".//title")
    if t is None:
        return None
    title = clean(t.text_content()).replace("\n", " ")
    for sep in ("_", "|", " - ", "—", "－"):
        if sep in title:
            head = title.split(sep)[0].strip()
            if len(head) >= 6:
                return head
    return title or None


def extract(data: bytes, limits) -> Extracted:
    import lxml.html
    from lxml import etree

    text, encoding = _decode_html(data)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input with a declaration
    text = _NOT_XML.sub(" ", text)
    try:
        doc = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        raise CorruptFileError(
            "网页文件无法解析。", "请在浏览器中打开后另存为“网页，仅 HTML”再上传。"
        ) from None
    body = doc.find("body")
    if body is None:
        body = doc
    for el in list(body.iter("script", "style", "noscript", "template")):
        el.drop_tree()
    published = _published(doc, body)
    collector = _Collector()
    collector.walk(_content_root(body))
    collector.flush()
    blocks = collector.blocks
    title = _page_title(doc) or next(
        (b.text for b in blocks if b.kind == HEADING and b.level == 1), None
    )
    return Extracted(
        format="html",
        blocks=blocks,
        title=title or pick_title(None, blocks),
        meta={"encoding": encoding, **published},
    )


__all__ = ["extract"]
