"""Video and audio files (宣讲视频、音频) read with Debian's ffmpeg: ``ffprobe`` for the
container, duration and streams, ``ffmpeg`` for a poster frame (one JPEG) and for a subtitle
stream inside the container. Nothing here reads the file into memory: the tools read it from
disk, each call bounded in time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from library.errors import InputError, UsageError

MEDIA_SUFFIXES = (".mp4", ".webm", ".mkv", ".mp3", ".m4a", ".wav", ".ogg")
VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv")
# what the browser is told a file is (the player needs it)
MIME = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
}
PROBE_TIMEOUT_S = 60
POSTER_TIMEOUT_S = 120
SUBTITLE_TIMEOUT_S = 300


def tools_missing() -> str | None:
    """A Chinese sentence when ffprobe or ffmpeg is not installed, else None."""
    if shutil.which("ffprobe") and shutil.which("ffmpeg"):
        return None
    return "没有找到 ffmpeg（需要 ffprobe 和 ffmpeg 读取视频和音频）。"


def _need_tools() -> None:
    missing = tools_missing()
    if missing:
        raise UsageError(missing, "请安装：apt-get install ffmpeg（Debian/Ubuntu），然后重试。")


def probe(path: Path, name: str | None = None) -> dict:
    """Container format, duration (seconds), and the streams of a media file:
    ``{"format", "duration", "video": bool, "audio": bool, "subtitles": int, "streams": [...],
    "mime"}``. Raises InputError naming the file (``name``: its name when ``path`` is a
    temporary file) when ffprobe cannot read it."""
    _need_tools()
    path = Path(path)
    shown = name or path.name
    try:
        run = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                str(path),
            ],
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _unreadable(shown, "读取超时") from None
    try:
        info = json.loads(run.stdout or b"{}")
    except ValueError:
        info = {}
    streams = info.get("streams") or []
    fmt = info.get("format") or {}
    try:
        duration = float(fmt.get("duration") or 0)
    except (TypeError, ValueError):
        duration = 0.0
    kinds = [s.get("codec_type") for s in streams]
    if run.returncode != 0 or not ({"audio", "video"} & set(kinds)) or duration <= 0:
        why = (run.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise _unreadable(shown, why[-1] if why else "没有音频或视频流")
    video = any(
        s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
        for s in streams
    )
    return {
        "format": fmt.get("format_name", ""),
        "duration": round(duration, 3),
        "video": video,
        "audio": "audio" in kinds,
        "subtitles": kinds.count("subtitle"),
        "streams": [
            {
                k: s[k]
                for k in ("codec_type", "codec_name", "width", "height", "sample_rate", "channels")
                if k in s
            }
            for s in streams
        ],
        "mime": MIME.get(path.suffix.lower(), "application/octet-stream"),
        "tags": _tags(fmt.get("tags") or {}),
    }


# Container tags a recording may carry (ffmpeg ``-metadata``, what a camera or an editing tool
# writes): title, the speaker (artist/author), the date and the occasion (comment/description).
_TAG_KEYS = {
    "title": "title",
    "artist": "speaker",
    "author": "speaker",
    "date": "date",
    "creation_time": "recorded",
    "comment": "occasion",
    "description": "occasion",
}


def _tags(raw: dict) -> dict:
    out: dict[str, str] = {}
    for key, value in raw.items():
        name = _TAG_KEYS.get(str(key).lower())
        text = " ".join(str(value).split())[:200]
        if name and text and name not in out:
            out[name] = text
    return out


# what ffprobe says, in words an editor can act on (its message follows the file's path, which
# for an upload is a temporary file on the server: never shown)
_FFPROBE_SAYS = (
    ("Invalid data found", "数据无法识别，不是可播放的视频/音频"),
    ("moov atom not found", "文件不完整（可能没有传完或录制时中断）"),
    ("End of file", "文件不完整（可能没有传完）"),
    ("No such file", "文件不存在"),
    ("Permission denied", "没有读取权限"),
)


def _unreadable(name: str, why: str) -> InputError:
    said = why.rsplit(": ", 1)[-1] if ": " in why else why
    words = next((zh for en, zh in _FFPROBE_SAYS if en.lower() in said.lower()), None)
    if words is None:
        words = "格式无法识别" if ("/" in said or not said.strip()) else said.strip(" :：")[:80]
    return InputError(
        f"无法读取媒体文件“{name}”（{words}）。",
        "文件可能已损坏或不是视频/音频；请用播放器确认能播放，或重新导出为 MP4/MP3 后再导入。",
    )


def poster(path: Path, duration: float) -> bytes | None:
    """One JPEG frame of a video (at a tenth of its length, at most 10 s in), at most 640 px
    wide; None when ffmpeg cannot make one."""
    at = min(10.0, max(0.0, duration / 10))
    try:
        run = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-ss",
                f"{at:.2f}",
                "-i",
                str(path),
                "-frames:v",
                "1",
                "-vf",
                "scale='min(640,iw)':-2",
                "-f",
                "image2",
                "-c:v",
                "mjpeg",
                "-",
            ],
            capture_output=True,
            timeout=POSTER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    data = run.stdout
    return data if run.returncode == 0 and data.startswith(b"\xff\xd8") else None


def subtitle_stream(path: Path) -> bytes | None:
    """The first subtitle stream of a container as SubRip text (``ffmpeg -map 0:s:0 -f srt``),
    None when there is none or it is not text (DVD/Blu-ray bitmaps)."""
    try:
        run = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:s:0", "-f", "srt", "-"],
            capture_output=True,
            timeout=SUBTITLE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return run.stdout if run.returncode == 0 and run.stdout.strip() else None


__all__ = [
    "MEDIA_SUFFIXES",
    "VIDEO_SUFFIXES",
    "MIME",
    "probe",
    "poster",
    "subtitle_stream",
    "tools_missing",
]
