"""Word 97–2003 binary .doc (and WPS files saved in that format), read with olefile only.

The text comes from the piece table: FIB (``WordDocument`` stream) → ``fcClx``/``lcbClx`` in
the table stream (``1Table`` or ``0Table`` per ``fWhichTblStm``) → CLX (Prc entries skipped,
then the PlcPcd) → each piece as 8-bit cp1252 (“compressed”) or UTF-16LE. The main document is
the first ``ccpText`` characters; footnotes follow (``ccpFtn``) and become FOOTNOTE blocks.

Special characters: ``\\r`` ends a paragraph; ``\\x07`` ends a table cell, and the row ends
with one more ``\\x07`` whose paragraph properties say “table terminating paragraph”
(sprmPFTtp); ``\\x0b`` is a line break; field codes between ``\\x13`` and ``\\x14`` are dropped
and the result up to ``\\x15`` kept; object anchors (``\\x01 \\x08``), footnote marks
(``\\x02``) and other controls go.

Tables come out as the .docx extractor gives them: one TABLE_ROW block per row, cells cleaned
and joined by a tab, empty cells kept in place, the paragraphs of one cell joined by a space
(nested tables flattened into their cell). Which ``\\x07`` ends a row and which ``\\r`` sits
inside a cell is read from the paragraph properties (the PAPX FKPs that ``PlcfBtePapx`` points
to: sprmPFInTable, sprmPFTtp, sprmPFInnerTtp). A file whose properties cannot be read falls
back to guessing from the marks alone (two ``\\x07`` in a row end the row, so an empty cell is
then taken for a row end). Headings come only from numbering patterns; the title from the
summary information, else a short first line. Word 6/95 files (nFib < 101) are refused with a
hint to re-save.
"""

from __future__ import annotations

import bisect
import struct

from indexer.ingest.extract._common import (
    clean,
    paragraph_blocks,
    pick_title,
    promote_first_line_title,
)
from indexer.ingest.extract.base import FOOTNOTE, TABLE_ROW, Block, Extracted
from library.errors import CorruptFileError, EncryptedFileError, UnsupportedFormatError

_CORRUPT = (
    "Word 文档已损坏，无法读取（.doc 内部结构不完整）。",
    "请用 Word 或 WPS 打开后另存为 .docx 再上传。",
)
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
        raise EncryptedFileError(
            "Word 文档设置了打开密码，无法读取。", "请在 Word/WPS 中取消密码后另存为 .docx 再上传。"
        )
    if nfib < 101:
        raise UnsupportedFormatError(
            "这是 Word 95 或更早版本的文档，暂不支持。",
            "请用 Word 或 WPS 打开后另存为 .docx 再上传。",
        )
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
    fc_papx, lcb_papx = struct.unpack_from("<II", word, blob + 8 * 13)  # PlcfBtePapx
    return {
        "table": "1Table" if flags & 0x0200 else "0Table",
        "ccp_text": max(ccp_text, 0),
        "ccp_ftn": max(ccp_ftn, 0),
        "fc_clx": fc_clx,
        "lcb_clx": lcb_clx,
        "fc_papx": fc_papx,
        "lcb_papx": lcb_papx,
    }


def _pieces(table: bytes, fc: int, lcb: int) -> list[tuple[int, int, int, bool]]:
    """(cp_start, cp_end, byte offset, compressed) for each piece."""
    clx = table[fc : fc + lcb]
    if len(clx) < lcb or lcb == 0:
        raise _corrupt()
    i = 0
    while i < len(clx) and clx[i] == 0x01:  # Prc: skip its grpprl
        cb = struct.unpack_from("<h", clx, i + 1)[0]
        i += 3 + max(cb, 0)
    if i >= len(clx) or clx[i] != 0x02:
        raise _corrupt()
    size = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5 : i + 5 + size]
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


