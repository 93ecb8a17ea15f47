"""Small media made in the tests with ffmpeg's test sources (``testsrc`` + ``sine``), and the
subtitle files that go with them (written here, so the tests own every word)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HAVE_FFMPEG = bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))
needs_ffmpeg = pytest.mark.skipif(
    not HAVE_FFMPEG, reason="ffmpeg missing (make test installs it: scripts/ensure-media.sh)"
)

SRT = """1
00:00:00,200 --> 00:00:01,300
同志们，今天我们讲乡村振兴。

2
00:00:01,300 --> 00:00:02,400
习近平总书记指出，“绿水青山就是金山银山”。

3
00:00:02,400 --> 00:00:03,800
宣讲员要讲百姓听得懂的实在话。
"""

VTT = """WEBVTT

00:00.200 --> 00:01.300
各位乡亲，大家好。

00:01.300 --> 00:03.500
今天和大家聊聊垃圾分类的新办法。
"""

LRC = """[ti:社区宣讲]
[00:00.20]各位居民朋友，晚上好。
[00:01.80]我们来说说邻里互助的好做法。
"""


def make_video(
    path: Path, seconds: int = 4, subtitles: str | None = None, tags: dict | None = None
) -> Path:
    """A small MP4 (160x120 test pattern and a tone); with ``subtitles`` (SubRip text) also
    a subtitle stream inside the container (mov_text); ``tags``: container metadata
    (``-metadata key=value``: title, artist, date, comment …)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=160x120:rate=10",
        "-f", "lavfi", "-i", f"sine=duration={seconds}",
    ]  # fmt: skip
    maps = ["-map", "0:v", "-map", "1:a"]
    if subtitles is not None:
        srt = path.with_name(path.stem + ".embedded.srt")
        srt.write_text(subtitles, encoding="utf-8")
        cmd += ["-i", str(srt)]
        maps += ["-map", "2:s", "-c:s", "mov_text"]
    for key, value in (tags or {}).items():
        cmd += ["-metadata", f"{key}={value}"]
    cmd += maps + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    if subtitles is not None:
        srt.unlink()
    return path


def make_audio(path: Path, seconds: int = 4) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=duration={seconds}", str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path
