"""PDF extraction on PDFs drawn in code with reportlab (STSong-Light: Chinese without a font
file): running headers/footers and page numbers removed, wrapped lines joined without spaces,
pages kept, headings by size, scans → needs_ocr, encrypted and truncated files refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("reportlab")
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from indexer.ingest.extract import Limits, extract  # noqa: E402
from indexer.ingest.extract.base import HEADING, PARA, TITLE  # noqa: E402
from library.errors import (
    CorruptFileError,
    EncryptedFileError,  # noqa: E402
    FileTooLargeError,
)

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
W, H = A4
LEFT, SIZE, PER_LINE = 72, 12, 36  # 36 Chinese characters of 12 pt fill 432 pt

PARA_1 = (
    "习近平总书记强调，要坚持以人民为中心的发展思想，把人民对美好生活的向往作为奋斗目标，"
    "推动高质量发展取得新成效，让改革发展成果更多更公平惠及全体人民，不断增强人民群众获得感"
)
PARA_2 = "绿水青山就是金山银山。生态环境保护和经济发展是辩证统一、相辅相成的。"


def _lines(text: str) -> list[str]:
    """Wrap like a word processor: a 2-character first-line indent, full lines after."""
    first = text[: PER_LINE - 2]
    rest = text[PER_LINE - 2 :]
    return [first] + [rest[i : i + PER_LINE] for i in range(0, len(rest), PER_LINE)]


def _pdf(pages, *, header="2025年宣讲材料汇编", page_numbers=True, encrypt=None) -> bytes:
    """pages: lists of ("h", text, size) headings or ("p", text) paragraphs."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt)
    for number, items in enumerate(pages, start=1):
        if header:
            c.setFont(FONT, 9)
            c.drawString(LEFT, H - 40, header)
        if page_numbers:
            c.setFont(FONT, 9)
            c.drawCentredString(W / 2, 30, f"- {number} -")
        y = H - 100
        for item in items:
            if item[0] == "h":
                c.setFont(FONT, item[2])
                c.drawString(LEFT, y, item[1])
                y -= item[2] * 1.8
                continue
            c.setFont(FONT, SIZE)
            for k, line in enumerate(_lines(item[1])):
                c.drawString(LEFT + (2 * SIZE if k == 0 else 0), y, line)
                y -= SIZE * 1.5
            y -= SIZE * 0.5
        c.showPage()
    c.save()
    return buf.getvalue()


def test_chinese_text_layer_is_read_and_wrapped_lines_joined_without_spaces():
    ex = extract(_pdf([[("p", PARA_1), ("p", PARA_2)]], header=None), "讲稿.pdf")
    assert ex.format == "pdf" and ex.status == "ok" and ex.pages == 1
    paras = [b.text for b in ex.blocks if b.kind == PARA]
    assert paras == [PARA_1, PARA_2]
    assert " " not in paras[0]


def test_running_headers_footers_and_page_numbers_are_removed_and_pages_kept():
    pages = [[("p", PARA_1)], [("p", PARA_2)], [("p", "第三页的内容。")], [("p", "第四页的内容。")]]
    ex = extract(_pdf(pages), "汇编.pdf")
    texts = [b.text for b in ex.blocks]
    assert texts == [PARA_1, PARA_2, "第三页的内容。", "第四页的内容。"]
    assert [b.page for b in ex.blocks] == [1, 2, 3, 4]
    assert ex.pages == 4
    assert not any("宣讲材料汇编" in t or t.strip("- ").isdigit() for t in texts)


def test_a_paragraph_running_over_a_page_break_is_joined_and_keeps_its_first_page():
    long_text = "新时代新征程，" + "我们要以更加昂扬的精神状态推进各项工作" * 12 + "。"
    lines = _lines(long_text)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    split = 3
    for number, chunk in enumerate((lines[:split], lines[split:]), start=1):
        c.setFont(FONT, SIZE)
        y = H - 100
        for k, line in enumerate(chunk):
            indent = 2 * SIZE if (number == 1 and k == 0) else 0
            c.drawString(LEFT + indent, y, line)
            y -= SIZE * 1.5
        c.showPage()
    c.save()
    ex = extract(buf.getvalue())
    assert [(b.text, b.page) for b in ex.blocks] == [(long_text, 1)]


