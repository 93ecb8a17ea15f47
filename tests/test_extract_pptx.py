"""pptx extraction: slide titles, text frames, tables and notes, each with its slide number."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation
from pptx.util import Inches

from indexer.ingest.extract import Limits, extract
from indexer.ingest.extract.base import HEADING, NOTES, PARA, TABLE_ROW
from library.errors import CorruptFileError, FileTooLargeError


def _deck() -> bytes:
    prs = Presentation()
    prs.core_properties.title = "新时代文明实践宣讲"
    s1 = prs.slides.add_slide(prs.slide_layouts[1])  # title and content
    s1.shapes.title.text = "一、为什么要开展文明实践"
    body = s1.placeholders[1].text_frame
    body.text = "文明实践是打通宣传群众、教育群众的“最后一公里”。"
    body.add_paragraph().text = "要让群众听得懂、记得住、用得上。"
    s1.notes_slide.notes_text_frame.text = "此处可结合本村实例讲解，约三分钟。"
    s2 = prs.slides.add_slide(prs.slide_layouts[5])  # title only
    s2.shapes.title.text = "二、工作成效"
    table = s2.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "数量"
    table.cell(1, 0).text, table.cell(1, 1).text = "志愿服务队", "126支"
    box = s2.shapes.add_textbox(Inches(1), Inches(4), Inches(6), Inches(1))
    box.text_frame.text = "数据截至2024年底。"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def test_slides_give_headings_paragraphs_tables_and_notes_with_slide_numbers():
    ex = extract(_deck(), "宣讲.pptx")
    assert ex.format == "pptx" and ex.pages == 2
    assert [(b.kind, b.level, b.page, b.text) for b in ex.blocks] == [
        (HEADING, 1, 1, "一、为什么要开展文明实践"),
        (PARA, 0, 1, "文明实践是打通宣传群众、教育群众的“最后一公里”。"),
        (PARA, 0, 1, "要让群众听得懂、记得住、用得上。"),
        (NOTES, 0, 1, "此处可结合本村实例讲解，约三分钟。"),
        (HEADING, 1, 2, "二、工作成效"),
        (TABLE_ROW, 0, 2, "项目\t数量"),
        (TABLE_ROW, 0, 2, "志愿服务队\t126支"),
        (PARA, 0, 2, "数据截至2024年底。"),
    ]
    assert ex.title == "新时代文明实践宣讲"


def test_slide_limit_and_truncated_deck():
    data = _deck()
    with pytest.raises(FileTooLargeError):
        extract(data, "a.pptx", Limits(max_pages=1))
    with pytest.raises(CorruptFileError):
        extract(data[: len(data) // 2], "a.pptx")
