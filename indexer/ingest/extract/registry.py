"""Pick the extractor by *sniffed* content, never by file name; enforce the limits.

The file name is used only to word error messages better (a JPEG named ``.pdf``) and to tell
Markdown from plain text when the content alone cannot.
"""

from __future__ import annotations

import importlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from indexer.ingest.extract._decode import binary_error, decode
from indexer.ingest.extract.base import Extracted
from library.errors import EmptyFileError, FileTooLargeError, InputError, UnsupportedFormatError


@dataclass
class Limits:
    max_bytes: int = 100 * 1024 * 1024  # file size
    max_unzipped_bytes: int = 512 * 1024 * 1024  # docx/pptx: declared and actually inflated
    max_ratio: int = 200  # compression ratio of any single zip member
    max_markup_bytes: int = 48 * 1024 * 1024  # docx/pptx: inflated XML parts (the text and
    # its markup: 0.3 MB in the largest of the 31
    # reports; a ratio-tuned 615 KB file held 100 MB)
    max_inflation: int = 20  # docx/pptx: inflated total ≤ this × file size
    inflation_floor: int = 96 * 1024 * 1024  # ... or this much (real files: ≤ 7.6×)
    max_pages: int = 2000  # pdf pages / pptx slides / image frames
    ocr: str = "auto"  # auto | rapidocr | tesseract | off
    progress: Callable | None = None  # progress(stage, done, total), e.g. OCR pages


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_IMAGES = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
]
_OTHER_BINARY = [
    (b"Rar!\x1a\x07", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"{\\rtf", "RTF 文档"),
    (b"%!PS", "PostScript 文件"),
    (b"\x7fELF", "程序文件"),
    (b"MZ", "程序文件"),
    (b"ID3", "音频文件"),
    (b"OggS", "音频文件"),
    (b"fLaC", "音频文件"),
]
_SAVE_AS = "请用 Word 或 WPS 打开后另存为 .docx（或导出为 PDF）再上传。"
_SUPPORTED = "请上传 Word（.docx/.doc）、PDF、PPT（.pptx）、网页或纯文本文件。"


_PAGE_IMAGES = ("JPEG", "PNG", "TIFF", "BMP")  # page scans and photos: OCR'd


def _image_kind(data: bytes) -> str | None:
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        return "WEBP"
    return next((name for magic, name in _IMAGES if data.startswith(magic)), None)


def _opens_as_image(data: bytes) -> bool:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        return True
    except Exception:  # PIL raises many kinds for broken data
        return False


def _not_a_document(data: bytes, filename: str, why: str = "") -> UnsupportedFormatError:
    """An image where a document was expected, and no OCR to read it."""
    name = _image_kind(data) or "图片"
    named = _named(filename)
    lead = f"这是一张图片（{name}），不是 {named}" if named else f"这是一张图片（{name}），不是文档"
    return UnsupportedFormatError(
        lead + "。" + why, "请上传原始文档；如只有图片，请先做文字识别（OCR）。"
    )


def _named(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "pdf": "PDF 文档",
        "docx": "Word 文档",
        "doc": "Word 文档",
        "pptx": "PPT 演示文稿",
        "ppt": "PPT 演示文稿",
        "txt": "文本文件",
        "md": "文本文件",
        "html": "网页",
        "htm": "网页",
        "wps": "WPS 文档",
    }.get(ext, "")


def _sniff_zip(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
    ):
        # A zip that cannot be read (NotImplementedError: a zip version zipfile does not know): if it *looks* like Office Open XML, call it corrupt there.
        head = data[:4096]
        if b"word/" in head or b"[Content_Types].xml" in head:
            return "docx"
        if b"ppt/" in head:
            return "pptx"
        raise UnsupportedFormatError(
            "这是一个损坏或无法识别的压缩包，不是文档。", _SUPPORTED
        ) from None
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "xl/workbook.xml" in names:
        raise UnsupportedFormatError(
            "这是 Excel 表格（.xlsx），不是文档，暂不支持。",
            "请把需要的内容复制到 Word 文档后上传。",
        )
    if "content.xml" in names and "mimetype" in names:
        raise UnsupportedFormatError(
            "这是 OpenDocument（.odt/.odp）格式，暂不支持。",
            "请用 WPS 或 LibreOffice 另存为 .docx 或 .pptx 再上传。",
        )
    if "[Content_Types].xml" in names:
        raise UnsupportedFormatError(
            "这是不支持的 Office 文件（不含 Word 正文或幻灯片）。", _SUPPORTED
        )
    raise UnsupportedFormatError(
        "这是一个普通压缩包（zip），不是文档。", "请解压后分别上传其中的文档。"
    )