def _text(word: bytes, pieces, start: int, end: int, paras: _Paragraphs | None = None) -> str:
    """Characters [start, end) of the document's character stream. With ``paras``, a ``\\x07``
    that ends a table row becomes ``ROW_END`` and a ``\\r`` inside a table cell a space."""
    parts: list[str] = []
    for cp0, cp1, off, compressed in pieces:
        lo, hi = max(cp0, start), min(cp1, end)
        if hi <= lo:
            continue
        count = hi - lo
        off += (lo - cp0) * (1 if compressed else 2)
        if compressed:
            raw = word[off : off + count]
            piece = raw.decode("cp1252", errors="replace")
        else:
            raw = word[off : off + 2 * count]
            piece = raw.decode("utf-16-le", errors="replace")
        if len(raw) < (count if compressed else 2 * count):
            raise _corrupt()
        if paras is not None:
            piece = paras.mark(piece, off, 1 if compressed else 2)
        parts.append(piece)
    return "".join(parts)


# -- paragraph properties: which paragraph marks belong to a table ---------------------------------

ROW_END = "\x00"  # stands for a row-ending \x07 between _text and _main_blocks
_IN_TABLE, _ROW_END = 1, 2
_SPRM_FLAGS = {
    0x2416: _IN_TABLE,
    0x2417: _ROW_END,
    0x244C: _ROW_END,
}  # PFInTable, PFTtp, PFInnerTtp
_SPRM_ITAP = 0x6649  # table depth (≥ 1 inside a table)
_OPERAND = {0: 1, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 3}  # operand size by spra (sprm >> 13)


def _table_flags(grpprl: bytes) -> int:
    """_IN_TABLE / _ROW_END from a paragraph's sprms (the rest are skipped)."""
    flags, i = 0, 0
    while i + 2 <= len(grpprl):
        sprm = struct.unpack_from("<H", grpprl, i)[0]
        i += 2
        spra = sprm >> 13
        if spra == 6:  # variable length
            if sprm == 0xD608:  # sprmTDefTable: 2-byte size, plus one
                if i + 2 > len(grpprl):
                    break
                size = struct.unpack_from("<H", grpprl, i)[0] + 1
            elif i < len(grpprl) and not (sprm == 0xC615 and grpprl[i] == 255):
                size = grpprl[i] + 1
            else:
                break  # sprmPChgTabs' long form: stop here
        else:
            size = _OPERAND[spra]
        if i + size > len(grpprl):
            break
        if sprm in _SPRM_FLAGS and grpprl[i]:
            flags |= _SPRM_FLAGS[sprm] | _IN_TABLE
        elif sprm == _SPRM_ITAP and struct.unpack_from("<i", grpprl, i)[0] > 0:
            flags |= _IN_TABLE
        i += size
    return flags


