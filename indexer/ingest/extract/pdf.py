"""PDF (pdfplumber; each page is parsed once with ``extract_words(extra_attrs=["size"])``).

Per page: words → lines (by vertical position) → running headers/footers and page numbers
removed → lines joined into paragraphs → blocks with their page.

* Running header/footer: a line in the top or bottom band (``BAND`` of the page height) whose
  text, with digits masked and spaces removed, recurs on ≥ 50 % of pages (documents of ≥ 3
  pages). Lone page numbers (“3”, “- 2 -”, “— 4 —”, “第 3 页”, “3/10”, “Page 3”) are dropped
  when they are in a band or are the first/last line of the page.
* Line joining: a line continues the paragraph when the previous line reaches the body's right
  edge (within 2 character widths), does not end in 。！？；：”」』…, and the next line is not
  indented, not separated by a large gap and has the same font size. When the document indents
  first lines (≥ 60 % of lines after a short line are indented), indentation decides: a full
  line continues even after 。 (a sentence may end exactly at the margin), and a short line
  continues when it is at least half the body width and stops mid-sentence (a long number
  pushed to the next line). Gaps between
  words next to a CJK character narrower than 0.6 em are layout (autospace), not spaces. Chinese lines are joined
  without a space; a space is kept between two Latin words (a hyphen at the line end is kept
  and no space added). Paragraphs continue across page breaks the same way; a block keeps the
  page it starts on.
* Headings: lines larger than the body size (by ≥ 15 %), short, not sentences; level from a
  numbering pattern if there is one, else by size rank (largest = 1). The first line, when it
  is the largest text on page 1 and not numbered, is the TITLE (its size is left out of the
  ranking when nothing else uses it). Numbering patterns in body-size text make headings too
  (see ``_common``).
* Pages without a text layer, or with a garbage one (unmapped glyphs ``(cid:12)``, private-use
  characters: what many scanners add), are OCR'd (``ocr``) when an engine is installed and OCR
  is on; the OCR lines go through the same line joining, furniture removal and heading rules.
  ``meta["ocr"]`` records the engine, the pages and their confidence. Without OCR: no text on any
  page → status “needs_ocr”; some pages without text → a warning naming them.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from statistics import median

from indexer.ingest.extract._common import (
    clean,
    heading_level,
    meaningful_title,
    numbering_level,
    paragraph_blocks,
    pick_title,
)
from indexer.ingest.extract.base import HEADING, TITLE, Block, Extracted
from library.errors import CorruptFileError, EncryptedFileError, FileTooLargeError

BAND = 0.1
STOPS = "。！？；：”」』…!?;:"
_PAGE_NO = re.compile(
    r"^(?:[-—–－~·•\s]*\d{1,4}[-—–－~·•\s]*|第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|(?i:page)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|[ivxlcdm]{1,6})$",
    re.IGNORECASE,
)
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u2e80-\u2fdf]"
_CJK_END = re.compile(rf"{_CJK}$")
_CJK_START = re.compile(rf"^{_CJK}")
_LATIN_END = re.compile(r"[A-Za-z0-9]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9]")

_GARBAGE = re.compile(r"\(cid:\d+\)|[\ue000-\uf8ff\ufffd\x00-\x08\x0e-\x1f]")


def _garbage(lines: list[_Line]) -> bool:
    """A text layer that is not text: mostly unmapped glyphs or private-use characters."""
    text = "".join(ln.text for ln in lines)
    if len(text) < 20:
        return False
    bad = sum(len(m) for m in _GARBAGE.findall(text))
    return bad > 0.3 * len(text)


NO_TEXT_LAYER_AFTER_OCR = (
    "此 PDF 没有文字层（可能是扫描件），文字识别（OCR）也没有识别出文字（可能是图片、"
    "图表或空白页）。请换用更清晰的扫描件，或上传原始 Word 文件。"
)
NO_TEXT_LAYER = (
    "此 PDF 没有文字层（可能是扫描件），无法提取文字。"
    "请先做文字识别（OCR）后再上传，或上传原始 Word 文件。"
)


class _Line:
    __slots__ = ("text", "x0", "x1", "top", "bottom", "size", "page")

    def __init__(self, words: list[dict], page: int):
        words.sort(key=lambda w: w["x0"])
        parts = [words[0]["text"]]
        for a, b in zip(words, words[1:]):
            size = float(a.get("size") or 10)
            cjk_edge = _CJK_END.search(a["text"]) or _CJK_START.match(b["text"])
            # Typographic gaps next to CJK (autospace, justification) are not spaces.
            if not (cjk_edge and b["x0"] - a["x1"] < 0.6 * size):
                parts.append(" ")
            parts.append(b["text"])
        self.text = "".join(parts).strip()
        self.x0 = words[0]["x0"]
        self.x1 = max(w["x1"] for w in words)
        self.top = min(w["top"] for w in words)
        self.bottom = max(w["bottom"] for w in words)
        weights = Counter()
        for w in words:
            weights[round(float(w.get("size") or 0), 1)] += len(w["text"])
        self.size = weights.most_common(1)[0][0] or 10.0
        self.page = page


def _lines(words: list[dict], page: int) -> list[_Line]:
    out: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"], 1), w["x0"])):
        if out:
            last = out[-1]
            ref_top = last[0]["top"]
            tol = max(2.0, 0.5 * float(w.get("size") or 10))
            if abs(w["top"] - ref_top) <= tol:
                last.append(w)
                continue
        out.append([w])
    lines = [_Line(ws, page) for ws in out]
    return [ln for ln in lines if ln.text]


def _mask(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _remove_furniture(pages: list[list[_Line]], heights: list[float]) -> None:
    """Drop running headers/footers and page numbers in place."""

    def in_band(ln: _Line, h: float) -> bool:
        return ln.top < BAND * h or ln.bottom > (1 - BAND) * h

    n = len(pages)
    repeated: set[str] = set()
    if n >= 2:
        seen = Counter()
        for lines, h in zip(pages, heights):
            seen.update({_mask(ln.text) for ln in lines if in_band(ln, h)})
        # on half the pages of a longer document, on both pages of a two-page one
        repeated = {k for k, c in seen.items() if c >= max(2, 0.5 * n) and k}
    for i, (lines, h) in enumerate(zip(pages, heights)):
        keep = []
        for j, ln in enumerate(lines):
            band = in_band(ln, h)
            edge = j == 0 or j == len(lines) - 1
            if band and _mask(ln.text) in repeated:
                continue
            if (band or edge) and _PAGE_NO.match(ln.text.strip()):
                continue
            if (
                j == 0
                and band
                and ln.top < BAND * h
                and len(lines) > 1
                and _same_text(ln.text, lines[1].text)
            ):
                continue  # a running header that repeats the title right below it
            keep.append(ln)
        pages[i] = keep


def _same_text(a: str, b: str) -> bool:
    """The same line, allowing an OCR slip or two (—一 for ——)."""
    from difflib import SequenceMatcher

    a, b = _mask(a), _mask(b)
    return len(a) >= 4 and SequenceMatcher(None, a, b).ratio() >= 0.9


def _body_metrics(lines: list[_Line]) -> tuple[float, float, float]:
    """(body font size, left edge, right edge) from the most common size's lines."""
    sizes = Counter()
    for ln in lines:
        sizes[ln.size] += len(ln.text)
    body = sizes.most_common(1)[0][0]
    body_lines = [ln for ln in lines if abs(ln.size - body) < 0.5] or lines
    lefts = Counter(round(ln.x0) for ln in body_lines)
    # the leftmost edge shared by a tenth of the lines; centred text (a poem, a poster) has
    # none, and then the leftmost edge of all
    left = min(
        (k for k, c in lefts.items() if c >= max(1, 0.1 * len(body_lines))), default=min(lefts)
    )
    rights = sorted(ln.x1 for ln in body_lines)
    right = rights[int(0.9 * (len(rights) - 1))]
    return body, left, right


