"""Safe opening of OOXML packages (docx, pptx): zip bombs and truncated archives.

Bounds, all from :class:`~indexer.ingest.extract.registry.Limits`: the sum of the sizes the zip
directory declares, and the bytes actually produced while inflating (a forged directory cannot
get past the second), both at most ``max_unzipped_bytes`` and at most ``max_inflation`` times
the file's own size (with a 96 MB floor); the XML parts together at most ``max_markup_bytes``
(the text is what costs parsing time: a 615 KB file holding a 100 MB document.xml at 181:1 got
under the ratio bound and kept a worker busy for 246 s). Each member's compression ratio is
bounded too (``max_ratio``; members under 1 MB are exempt — small XML parts compress very well
and are harmless).
"""

from __future__ import annotations

import io
import zipfile
import zlib

from library.errors import CorruptFileError

_RATIO_EXEMPT = 1024 * 1024
_INFLATION_FLOOR = 96 * 1024 * 1024
_CHUNK = 1 << 16


def _is_markup(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _bomb(kind: str) -> CorruptFileError:
    return CorruptFileError(
        f"文件解压后体积异常巨大，疑似“压缩炸弹”，已拒绝处理（{kind} 压缩包）。",
        "请确认文件来源可靠；如确为正常文档，请用 Word/WPS 打开后另存为新文件再上传。",
    )


def corrupt(kind: str) -> CorruptFileError:
    return CorruptFileError(
        f"文件已损坏，无法读取（{kind} 压缩包不完整）。",
        "请用 Word 或 WPS 打开后另存为新文件再上传。",
    )


def open_checked(data: bytes, kind: str, limits) -> zipfile.ZipFile:
    """Open ``data`` as a zip after inflating every member under the limits. Raises
    CorruptFileError for a truncated/invalid archive or a zip bomb."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
    ):
        raise corrupt(kind) from None
    cap = min(
        limits.max_unzipped_bytes,
        max(
            getattr(limits, "inflation_floor", _INFLATION_FLOOR),
            getattr(limits, "max_inflation", 20) * len(data),
        ),
    )
    markup_cap = getattr(limits, "max_markup_bytes", limits.max_unzipped_bytes)
    if sum(i.file_size for i in infos) > cap:
        raise _bomb(kind)
    if sum(i.file_size for i in infos if _is_markup(i.filename)) > markup_cap:
        raise _bomb(kind)
    total = markup = 0
    for info in infos:
        if info.is_dir():
            continue
        is_markup = _is_markup(info.filename)
        if info.file_size > _RATIO_EXEMPT and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise _bomb(kind)
        produced = 0
        try:
            with zf.open(info) as fh:
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    produced += len(chunk)
                    total += len(chunk)
                    if total > cap:
                        raise _bomb(kind)
                    if is_markup:
                        markup += len(chunk)
                        if markup > markup_cap:
                            raise _bomb(kind)
                    if produced > _RATIO_EXEMPT and produced > limits.max_ratio * max(
                        info.compress_size, 1
                    ):
                        raise _bomb(kind)
        except CorruptFileError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            ValueError,
            NotImplementedError,
            RuntimeError,
        ):
            raise corrupt(kind) from None
    return zf


__all__ = ["open_checked", "corrupt"]
