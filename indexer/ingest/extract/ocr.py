"""Text from page images: scanned PDFs, PDFs whose text layer is garbage, page photos.

Two engines, both offline (nothing downloads a model at run time):

* ``rapidocr`` (PyPI ``rapidocr`` 3.x on onnxruntime; the PP-OCR det/rec models ship inside the
  wheel) — the default. Measured on our generated A4 pages (bench/ocr_bench.py, docs/OCR.md):
  100 % of Han characters on a clean 300-dpi page, 99–99.7 % on a blurred, rotated, speckled
  200-dpi one, 1.3–2.4 s a page on two cores.
* ``tesseract`` (Debian ``tesseract-ocr`` 5.3 + ``tesseract-ocr-chi-sim``, ``--psm 6``): 96–100 %
  clean, 92–94 % degraded, 3–4 s a page. Kept as the fallback when rapidocr is not installed.

Each engine turns one page image into *words* in the PDF extractor's coordinates (points, top
down) with the line's confidence, so that the PDF extractor joins lines, removes running headers
and page numbers and finds headings exactly as it does for a text layer.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache

from library.errors import UnsupportedFormatError

ENGINES = ("rapidocr", "tesseract")
DPI = 300  # PDF pages are rendered at this resolution for OCR
LOW_CONFIDENCE = 0.80  # a page below this is marked for an editor to check

# Chinese OCR engines put spaces between characters (tesseract, ocrmypdf): remove them between
# two CJK characters or punctuation marks, keep them between Latin words.
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


_DASH_SLIP = re.compile(r"—一|一—")
_LETTER = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")


def join_cjk(text: str) -> str:
    """OCR text without the spaces engines put between Chinese characters; "" for a line with
    no letter, digit or Han character (a rule, a stamp, a black box read as ■)."""
    text = _CJK_SPACE.sub("", text).strip()
    # a dash pair read as dash + 一 (the commonest slip on Chinese dashes)
    text = _DASH_SLIP.sub("——", text)
    # a Chinese numbering bracket read half in ASCII: “(一）” “（二)” → “（一）” “（二）”
    text = _CN_NUMBERING.sub(r"（\1）", text)
    text = re.sub(r"([（）])\s+(?=[\u4e00-\u9fff])", r"\1", text)
    return text if _LETTER.search(text) else ""


_CN_NUMBERING = re.compile(r"[(（]\s*([一二三四五六七八九十]{1,3})\s*[)）]")


class OcrUnavailable(UnsupportedFormatError):
    """No OCR engine is installed (or OCR is switched off in settings)."""


@dataclass
class OcrPage:
    number: int
    words: list[dict] = field(default_factory=list)  # x0, x1, top, bottom, size, text (points)
    confidence: float = 0.0  # 0–1, weighted by text length
    width: float = 0.0  # points
    height: float = 0.0

    @property
    def text(self) -> str:
        return "\n".join(w["text"] for w in self.words)


def _weighted(scores: list[tuple[str, float]]) -> float:
    total = sum(len(t) for t, _ in scores)
    return sum(len(t) * s for t, s in scores) / total if total else 0.0


class RapidOcr:
    name = "rapidocr"

    def __init__(self):
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        # Detection on the page scaled to at most 1600 px a side: the default (limit the
        # *shorter* side to 736 px, upscaling) missed whole lines of a 300-dpi page (89 % on a
        # clean page against 100 % with this setting, and 2× faster).
        # No text-direction classifier: pages are upright (photos are turned by their EXIF
        # orientation first), and the classifier turned a legible line of our scanned handout
        # upside down, reading it as "：《》" (0.65) instead of the quotation it was.
        self._engine = RapidOCR(
            params={
                "Det.limit_side_len": 1600,
                "Det.limit_type": "max",
                "Global.use_cls": False,
                "Global.log_level": "error",  # not "text detection result is empty"
                # at most two inference threads: the page's time budget is the worker's CPU
                # time, and onnxruntime's default (one spinning thread per core) would spend
                # it many times faster than the wall clock on a big server
                "EngineConfig.onnxruntime.intra_op_num_threads": min(2, os.cpu_count() or 1),
            }
        )

    def page(self, image, number: int, dpi: int) -> OcrPage:
        import numpy

        result = self._engine(numpy.array(image.convert("RGB")))
        k = 72.0 / dpi
        page = OcrPage(number, width=image.width * k, height=image.height * k)
        scores = []
        for box, text, score in zip(
            result.boxes if result.boxes is not None else [], result.txts or (), result.scores or ()
        ):
            text = join_cjk(text)
            if not text:
                continue
            xs = [p[0] for p in box]
            ys = [p[1] for p in box]
            top, bottom = min(ys) * k, max(ys) * k
            page.words.append(
                {
                    "text": text,
                    "x0": min(xs) * k,
                    "x1": max(xs) * k,
                    "top": top,
                    "bottom": bottom,
                    "size": round((bottom - top) * 0.8, 1),
                    "conf": float(score),
                }
            )
            scores.append((text, float(score)))
        page.confidence = _weighted(scores)
        return page


class Tesseract:
    name = "tesseract"

    def __init__(self):
        self._bin = shutil.which("tesseract")
        if not self._bin:
            raise OcrUnavailable("未安装 tesseract。", INSTALL_HINT)
        langs = subprocess.run(
            [self._bin, "--list-langs"], capture_output=True, text=True, timeout=30
        ).stdout.split()
        if "chi_sim" not in langs:
            raise OcrUnavailable(
                "tesseract 缺少简体中文语言包（chi_sim）。",
                "请安装：apt-get install tesseract-ocr-chi-sim",
            )

    def page(self, image, number: int, dpi: int) -> OcrPage:
        with tempfile.NamedTemporaryFile(suffix=".png") as fh:
            image.save(fh, format="PNG", dpi=(dpi, dpi))
            fh.flush()
            tsv = subprocess.run(
                [self._bin, fh.name, "-", "-l", "chi_sim", "--psm", "6", "--dpi", str(dpi), "tsv"],
                capture_output=True,
                text=True,
                timeout=300,
            ).stdout
        k = 72.0 / dpi
        page = OcrPage(number, width=image.width * k, height=image.height * k)
        lines: dict[tuple, list] = {}
        for row in tsv.splitlines()[1:]:
            cols = row.split("\t")
            if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
                continue
            key = (cols[2], cols[3], cols[4])  # block, paragraph, line
            lines.setdefault(key, []).append(cols)
        scores = []
        for cols in lines.values():
            text = join_cjk(" ".join(c[11] for c in cols))
            if not text:
                continue
            x0 = min(int(c[6]) for c in cols)
            x1 = max(int(c[6]) + int(c[8]) for c in cols)
            top = min(int(c[7]) for c in cols) * k
            bottom = max(int(c[7]) + int(c[9]) for c in cols) * k
            conf = sum(max(0.0, float(c[10])) for c in cols) / len(cols) / 100
            page.words.append(
                {
                    "text": text,
                    "x0": x0 * k,
                    "x1": x1 * k,
                    "top": top,
                    "bottom": bottom,
                    "size": round((bottom - top) * 0.85, 1),
                    "conf": conf,
                }
            )
            scores.append((text, conf))
        page.confidence = _weighted(scores)
        return page


INSTALL_HINT = (
    "请安装文字识别引擎：pip install rapidocr onnxruntime（推荐），"
    "或 apt-get install tesseract-ocr tesseract-ocr-chi-sim。"
)


@lru_cache(maxsize=4)
def engine(name: str = "auto"):
    """The OCR engine ``name`` (``auto``: rapidocr, else tesseract). Loaded once per process."""
    if name == "off":
        raise OcrUnavailable(
            "文字识别（OCR）已在设置中关闭。",
            "如需识别扫描件，请在 settings.json 中把 ocr_engine 设为 auto。",
        )
    tried = [name] if name != "auto" else list(ENGINES)
    for n in tried:
        try:
            return RapidOcr() if n == "rapidocr" else Tesseract()
        except ImportError:
            continue
        except OcrUnavailable:
            if name != "auto":
                raise
    raise OcrUnavailable("没有可用的文字识别（OCR）引擎，扫描件无法识别。", INSTALL_HINT)


def read_page(engine, image, number: int, dpi: int) -> OcrPage:
    """``engine.page`` with its failures told apart: the file's time limit (which rapidocr
    wraps in its own error) goes through as it is; anything else the engine raises is the
    engine's fault, not the file's, and says so."""
    from library.errors import InputError

    try:
        return engine.page(image, number, dpi)
    except (InputError, MemoryError):
        raise
    except Exception as exc:
        inner, seen = exc, set()
        while inner is not None and id(inner) not in seen:
            if isinstance(inner, InputError):
                raise inner from None
            seen.add(id(inner))
            inner = inner.__cause__ or inner.__context__
        if isinstance(exc, subprocess.TimeoutExpired):  # tesseract runs in its own process
            raise InputError(
                f"第 {number} 页文字识别超时（{engine.name}），已停止。",
                "页面可能过于复杂或分辨率过高：请把扫描分辨率调到 300 dpi 左右后重新上传。",
            ) from exc
        why = str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"文字识别（OCR）引擎处理第 {number} 页时出错（{engine.name}：{why}）。",
            "文件本身可能没有问题：请稍后重试；如仍出错，请联系管理员检查文字识别引擎"
            "（内存是否足够、settings.json 中的 ocr_engine）。",
        ) from exc


def available(name: str = "auto") -> bool:
    try:
        engine(name)
        return True
    except OcrUnavailable:
        return False


def pdf_page_images(data: bytes, pages: list[int], dpi: int = DPI):
    """Render the given 1-based pages of a PDF (pdfium, which pdfplumber already ships)."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        for n in pages:
            page = pdf[n - 1]
            try:
                yield n, page.render(scale=dpi / 72, grayscale=True).to_pil()
            finally:
                page.close()
    finally:
        pdf.close()