def _join(prev: str, nxt: str) -> str:
    if _LATIN_END.search(prev) and _LATIN_START.match(nxt):
        return prev + " " + nxt
    return prev + nxt


def _paragraphs(lines: list[_Line], body: float, left: float, right: float):
    """Group lines into (text, first line) paragraphs."""
    paras: list[tuple[str, _Line]] = []
    cur: list[_Line] = []
    gaps = [
        b.top - a.bottom
        for a, b in zip(lines, lines[1:])
        if a.page == b.page
        and abs(a.size - body) < 0.5
        and abs(b.size - body) < 0.5
        and b.top > a.bottom - 1
    ]
    normal_gap = median(gaps) if gaps else body * 0.5
    # Does this document indent first lines? Then indentation alone marks a new paragraph,
    # and a full line ending in 。 is a sentence that happens to end at the margin.
    after_short = [
        b
        for a, b in zip(lines, lines[1:])
        if a.x1 < right - 2 * a.size and abs(b.size - body) < 0.5
    ]
    indents = sum(1 for b in after_short if b.x0 > left + 0.9 * b.size)
    indent_style = len(after_short) >= 3 and indents >= 0.6 * len(after_short)

    def flush():
        if cur:
            text = cur[0].text
            for ln in cur[1:]:
                text = _join(text, ln.text)
            paras.append((text, cur[0]))
            cur.clear()

    for ln in lines:
        if cur:
            prev = cur[-1]
            full = prev.x1 >= right - 2 * prev.size
            indented = ln.x0 > left + 0.9 * ln.size
            same_size = abs(ln.size - prev.size) < 0.5
            if ln.page == prev.page:
                gap_ok = ln.top - prev.bottom <= normal_gap + 0.6 * ln.size
            else:
                gap_ok = True
            ends_sentence = prev.text[-1:] in STOPS
            if indent_style:
                # full line → continues unless the next is indented; short line → continues
                # only when it stops mid-sentence (a number or word pushed to the next line).
                half = prev.x1 >= left + 0.5 * (right - left)
                shape_ok = full or (half and not ends_sentence)
            else:
                shape_ok = full and not ends_sentence
            cont = (
                shape_ok
                and not indented
                and same_size
                and gap_ok
                and abs(prev.size - body) < 0.5
                and not heading_level(ln.text)
            )
            if cont:
                cur.append(ln)
                continue
            flush()
        cur.append(ln)
    flush()
    return paras


