"""Page images for the editor's preview: one page of a draft's stored original (a PDF page
rendered by pdfium, or a frame of a page photo) as a PNG, so that an editor checks OCR'd text
against the scan beside it.

Bounded: at most ``MAX_SIDE`` pixels a side (a 200-dpi A4 scan is shown at about half its
size), photos larger than ``MAX_PIXELS`` are refused before they are decoded, and pdfium, which
is not thread-safe, renders one page at a time in this process. The original was read by a
bounded worker when it was uploaded, so it is not a stranger to the renderer.
"""

from __future__ import annotations

import io
import threading

from library.errors import InputError, NotFoundError

MAX_SIDE = 1600  # pixels, the longer side of a page image
MIN_WIDTH, MAX_WIDTH = 200, 1600
MAX_PIXELS = 80_000_000  # a photo larger than this is not decoded (about 9000 × 9000)
_pdfium = threading.Lock()


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _pdf_page(data: bytes, page: int, width: int) -> bytes:
    import pypdfium2

    with _pdfium:
        pdf = pypdfium2.PdfDocument(data)
        try:
            if not 1 <= page <= len(pdf):
                raise NotFoundError(f"没有第 {page} 页。")
            p = pdf[page - 1]
            try:
                w, h = p.get_size()  # points
                scale = min(width / max(w, 1), MAX_SIDE / max(w, h, 1))
                img = p.render(scale=max(scale, 0.05), grayscale=True).to_pil()
            finally:
                p.close()
        finally:
            pdf.close()
    return _png(img)


def _image_page(data: bytes, page: int, width: int) -> bytes:
    from PIL import Image, ImageOps

    img = Image.open(io.BytesIO(data))
    if img.width * img.height > MAX_PIXELS:
        raise InputError("图片太大，无法显示预览。")
    if not 1 <= page <= getattr(img, "n_frames", 1):
        raise NotFoundError(f"没有第 {page} 页。")
    img.seek(page - 1)
    frame = ImageOps.exif_transpose(img.convert("RGB"))
    frame.thumbnail((width, MAX_SIDE))
    return _png(frame)


def render(data: bytes, fmt: str, page: int, width: int = 1000) -> bytes:
    """Page ``page`` (1-based) of a PDF or page-photo file as PNG bytes, ``width`` pixels wide
    (clamped to 200–1600, and the longer side to ``MAX_SIDE``). NotFoundError for a page
    the file does not have or a format without pages to show."""
    width = max(MIN_WIDTH, min(MAX_WIDTH, int(width)))
    if fmt == "pdf":
        return _pdf_page(data, page, width)
    if fmt == "image":
        return _image_page(data, page, width)
    raise NotFoundError("这种格式的文件没有页面图像。")


__all__ = ["render", "MAX_SIDE"]
