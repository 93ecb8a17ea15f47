"""Media (宣讲视频、音频) into the library: probe the file, make a poster frame, read its
transcript, and prepare it like any document (``Prepared``) — title, passages with the times
they are spoken, quotes recognised in the transcript, topics, audiences.

The transcript comes, in this order, from a file given with the media (a subtitle .srt/.vtt/.lrc
or a transcript document .docx/.txt …), a sidecar subtitle with the media's base name beside it
(``讲座.mp4`` + ``讲座.srt``), or the container's first subtitle stream. Without one the media is
catalogued by its metadata, status ``needs_transcript`` (待补文稿), and a transcript can be
attached later (:func:`transcript_passages`).

The media file is never read into memory: ffprobe/ffmpeg read it from disk and its hash is
computed in chunks.
"""

from __future__ import annotations

from pathlib import Path

from indexer.ingest.extract.media import MEDIA_SUFFIXES, VIDEO_SUFFIXES, poster, probe
from indexer.ingest.extract.media import subtitle_stream as container_subtitles
from indexer.ingest.extract.subtitles import SUBTITLE_SUFFIXES, parse
from indexer.ingest.structure import attributed_quotes
from indexer.ingest.structure.dates import parse_date
from indexer.ingest.structure.transcript import passages_from_cues
from library.content import Passage, Quote, Structured, clock
from library.errors import EmptyFileError, InputError

TRANSCRIPT_SUFFIXES = SUBTITLE_SUFFIXES + (".docx", ".doc", ".txt", ".md", ".pdf")
PAST_END_TOLERANCE_S = 2.0  # a cue may end this much after the media (players round)


def is_media(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MEDIA_SUFFIXES


def sidecar(path: Path) -> Path | None:
    """A subtitle file with the media's base name beside it (.srt, then .vtt, then .lrc)."""
    for suffix in SUBTITLE_SUFFIXES:
        for cand in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if cand.is_file():
                return cand
    return None


def transcript_passages(
    data: bytes, filename: str, duration: float | None, *, speakers=None
) -> tuple[list[Passage], list[Quote], list[str], int]:
    """Passages (timed for a subtitle file), quotes recognised in them, warnings and the
    characters read, from a transcript file's bytes. Raises InputError naming the file: broken
    timestamps, a subtitle that starts after the media ends, no text at all."""
    name = Path(filename).name
    warnings: list[str] = []
    if Path(filename).suffix.lower() in SUBTITLE_SUFFIXES:
        cues = parse(data, name)
        if duration:
            late = [c for c in cues if c.start > duration + PAST_END_TOLERANCE_S]
            if late:
                raise InputError(
                    f"字幕文件“{name}”有 {len(late)} 条字幕的时间（最晚 {clock(late[-1].start)}）"
                    f"超出了媒体的时长 {clock(duration)}。",
                    "请确认字幕与这段录音/录像对应（文件名相同但内容不同？），"
                    "或用字幕软件修正时间轴后重新导入。",
                )
            over = [c for c in cues if c.end > duration]
            if over:
                cues = [
                    type(c)(c.start, min(c.end, duration), c.text) if c.end > duration else c
                    for c in cues
                ]
        passages = passages_from_cues(cues)
    else:
        from indexer.ingest.extract import Limits, extract
        from indexer.ingest.structure import structure

        ex = extract(data, name, Limits(ocr="off"))
        s = structure(ex, kind="script", filename=name, extract_quotes=False, speakers=speakers)
        passages = s.passages
        warnings += [w for w in ex.warnings + s.warnings]
        warnings.append(f"文稿“{name}”没有时间码：检索结果不能跳到录音/录像中的位置。")
    if not passages:
        raise EmptyFileError(
            f"文稿“{name}”中没有文字内容。", "请检查文件，或换用有文字的字幕/文稿后重试。"
        )
    quotes = attributed_quotes(passages, speakers)
    chars = sum(len(p.text) for p in passages)
    return passages, quotes, warnings, chars


def read_media(path: Path, name: str | None = None) -> tuple[dict, bytes | None]:
    """ffprobe's description of a media file and, for a video, a poster frame (JPEG)."""
    info = probe(path, name)
    still = poster(path, info["duration"]) if info["video"] else None
    if path.suffix.lower() in VIDEO_SUFFIXES and not info["video"]:
        info["mime"] = "audio/" + ("mp4" if path.suffix.lower() == ".mp4" else "webm")
    return info, still


def prepare_media(
    path: Path,
    *,
    sha256: str,
    kind_title: str | None = None,
    transcript: tuple[bytes, str] | None = None,
    speakers=None,
    find_sidecar: bool = True,
    name: str | None = None,
):
    """(info, poster, Structured, status, warnings, chars, transcript source) of a media file.
    ``transcript``: (bytes, filename) given with it; otherwise a sidecar or the container's
    subtitle stream. Raises InputError naming the file."""
    path = Path(path)
    info, still = read_media(path, name)
    tags = info.pop("tags", {})
    title = kind_title or tags.get("title") or Path(name or path.name).stem
    source = None
    if transcript is None and find_sidecar:
        side = sidecar(path)
        if side is not None:
            transcript = (side.read_bytes(), side.name)
    if transcript is None and info["subtitles"]:
        srt_bytes = container_subtitles(path)
        if srt_bytes:
            transcript = (srt_bytes, f"{path.stem}（内嵌字幕）.srt")
            source = "stream"
    s = Structured(kind="media", title=title)
    # what the container says about itself: 主讲人, date, 出处/活动 (a form's fields win later)
    if tags.get("speaker"):
        info["speaker"] = tags["speaker"]
    s.date = parse_date(tags.get("date", "")) or parse_date(tags.get("recorded", ""))
    s.source = tags.get("occasion")
    warnings: list[str] = []
    chars = 0
    if transcript is not None:
        data, tname = transcript
        s.passages, s.quotes, warnings, chars = transcript_passages(
            data, tname, info["duration"], speakers=speakers
        )
        info["transcript"] = {
            "filename": Path(tname).name,
            "source": source or Path(tname).suffix.lower().lstrip("."),
        }
        status = "warning" if warnings else "ok"
    else:
        status = "needs_transcript"
        warnings.append(
            "待补文稿：没有找到字幕或文稿，已按标题等信息编目，尚不能按讲话内容检索。"
            "可在录像页面上传字幕或文稿补上。"
        )
    return info, still, s, status, warnings, chars, transcript


__all__ = [
    "is_media",
    "sidecar",
    "prepare_media",
    "read_media",
    "transcript_passages",
    "MEDIA_SUFFIXES",
    "TRANSCRIPT_SUFFIXES",
]
