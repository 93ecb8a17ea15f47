"""docx extraction: styles, outline levels, numbering headings, tables, footnotes, text boxes,
and the 31 real government work reports (headings found, no text lost)."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from lxml import etree

from indexer.ingest.extract import Limits, extract
from indexer.ingest.extract.base import FOOTNOTE, HEADING, LIST_ITEM, PARA, TABLE_ROW, TITLE
from library.errors import CorruptFileError

REPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gov-reports-2025"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = "{%s}" % W_NS


def _save(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _kinds(ex):
    return [(b.kind, b.level, b.text) for b in ex.blocks]


def test_styles_give_title_headings_and_lists():
    d = docx.Document()
    d.core_properties.title = "Microsoft Word - 文档1"  # a placeholder, not a real title
    d.add_paragraph("学习贯彻全会精神宣讲提纲", style="Title")
    d.add_heading("一、深刻领会重大意义", level=1)
    d.add_heading("具体举措", level=2)
    d.add_paragraph("全会审议通过了重要决定。")
    d.add_paragraph("坚持党的全面领导", style="List Bullet")
    ex = extract(_save(d), "提纲.docx")
    assert ex.format == "docx"
    assert _kinds(ex) == [
        (TITLE, 0, "学习贯彻全会精神宣讲提纲"),
        (HEADING, 1, "一、深刻领会重大意义"),
        (HEADING, 2, "具体举措"),
        (PARA, 0, "全会审议通过了重要决定。"),
        (LIST_ITEM, 0, "坚持党的全面领导"),
    ]
    assert ex.title == "学习贯彻全会精神宣讲提纲"


def test_core_property_title_wins_when_meaningful():
    d = docx.Document()
    d.core_properties.title = "乡村振兴专题讲义"
    d.add_paragraph("正文第一段比较长，并且以句号结尾，所以不是标题。")
    assert extract(_save(d)).title == "乡村振兴专题讲义"


def test_numbering_patterns_make_headings_with_levels():
    d = docx.Document()
    for text in [
        "\u3000\u3000一、2024年工作回顾",
        "（一）高质量发展迈出坚实步伐",
        "1.科技创新",
        "（1）基础研究",
        "过去一年，我们坚持稳中求进。",
        "1.5亿元资金已经全部到位。",
    ]:
        d.add_paragraph(text)
    ex = extract(_save(d))
    assert _kinds(ex) == [
        (HEADING, 1, "一、2024年工作回顾"),
        (HEADING, 2, "（一）高质量发展迈出坚实步伐"),
        (HEADING, 3, "1.科技创新"),
        (HEADING, 4, "（1）基础研究"),
        (PARA, 0, "过去一年，我们坚持稳中求进。"),
        (PARA, 0, "1.5亿元资金已经全部到位。"),
    ]


def test_run_on_numbered_heading_keeps_the_whole_paragraph():
    text = (
        "（一）聚力扩内需、稳外需，保持经济稳定增长。强化经济运行调度，注重政策措施协同联动，"
        "保持与宏观政策取向一致，着力扩大内需特别是居民消费需求。"
    )
    d = docx.Document()
    d.add_paragraph(text)
    ex = extract(_save(d))
    assert _kinds(ex) == [
        (HEADING, 2, "（一）聚力扩内需、稳外需，保持经济稳定增长"),
        (PARA, 0, text),
    ]


def test_wps_outline_level_in_style_or_paragraph_makes_a_heading():
    d = docx.Document()
    styles = d.styles.element
    styles.append(
        parse_xml(
            f'<w:style xmlns:w="{W_NS}" w:type="paragraph" w:styleId="wps1">'
            '<w:name w:val="WPS 自定义一级"/><w:basedOn w:val="Normal"/>'
            '<w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>'
        )
    )
    styles.append(
        parse_xml(
            f'<w:style xmlns:w="{W_NS}" w:type="paragraph" w:styleId="wps2">'
            '<w:name w:val="WPS 继承"/><w:basedOn w:val="wps1"/></w:style>'
        )
    )
    p1 = d.add_paragraph("总体要求")
    p1._p.get_or_add_pPr().append(parse_xml(f'<w:pStyle xmlns:w="{W_NS}" w:val="wps2"/>'))
    p2 = d.add_paragraph("主要任务")
    p2._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl xmlns:w="{W_NS}" w:val="1"/>'))
    d.add_paragraph("正文内容在这里。")
    ex = extract(_save(d))
    assert _kinds(ex)[:2] == [(HEADING, 1, "总体要求"), (HEADING, 2, "主要任务")]


def test_bold_short_line_is_a_heading_but_bold_lead_in_is_not():
    d = docx.Document()
    d.add_paragraph("今年工作的总体安排如下，请各位代表审议。")
    d.add_paragraph().add_run("附件2 名词解释").bold = True
    d.add_paragraph().add_run("重点做好七个方面工作：").bold = True
    ex = extract(_save(d))
    assert _kinds(ex)[1:] == [(HEADING, 1, "附件2 名词解释"), (PARA, 0, "重点做好七个方面工作：")]


def test_tables_are_rows_in_body_order_with_merged_cells_once():
    d = docx.Document()
    d.add_paragraph("表格前的说明文字。")
    t = d.add_table(rows=3, cols=3)
    t.cell(0, 0).text, t.cell(0, 1).text, t.cell(0, 2).text = "指标", "2023年", "2024年"
    t.cell(1, 0).text, t.cell(1, 1).text, t.cell(1, 2).text = "粮食产量", "1.39万亿斤", "1.41万亿斤"
    merged = t.cell(2, 0).merge(t.cell(2, 2))
    merged.text = "注：数据来自统计公报"
    d.add_paragraph("表格后的总结文字。")
    ex = extract(_save(d))
    assert _kinds(ex) == [
        (PARA, 0, "表格前的说明文字。"),
        (TABLE_ROW, 0, "指标\t2023年\t2024年"),
        (TABLE_ROW, 0, "粮食产量\t1.39万亿斤\t1.41万亿斤"),
        (TABLE_ROW, 0, "注：数据来自统计公报"),
        (PARA, 0, "表格后的总结文字。"),
    ]


def _add_footnote(data: bytes, note: str) -> bytes:
    """Give a python-docx document a footnotes part and a reference in its first paragraph."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W_NS}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{note}</w:t></w:r></w:p></w:footnote></w:footnotes>'
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            raw = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                raw = raw.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType='
                    b'"application/vnd.openxmlformats-officedocument.wordprocessingml.'
                    b'footnotes+xml"/></Types>',
                )
            elif item.filename == "word/_rels/document.xml.rels":
                raw = raw.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdFn1" Type="http://schemas.'
                    b'openxmlformats.org/officeDocument/2006/relationships/footnotes" '
                    b'Target="footnotes.xml"/></Relationships>',
                )
            elif item.filename == "word/document.xml":
                raw = raw.replace(b"</w:p>", b'<w:r><w:footnoteReference w:id="1"/></w:r></w:p>', 1)
            dst.writestr(item, raw)
        dst.writestr("word/footnotes.xml", footnotes)
    return out.getvalue()


