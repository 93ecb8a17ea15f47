"""Scanned handouts and page photos are read by OCR (issue 13, part 1): generated pages of our
own text, clean at 300 dpi and degraded at 200 dpi, go through the same line joining and
structuring as a PDF's text layer, and are found by a phrase afterwards."""

from __future__ import annotations

import io

import pytest
import scans

from indexer.ingest.extract import Limits, extract, ocr
from library.errors import EmptyFileError, UnsupportedFormatError

pytestmark = pytest.mark.skipif(
    not ocr.available() or scans.font_path() is None,
    reason="no OCR engine or CJK font (make test installs both)",
)

HEADER = "宣讲员培训讲义"
EXPECTED = HEADER + "".join(scans.PAGE_TEXT)  # a one-page scan keeps its header line


def _png(img, dpi) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


@pytest.fixture(scope="module")
def clean_page():
    return scans.render_page(header=HEADER, footer="2")


def test_clean_300dpi_scanned_pdf_is_read_searched_and_marked_as_ocr(
    tmp_path, clean_page, library_factory
):
    pdf = scans.save_pdf([clean_page], tmp_path / "宣讲讲义扫描件.pdf")
    ex = extract(pdf.read_bytes(), pdf.name)
    assert ex.status == "ok"
    assert scans.accuracy(EXPECTED, ex.text) >= 0.98
    assert ex.meta["ocr"]["engine"] in ocr.ENGINES
    assert ex.meta["ocr"]["confidence"] >= 0.9
    # lines wrapped at the margin are joined into one paragraph, as for a text layer
    assert any("把文件里的大道理转化成身边的小故事" in b.text for b in ex.blocks)
    assert any(
        b.kind == "heading" and b.text.startswith("二、宣讲要走进田间地头") for b in ex.blocks
    )

    svc = library_factory()
    [result] = svc.ingest([pdf], actor="test")
    # the editor is told to check it against the scan
    assert result.status == "warning", result.message
    assert "OCR" in result.message and "置信度" in result.message
    res = svc.search("桥梁和纽带")
    assert res["total"] == 1
    assert res["hits"][0]["document"]["title"] == "宣讲讲义扫描件"
    assert res["hits"][0]["heading"] == "三、宣讲要注重互动交流"


def test_degraded_200dpi_page_photo_is_read(clean_page):
    photo = scans.degrade(clean_page, dpi=200)
    ex = extract(_png(photo, 200), "讲义第2页.png")
    assert ex.format == "image"
    assert ex.pages == 1
    assert scans.accuracy(EXPECTED, ex.text) >= 0.95
    assert "第 1 页是扫描图像" in ex.warnings[0]


def test_garbage_text_layer_is_replaced_by_ocr(tmp_path, clean_page):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    path = tmp_path / "带乱码文字层.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(clean_page), 0, 0, width=A4[0], height=A4[1])
    text = c.beginText(72, 700)
    text.setTextRenderMode(3)  # invisible, as scanners write their layer
    for _ in range(12):
        text.textLine("(cid:3)(cid:17)(cid:102)(cid:58)(cid:9)(cid:33)(cid:71)(cid:12)")
    c.drawText(text)
    c.showPage()
    c.save()
    ex = extract(path.read_bytes(), path.name)
    assert "cid:" not in ex.text
    assert scans.accuracy(EXPECTED, ex.text) >= 0.95
    assert "ocr" in ex.meta


def test_with_ocr_switched_off_a_scan_still_says_needs_ocr_and_an_image_is_refused(
    tmp_path, clean_page
):
    pdf = scans.save_pdf([clean_page], tmp_path / "扫描件.pdf")
    ex = extract(pdf.read_bytes(), pdf.name, Limits(ocr="off"))
    assert ex.status == "needs_ocr"
    assert "OCR" in ex.warnings[0]
    with pytest.raises(UnsupportedFormatError, match="这是一张图片（PNG）"):
        extract(_png(clean_page, 300), "讲义.png", Limits(ocr="off"))


def test_a_photo_without_text_is_reported_not_stored():
    from PIL import Image

    photo = Image.linear_gradient("L").resize((1200, 900))
    with pytest.raises(EmptyFileError, match="没有识别出文字"):
        extract(_png(photo, 200), "风景.png")


@pytest.mark.skipif(not ocr.available("tesseract"), reason="tesseract with chi_sim not installed")
def test_tesseract_fallback_reads_a_clean_page(clean_page):
    ex = extract(_png(clean_page, 300), "讲义.png", Limits(ocr="tesseract"))
    assert ex.meta["ocr"]["engine"] == "tesseract"
    assert scans.accuracy(EXPECTED, ex.text) >= 0.9


def test_a_page_ocr_finds_nothing_on_is_not_sent_back_to_ocr(tmp_path):
    """A handout whose second page is only a picture: the warning says OCR found no text there,
    not “请先做文字识别” (it was done), which sent an editor in circles."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "讲义带插图.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("STSong-Light", 14)
    c.drawString(72, 760, "第一页是文字：宣讲要讲群众听得懂的话。")
    c.showPage()
    c.rect(100, 100, 300, 400, fill=1)  # a picture without any text
    c.showPage()
    c.save()
    ex = extract(path.read_bytes(), path.name)
    assert ex.status == "ok" and "群众听得懂" in "".join(b.text for b in ex.blocks)
    [note] = [w for w in ex.warnings if "第 2 页" in w]
    assert "没有识别出文字" in note and "请先做文字识别" not in note


@pytest.mark.skipif(not ocr.available("rapidocr"), reason="rapidocr not installed")
def test_a_worker_forked_from_a_grown_process_still_reads_a_scan(tmp_path, clean_page):
    """The worker's memory cap is room to grow, not a total: forked from a process holding
    2.6 GB of address space (a long test run, a server after days), the cap left the OCR
    engine no room and the scan was reported as a damaged file."""
    import subprocess
    import sys

    pdf = scans.save_pdf([clean_page], tmp_path / "扫描件.pdf")
    code = f"""
import mmap
from indexer.ingest.pipeline import Options, Pipeline
from library.home import Home
from library.store import Store
from library.taxonomy import Taxonomy
grown = mmap.mmap(-1, 2600 * 1024 * 1024)
store = Store(Home.open({str(tmp_path / "home")!r}))
[r] = Pipeline(store, Taxonomy.default()).ingest([{str(pdf)!r}], Options(workers=1))
print(r.status, r.message)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("warning") and "rapidocr" in run.stdout, run.stdout


def test_an_engine_failure_is_not_called_a_damaged_file(clean_page):
    from indexer.ingest.extract.ocr import read_page
    from library.errors import InputError

    class Broken:
        name = "rapidocr"

        def page(self, image, number, dpi):
            raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : bad allocation")

    with pytest.raises(InputError) as err:
        read_page(Broken(), clean_page, 3, 300)
    assert "文字识别（OCR）引擎处理第 3 页时出错" in err.value.message
    assert "文件本身可能没有问题" in err.value.hint and "损坏" not in str(err.value)


def test_ocr_lines_get_one_kind_of_bracket_around_chinese_numbering():
    """OCR reads “（一）” half in ASCII (“(一）”), and the headings of one handout then mix
    bracket widths."""
    from indexer.ingest.extract.ocr import join_cjk

    assert join_cjk("(一）故事要真实") == "（一）故事要真实"
    assert join_cjk("（二) 选 好 人") == "（二）选好人"
    assert join_cjk("见图(1)所示") == "见图(1)所示"  # Arabic numbering is left as read