def image_pages(data: bytes):
    """The frames of an image file (a multi-page TIFF has several), with their resolution."""
    from PIL import Image, ImageOps

    img = Image.open(io.BytesIO(data))
    n = getattr(img, "n_frames", 1)
    for i in range(n):
        img.seek(i)
        frame = ImageOps.exif_transpose(img.convert("RGB"))  # phone photos: upright
        dpi = img.info.get("dpi", (DPI, DPI))[0] or DPI
        yield i + 1, frame, int(round(float(dpi))) if 50 <= float(dpi) <= 1200 else DPI


def describe(
    meta: dict, engine_name: str, confidence: dict[int, float], warnings: list[str]
) -> None:
    """Record what OCR did in an extraction's ``meta`` and warn about low-confidence pages."""
    if not confidence:
        return
    chars = len(confidence)
    meta["ocr"] = {
        "engine": engine_name,
        "pages": {str(k): v for k, v in confidence.items()},
        "confidence": round(sum(confidence.values()) / chars, 3),
    }
    low = sorted(k for k, v in confidence.items() if v < LOW_CONFIDENCE)
    meta["ocr"]["low_confidence_pages"] = low
    listed = "、".join(str(p) for p in sorted(confidence)[:20])
    warnings.append(
        f"第 {listed} 页是扫描图像，文字由 OCR 识别（{engine_name}，平均置信度 "
        f"{meta['ocr']['confidence']:.0%}），发布前请对照原件核对。"
    )
    if low:
        warnings.append(
            "第 " + "、".join(map(str, low)) + " 页识别置信度低于 "
            f"{LOW_CONFIDENCE:.0%}，请重点核对或换用更清晰的扫描件。"
        )


__all__ = [
    "describe",
    "engine",
    "available",
    "OcrPage",
    "OcrUnavailable",
    "join_cjk",
    "pdf_page_images",
    "image_pages",
    "LOW_CONFIDENCE",
    "ENGINES",
    "INSTALL_HINT",
]
