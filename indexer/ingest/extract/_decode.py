"""Decoding text files (txt, md, html) whose encoding nobody declared.

Order: BOM (UTF-8, UTF-16/32 LE/BE) → strict UTF-8 → UTF-16 without BOM when NULs sit in
alternate positions → cp1252 when the high bytes are isolated (Western text: é ü € “ ”) →
the Chinese legacy encodings: of GB18030, Big5 and BOM-less UTF-16 (mostly CJK), those that
decode cleanly; charset-normalizer chooses when more than one does.
cp1252 is tried before the Chinese encodings because GB18030 happily decodes many Western byte
pairs (“\x93w” is a valid GB18030 pair), while Chinese double-byte text never has isolated
high bytes. Binary content (NULs, control bytes) is refused with UnsupportedFormatError.

Measured with ``bench/encoding_detection.py --before`` (40 samples a cell, seed 7; right =
decoded text equal to the original), three approaches in one run — *before*: the hand-written
chain alone (strict GB18030 last); *c-n*: charset-normalizer alone; *now*: this module:

  encoding    20 chars: before / c-n / now   100 chars           1000 chars
  cp1252      90% /  92% /  90%              92% / 62% /  92%    100% / 20% / 100%
  GB18030     100% / 95% / 100%              100% / 98% / 100%   100% / 100% / 100%
  GBK         100% / 95% / 100%              100% / 98% / 100%   100% / 100% / 100%
  Big5          0% / 88% /  98%                0% / 100% / 100%    0% / 100% / 100%
  UTF-16-LE    52% / 100% / 100%              25% / 98% / 100%    20% / 100% / 100%
  UTF-8, BOM  100% everywhere
  all: before 75.2%, c-n 92.6%, now 99.0%; 0.06 / 0.60 / 0.11 ms a sample

So ours stays for BOMs, UTF-8, NUL-parity UTF-16 and cp1252 (charset-normalizer reads
Western text as cp1250/latin-1 variants: 20% right at 1000 characters) and keeps GB18030
ahead on short text (100% vs 95%); charset-normalizer only chooses among the Chinese
encodings that decode cleanly, which brings Big5 (read as GB18030 mojibake before) and
BOM-less Chinese UTF-16 (refused or mojibake before) to 98–100%.
"""

from __future__ import annotations

import codecs
import re

from library.errors import UnsupportedFormatError

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
# C0 controls that never occur in text files (keep \t \n \v \f \r and ESC-free text).
_BAD_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")


def binary_error() -> UnsupportedFormatError:
    return UnsupportedFormatError(
        "无法识别的文件格式：内容是二进制数据，不是文档或文本。",
        "请上传 Word（.docx/.doc）、PDF、PPT（.pptx）、网页或纯文本文件。",
    )


def _utf16_guess(data: bytes) -> str | None:
    sample = data[:4096]
    n = len(sample) // 2
    if n < 2:
        return None
    even = sum(1 for i in range(0, 2 * n, 2) if sample[i] == 0)
    odd = sum(1 for i in range(1, 2 * n, 2) if sample[i] == 0)
    # ASCII in UTF-16 puts a NUL in every other byte; Chinese puts none. So: NULs present,
    # (almost) all of them on one parity.
    # (CJK code points such as U+4E00 contribute a few NULs on the other parity.)
    if odd >= 2 and odd >= 4 * even:
        return "utf-16-le" if _ordinary(data, "utf-16-le") else None
    if even >= 2 and even >= 4 * odd:
        return "utf-16-be" if _ordinary(data, "utf-16-be") else None
    return None


# the Chinese legacy encodings, in order of preference when charset-normalizer has no opinion
_CHINESE = ("gb18030", "big5", "utf-16-le", "utf-16-be")


def _chinese(data: bytes, encodings=_CHINESE) -> tuple[str, str] | None:
    """(text, encoding) among :data:`_CHINESE`: the only one that decodes cleanly (BOM-less
    UTF-16 only to mostly CJK), or charset-normalizer's choice among those that do."""
    clean = []
    for enc in encodings:
        if enc.startswith("utf-16") and len(data) % 2:
            continue
        try:
            text = _check(data.decode(enc))
        except (UnicodeDecodeError, UnsupportedFormatError):
            continue
        if enc.startswith("utf-16") and len(_CJK.findall(text)) <= 0.6 * len(text.strip() or "x"):
            continue
        clean.append((text, enc))
    if len(clean) <= 1:
        return clean[0] if clean else None
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=[enc for _, enc in clean]).best()
    chosen = best.encoding.replace("_", "-") if best is not None else None
    return next((c for c in clean if c[1] == chosen), clean[0])


_ORDINARY = re.compile(
    r"[\t\n\r\x20-\x7e\u00a0-\u024f\u2000-\u206f\u3000-\u303f"
    r"\u4e00-\u9fff\uff00-\uffef]"
)


def _ordinary(data: bytes, enc: str) -> bool:
    """Decodes to mostly ordinary characters (ASCII, Latin, CJK, punctuation)."""
    try:
        text = data[: 2 * (min(len(data), 8192) // 2)].decode(enc)
    except UnicodeDecodeError:
        return False
    return bool(text) and len(_ORDINARY.findall(text)) >= 0.9 * len(text)


def _western_plausible(data: bytes) -> bool:
    """High bytes mostly isolated between ASCII letters/space/punctuation: Latin-1/cp1252 text,
    not double-byte Chinese (where high bytes come in pairs)."""
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if not high:
        return True
    isolated = sum(
        1
        for i in high
        if (i == 0 or data[i - 1] < 0x80) and (i + 1 >= len(data) or data[i + 1] < 0x80)
    )
    return isolated >= 0.7 * len(high)


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name). Raises UnsupportedFormatError for binary data."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return _check(data.decode(enc)), enc.replace("-sig", "") + " (BOM)"
            except UnicodeDecodeError:
                raise binary_error() from None
    try:
        return _check(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    enc16 = _utf16_guess(data) if b"\x00" in data[:4096] else None
    if enc16:
        try:
            return _check(data.decode(enc16)), enc16
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:  # text with NULs: UTF-16 (Chinese with some ASCII) or binary
        found = _chinese(data, ("utf-16-le", "utf-16-be"))
        if found:
            return found
        raise binary_error()
    if _western_plausible(data):
        try:
            return _check(data.decode("cp1252")), "cp1252"
        except UnicodeDecodeError:
            pass
    found = _chinese(data)
    if found:
        return found
    raise binary_error()


def _check(text: str) -> str:
    sample = text[:20000]
    bad = len(_BAD_CONTROLS.findall(sample))
    # a stray control character or two (a BEL pasted from a terminal) is not binary data:
    # short texts were refused for one of them
    if bad > 3 and bad > 0.01 * max(len(sample), 1):
        raise binary_error()
    if "\ufffd" in sample and sample.count("\ufffd") > 0.05 * len(sample):
        raise binary_error()
    return text


__all__ = ["decode", "binary_error"]
