"""Word 97–2003 binary .doc (and WPS files saved in that format), read with olefile only.

The text comes from the piece table: FIB (``WordDocument`` stream) → ``fcClx``/``lcbClx`` in
the table stream (``1Table`` or ``0Table`` per ``fWhichTblStm``) → CLX (Prc entries skipped,
then the PlcPcd) → each piece as 8-bit cp1252 (“compressed”) or UTF-16LE. The main document is
the first ``ccpText`` characters; footnotes follow (``ccpFtn``) and become FOOTNOTE blocks.

Special characters: ``\\r`` ends a paragraph; ``\\x07`` ends a table cell, and a second
``\\x07`` right after one ends the row (so an *empty* cell is mistaken for a row end — the
price of not parsing paragraph properties); ``\\x0b`` is a line break; field codes between
``\\x13`` and ``\\x14`` are dropped and the result up to ``\\x15`` kept; object anchors
(``\\x01 \\x08``), footnote marks (``\\x02``) and other controls go. Paragraphs inside a table
cell that end in ``\\r`` (all but the cell's last) become paragraphs of their own. Headings
come only from numbering patterns; the title from the summary information, else a short
first line. Word 6/95 files (nFib < 101) are refused with a hint to re-save.
"""

from __future__ import annotations

import struct

from library.errors import CorruptFileError, EncryptedFileError, UnsupportedFormatError

from ._common import (clean, paragraph_blocks, pick_title,
                      promote_first_line_title)
from .base import FOOTNOTE, TABLE_ROW, Block, Extracted

_CORRUPT = ("Word 文档已损坏，无法读取（.doc 内部结构不完整）。",
            "请用 Word 或 WPS 打开后另存为 .docx 再上传。")
_DROP = {chr(c) for c in (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x1F)}


def _corrupt() -> CorruptFileError:
    return CorruptFileError(*_CORRUPT)


def _fib(word: bytes) -> dict:
    if len(word) < 0x200:
        raise _corrupt()
    ident, nfib = struct.unpack_from("<HH", word, 0)
    if ident != 0xA5EC:
        raise _corrupt()
    flags = struct.unpack_from("<H", word, 0x0A)[0]
    if flags & 0x0100 or flags & 0x8000:  # fEncrypted, fObfuscated
        raise EncryptedFileError("Word 文档设置了打开密码，无法读取。",
                                 "请在 Word/WPS 中取消密码后另存为 .docx 再上传。")
    if nfib < 101:
        raise UnsupportedFormatError("这是 Word 95 或更早版本的文档，暂不支持。",
                                     "请用 Word 或 WPS 打开后另存为 .docx 再上传。")
    pos = 32
    csw = struct.unpack_from("<H", word, pos)[0]
    pos += 2 + 2 * csw
    cslw = struct.unpack_from("<H", word, pos)[0]
    lw = pos + 2
    ccp_text, ccp_ftn = struct.unpack_from("<ii", word, lw + 12)
    pos = lw + 4 * cslw
    cb = struct.unpack_from("<H", word, pos)[0]
    blob = pos + 2
    if cb <= 33 or blob + 8 * 34 > len(word):
        raise _corrupt()
    fc_clx, lcb_clx = struct.unpack_from("<II", word, blob + 8 * 33)
    return {"table": "1Table" if flags & 0x0200 else "0Table", "ccp_text": max(ccp_text, 0),
            "ccp_ftn": max(ccp_ftn, 0), "fc_clx": fc_clx, "lcb_clx": lcb_clx}