def _heading_levels(paras, body: float) -> tuple[dict[float, int], bool]:
    """Heading level per font size (largest = 1), and whether the first paragraph is the
    title (the largest size on page 1, first, not numbered); a size used only by the title is
    left out of the ranking."""
    big = [(text, ln) for text, ln in paras if ln.size >= body * 1.15 and len(text) <= 60]
    sizes = sorted({ln.size for _, ln in big}, reverse=True)
    title = bool(
        paras
        and big
        and paras[0][1] is big[0][1]
        and big[0][1].page == 1
        and big[0][1].size == sizes[0]
        and not numbering_level(clean(big[0][0]))
    )
    if title and sum(1 for _, ln in big if ln.size == sizes[0]) == 1:
        sizes = sizes[1:]
    return {s: i + 1 for i, s in enumerate(sizes[:6])}, title


def _blocks(paras, body: float) -> list[Block]:
    levels, has_title = _heading_levels(paras, body)
    blocks: list[Block] = []
    for i, (text, ln) in enumerate(paras):
        text = clean(text)
        if not text:
            continue
        if i == 0 and has_title:
            blocks.append(Block(text, TITLE, 0, ln.page))
            continue
        lv = levels.get(ln.size)
        if lv and len(text) <= 60 and text[-1] not in "。！？!?":
            # A numbering pattern says more about the level than the font size does.
            blocks.append(Block(text, HEADING, numbering_level(text) or lv, ln.page))
        else:
            blocks.extend(paragraph_blocks(text, ln.page))
    return blocks


def _open_error(exc: Exception) -> Exception:
    chain, e = [], exc
    while e is not None and len(chain) < 10:
        chain.append(type(e).__name__ + " " + str(e))
        e = e.__cause__ or e.__context__
    text = " ".join(chain).lower()
    if "password" in text or "encrypt" in text or "decrypt" in text:
        return EncryptedFileError(
            "PDF 设置了打开密码，无法读取。",
            "请在 PDF 阅读器中取消密码（或另存为无密码的副本）后再上传。",
        )
    return CorruptFileError(
        "PDF 文件已损坏或不完整，无法读取。",
        "请重新下载或导出 PDF 后再上传，或上传原始 Word 文件。",
    )


_MAX_CID = 0xFFFF


def _clamp_width_ranges(seq, group: int) -> list:
    """The tokens of a CID font's /W (group 3) or /W2 (group 5) array with every
    ``c_first c_last …`` range clamped to the CIDs that exist (0–65535). pdfminer fills a dict
    entry per CID of a range, so a forged ``81 999999999 0`` in a 6 KB file took 2.7 GB and
    16 s before failing (found by bench/fuzz.py). Tokens are passed on in pdfminer's order, so
    its grouping of them is unchanged."""
    from pdfminer.pdftypes import resolve1

    out: list = []
    run: list = []
    for v in seq:
        v = resolve1(v)
        if isinstance(v, list):
            out.extend(run)
            out.append(v)
            run = []
        elif isinstance(v, (int, float)):
            run.append(v)
            if len(run) == group:
                if isinstance(run[0], int) and isinstance(run[1], int):
                    run[0], run[1] = max(run[0], 0), min(run[1], _MAX_CID)
                out.extend(run)
                run = []
        else:
            out.append(v)
    return out + run


