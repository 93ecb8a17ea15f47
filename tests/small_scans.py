"""Small scanned pages for the OCR workflow tests: a few lines of our own text on a strip of
paper (not a whole A4 page), so that each page costs a fraction of a second to OCR on a busy
2-core machine. A "bad" page is rescaled to 150 dpi, blurred and covered in heavy speckle: OCR
still reads most of it, with a confidence below ``ocr.LOW_CONFIDENCE``."""

from __future__ import annotations

import io
from pathlib import Path

import scans
from PIL import Image, ImageDraw, ImageFont

PAGES = [
    ["一、宣讲要讲群众听得懂的话", "宣讲员要把文件里的大道理转化成身边的小故事。"],
    ["二、宣讲要走进田间地头", "很多村民说，宣讲员讲的都是实在事，听得进、记得住。"],
    ["三、宣讲要注重互动交流", "让宣讲成为联系群众的桥梁和纽带。"],
]


def strip(lines: list[str], dpi: int = 300) -> Image.Image:
    """``lines`` in 12 pt on a 6-inch-wide strip of white paper."""
    size = int(12 / 72 * dpi)
    font = ImageFont.truetype(scans.font_path(), size)
    img = Image.new("L", (int(6 * dpi), int(size * 1.8 * len(lines) + size * 2)), 255)
    draw = ImageDraw.Draw(img)
    y = size
    for line in lines:
        draw.text((size, y), line, font=font, fill=0)
        y += int(size * 1.8)
    return img


def bad(img: Image.Image) -> Image.Image:
    """A page OCR reads with low confidence (heavy speckle, blur, 150 dpi: in a PDF of 300-dpi
    pages it is a half-size page, rendered for OCR with the same pixels)."""
    return scans.degrade(img, dpi=150, noise=0.3, blur=1.2, angle=0.5)


def pdf(path: Path, pages: list[Image.Image]) -> Path:
    return scans.save_pdf(pages, path, dpi=300)


def png(img: Image.Image, dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def is_png(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n"