def _pieces(table: bytes, fc: int, lcb: int) -> list[tuple[int, int, int, bool]]:
    """(cp_start, cp_end, byte offset, compressed) for each piece."""
    clx = table[fc: fc + lcb]
    if len(clx) < lcb or lcb == 0:
        raise _corrupt()
    i = 0
    while i < len(clx) and clx[i] == 0x01:  # Prc: skip its grpprl
        cb = struct.unpack_from("<h", clx, i + 1)[0]
        i += 3 + max(cb, 0)
    if i >= len(clx) or clx[i] != 0x02:
        raise _corrupt()
    size = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5: i + 5 + size]
    if len(plc) < size or (size - 4) % 12:
        raise _corrupt()
    n = (size - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for k in range(n):
        raw_fc = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)[0]
        compressed = bool(raw_fc & 0x40000000)
        off = raw_fc & 0x3FFFFFFF
        out.append((cps[k], cps[k + 1], off // 2 if compressed else off, compressed))
    return out


def _text(word: bytes, pieces, start: int, end: int) -> str:
    """Characters [start, end) of the document's character stream."""
    parts: list[str] = []
    for cp0, cp1, off, compressed in pieces:
        lo, hi = max(cp0, start), min(cp1, end)
        if hi <= lo:
            continue
        count = hi - lo
        off += (lo - cp0) * (1 if compressed else 2)
        if compressed:
            raw = word[off: off + count]
            parts.append(raw.decode("cp1252", errors="replace"))
        else:
            raw = word[off: off + 2 * count]
            parts.append(raw.decode("utf-16-le", errors="replace"))
        if len(raw) < (count if compressed else 2 * count):
            raise _corrupt()
    return "".join(parts)


def _strip_fields(text: str) -> str:
    """Drop field codes (\\x13 … \\x14), keep field results (\\x14 … \\x15)."""
    out: list[str] = []
    stack: list[bool] = []  # per open field: True while in its code part
    for ch in text:
        if ch == "\x13":
            stack.append(True)
        elif ch == "\x14":
            if stack:
                stack[-1] = False
        elif ch == "\x15":
            if stack:
                stack.pop()
        elif not any(stack):
            out.append(ch)
    return "".join(out)


def _main_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    cells: list[str] = []
    buf: list[str] = []
    prev_cell_end = False
    for ch in text:
        if ch == "\x07":
            seg = "".join(buf)
            buf.clear()
            if prev_cell_end and not seg.strip():
                row = "\t".join(cells).strip("\t")
                if row.strip():
                    blocks.append(Block(row, TABLE_ROW))
                cells.clear()
                prev_cell_end = False
                continue
            cells.append(clean(seg))
            prev_cell_end = True
            continue
        if ch in "\r\x0c":
            if cells:  # a row left open: flush it
                row = "\t".join(cells).strip("\t")
                if row.strip():
                    blocks.append(Block(row, TABLE_ROW))
                cells.clear()
            blocks.extend(paragraph_blocks("".join(buf)))
            buf.clear()
            prev_cell_end = False
            continue
        prev_cell_end = False
        if ch == "\x0b":
            buf.append("\n")
        elif ch == "\x1e":
            buf.append("-")
        elif ch not in _DROP:
            buf.append(ch)
    if cells:
        blocks.append(Block("\t".join(cells).strip("\t"), TABLE_ROW))
    blocks.extend(paragraph_blocks("".join(buf)))
    return [b for b in blocks if b.text]


def extract(data: bytes, limits) -> Extracted:
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except Exception:  # olefile: OSError, struct.error, IndexError on damaged containers
        raise _corrupt() from None
    try:
        if not ole.exists("WordDocument"):
            raise UnsupportedFormatError("这不是 Word 文档（缺少正文数据）。",
                                         "请用 WPS 或 Office 另存为 .docx 后再上传。")
        word = ole.openstream("WordDocument").read()
        fib = _fib(word)
        if not ole.exists(fib["table"]):
            raise _corrupt()
        table = ole.openstream(fib["table"]).read()
        pieces = _pieces(table, fib["fc_clx"], fib["lcb_clx"])
        ccp = fib["ccp_text"]
        main = _strip_fields(_text(word, pieces, 0, ccp))
        notes = _strip_fields(_text(word, pieces, ccp, ccp + fib["ccp_ftn"]))
        meta_title = author = None
        try:
            meta = ole.get_metadata()
            meta_title = _decode_meta(meta.title)
            author = _decode_meta(meta.author)
        except Exception:  # metadata is optional; a broken property set is not fatal
            pass
    except (EncryptedFileError, UnsupportedFormatError, CorruptFileError):
        raise
    except (struct.error, OSError, IndexError, ValueError, KeyError):
        raise _corrupt() from None
    finally:
        ole.close()
    blocks = _main_blocks(main)
    promote_first_line_title(blocks)
    for note in notes.split("\r"):
        note = clean("".join(ch for ch in note if ch not in _DROP and ch != "\x07"))
        if note:
            blocks.append(Block(note, FOOTNOTE))
    return Extracted(format="doc", blocks=blocks, title=pick_title(meta_title, blocks),
                     meta={"author": author} if author else {})


def _decode_meta(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        for enc in ("utf-8", "gb18030", "cp1252"):
            try:
                return value.decode(enc).strip("\x00 ")
            except UnicodeDecodeError:
                continue
        return None
    return str(value)


__all__ = ["extract"]
