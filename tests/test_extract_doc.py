"""Word 97–2003 .doc extraction from the committed fixtures (made by
tests/fixtures/extract/make_fixtures.py; LibreOffice is not needed at test time)."""

from __future__ import annotations

import struct
from pathlib import Path

import olefile
import pytest

from indexer.ingest.extract import extract, sniff
from indexer.ingest.extract.base import FOOTNOTE, HEADING, PARA, TABLE_ROW, TITLE
from library.errors import CorruptFileError, EncryptedFileError, UnsupportedFormatError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extract"


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_chinese_doc_text_headings_fields_and_footnote():
    ex = extract(_read("zh_text.doc"), "提纲.doc")
    assert ex.format == "doc"
    assert [(b.kind, b.level, b.text) for b in ex.blocks] == [
        (TITLE, 0, "乡村振兴宣讲提纲"),
        (HEADING, 1, "一、总体要求"),
        (PARA, 0, "全面推进乡村振兴，加快建设农业强国。"),
        (HEADING, 2, "（一）坚持农业农村优先发展"),
        (
            PARA,
            0,
            "（一）坚持农业农村优先发展。把“三农”工作作为全党工作的重中之重，"
            "确保国家粮食安全，确保不发生规模性返贫。",
        ),
        (PARA, 0, "详见中国政府网发布的全文。"),  # HYPERLINK field code dropped
        (HEADING, 1, "二、重点任务"),
        (PARA, 0, "发展乡村特色产业，拓宽农民增收致富渠道。"),
        (FOOTNOTE, 0, "出自2024年中央一号文件。"),
    ]
    assert ex.title == "乡村振兴宣讲提纲"


def test_doc_table_rows_between_paragraphs():
    ex = extract(_read("zh_table.doc"))
    assert [(b.kind, b.text) for b in ex.blocks] == [
        (PARA, "主要指标完成情况如下："),
        (TABLE_ROW, "指标\t完成值"),
        (TABLE_ROW, "粮食产量\t1.4万亿斤"),
        (TABLE_ROW, "农民收入增长\t6.3%"),
        (PARA, "以上数据来自统计公报。"),
    ]


def test_doc_is_sniffed_by_content_even_when_named_docx():
    assert sniff(_read("zh_text.doc")) == "doc"
    assert extract(_read("zh_text.doc"), "其实是旧格式.docx").format == "doc"


def test_encrypted_flag_in_fib_is_refused(tmp_path):
    path = tmp_path / "locked.doc"
    path.write_bytes(_read("zh_text.doc"))
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        word = bytearray(ole.openstream("WordDocument").read())
        flags = struct.unpack_from("<H", word, 0x0A)[0] | 0x0100  # fEncrypted
        struct.pack_into("<H", word, 0x0A, flags)
        ole.write_stream("WordDocument", bytes(word))
    with pytest.raises(EncryptedFileError) as err:
        extract(path.read_bytes(), "locked.doc")
    assert "密码" in err.value.message and err.value.hint


def test_truncated_doc_is_corrupt():
    data = _read("zh_text.doc")
    with pytest.raises(CorruptFileError) as err:
        extract(data[:2048], "残缺.doc")
    assert "损坏" in err.value.message


def test_ole_file_without_word_stream_is_unsupported_with_save_as_hint():
    data = _read("zh_text.doc")
    name = "WordDocument".encode("utf-16-le")
    assert data.count(name) == 1
    fake_xls = data.replace(name, "Workbook\0\0\0\0".encode("utf-16-le"))
    with pytest.raises(UnsupportedFormatError) as err:
        extract(fake_xls, "表格.doc")
    assert "Excel" in err.value.message and ".docx" in err.value.hint


# -- a Word 97 .doc built in code (tables with empty and multi-paragraph cells) -----------------
#
# The committed fixtures come from LibreOffice; this builder writes the few structures the
# extractor reads — an OLE container with a ``WordDocument`` stream (FIB, UTF-16 text, PAPX
# FKPs) and a ``1Table`` stream (piece table, PlcfBtePapx) — so that a table can be shaped
# exactly (an empty cell, a cell of two paragraphs) without LibreOffice.

