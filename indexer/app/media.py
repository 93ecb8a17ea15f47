"""Media use cases (宣讲视频、音频): upload a recording with its metadata and, optionally, its
transcript; attach a transcript later (待补文稿 → searchable); what the media page shows (the
player's file, poster, the transcript's cues). Called through :class:`LibraryService` only.

The file itself never passes through memory: an upload is streamed to a temporary file by the
delivery layer, stored from there in chunks (``library.store.mediafiles``), and served from a
file on this machine with Range support.
"""

from __future__ import annotations

from pathlib import Path

from indexer.ingest.extract.media import MIME
from indexer.ingest.media import TRANSCRIPT_SUFFIXES, transcript_passages
from indexer.ingest.pipeline import MEDIA_SUFFIXES as SUFFIXES
from indexer.ingest.pipeline import FileResult, Options, Pipeline, text_key
from library.content import clock
from library.errors import InputError, NotFoundError, UsageError
from library.originals import sha256_bytes


def options(svc, actor: str, topics=None, audiences=None) -> Options:
    home = svc.home
    return Options(
        kind="media",
        topics=svc.resolve_topics(topics),
        audiences=svc.resolve_audiences(audiences),
        max_bytes=home.max_file_bytes,
        max_media_bytes=home.config.max_media_bytes,
        actor=actor,
        speakers=svc.speakers,
    )


def check_transcript_name(filename: str) -> None:
    if Path(filename).suffix.lower() not in TRANSCRIPT_SUFFIXES:
        raise UsageError(
            f"“{Path(filename).name}”不是字幕或文稿文件。",
            "可用：字幕 .srt、.vtt、.lrc，或文稿 .docx、.txt。",
        )


def upload(
    svc,
    path: Path,
    filename: str,
    *,
    actor: str,
    title: str | None = None,
    speaker: str | None = None,
    date: str | None = None,
    source: str | None = None,
    topics=None,
    audiences=None,
    transcript: tuple[bytes, str] | None = None,
) -> FileResult:
    """Store an uploaded media file (``path``: the temporary file it was streamed to) with its
    metadata and optional transcript; the document is published at once (there is no preview
    of a recording), its metadata editable on its page."""
    if Path(filename).suffix.lower() not in SUFFIXES:
        raise UsageError(
            f"“{Path(filename).name}”不是支持的视频/音频格式。",
            "可用：" + "、".join(sorted(SUFFIXES)),
        )
    if transcript is not None:
        check_transcript_name(transcript[1])
    opts = options(svc, actor, topics, audiences)
    with svc.writing():
        result = Pipeline(svc.store, svc.taxonomy).ingest_media(
            Path(path), opts, filename=filename, transcript=transcript, title=title or None
        )
        if result.document_id and result.status not in ("duplicate", "error"):
            if date or source:
                svc.store.update_document(
                    result.document_id, actor=actor, date=date or None, source=source or None
                )
            if speaker:
                set_speaker(svc, result.document_id, speaker)
        svc.sync()
    return result


def set_speaker(svc, doc_id: int, speaker: str) -> None:
    """The speaker of a recording (主讲人), kept with its media record."""
    doc = svc.store.get_document(doc_id)
    media = dict(doc["version"].get("media") or {})
    media["speaker"] = speaker.strip() or None
    svc.store.db.execute(
        "UPDATE versions SET media = :m WHERE id = :v",
        {"m": _json(media), "v": doc["version"]["id"]},
    )


def _json(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def media_document(svc, doc_id: int) -> dict:
    """A media document (its current version's media record under ``media``); NotFoundError
    when the document is not a recording."""
    doc = svc.store.get_document(doc_id)
    media = (doc.get("version") or {}).get("media")
    if doc["kind"] != "media" or not media:
        raise NotFoundError(f"编号为 {doc_id} 的材料不是视频/音频。")
    doc["media"] = media
    doc["cues"] = [
        {
            "id": p["id"],
            "text": p["text"],
            "start": p["start_s"],
            "end": p["end_s"],
            "clock": clock(p["start_s"]) if p["start_s"] is not None else "",
        }
        for p in doc["passages"]
    ]
    doc["needs_transcript"] = doc["version"]["status"] == "needs_transcript"
    doc["duration_clock"] = clock(media.get("duration"))
    return doc


def attach_transcript(svc, doc_id: int, data: bytes, filename: str, *, actor: str) -> dict:
    """Give a recording its transcript (a subtitle or a document): its passages replace the
    old ones, quotes are recognised, it becomes searchable. Raises InputError naming the file;
    nothing changes then."""
    check_transcript_name(filename)
    doc = media_document(svc, doc_id)
    if not data:
        raise InputError(f"文稿“{Path(filename).name}”是空文件。", "请检查文件后重试。")
    media = dict(doc["media"])
    passages, quotes, warnings, chars = transcript_passages(
        data, filename, media.get("duration"), speakers=svc.speakers
    )
    media["transcript"] = {
        "filename": Path(filename).name,
        "source": Path(filename).suffix.lower().lstrip("."),
    }
    media["transcript_sha256"] = sha256_bytes(data)
    topics = [(t["topic"], t["score"]) for t in doc["topics"] if t.get("member", True)]
    with svc.writing():
        svc.store.attach_transcript(
            doc_id,
            passages=passages,
            quotes=quotes,
            quote_keys=[text_key(q.text) for q in quotes],
            quote_topics=[list(topics) for _ in quotes],
            media=media,
            status="warning" if warnings else "ok",
            warnings=warnings,
            chars=chars,
            attachments=[data],
            actor=actor,
        )
        # the transcript it replaces is nobody's file any more: gone with it, so that `check`
        # does not report a leftover of an interrupted import
        old = doc["media"].get("transcript_sha256")
        if old and old != media["transcript_sha256"]:
            if old not in svc.store.referenced_originals():
                svc.store.originals.remove(old)
        svc.sync()
    return {"document_id": doc_id, "passages": len(passages), "quotes": len(quotes)}


def media_file(svc, doc_id: int) -> tuple[Path, str]:
    """(a file on this machine with the recording, its MIME type)."""
    doc = media_document(svc, doc_id)
    path = svc.store.media_files.path(doc["version"]["sha256"])
    if not path.is_file():
        raise NotFoundError("录音/录像文件不在资料库中。", "请运行 lecturelib check 检查资料库。")
    return path, doc["media"].get("mime") or MIME.get("." + doc["version"]["format"], "")


def poster_file(svc, doc_id: int) -> Path:
    doc = media_document(svc, doc_id)
    sha = doc["media"].get("poster")
    if not sha:
        raise NotFoundError("这段录音没有封面画面。")
    return svc.store.originals.local_path(sha)


__all__ = [
    "upload",
    "attach_transcript",
    "media_document",
    "media_file",
    "poster_file",
    "SUFFIXES",
]
