"""The registry: formats are sniffed from content (names lie), limits hold, and every kind of
bad input raises the right InputError subclass with a Chinese message and a hint."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from pptx import Presentation

from indexer.ingest.extract import Limits, extract, sniff
from library.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    FileTooLargeError,
    InputError,
    UnsupportedFormatError,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
DOC_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "extract" / "zh_text.doc"


def _docx(text="坚持以人民为中心的发展思想。") -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _pptx() -> bytes:
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "宣讲要点"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def _pdf(encrypt=None) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=encrypt)
    c.setFont("STSong-Light", 12)
    c.drawString(72, 700, "不忘初心，牢记使命。")
    c.showPage()
    c.save()
    return buf.getvalue()


def _assert_chinese(err: InputError) -> None:
    assert CJK.search(err.message), err.message
    assert err.hint and CJK.search(err.hint), err.hint


SAMPLES = {
    "docx": _docx,
    "pptx": _pptx,
    "pdf": _pdf,
    "doc": lambda: DOC_FIXTURE.read_bytes(),
    "html": lambda: "<!DOCTYPE html><html><body><p>网页正文。</p></body></html>".encode(),
    "md": lambda: "# 标题\n\n正文。\n".encode(),
    "txt": lambda: "纯文本第一行。\n第二行。\n".encode(),
}
LIES = {
    "docx": "报告.pdf",
    "pptx": "课件.docx",
    "pdf": "讲稿.txt",
    "doc": "旧文档.pptx",
    "html": "网页.docx",
    "md": "提纲.txt",
    "txt": "说明.pdf",
}


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_format_comes_from_content_not_from_a_lying_name(fmt):
    data = SAMPLES[fmt]()
    assert sniff(data) == fmt
    ex = extract(data, LIES[fmt])
    assert ex.format == fmt and ex.blocks


def test_zero_byte_file_is_empty():
    with pytest.raises(EmptyFileError) as err:
        extract(b"", "空.docx")
    _assert_chinese(err.value)


def test_document_without_text_is_empty():
    d = docx.Document()
    d.add_paragraph("   ")
    buf = io.BytesIO()
    d.save(buf)
    with pytest.raises(EmptyFileError) as err:
        extract(buf.getvalue(), "空白.docx")
    _assert_chinese(err.value)


@pytest.mark.parametrize(
    "make, name", [(_docx, "报告.docx"), (_pdf, "报告.pdf"), (_pptx, "课件.pptx")]
)
def test_truncated_files_are_corrupt(make, name):
    data = make()
    with pytest.raises(CorruptFileError) as err:
        extract(data[: len(data) * 2 // 3], name)
    _assert_chinese(err.value)


def test_encrypted_pdf():
    with pytest.raises(EncryptedFileError) as err:
        extract(_pdf(encrypt="123456"), "加密.pdf")
    _assert_chinese(err.value)


def _bomb(member_bytes: int) -> bytes:
    """A zip that looks like a docx, with a big member of zeros (small on disk)."""
    src = zipfile.ZipFile(io.BytesIO(_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        with dst.open("word/media/image1.png", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(member_bytes >> 20):
                fh.write(chunk)
    return out.getvalue()


def test_zip_bomb_disguised_as_docx_is_refused_by_ratio_with_default_limits():
    data = _bomb(8 << 20)  # 8 MB of zeros in ~8 KB: ratio ~1000 > 200
    assert len(data) < 100_000
    with pytest.raises(CorruptFileError) as err:
        extract(data, "报告.docx")
    assert "压缩炸弹" in err.value.message
    _assert_chinese(err.value)


def test_zip_bomb_is_refused_by_total_size_under_a_small_limit():
    data = _bomb(8 << 20)
    with pytest.raises(CorruptFileError) as err:
        extract(data, "报告.docx", Limits(max_unzipped_bytes=4 << 20, max_ratio=100_000))
    assert "压缩炸弹" in err.value.message


def test_zip_bomb_with_forged_directory_sizes_is_still_refused():
    data = bytearray(_bomb(8 << 20))
    # Forge the central directory entry (the last occurrence of the name; the entry's fixed
    # 46-byte header precedes it) so that it claims the member inflates to 1 KB.
    entry = data.rfind(b"word/media/image1.png") - 46
    assert data[entry : entry + 4] == b"PK\x01\x02"
    data[entry + 24 : entry + 28] = (1024).to_bytes(4, "little")
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()) < 1 << 20
    with pytest.raises(CorruptFileError):
        extract(bytes(data), "报告.docx")


def test_jpeg_named_pdf_says_it_is_a_picture():
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
    with pytest.raises(UnsupportedFormatError) as err:
        extract(jpeg, "政府工作报告.pdf")
    assert "图片" in err.value.message and "JPEG" in err.value.message
    assert "PDF" in err.value.message
    _assert_chinese(err.value)


def test_png_with_unknown_name_is_a_picture():
    with pytest.raises(UnsupportedFormatError) as err:
        extract(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "upload")
    assert "PNG" in err.value.message


def test_over_the_size_limit():
    with pytest.raises(FileTooLargeError) as err:
        extract(_docx(), "大文件.docx", Limits(max_bytes=1000))
    assert "MB" in err.value.message
    _assert_chinese(err.value)


def test_unknown_binary_is_unsupported():
    blob = bytes([0x00, 0x01, 0x02, 0xFF, 0xFE, 0x10, 0x80, 0x90]) * 300
    with pytest.raises(UnsupportedFormatError) as err:
        extract(blob, "数据.dat")
    _assert_chinese(err.value)


def test_plain_zip_and_xlsx_are_unsupported():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("照片/说明.txt", "压缩包里的文字")
    with pytest.raises(UnsupportedFormatError) as err:
        extract(buf.getvalue(), "材料.docx")
    assert "压缩包" in err.value.message
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnsupportedFormatError) as err:
        extract(buf.getvalue(), "表.docx")
    assert "Excel" in err.value.message


def test_windows_1252_text_comes_out_right():
    text = "Résumé: 5 € – “naïve” Zürich"
    ex = extract(text.encode("cp1252"), "note.txt")
    assert ex.blocks[0].text == text


def test_extract_raises_only_input_errors_on_mangled_files():
    """Flip bytes in the middle of each format: whatever happens, no foreign exception."""
    for make in SAMPLES.values():
        data = bytearray(make())
        for start in range(len(data) // 4, len(data) * 3 // 4, max(1, len(data) // 7)):
            mangled = bytearray(data)
            mangled[start : start + 64] = b"\xff" * min(64, len(data) - start)
            try:
                extract(bytes(mangled), "x")
            except InputError:
                pass


def test_ratio_tuned_docx_is_refused_by_its_inflated_text(tmp_path):
    # 60 MB of document.xml at ~120:1 slipped under the ratio bound and kept a worker busy for
    # minutes (issue 11, finding 4); the XML parts are now bounded in total
    from builders import ratio_tuned_docx

    path = ratio_tuned_docx(tmp_path / "报告.docx", member_mb=60)
    data = path.read_bytes()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    assert info.file_size / info.compress_size < 200
    with pytest.raises(CorruptFileError) as err:
        extract(data, "报告.docx")
    assert "压缩炸弹" in err.value.message


def test_inflation_is_bounded_by_the_file_size(tmp_path):
    from builders import ratio_tuned_docx

    data = ratio_tuned_docx(tmp_path / "小.docx", member_mb=8).read_bytes()  # ~75 KB → 8 MB
    with pytest.raises(CorruptFileError):
        extract(
            data,
            "小.docx",
            Limits(max_inflation=20, inflation_floor=1 << 20, max_markup_bytes=1 << 30),
        )
    # the floor keeps ordinary documents well clear
    from builders import docx_bytes

    assert extract(docx_bytes(), "正常.docx").blocks
