"""Subtitle files as timed cues: SubRip (.srt) with PyPI ``srt``, WebVTT (.vtt) with PyPI
``webvtt-py``, and LRC lyrics-style transcripts (.lrc) with the small parser below (no
maintained LRC library exists on PyPI; the format is one ``[mm:ss.xx]text`` per line).

The bytes are decoded like every text file (``_decode``: UTF-8, UTF-16, GB18030/GBK, Big5), so
a subtitle saved in GBK reads as well as a UTF-8 one. A cue's text loses its markup (``<i>``,
``{\\an8}``, WebVTT voice tags) and its line breaks. Broken timestamps are an InputError that
names the cue, so that the editor can fix the file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import PurePath

from library.errors import InputError

from ._decode import decode

SUBTITLE_SUFFIXES = (".srt", ".vtt", ".lrc")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str


_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def _clean(text: str) -> str:
    lines = (_TAGS.sub("", line).strip() for line in text.splitlines())
    return " ".join(line for line in lines if line)


def _broken(name: str, where: str) -> InputError:
    return InputError(
        f"字幕文件“{name}”的时间码有误（{where}），无法读取。",
        "请用字幕软件检查并修正时间码（格式如 00:01:02,500 --> 00:01:05,000）后重新导入。",
    )


def parse(data: bytes, filename: str) -> list[Cue]:
    """The cues of a subtitle file (by its extension: .srt, .vtt, .lrc), in time order, empty
    cues left out. Raises InputError naming the file on broken timestamps or binary data."""
    name = PurePath(filename).name
    suffix = PurePath(filename).suffix.lower()
    try:
        text, _ = decode(data)
    except InputError:
        raise InputError(
            f"字幕文件“{name}”不是文本文件，无法读取。", "请导出为 .srt、.vtt 或 .lrc 文本字幕。"
        ) from None
    text = text.lstrip("\ufeff")
    if suffix == ".vtt":
        cues = _vtt(text, name)
    elif suffix == ".lrc":
        cues = _lrc(text, name)
    else:
        cues = _srt(text, name)
    out = [c for c in cues if c.text]
    for c in out:
        if c.start < 0 or c.end < c.start:
            raise _broken(name, f"“{c.text[:20]}”的结束时间早于开始时间")
    return sorted(out, key=lambda c: (c.start, c.end))


# a SubRip timing line: 00:01:02,500 --> 00:01:05,000 (hours may be one digit, "." for ",")
_SRT_TIMING = re.compile(
    r"^\s*\d{1,3}:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-->\s*\d{1,3}:\d{1,2}:\d{1,2}[,.]\d{1,3}(?:\s.*)?$"
)


def _bad_timing_line(text: str) -> str | None:
    """“第 2 行：“00:00:01,000 --> 00:00:0X,000””: a line meant as a timing that is not one
    (the srt library reads such a line as subtitle text and the error surfaced later as a
    cue ending before it starts)."""
    for n, line in enumerate(text.splitlines(), 1):
        if "-->" in line and not _SRT_TIMING.match(line):
            return f"第 {n} 行：“{line.strip()[:40]}”不是有效的时间码"
    return None


def _srt(text: str, name: str) -> list[Cue]:
    import srt

    bad = _bad_timing_line(text)
    if bad:
        raise _broken(name, bad)

    try:
        subs = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as e:
        raise _broken(name, _srt_where(text, e)) from None
    return [Cue(s.start.total_seconds(), s.end.total_seconds(), _clean(s.content)) for s in subs]


def _srt_where(text: str, err: Exception) -> str:
    m = re.search(r"(\d+)", str(err))
    if hasattr(err, "expected_start"):
        line = text[: err.expected_start].count("\n") + 1  # type: ignore[attr-defined]
        return f"第 {line} 行附近"
    return f"位置 {m.group(1)} 附近" if m else "格式不符"


def _vtt(text: str, name: str) -> list[Cue]:
    import webvtt
    from webvtt.errors import MalformedFileError

    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except (MalformedFileError, ValueError) as e:
        raise _broken(name, str(e) or "格式不符") from None
    out = []
    for c in captions:
        try:
            start, end = c.start_in_seconds, c.end_in_seconds
        except (ValueError, AttributeError):
            raise _broken(name, f"“{c.start} --> {c.end}”") from None
        # webvtt-py gives whole seconds in *_in_seconds; keep the milliseconds
        start, end = _vtt_seconds(c.start, start), _vtt_seconds(c.end, end)
        out.append(Cue(start, end, _clean(c.text)))
    return out


def _vtt_seconds(stamp: str, fallback: float) -> float:
    m = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})", stamp.strip())
    if not m:
        return float(fallback)
    h, mi, s, ms = m.groups()
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


_LRC_TIME = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_LRC_TAG = re.compile(r"^\[[a-zA-Z]+:.*\]$")  # [ti:…] [ar:…] [offset:…]


def _lrc(text: str, name: str) -> list[Cue]:
    """LRC: ``[mm:ss.xx]text`` lines (several stamps may share a line); a cue ends where the
    next one starts (the last one 5 s later)."""
    stamped: list[tuple[float, str]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or _LRC_TAG.match(line):
            continue
        stamps = []
        pos = 0
        while m := _LRC_TIME.match(line, pos):
            mi, s, frac = m.groups()
            if int(s) >= 60:
                raise _broken(name, f"第 {n} 行“{m.group(0)}”")
            stamps.append(int(mi) * 60 + int(s) + (int(frac) / 10 ** len(frac) if frac else 0))
            pos = m.end()
        if not stamps:
            if line.startswith("["):
                raise _broken(name, f"第 {n} 行“{line[:20]}”")
            continue  # a line without a time: not a cue
        words = _clean(line[pos:])
        stamped.extend((t, words) for t in stamps)
    stamped.sort(key=lambda x: x[0])
    cues = []
    for i, (t, words) in enumerate(stamped):
        end = stamped[i + 1][0] if i + 1 < len(stamped) else t + 5.0
        cues.append(Cue(t, max(t, end), words))
    return cues


__all__ = ["Cue", "parse", "SUBTITLE_SUFFIXES"]