def _bound_pdfminer_widths() -> None:
    """Install the clamp around pdfminer's width-table builders (once per process)."""
    from pdfminer import pdffont

    if getattr(pdffont.get_widths, "_lecturelib_bounded", False):
        return
    plain, vertical = pdffont.get_widths, pdffont.get_widths2

    def get_widths(seq):
        return plain(_clamp_width_ranges(seq, 3))

    def get_widths2(seq):
        return vertical(_clamp_width_ranges(seq, 5))

    get_widths._lecturelib_bounded = get_widths2._lecturelib_bounded = True
    pdffont.get_widths, pdffont.get_widths2 = get_widths, get_widths2


_CYCLES = [0]  # circular references met in this process (see below)


def _bound_pdfminer_references() -> None:
    """Make pdfminer's indirect references cycle-proof (once per process). ``resolve1`` follows
    a reference to a reference for as long as there is one, so a stream whose ``/Length`` is
    ``7 0 R`` with ``7 0 obj 8 0 R`` and ``8 0 obj 7 0 R`` (571 bytes) spun a worker until its
    600 s limit. A chain that comes back to an object already on it is now a syntax error,
    which the extractor reports as a damaged PDF at once."""
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.pdftypes import PDFObjectNotFound, PDFObjRef

    if getattr(PDFObjRef.resolve, "_lecturelib_bounded", False):
        return

    def resolve(self, default=None):
        seen: set = set()
        x = self
        while isinstance(x, PDFObjRef):
            if x.objid in seen or len(seen) > 64:
                _CYCLES[0] += 1
                raise PDFSyntaxError(f"circular indirect reference at object {x.objid}")
            seen.add(x.objid)
            if x.doc is None:
                return default
            try:
                x = x.doc.getobj(x.objid)
            except PDFObjectNotFound:
                return default
        return x

    resolve._lecturelib_bounded = True
    PDFObjRef.resolve = resolve


def extract(data: bytes, limits) -> Extracted:
    import logging

    import pdfplumber

    _bound_pdfminer_widths()
    _bound_pdfminer_references()

    # pdfminer logs font-descriptor quirks of ordinary files as warnings; they are not the
    # user's business (problems that matter surface as our own errors or warnings)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)

    cycles = _CYCLES[0]
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        n = len(pdf.pages)
    except Exception as exc:  # pdfminer raises many kinds: PSEOF, PDFSyntaxError, …
        raise _open_error(exc) from None
    if n > limits.max_pages:
        pdf.close()
        raise FileTooLargeError(
            f"PDF 页数太多（{n} 页），超过上限 {limits.max_pages} 页。",
            "请拆分成几个较小的文件后再上传。",
        )
    pages: list[list[_Line]] = []
    heights: list[float] = []
    empty: list[int] = []
    try:
        meta_title = (pdf.metadata or {}).get("Title")
        if isinstance(meta_title, bytes):
            meta_title = meta_title.decode("utf-8", "ignore")
        for i, page in enumerate(pdf.pages, start=1):
            words = page.extract_words(extra_attrs=["size"], keep_blank_chars=False)
            lines = _lines(words, i)
            if not lines or _garbage(lines):
                lines = []
                empty.append(i)
            pages.append(lines)
            heights.append(float(page.height))
            page.flush_cache()
    except Exception as exc:
        raise _open_error(exc) from None
    finally:
        pdf.close()
    if _CYCLES[0] != cycles:
        # pdfminer skips what it cannot resolve: pages would look empty ("scanned"), but the
        # file is damaged, and saying so tells the user what to do
        raise CorruptFileError(
            "PDF 文件结构有误（对象之间循环引用），无法可靠读取。",
            "请用 PDF 阅读器“另存为”一份新的 PDF，或上传原始 Word 文件。",
        )
    warnings = []
    meta = {}
    ocr_mode = getattr(limits, "ocr", "auto")
    if empty:  # switched off or no engine: a warning says how to switch it on / install one
        done = _ocr_pages(data, empty, pages, heights, ocr_mode, limits, warnings, meta)
        empty = [p for p in empty if p not in done]
    if len(empty) == n:
        first = NO_TEXT_LAYER_AFTER_OCR if meta.get("ocr_tried") else NO_TEXT_LAYER
        meta.pop("ocr_tried", None)
        return Extracted(format="pdf", pages=n, status="needs_ocr", warnings=[first] + warnings)
    ocr_tried = meta.pop("ocr_tried", False)
    _remove_furniture(pages, heights)
    lines = [ln for page in pages for ln in page]
    if empty:
        listed = "、".join(str(p) for p in empty[:20]) + ("等" if len(empty) > 20 else "")
        if ocr_tried:  # OCR found nothing there either: asking for OCR would send them in circles
            warnings.append(
                f"第 {listed} 页没有文字层，文字识别（OCR）也没有识别出文字（可能是图片、图表或"
                "空白页），这些页的内容未能提取；如这些页有文字，请换用更清晰的扫描件。"
            )
        else:
            warnings.append(
                f"第 {listed} 页没有文字层（可能是扫描图片或空白页），这些页的内容未能提取；"
                "如有需要，请先做文字识别（OCR）。"
            )
    if not lines:
        return Extracted(format="pdf", pages=n, warnings=warnings, meta=meta)
    body, left, right = _body_metrics(lines)
    blocks = _blocks(_paragraphs(lines, body, left, right), body)
    title = meaningful_title(meta_title if isinstance(meta_title, str) else None)
    return Extracted(
        format="pdf",
        blocks=blocks,
        title=title or pick_title(None, blocks),
        pages=n,
        warnings=warnings,
        meta=meta,
    )