def test_latin_words_keep_their_space_across_a_line_break():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 12)
    line1 = "The Communist Party of China was founded in 1921 and has led the people through a"
    c.drawString(LEFT, 700, line1)
    c.drawString(LEFT, 685, "century of struggle.")
    c.showPage()
    c.save()
    width = pdfmetrics.stringWidth(line1, "Helvetica", 12)
    assert width > 400  # the first line is a full line
    ex = extract(buf.getvalue())
    assert ex.blocks[0].text == line1 + " century of struggle."


def test_headings_by_font_size_and_numbering_with_title_first():
    pages = [
        [
            ("h", "深入学习贯彻党的二十届三中全会精神", 22),
            ("h", "一、重大意义", 16),
            ("p", PARA_2),
            ("h", "二、主要内容", 16),
            ("p", "（一）总体目标"),
            ("p", PARA_2),
        ]
    ]
    ex = extract(_pdf(pages, header=None, page_numbers=False))
    assert [(b.kind, b.level, b.text) for b in ex.blocks] == [
        (TITLE, 0, "深入学习贯彻党的二十届三中全会精神"),
        (HEADING, 1, "一、重大意义"),
        (PARA, 0, PARA_2),
        (HEADING, 1, "二、主要内容"),
        (HEADING, 2, "（一）总体目标"),
        (PARA, 0, PARA_2),
    ]
    assert ex.title == "深入学习贯彻党的二十届三中全会精神"


def test_lone_page_number_forms_are_dropped():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for number, label in enumerate(["第 1 页", "2/3", "— 3 —"], start=1):
        c.setFont(FONT, SIZE)
        c.drawString(LEFT, H - 100, f"第{number}页正文。")
        c.setFont(FONT, 9)
        c.drawCentredString(W / 2, 30, label)
        c.showPage()
    c.save()
    ex = extract(buf.getvalue())
    assert [b.text for b in ex.blocks] == ["第1页正文。", "第2页正文。", "第3页正文。"]


def test_image_only_pdf_needs_ocr_and_has_no_blocks():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for _ in range(2):
        c.rect(50, 50, 400, 600, fill=1)
        c.showPage()
    c.save()
    ex = extract(buf.getvalue(), "扫描件.pdf")
    assert ex.status == "needs_ocr" and ex.blocks == [] and ex.pages == 2
    assert "OCR" in ex.warnings[0] and "扫描件" in ex.warnings[0]


def test_some_pages_without_text_are_named_in_a_warning():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(FONT, SIZE)
    c.drawString(LEFT, 700, "只有第一页有文字。")
    c.showPage()
    c.rect(50, 50, 400, 600, fill=1)
    c.showPage()
    c.save()
    ex = extract(buf.getvalue())
    assert ex.status == "ok" and [b.text for b in ex.blocks] == ["只有第一页有文字。"]
    assert any("第 2 页" in w for w in ex.warnings)


def test_encrypted_pdf_is_refused_with_a_hint():
    data = _pdf([[("p", PARA_2)]], encrypt="secret")
    with pytest.raises(EncryptedFileError) as err:
        extract(data, "加密.pdf")
    assert "密码" in err.value.message and "密码" in err.value.hint


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_pdf_is_corrupt(cut):
    data = _pdf([[("p", PARA_1)], [("p", PARA_2)]])
    with pytest.raises(CorruptFileError) as err:
        extract(data[: int(len(data) * cut)], "残缺.pdf")
    assert "损坏" in err.value.message


def test_page_limit():
    data = _pdf([[("p", PARA_2)]] * 3)
    with pytest.raises(FileTooLargeError) as err:
        extract(data, "a.pdf", Limits(max_pages=2))
    assert "页数" in err.value.message


@pytest.mark.parametrize("chain", [1, 2, 5])
def test_circular_references_are_a_damaged_file_at_once(chain, tmp_path):
    # a 571-byte PDF used to spin pdfminer until the worker's 600 s limit (issue 11, finding 2);
    # run in a child process so that a regression fails the test instead of hanging the suite
    import subprocess
    import sys

    from builders import cyclic_pdf

    path = tmp_path / "cycle.pdf"
    path.write_bytes(cyclic_pdf(chain))
    code = (
        "import sys; from types import SimpleNamespace; from indexer.ingest.extract import pdf\n"
        "from library.errors import CorruptFileError\n"
        "try:\n"
        f"    pdf.extract(open({str(path)!r}, 'rb').read(), SimpleNamespace(max_pages=1000))\n"
        "except CorruptFileError as e:\n"
        "    print('CORRUPT', e.message)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root
    )
    assert "CORRUPT" in out.stdout and "循环引用" in out.stdout, out.stderr[-500:]
