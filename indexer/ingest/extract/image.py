"""Page photos and scans saved as images (.jpg, .png, .tif; a multi-page TIFF is one document):
OCR'd page by page, then read like a PDF page (line joining, headings, running headers)."""

from __future__ import annotations

from indexer.ingest.extract import ocr
from indexer.ingest.extract import pdf as pdf_reader
from indexer.ingest.extract._common import pick_title
from indexer.ingest.extract.base import Extracted
from library.errors import CorruptFileError, EmptyFileError

NOT_A_PAGE = (
    "图片中没有识别出文字（可能是照片、图表或空白页，而不是文字页面）。",
    "请上传文字清晰的扫描件或翻拍照片（正对页面、光线均匀、分辨率不低于 200 dpi）。",
)


def extract(data: bytes, limits) -> Extracted:
    mode = getattr(limits, "ocr", "auto")
    engine = ocr.engine(mode)  # OcrUnavailable says how to install one
    progress = getattr(limits, "progress", None)
    try:
        frames = list(ocr.image_pages(data))
    except Exception as exc:
        raise CorruptFileError("图片文件已损坏，无法读取。", "请重新扫描或导出后再上传。") from exc
    if len(frames) > limits.max_pages:
        from library.errors import FileTooLargeError

        raise FileTooLargeError(
            f"图片页数太多（{len(frames)} 页），超过上限 {limits.max_pages} 页。",
            "请拆分成几个较小的文件后再上传。",
        )
    read = []
    for number, image, dpi in frames:
        if progress:
            progress("ocr", number - 1, len(frames))  # before each page: its own time limit
        read.append(ocr.read_page(engine, image, number, dpi))
    body = pdf_reader.ocr_body_size(read)
    pages, heights, conf = [], [], {}
    for page in read:
        lines = pdf_reader.ocr_lines(page, body)
        pages.append(lines)
        heights.append(page.height)
        if lines:
            conf[page.number] = round(page.confidence, 3)
    if progress:
        progress("ocr", len(frames), len(frames))
    if not any(pages):
        raise EmptyFileError(*NOT_A_PAGE)
    warnings: list[str] = []
    meta: dict = {}
    ocr.describe(meta, engine.name, conf, warnings)
    blocks = pdf_reader.blocks_of(pages, heights)
    if not blocks:
        raise EmptyFileError(*NOT_A_PAGE)
    return Extracted(
        format="image",
        blocks=blocks,
        title=pick_title(None, blocks),
        pages=len(frames),
        warnings=warnings,
        meta=meta,
    )


__all__ = ["extract"]