def blocks_of(pages: list[list[_Line]], heights: list[float]) -> list[Block]:
    """Blocks of pages of lines (the image extractor's way into the rules above)."""
    _remove_furniture(pages, heights)
    lines = [ln for page in pages for ln in page]
    if not lines:
        return []
    body, left, right = _body_metrics(lines)
    return _blocks(_paragraphs(lines, body, left, right), body)


def ocr_body_size(ocr_pages) -> float | None:
    """The median OCR line height over all OCR'd pages of a document (one body size for the
    whole document: per-page medians differ by a point and would split paragraphs)."""
    sizes = sorted(w["size"] for p in ocr_pages for w in p.words)
    return sizes[len(sizes) // 2] if sizes else None


def ocr_lines(page, body: float | None = None) -> list[_Line]:
    """An OCR page's lines as the extractor's lines. OCR box heights jitter with the glyphs in
    the line (±20 %), and body size and headings are told apart by size: a line within 25 % of
    the page's median height gets the body size, others their own size on a 1-pt grid."""
    if not page.words:
        return []
    if body is None:
        sizes = sorted(w["size"] for w in page.words)
        body = sizes[len(sizes) // 2]
    words = [
        dict(
            w,
            size=float(
                round(body) if abs(w["size"] - body) <= 0.25 * body else max(1, round(w["size"]))
            ),
        )
        for w in page.words
    ]
    return [_Line([w], page.number) for w in sorted(words, key=lambda w: (w["top"], w["x0"]))]


def _ocr_pages(data, numbers, pages, heights, mode, limits, warnings, meta) -> set[int]:
    """OCR the pages ``numbers`` in place; returns the pages that got text. Without an engine,
    says how to install one (the caller then reports needs_ocr / the empty pages)."""
    from indexer.ingest.extract import ocr

    try:
        engine = ocr.engine(mode)
    except ocr.OcrUnavailable as e:
        warnings.append(f"{e.message}{e.hint}")
        return set()
    progress = getattr(limits, "progress", None)
    meta["ocr_tried"] = True
    done, conf, read = set(), {}, []
    for k, (number, image) in enumerate(ocr.pdf_page_images(data, numbers)):
        if progress:
            progress("ocr", k, len(numbers))  # before each page: its own time limit
        read.append(ocr.read_page(engine, image, number, ocr.DPI))
    body = ocr_body_size(read)
    for page in read:
        lines = ocr_lines(page, body)
        if lines:
            pages[page.number - 1] = lines
            heights[page.number - 1] = page.height or heights[page.number - 1]
            done.add(page.number)
            conf[page.number] = round(page.confidence, 3)
    if progress:
        progress("ocr", len(numbers), len(numbers))
    ocr.describe(meta, engine.name, conf, warnings)
    return done


__all__ = ["extract", "blocks_of", "ocr_lines", "NO_TEXT_LAYER"]
