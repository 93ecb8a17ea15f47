"""PowerPoint .pptx (python-pptx). One group of blocks per slide, ``page`` = slide number.

The slide title placeholder → HEADING level 1; other text frames (in reading order: top to
bottom, then left to right; grouped shapes flattened) → one PARA block per paragraph; tables
→ TABLE_ROW blocks; speaker notes → one NOTES block. ``pages`` = slide count; the document
title is the core-properties title if meaningful, else the first slide's title.
"""

from __future__ import annotations

import io

from indexer.ingest.extract import _zip
from indexer.ingest.extract._common import clean, pick_title
from indexer.ingest.extract.base import HEADING, NOTES, PARA, TABLE_ROW, Block, Extracted
from library.errors import CorruptFileError, FileTooLargeError


def _shapes(shapes):
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    ordered = sorted(shapes, key=lambda s: ((s.top or 0), (s.left or 0)))
    for shape in ordered:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _slide_blocks(slide, number: int) -> list[Block]:
    blocks: list[Block] = []
    title_shape = slide.shapes.title
    if title_shape is not None and title_shape.has_text_frame:
        title = clean(title_shape.text_frame.text).replace("\n", " ")
        if title:
            blocks.append(Block(title, HEADING, 1, number))
    for shape in _shapes(slide.shapes):
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen or cell.is_spanned:
                        continue
                    seen.add(id(cell._tc))
                    cells.append(clean(cell.text).replace("\n", " "))
                text = "\t".join(cells).strip("\t")
                if text.strip():
                    blocks.append(Block(text, TABLE_ROW, 0, number))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            for para in shape.text_frame.paragraphs:
                text = clean("".join(r.text for r in para.runs) if para.runs else para.text)
                if text:
                    blocks.append(Block(text, PARA, 0, number))
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = clean(frame.text) if frame is not None else ""
        if notes:
            blocks.append(Block(notes, NOTES, 0, number))
    return blocks


def extract(data: bytes, limits) -> Extracted:
    _zip.open_checked(data, "pptx", limits)
    from pptx import Presentation

    try:
        prs = Presentation(io.BytesIO(data))
        slides = list(prs.slides)
        if len(slides) > limits.max_pages:
            raise FileTooLargeError(
                f"幻灯片太多（{len(slides)} 页），超过上限 {limits.max_pages} 页。",
                "请拆分成几个较小的文件后再上传。",
            )
        blocks: list[Block] = []
        for number, slide in enumerate(slides, start=1):
            blocks.extend(_slide_blocks(slide, number))
        props = prs.core_properties
        meta_title, author = props.title, props.author
    except FileTooLargeError:
        raise
    except Exception:  # python-pptx: KeyError, XMLSyntaxError, PackageNotFoundError, …
        raise CorruptFileError(
            "演示文稿已损坏，无法读取（pptx 内部结构不完整）。",
            "请用 PowerPoint 或 WPS 打开后另存为新文件再上传。",
        ) from None
    return Extracted(
        format="pptx",
        blocks=blocks,
        title=pick_title(meta_title, blocks),
        pages=len(slides),
        meta={"author": author} if author else {},
    )


__all__ = ["extract"]