class _Paragraphs:
    """The table flags of each paragraph, by the file offset of its text, from the PAPX FKPs
    (512-byte pages in the WordDocument stream listed by PlcfBtePapx in the table stream)."""

    def __init__(self, word: bytes, table: bytes, fc: int, lcb: int):
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.flags: list[int] = []
        plc = table[fc : fc + lcb]
        if lcb < 12 or len(plc) < lcb or (lcb - 4) % 8:
            raise ValueError("no PlcfBtePapx")
        n = (lcb - 4) // 8
        for k in range(n):
            pn = struct.unpack_from("<I", plc, 4 * (n + 1) + 4 * k)[0] & 0x3FFFFF
            page = word[pn * 512 : pn * 512 + 512]
            if len(page) < 512:
                raise ValueError("FKP out of range")
            crun = page[511]
            fcs = struct.unpack_from(f"<{crun + 1}I", page, 0)
            for r in range(crun):
                b_offset = page[4 * (crun + 1) + 13 * r] * 2
                flags = 0
                if b_offset:
                    cb = page[b_offset]
                    if cb:
                        grp = page[b_offset + 1 : b_offset + 2 * cb]
                    else:
                        grp = page[b_offset + 2 : b_offset + 2 + 2 * page[b_offset + 1]]
                    flags = _table_flags(grp[2:])  # after the style index
                self.starts.append(fcs[r])
                self.ends.append(fcs[r + 1])
                self.flags.append(flags)
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)
        self.starts = [self.starts[i] for i in order]
        self.ends = [self.ends[i] for i in order]
        self.flags = [self.flags[i] for i in order]
        self.row_ends = 0

    def at(self, fc: int) -> int:
        i = bisect.bisect_right(self.starts, fc) - 1
        return self.flags[i] if i >= 0 and fc < self.ends[i] else 0

    def mark(self, piece: str, off: int, width: int) -> str:
        if "\x07" not in piece and "\r" not in piece:
            return piece.replace(ROW_END, "")
        out = list(piece.replace(ROW_END, " "))
        for k, ch in enumerate(out):
            if ch not in "\x07\r":
                continue
            flags = self.at(off + k * width)
            if ch == "\x07" and flags & _ROW_END:
                out[k] = ROW_END
                self.row_ends += 1
            elif ch == "\r" and flags & _IN_TABLE:
                out[k] = " "
        return "".join(out)


def _paragraphs(word: bytes, table: bytes, fib: dict) -> _Paragraphs | None:
    try:
        return _Paragraphs(word, table, fib["fc_papx"], fib["lcb_papx"])
    except (struct.error, ValueError, IndexError):
        return None


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


def _row(cells: list[str]) -> str:
    return "\t".join(cells).strip("\t")


def _main_blocks(text: str, marked: bool = False) -> list[Block]:
    """Blocks of the main text. ``marked``: row ends were read from the paragraph properties
    (``ROW_END``; every ``\\x07`` is then a cell end); otherwise they are guessed."""
    blocks: list[Block] = []
    cells: list[str] = []
    buf: list[str] = []
    prev_cell_end = False
    for ch in text:
        if marked and ch == "\x07":
            cells.append(clean("".join(buf)))
            buf.clear()
            continue
        if marked and ch == ROW_END:
            if buf:  # text after the last cell mark: a cell of its own
                cells.append(clean("".join(buf)))
                buf.clear()
            if _row(cells).strip():
                blocks.append(Block(_row(cells), TABLE_ROW))
            cells.clear()
            continue
        if ch == "\x07":
            seg = "".join(buf)
            buf.clear()
            if prev_cell_end and not seg.strip():
                row = _row(cells)
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
                row = _row(cells)
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
    if cells and _row(cells).strip():
        blocks.append(Block(_row(cells), TABLE_ROW))
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
            raise UnsupportedFormatError(
                "这不是 Word 文档（缺少正文数据）。", "请用 WPS 或 Office 另存为 .docx 后再上传。"
            )
        word = ole.openstream("WordDocument").read()
        fib = _fib(word)
        if not ole.exists(fib["table"]):
            raise _corrupt()
        table = ole.openstream(fib["table"]).read()
        pieces = _pieces(table, fib["fc_clx"], fib["lcb_clx"])
        ccp = fib["ccp_text"]
        paras = _paragraphs(word, table, fib)
        main = _strip_fields(_text(word, pieces, 0, ccp, paras))
        # properties that name no row end while the text has cell marks cannot be trusted
        marked = paras is not None and paras.row_ends > 0
        if paras is not None and not marked:
            main = main.replace(ROW_END, "")
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
    blocks = _main_blocks(main, marked)
    promote_first_line_title(blocks)
    for note in notes.split("\r"):
        note = clean("".join(ch for ch in note if ch not in _DROP and ch != "\x07"))
        if note:
            blocks.append(Block(note, FOOTNOTE))
    return Extracted(
        format="doc",
        blocks=blocks,
        title=pick_title(meta_title, blocks),
        meta={"author": author} if author else {},
    )


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