_END, _FREE, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _ole(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file holding ``streams`` (each padded to ≥ 4096 bytes, so no mini
    stream is needed)."""
    sectors: list[bytes] = []
    fat: list[int] = []
    starts = {}
    for name, data in streams.items():
        data = data.ljust(max(4096, -(-len(data) // 512) * 512), b"\0")
        starts[name] = (len(sectors), len(data))
        n = len(data) // 512
        for k in range(n):
            sectors.append(data[512 * k : 512 * (k + 1)])
            fat.append(len(sectors) if k < n - 1 else _END)
    names = list(streams)  # sorted as the red-black tree wants: length, then name
    names.sort(key=lambda x: (len(x), x.upper()))

    def entry(name, kind, child=_NOSTREAM, right=_NOSTREAM, start=_END, size=0):
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", _NOSTREAM, right, child)
            + b"\0" * 16
            + b"\0" * 4
            + b"\0" * 16
            + struct.pack("<IQ", start, size)
        )

    dirs = [entry("Root Entry", 5, child=1)]
    for i, name in enumerate(names):
        start, size = starts[name]
        dirs.append(
            entry(name, 2, right=i + 2 if i + 1 < len(names) else _NOSTREAM, start=start, size=size)
        )
    directory = b"".join(dirs)
    directory = directory.ljust(-(-len(directory) // 512) * 512, b"\0")
    dir_start = len(sectors)
    for k in range(len(directory) // 512):
        sectors.append(directory[512 * k : 512 * (k + 1)])
        fat.append(len(sectors) if k < len(directory) // 512 - 1 else _END)
    fat_start = len(sectors)
    fat.append(_FATSECT)
    assert len(fat) <= 128
    sectors.append(struct.pack("<128I", *(fat + [_FREE] * (128 - len(fat)))))
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, dir_start, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", fat_start, *([_FREE] * 108))
    )
    return header + b"".join(sectors)


_IN_TABLE, _TTP = b"\x16\x24\x01", b"\x17\x24\x01"  # sprmPFInTable 1, sprmPFTtp 1


def _tdef_table(columns: int) -> bytes:
    """sprmTDefTable (variable length, 2-byte size) as Word writes it in a row's last paragraph."""
    body = bytes([columns]) + struct.pack(f"<{columns + 1}h", *range(0, 1440 * (columns + 1), 1440))
    body += b"\0" * 20 * columns
    return b"\x08\xd6" + struct.pack("<H", len(body) + 1) + body


def make_doc(items) -> bytes:
    """items: a str is a paragraph; a list is a table (rows of cells; a cell is a str or a list of
    paragraphs). Text is one uncompressed piece."""
    text: list[str] = []
    paras: list[tuple[int, bytes]] = []  # (characters so far, sprms of that paragraph)

    def para(t: str, mark: str, sprms: bytes = b""):
        text.append(t + mark)
        paras.append((sum(map(len, text)), sprms))

    for item in items:
        if isinstance(item, str):
            para(item, "\r")
            continue
        for row in item:
            for cell in row:
                ps = [cell] if isinstance(cell, str) else cell
                for p in ps[:-1]:
                    para(p, "\r", _IN_TABLE)
                para(ps[-1], "\x07", _IN_TABLE)
            para("", "\x07", _tdef_table(len(row)) + _IN_TABLE + _TTP)  # row end, TAP first
    body = "".join(text).encode("utf-16-le")
    ccp, fc0 = len(body) // 2, 2048
    # PAPX FKPs: one 512-byte page per 20 paragraphs, identical PAPX shared
    pages: list[bytes] = []
    bounds = [fc0] + [fc0 + 2 * end for end, _ in paras]
    for first in range(0, len(paras), 20):
        chunk = paras[first : first + 20]
        page = bytearray(512)
        n = len(chunk)
        struct.pack_into(f"<{n + 1}I", page, 0, *bounds[first : first + n + 1])
        free, offsets = 511, {}
        for k, (_, sprms) in enumerate(chunk):
            if sprms not in offsets:
                grp = b"\0\0" + sprms  # istd 0, then the sprms
                papx = (
                    bytes([(len(grp) + 1) // 2]) + grp
                    if len(grp) % 2
                    else bytes([0, len(grp) // 2]) + grp
                )
                free = (free - len(papx)) & ~1
                page[free : free + len(papx)] = papx
                offsets[sprms] = free // 2
            page[4 * (n + 1) + 13 * k] = offsets[sprms]
        page[511] = n
        pages.append(bytes(page))
    fkp_at = -(-(fc0 + len(body)) // 512) * 512
    word = bytearray(fkp_at + 512 * len(pages))
    struct.pack_into("<HH", word, 0, 0xA5EC, 0xC1)
    struct.pack_into("<H", word, 0x0A, 0x0200)  # fWhichTblStm: 1Table
    struct.pack_into("<H", word, 32, 14)  # csw, then FibRgW (28 bytes)
    struct.pack_into("<H", word, 62, 22)  # cslw, then FibRgLw (88 bytes)
    struct.pack_into("<ii", word, 64 + 12, ccp, 0)  # ccpText, ccpFtn
    struct.pack_into("<H", word, 152, 93)  # cbRgFcLcb (Word 97)
    word[fc0 : fc0 + len(body)] = body
    for k, page in enumerate(pages):
        word[fkp_at + 512 * k : fkp_at + 512 * (k + 1)] = page
    plcpcd = struct.pack("<II", 0, ccp) + struct.pack("<HIH", 0, fc0, 0)
    clx = b"\x02" + struct.pack("<I", len(plcpcd)) + plcpcd
    bte = struct.pack(
        f"<{len(pages) + 1}I", *[bounds[min(20 * k, len(paras))] for k in range(len(pages) + 1)]
    ) + struct.pack(f"<{len(pages)}I", *[fkp_at // 512 + k for k in range(len(pages))])
    struct.pack_into("<II", word, 154 + 8 * 33, 0, len(clx))  # fcClx, lcbClx
    struct.pack_into("<II", word, 154 + 8 * 13, len(clx), len(bte))  # PlcfBtePapx
    return _ole({"WordDocument": bytes(word), "1Table": clx + bte})


SCORES = [
    ["投放内容", "积分标准", "说明"],
    ["厨余垃圾正确分类", "每次2分", "不得混有塑料袋等杂物"],
    ["废纸、纸箱", "", "需压平捆扎"],  # an empty cell
    ["废旧电池", "每次5分", ["投放至有害垃圾专用箱", "每月第一个周六回收"]],
]


def test_doc_built_in_code_reads_back():
    ex = extract(make_doc(["积分规则经居民议事会讨论通过。", "请各位居民踊跃参与。"]), "规则.doc")
    assert [(b.kind, b.text) for b in ex.blocks] == [
        (PARA, "积分规则经居民议事会讨论通过。"),
        (PARA, "请各位居民踊跃参与。"),
    ]


def test_doc_table_keeps_empty_cells_and_multi_paragraph_cells_in_their_row():
    ex = extract(make_doc(["积分规则经居民议事会讨论通过后张贴公示：", SCORES, "志愿者是关键"]))
    assert [(b.kind, b.text) for b in ex.blocks] == [
        (PARA, "积分规则经居民议事会讨论通过后张贴公示："),
        (TABLE_ROW, "投放内容\t积分标准\t说明"),
        (TABLE_ROW, "厨余垃圾正确分类\t每次2分\t不得混有塑料袋等杂物"),
        (TABLE_ROW, "废纸、纸箱\t\t需压平捆扎"),
        (TABLE_ROW, "废旧电池\t每次5分\t投放至有害垃圾专用箱 每月第一个周六回收"),
        (PARA, "志愿者是关键"),
    ]


def _docx_table(rows) -> bytes:
    import io

    import docx

    d = docx.Document()
    d.add_paragraph("积分规则经居民议事会讨论通过后张贴公示：")
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            ps = [cell] if isinstance(cell, str) else cell
            table.cell(r, c).text = ps[0]
            for p in ps[1:]:
                table.cell(r, c).add_paragraph(p)
    d.add_paragraph("志愿者是关键")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_doc_and_docx_tables_give_the_same_rows_and_passage():
    """What a speaker sees: the table passage has its cells apart and one row a line, the same
    for the .doc and the .docx of one document (issue 9: “厨余垃圾正确分类每次2分…” run together)."""
    from indexer.ingest.structure import structure

    items = ["积分规则经居民议事会讨论通过后张贴公示：", SCORES, "志愿者是关键"]
    doc_ex = extract(make_doc(items), "积分超市.doc")
    docx_ex = extract(_docx_table(SCORES), "积分超市.docx")
    rows = lambda ex: [b.text for b in ex.blocks if b.kind == TABLE_ROW]  # noqa: E731
    assert rows(doc_ex) == rows(docx_ex)
    for ex in (doc_ex, docx_ex):
        passages = structure(ex, kind="case", filename="积分超市").passages
        table = next(p.text for p in passages if "厨余垃圾" in p.text)
        assert table.splitlines() == [
            "投放内容 | 积分标准 | 说明",
            "厨余垃圾正确分类 | 每次2分 | 不得混有塑料袋等杂物",
            "废纸、纸箱 | 需压平捆扎",
            "废旧电池 | 每次5分 | 投放至有害垃圾专用箱每月第一个周六回收",
        ], ex.format
