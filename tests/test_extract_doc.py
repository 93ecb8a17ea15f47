"""Word 97–2003 .doc extraction from the committed fixtures (made by
tests/fixtures/extract/make_fixtures.py; LibreOffice is not needed at test time)."""

from __future__ import annotations

import struct
from pathlib import Path

import olefile
import pytest

from indexer.extract import extract, sniff
from indexer.extract.base import FOOTNOTE, HEADING, PARA, TABLE_ROW, TITLE
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
        (PARA, 0, "（一）坚持农业农村优先发展。把“三农”工作作为全党工作的重中之重，"
                  "确保国家粮食安全，确保不发生规模性返贫。"),
        (PARA, 0, "详见中国政府网发布的全文。"),           # HYPERLINK field code dropped
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
        flags = struct.unpack_from("<H", word, 0x0A)[0] | 0x0100   # fEncrypted
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