def test_footnotes_come_last_as_footnote_blocks():
    d = docx.Document()
    d.add_paragraph("江山就是人民，人民就是江山。")
    d.add_paragraph("这是第二段。")
    ex = extract(_add_footnote(_save(d), "出自2021年7月1日的讲话。"))
    assert ex.blocks[-1].kind == FOOTNOTE
    assert ex.blocks[-1].text == "出自2021年7月1日的讲话。"
    assert [b.kind for b in ex.blocks[:-1]] == [PARA, PARA]


def test_text_box_content_is_kept_once():
    d = docx.Document()
    p = d.add_paragraph("正文段落。")
    box = parse_xml(
        f'<w:r xmlns:w="{W_NS}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
        ' xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent>'
        '<mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent><w:p><w:r>'
        "<w:t>文本框里的金句。</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>文本框里的金句。</w:t>"
        "</w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    p._p.append(box)
    ex = extract(_save(d))
    assert [b.text for b in ex.blocks] == ["正文段落。", "文本框里的金句。"]


def test_truncated_docx_is_corrupt():
    d = docx.Document()
    d.add_paragraph("内容" * 200)
    data = _save(d)
    with pytest.raises(CorruptFileError) as err:
        extract(data[: len(data) // 2], "报告.docx")
    assert "损坏" in err.value.message and err.value.hint


def test_bomb_member_is_refused_under_a_small_limit():
    d = docx.Document()
    d.add_paragraph("正常内容。")
    src = zipfile.ZipFile(io.BytesIO(_save(d)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("word/media/zeros.bin", b"\0" * (3 << 20))
    with pytest.raises(CorruptFileError) as err:
        extract(out.getvalue(), "a.docx", Limits(max_unzipped_bytes=2 << 20, max_ratio=10_000))
    assert "压缩炸弹" in err.value.message


# --- the real reports ------------------------------------------------------------------------


def _reports():
    if not REPORTS.is_dir():
        return []
    return sorted(REPORTS.glob("*.docx"))


def _xml_chars(path: Path) -> int:
    """Characters of every w:t in word/document.xml (text boxes' fallback copies excluded),
    without white space and without invisible format characters (zero-width joiners…)."""
    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    text = "".join(
        t.text or ""
        for t in root.iter(W + "t")
        if not any(a.tag.endswith("}Fallback") for a in t.iterancestors())
    )
    return sum(1 for c in text if not c.isspace() and unicodedata.category(c)[0] != "C")


def _block_chars(ex) -> int:
    """Characters of the blocks without white space; a run-on heading repeated at the start of
    the following paragraph is counted once."""
    n = 0
    for i, b in enumerate(ex.blocks):
        nxt = ex.blocks[i + 1] if i + 1 < len(ex.blocks) else None
        if (
            b.kind == HEADING
            and nxt is not None
            and nxt.kind == PARA
            and nxt.text.startswith(b.text)
        ):
            continue
        n += len(re.sub(r"\s", "", b.text))
    return n


@pytest.fixture(scope="module")
def report_paths():
    paths = _reports()
    if len(paths) < 31:
        pytest.skip("shared gov-reports-2025 data not available")
    return paths


def test_every_real_report_has_headings_a_title_and_loses_no_text(report_paths):
    for path in report_paths:
        ex = extract(path.read_bytes(), path.name)
        headings = [b for b in ex.blocks if b.kind == HEADING]
        assert len(headings) >= 5, path.name
        assert any(
            re.match(r"^[（(][一二三四五六七八九十]+[）)]|^[一二三四五六七八九十]+[、是]", h.text)
            for h in headings
        ), path.name
        assert ex.title and "政府工作报告" in ex.title, path.name
        ref, got = _xml_chars(path), _block_chars(ex)
        # Tolerance: 0.1 % of the document or 2 characters; measured difference is 0 on all 31.
        assert abs(ref - got) <= max(2, ref // 1000), (path.name, ref, got)


def test_report_heading_sequence_is_in_reading_order(report_paths):
    path = next(p for p in report_paths if "天津" in p.name)
    ex = extract(path.read_bytes(), path.name)
    heads = [(b.level, b.text) for b in ex.blocks if b.kind == HEADING][:3]
    assert heads == [
        (1, "一、2024年工作回顾"),
        (2, "（一）高质量发展迈出坚实步伐"),
        (2, "（二）改革开放不断深化拓展"),
    ]