def _sniff_ole(data: bytes) -> str:
    import olefile

    try:
        ole = olefile.OleFileIO(data)
        streams = {"/".join(part.rstrip("\0") for part in s) for s in ole.listdir()}
        ole.close()
    except Exception:  # olefile raises OSError, struct.error, IndexError… on damaged files
        return "doc"  # let the doc extractor report it as corrupt
    if "WordDocument" in streams:
        return "doc"
    if "EncryptedPackage" in streams:
        # An encrypted .docx/.pptx: Office wraps it in an OLE container.
        from library.errors import EncryptedFileError

        raise EncryptedFileError(
            "文件设置了打开密码，无法读取。",
            "请在 Word/WPS 中取消密码（文件 → 保护文档）后另存再上传。",
        )
    if "Workbook" in streams or "Book" in streams:
        what = "Excel 表格（.xls）"
    elif "PowerPoint Document" in streams:
        what = "旧版 PPT 演示文稿（.ppt）"
    else:
        what = "不支持的 Office 旧格式文件"
    raise UnsupportedFormatError(
        f"这是{what}，暂不支持。", "请用 WPS 或 Office 另存为 .docx 或 .pptx 后再上传。"
    )


def _looks_html(text: str) -> bool:
    head = text[:4096].lstrip("\ufeff \t\r\n").lower()
    if head.startswith(("<!doctype html", "<html")):
        return True
    if head.startswith(("<?xml", "<!--")) and "<html" in head:
        return True
    return head.startswith("<") and ("<body" in head or "<html" in head)


def _looks_markdown(text: str) -> bool:
    import re

    lines = text[:20000].splitlines()
    heads = sum(1 for ln in lines if re.match(r"#{1,6} \S", ln))
    return heads >= 1 and (heads >= 2 or lines and lines[0].startswith("#"))


def sniff(data: bytes, filename: str = "") -> str:
    """The format of ``data``: "docx" | "pptx" | "pdf" | "doc" | "html" | "md" | "txt" | "image"."""
    if not data:
        raise EmptyFileError(
            "文件是空的（0 字节）。", "请检查文件是否上传完整，或重新导出后再上传。"
        )
    if data[:1024].lstrip()[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _sniff_zip(data)
    if data.startswith(OLE_MAGIC):
        return _sniff_ole(data)
    if _image_kind(data):
        return "image"
    for magic, name in _OTHER_BINARY:
        if data.startswith(magic):
            raise UnsupportedFormatError(f"这是{name}，不是支持的文档格式。", _SUPPORTED)
    text, _ = decode(data)  # raises for binary data
    if _looks_html(text):
        return "html"
    if filename.lower().endswith((".md", ".markdown")) or _looks_markdown(text):
        return "md"
    return "txt"


_EXTRACTORS = {
    "docx": ("docx", "extract"),
    "pptx": ("pptx", "extract"),
    "pdf": ("pdf", "extract"),
    "doc": ("doc", "extract"),
    "html": ("html", "extract"),
    "md": ("text", "extract_md"),
    "txt": ("text", "extract_txt"),
    "image": ("image", "extract"),
}


def _extractor(fmt: str) -> Callable:
    module, func = _EXTRACTORS[fmt]
    return getattr(importlib.import_module(f".{module}", __package__), func)


def extract(data: bytes, filename: str = "", limits: Limits | None = None) -> Extracted:
    """Extract blocks from ``data``. Raises only InputError subclasses on bad input."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise FileTooLargeError(
            f"文件太大（{len(data) / 1048576:.1f} MB），超过上限 {limits.max_bytes / 1048576:.0f} MB。",
            "请拆分成几个较小的文件，或压缩其中的图片后再上传。",
        )
    fmt = sniff(data, filename)
    if fmt == "image":
        if _image_kind(data) not in _PAGE_IMAGES:
            raise _not_a_document(data, filename)
        if limits.ocr == "off":
            raise _not_a_document(
                data,
                filename,
                "文字识别（OCR）已在设置中关闭（settings.json 中 ocr_engine 设为 auto 可开启）。",
            )
        from indexer.ingest.extract.ocr import INSTALL_HINT, available

        if not available(limits.ocr):
            raise _not_a_document(
                data, filename, "本机没有安装文字识别（OCR）引擎。" + INSTALL_HINT
            )
        if not _opens_as_image(data):
            raise _not_a_document(data, filename, "而且图片数据已损坏，无法识别。")
    run = _extractor(fmt)
    try:
        result = run(data, limits)
    except InputError:
        raise
    except MemoryError:
        raise FileTooLargeError(
            "文件内容过大，处理时内存不足。", "请拆分成几个较小的文件后再上传。"
        ) from None
    except Exception as exc:  # last line of defence: a library raised something unforeseen
        from library.errors import CorruptFileError

        ours = _input_error_within(exc)
        if ours is not None:  # e.g. the time limit, wrapped by a library that caught it
            raise ours from None
        raise CorruptFileError(f"文件已损坏或结构异常，无法读取（{fmt}）。", _SAVE_AS) from exc
    if result.status == "ok" and not result.blocks:
        raise EmptyFileError(
            "文件中没有可提取的文字内容。",
            "请确认文件不是空白文档或纯图片；图片内容请先做文字识别（OCR）。",
        )
    return result


__all__ = ["Limits", "sniff", "extract", "binary_error"]


def _input_error_within(exc: BaseException) -> InputError | None:
    """Our own InputError inside a library's exception chain: rapidocr turns anything raised
    during inference (the file's time limit among them) into its ONNXRuntimeError, and a
    timeout must not be reported as a damaged file."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, InputError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
