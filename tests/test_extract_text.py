"""Plain text and Markdown: encodings, line ends, paragraphs, headings, lists."""

from __future__ import annotations

import codecs

import pytest

from indexer.ingest.extract import extract
from indexer.ingest.extract.base import HEADING, LIST_ITEM, PARA, TABLE_ROW, TITLE
from library.errors import EmptyFileError, UnsupportedFormatError

ZH = "学习贯彻习近平新时代中国特色社会主义思想\n一、总体要求\n坚持以人民为中心。\n（一）主要目标\n到2025年，基本建成。\n"


@pytest.mark.parametrize(
    "encoding, raw",
    [
        ("utf-8", ZH.encode("utf-8")),
        ("utf-8 (BOM)", codecs.BOM_UTF8 + ZH.encode("utf-8")),
        ("utf-16 (BOM)", ZH.encode("utf-16")),  # BOM + native order
        ("utf-16 (BOM)", codecs.BOM_UTF16_BE + ZH.encode("utf-16-be")),
        ("utf-16-le", ("Notes 备注\n" + ZH).encode("utf-16-le")),  # no BOM, NULs alternate
        ("gb18030", ZH.encode("gbk")),
        ("gb18030", ZH.encode("gb18030")),
    ],
)
def test_encodings_decode_to_the_same_blocks(encoding, raw):
    ex = extract(raw, "素材.txt")
    assert ex.format == "txt"
    assert ex.meta["encoding"] == encoding
    texts = [(b.kind, b.level, b.text) for b in ex.blocks if "Notes" not in b.text]
    assert texts[-4:] == [
        (HEADING, 1, "一、总体要求"),
        (PARA, 0, "坚持以人民为中心。"),
        (HEADING, 2, "（一）主要目标"),
        (PARA, 0, "到2025年，基本建成。"),
    ]


TRAD = "學習貫徹新時代中國特色社會主義思想\n一、總體要求\n堅持以人民為中心，發展經濟。\n"


@pytest.mark.parametrize(
    "encoding, raw",
    [
        ("big5", TRAD.encode("big5")),  # Taiwan / Hong Kong files
        ("utf-16-le", ZH.encode("utf-16-le")),  # no BOM, Chinese with digits
        ("utf-16-be", ZH.encode("utf-16-be")),
    ],
)
def test_big5_and_bomless_chinese_utf16_are_read_not_garbled(encoding, raw):
    ex = extract(raw, "素材.txt")
    assert ex.meta["encoding"] == encoding
    source = TRAD if encoding == "big5" else ZH
    assert [b.text for b in ex.blocks] == [line for line in source.split("\n") if line]


def test_short_gb18030_text_stays_gb18030():
    for text in ("绿水青山就是金山银山", "坚持以人民为中心。", "（二）历史的经验"):
        ex = extract(text.encode("gb18030"), "短.txt")
        assert ex.meta["encoding"] == "gb18030" and ex.blocks[0].text == text


def test_first_short_line_is_the_title_and_crlf_is_folded():
    ex = extract(ZH.replace("\n", "\r\n").encode("utf-8"), "a.txt")
    assert ex.blocks[0].kind == TITLE
    assert ex.title == "学习贯彻习近平新时代中国特色社会主义思想"
    assert all("\r" not in b.text for b in ex.blocks)


def test_windows_1252_text_decodes_western_characters_with_a_warning():
    text = "Café Müller paid 5 € for “quoted” naïve crème brûlée.\r\nSecond line – ok.\r\n"
    ex = extract(text.encode("cp1252"), "western.txt")
    assert ex.meta["encoding"] == "cp1252"
    assert [b.text for b in ex.blocks] == [
        "Café Müller paid 5 € for “quoted” naïve crème brûlée.",
        "Second line – ok.",
    ]
    assert ex.warnings and "1252" in ex.warnings[0]


def test_binary_garbage_is_unsupported():
    junk = bytes(range(256)) * 20
    with pytest.raises(UnsupportedFormatError) as err:
        extract(junk, "notes.txt")
    assert "二进制" in err.value.message and err.value.hint


def test_whitespace_only_text_is_empty():
    with pytest.raises(EmptyFileError) as err:
        extract(" \r\n\t\n\u3000\n".encode("utf-8"), "blank.txt")
    assert "没有可提取的文字" in err.value.message


MD = """---
title: 前言
---
# 生态文明建设宣讲提纲

## 一、**绿水青山**就是金山银山

这是第一段，
接着第一段的第二行。

- 坚持[生态优先](https://example.org)、绿色发展
* 推进`美丽中国`建设

> 保护生态环境就是保护生产力。

| 指标 | 数值 |
|---|---|
| 森林覆盖率 | 25% |

Setext heading
--------------
"""


def test_markdown_headings_lists_tables_and_inline_markup():
    ex = extract(MD.encode("utf-8"), "提纲.md")
    assert ex.format == "md"
    assert [(b.kind, b.level, b.text) for b in ex.blocks] == [
        (HEADING, 1, "生态文明建设宣讲提纲"),
        (HEADING, 2, "一、绿水青山就是金山银山"),
        (PARA, 0, "这是第一段，接着第一段的第二行。"),
        (LIST_ITEM, 0, "坚持生态优先、绿色发展"),
        (LIST_ITEM, 0, "推进美丽中国建设"),
        (PARA, 0, "保护生态环境就是保护生产力。"),
        (TABLE_ROW, 0, "指标\t数值"),
        (TABLE_ROW, 0, "森林覆盖率\t25%"),
        (HEADING, 2, "Setext heading"),
    ]
    assert ex.title == "生态文明建设宣讲提纲"


def test_markdown_is_recognised_by_content_without_md_name():
    ex = extract("# 标题\n\n正文。\n\n## 小节\n\n更多正文。\n".encode(), "upload.bin")
    assert ex.format == "md"


def test_a_short_text_with_a_stray_control_character_is_read_without_it():
    """One BEL pasted from a terminal made a 40-character note “binary data”."""
    ex = extract(
        "村规民约\n\n大家的事大家商量着办。\x07邻里和睦，守望相助。\n".encode(), "村规.txt"
    )
    text = "".join(b.text for b in ex.blocks)
    assert "大家的事大家商量着办" in text and "\x07" not in text
