"""Import a topic pack into a library: verify it completely first (library.pack.read_pack),
check every row's fields and their types (a pack's checksums prove only that it is intact, not
that whoever made it was friendly: a malformed row is refused with PackError before the first
write), then add each document in its own transaction. De-duplicates by file hash (a document
already present is skipped) and by quote text (the store merges quotes with the same normalized
text), so importing the same pack twice changes nothing.

A recording (视频/音频) comes with its media record, its transcript passages with their times,
its poster frame and transcript file, and its file when the pack has it: copied out of the zip
to disk (``run/pack-import/``, never into memory), checked with ffprobe like an ingested file
(its format, duration and streams are taken from the file, not from the pack), and kept through
the store's media files (SQLite: with the originals; PostgreSQL: ``media_chunks``). A recording
the pack left out (over the export's size limit) is imported as a catalogued recording whose
file is missing: its transcript searchable, ``media.file_missing`` saying why, status
``warning`` with a message; importing a pack that has the file later fills it in."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from indexer.ingest.pipeline import text_key
from library.content import AUDIENCES, KINDS, Passage, Quote, Structured
from library.errors import InputError, PackError
from library.originals import sha256_bytes
from library.pack import MEDIA_EXTENSIONS, read_pack
from library.store import IngestItem


@dataclass
class ImportReport:
    path: Path
    topic: str
    added: list[str] = field(default_factory=list)  # titles
    duplicates: list[str] = field(default_factory=list)
    quotes_added: int = 0
    quotes_merged: int = 0
    passages: int = 0
    seconds: float = 0.0
    media_files: int = 0  # recordings imported with their file
    media_missing: list[str] = field(default_factory=list)  # titles: recordings without file
    media_completed: list[str] = field(default_factory=list)  # titles: file filled in


_EXT = {
    "docx": "docx",
    "pdf": "pdf",
    "doc": "doc",
    "pptx": "pptx",
    "txt": "txt",
    "md": "md",
    "html": "html",
    **{m: m for m in MEDIA_EXTENSIONS},
}
_SHA = re.compile(r"[0-9a-f]{64}")
# what a recording's media record may hold, with the check of each value
_MEDIA_KEYS = ("format", "duration", "video", "audio", "subtitles", "streams", "mime", "speaker")
_STREAM_KEYS = ("codec_type", "codec_name", "width", "height", "sample_rate", "channels")


_FIX = "该文件可能被篡改，或由不兼容的程序生成；请向发送方重新获取专题包。"
_MAX_INT = 2**31


class _Bad(Exception):
    """One field of the pack's data is malformed (what is wrong, in Chinese)."""


def _str(value, what: str, *, optional: bool = False, empty: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _Bad(what)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a "\\ud800" escape in the JSON)
        raise _Bad(what) from None


def _int(value, what: str, *, optional: bool = False, low: int = 0) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < _MAX_INT:
        raise _Bad(what)


def _list(value, what: str, *, optional: bool = True) -> list:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise _Bad(what)
    return value


def _topics(value, what: str) -> None:
    for t in _list(value, what):
        if not isinstance(t, dict):
            raise _Bad(what)
        _str(t.get("topic"), what)
        score = t.get("score")
        if (
            isinstance(score, bool)
            or not isinstance(score, (int, float))
            or not math.isfinite(score)
            or abs(score) > 1e6
        ):
            raise _Bad(what)
        _str(t.get("origin"), what, optional=True)


def _base_name(name: str) -> str:
    """The file name without any folder part, as the ingest pipeline stores it (a pack could
    carry “../../x.docx” or “C:\\x.doc”)."""
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    return "" if base in ("", ".", "..") else base


def _one_of(value, allowed) -> bool:
    return isinstance(value, str) and value in allowed


def _check_quote(q) -> None:
    if not isinstance(q, dict):
        raise _Bad("金句记录")
    _str(q.get("key"), "金句键值", empty=False)
    _str(q.get("text"), "金句正文", empty=False)
    for k in ("source", "date", "speaker", "theme", "note"):
        _str(q.get(k), f"金句的“{k}”字段", optional=True)
    _topics(q.get("topics"), "金句的专题")


def _seconds(value, what: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value < 1e7
    ):
        raise _Bad(what)


def _check_media(d: dict, pack) -> None:
    """A recording's media record and the members it names (``recording``): each present in
    the pack with the checksum the record gives."""
    v, m = d["version"], d["version"]["media"]
    size = v.get("size")  # may pass 2 GB
    if size is not None and (
        isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 2**40
    ):
        raise _Bad("录音/录像大小")
    _seconds(m.get("duration"), "时长", optional=True)
    for k in ("video", "audio"):
        if k in m and not isinstance(m[k], bool):
            raise _Bad("视频/音频信息")
    _int(m.get("subtitles"), "视频/音频信息", optional=True)
    for k in ("format", "mime", "speaker"):
        _str(m.get(k), "视频/音频信息", optional=True)
    for st in _list(m.get("streams"), "视频/音频信息"):
        if not isinstance(st, dict) or any(
            k not in _STREAM_KEYS or not isinstance(x, (str, int)) or isinstance(x, bool)
            for k, x in st.items()
        ):
            raise _Bad("视频/音频信息")
        for x in st.values():
            if isinstance(x, str):
                _str(x, "视频/音频信息")
    for k in ("poster", "transcript_sha256"):
        if m.get(k) is not None and not (isinstance(m[k], str) and _SHA.fullmatch(m[k])):
            raise _Bad("视频/音频信息")
    t = m.get("transcript")
    if t is not None:
        if not isinstance(t, dict):
            raise _Bad("文稿信息")
        _str(t.get("filename"), "文稿信息", optional=True)
        _str(t.get("source"), "文稿信息", optional=True)
    rec = d.get("recording")
    if not isinstance(rec, dict):
        raise _Bad("录音/录像文件信息")
    _str(rec.get("reason"), "录音/录像未随包的原因", optional=True)
    files = pack.manifest.get("files") or {}
    if rec.get("file") is not None:
        if (
            rec["file"] != f"originals/{v['sha256']}.{v['format']}"
            or files.get(rec["file"]) != v["sha256"]
            or rec["file"] not in pack.files
        ):
            raise _Bad("录音/录像文件（缺失或校验不符）")
    for key, sha_key in (("poster", "poster"), ("transcript", "transcript_sha256")):
        name = rec.get(key)
        if name is None:
            continue
        if not (
            isinstance(name, str)
            and name.startswith(f"originals/{m.get(sha_key)}.")
            and name in pack.members
            and sha256_bytes(pack.members[name]) == m.get(sha_key)
        ):
            raise _Bad("封面或文稿文件（缺失或校验不符）")


def _check_document(d, quotes: dict, pack) -> None:
    """Every field import_pack and the store use, with the type they need."""
    members = pack.members
    if not isinstance(d, dict):
        raise _Bad("材料记录")
    _str(d.get("title"), "标题")
    if not _one_of(d.get("kind"), KINDS):
        raise _Bad(f"类型“{d.get('kind')}”")
    _str(d.get("date"), "日期", optional=True)
    v = d.get("version")
    if not isinstance(v, dict):
        raise _Bad("版本信息")
    _str(v.get("sha256"), "原始文件校验值", empty=False)
    if not _one_of(v.get("format"), _EXT):
        raise _Bad("文件格式")
    is_media = d["kind"] == "media"
    if is_media != (v["format"] in MEDIA_EXTENSIONS) or is_media != isinstance(
        v.get("media"), dict
    ):
        raise _Bad("视频/音频信息")
    if is_media:
        _check_media(d, pack)
    else:
        member = f"originals/{v['sha256']}.{_EXT[v['format']]}"
        if member not in members or sha256_bytes(members[member]) != v["sha256"]:
            raise _Bad("原始文件（缺失或校验不符）")
        if not _format_matches(members[member], v["format"], v.get("filename") or ""):
            raise _Bad(f"原始文件的格式（声明为 {v['format']}，内容不符）")
    _str(v.get("filename"), "文件名", empty=False)
    if not _base_name(v["filename"]):
        raise _Bad("文件名")
    _int(v.get("pages"), "页数", optional=True)
    _int(v.get("chars"), "字数", optional=True)
    statuses = ("ok", "warning", "needs_transcript") if is_media else ("ok", "warning", "needs_ocr")
    if not _one_of(v.get("status") or "ok", statuses):
        raise _Bad("处理状态")
    for w in _list(v.get("warnings"), "提示信息"):
        _str(w, "提示信息")
    for h in _list(d.get("headings"), "标题层级"):
        if not isinstance(h, list) or len(h) != 3:
            raise _Bad("标题层级")
        _int(h[0], "标题层级", low=-_MAX_INT)
        _str(h[1], "标题层级")
        _int(h[2], "标题层级", optional=True, low=-_MAX_INT)
    for p in _list(d.get("passages"), "段落", optional=False):
        if not isinstance(p, dict):
            raise _Bad("段落")
        _str(p.get("text"), "段落正文")
        for x in _list(p.get("heading_path"), "段落所属标题"):
            _str(x, "段落所属标题")
        _int(p.get("page"), "段落页码", optional=True, low=-_MAX_INT)
        _int(p.get("seq"), "段落序号", optional=True, low=-_MAX_INT)
        if not _one_of(p.get("kind") or "passage", ("passage", "qa")):
            raise _Bad("段落类型")
        _str(p.get("question"), "问答的问题", optional=True)
        if p.get("start") is not None or p.get("end") is not None:
            if not is_media:
                raise _Bad("段落时间")
            _seconds(p.get("start"), "段落时间")
            _seconds(p.get("end"), "段落时间")
            if p["end"] < p["start"]:
                raise _Bad("段落时间")
    for o in _list(d.get("quotes"), "金句引用", optional=False):
        if not isinstance(o, dict) or not isinstance(o.get("key"), str) or o["key"] not in quotes:
            raise _Bad("金句引用（引用了不存在的金句）")
        _int(o.get("page"), "金句页码", optional=True, low=-_MAX_INT)
        _int(o.get("seq"), "金句序号", optional=True, low=-_MAX_INT)
        _str(o.get("theme"), "金句主题", optional=True)
    _topics(d.get("topics"), "专题")
    for a in _list(d.get("audiences"), "宣讲对象"):
        if not _one_of(a, AUDIENCES):
            raise _Bad(f"宣讲对象“{a}”")


# formats that ingest itself may record for content sniffed as the first one
_SAME_FORMAT = {
    "doc": {"doc"},
    "docx": {"docx"},
    "pptx": {"pptx"},
    "pdf": {"pdf"},
    "html": {"html"},
    "md": {"md", "txt"},
    "txt": {"txt", "md"},
}


def _format_matches(data: bytes, declared: str, filename: str) -> bool:
    """Sniff an original the way ingest does: a pack cannot declare HTML bytes to be a PDF."""
    from indexer.ingest.extract.registry import sniff

    try:
        found = sniff(data, filename)
    except Exception:
        return False
    return declared in _SAME_FORMAT.get(found, {found})


def _validated(pack) -> tuple[list[dict], dict[str, dict], str]:
    """(documents, quotes by key, topic name) after checking every row. Raises PackError."""
    docs = pack.jsonl("data/documents.jsonl")
    rows = pack.jsonl("data/quotes.jsonl")
    try:
        for q in rows:
            _check_quote(q)
    except _Bad as e:
        raise PackError(f"专题包数据格式错误：{e}不正确，已拒绝导入。", _FIX) from None
    quotes = {q["key"]: q for q in rows}
    for d in docs:
        try:
            _check_document(d, quotes, pack)
        except _Bad as e:
            title = (
                d.get("title") if isinstance(d, dict) and isinstance(d.get("title"), str) else ""
            )
            name = f"材料《{title[:60]}》的" if title and not _has_surrogate(title) else ""
            raise PackError(f"专题包数据格式错误：{name}{e}不正确，已拒绝导入。", _FIX) from None
    topic = pack.manifest.get("topic")
    name = topic.get("name") if isinstance(topic, dict) else None
    return docs, quotes, name if isinstance(name, str) and not _has_surrogate(name) else ""


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _known(topics, known: set[str]) -> list[tuple[str, float]]:
    """(slug, score) of the topics this library knows, each slug once (first wins)."""
    out: dict[str, float] = {}
    for t in topics or []:
        if t["topic"] in known and t["topic"] not in out:
            out[t["topic"]] = float(t["score"])
    return list(out.items())


def _media_record(d: dict, spooled, pack_name: str, svc) -> dict:
    """The media record to store: the pack's, limited to what a media record holds; when the
    file is here, what ffprobe reads from it (format, duration, streams, MIME) instead of what
    the pack says; without it, ``file_missing`` saying why."""
    from indexer.ingest.extract.media import MIME, probe, tools_missing

    v, m = d["version"], d["version"]["media"]
    rec = d["recording"]
    out = {k: m[k] for k in _MEDIA_KEYS if m.get(k) is not None}
    out["streams"] = [dict(st) for st in m.get("streams") or []]
    if rec.get("poster"):
        out["poster"] = m["poster"]
    if rec.get("transcript"):
        out["transcript_sha256"] = m["transcript_sha256"]
    if isinstance(m.get("transcript"), dict):
        out["transcript"] = {k: m["transcript"].get(k) for k in ("filename", "source")}
    if spooled is not None and tools_missing() is None:
        info = probe(spooled, v["filename"])  # InputError naming the file
        info.pop("tags", None)
        out |= info
    if spooled is None:
        out["file_missing"] = {
            "reason": rec.get("reason") or "专题包中没有这段录音/录像的文件",
            "pack": pack_name,
        }
    # what the player is told the file is: from its extension, never from the pack
    out["mime"] = MIME.get("." + v["format"], "application/octet-stream")
    if not out.get("video", True) and v["format"] in ("mp4", "webm", "mkv"):
        out["mime"] = "audio/" + ("mp4" if v["format"] == "mp4" else "webm")
    return out


def _missing_warning(media: dict) -> str:
    why = media["file_missing"]["reason"]
    return (
        f"录音/录像文件未随专题包“{media['file_missing']['pack']}”提供：{why}。"
        "已收录其信息和文稿，可按文稿检索，但不能播放或下载；导入带有该文件的专题包即可补上。"
    )


def _fill_in(svc, d: dict, spooled: Path, pack_name: str) -> bool:
    """A recording already here without its file (imported from a pack that left it out):
    its file, now in this pack, is stored and the version no longer says it is missing."""
    sha = d["version"]["sha256"]
    row = svc.store.db.one(
        "SELECT id, media, status, warnings FROM versions WHERE sha256 = :s", s=sha
    )
    media = json.loads(row["media"]) if row and row.get("media") else None
    if not media or not media.get("file_missing") or not spooled:
        return False
    missing = _missing_warning(media)
    svc.store.media_files.put_file(spooled, sha)
    media.pop("file_missing")
    warnings = [w for w in json.loads(row["warnings"] or "[]") if w != missing]
    status = row["status"]
    if status == "warning" and not warnings:
        status = "ok"
    svc.store.db.execute(
        "UPDATE versions SET media = :m, status = :st, warnings = :w WHERE id = :v",
        {
            "m": json.dumps(media, ensure_ascii=False),
            "st": status,
            "w": json.dumps(warnings, ensure_ascii=False),
            "v": row["id"],
        },
    )
    return True


def import_pack(svc, path: Path, *, actor: str = "cli") -> ImportReport:
    t0 = time.perf_counter()
    spool = svc.home.path / "run" / "pack-import"  # recordings: on the home's disk
    # raises PackError before anything is written
    with read_pack(Path(path), spool=spool) as pack:
        return _import(svc, pack, Path(path), actor, t0)


def _import(svc, pack, path: Path, actor: str, t0: float) -> ImportReport:
    docs, quotes, topic = _validated(pack)  # every row checked before the first write
    media = {}  # index in docs -> the media record to store
    for n, d in enumerate(docs):
        if d["kind"] == "media":
            spooled = pack.files.get(d["recording"].get("file") or "")
            try:
                media[n] = _media_record(d, spooled, path.name, svc)
            except InputError as e:
                raise PackError(
                    f"专题包 {path.name} 中材料《{d['title'][:60]}》的录音/录像文件无法读取："
                    f"{e.message}",
                    _FIX,
                ) from None
    report = ImportReport(path, topic)
    known_topics = set(svc.taxonomy.slugs)
    for n, d in enumerate(docs):
        v = d["version"]
        if svc.store.version_by_sha(v["sha256"]):
            spooled = pack.files.get((d.get("recording") or {}).get("file") or "")
            if n in media and _fill_in(svc, d, spooled, path.name):
                report.media_completed.append(d["title"])
            else:
                report.duplicates.append(d["title"])
            continue
        qs, qkeys, qtopics = [], [], []
        for o in d["quotes"]:
            q = quotes[o["key"]]
            qs.append(
                Quote(
                    text=q["text"],
                    source=q.get("source"),
                    date=q.get("date"),
                    speaker=q.get("speaker"),
                    theme=o.get("theme") or q.get("theme"),
                    note=q.get("note"),
                    page=o.get("page"),
                    seq=o.get("seq") or 0,
                )
            )
            qkeys.append(text_key(q["text"]))
            qtopics.append(_known(q.get("topics"), known_topics))
        existing = sum(
            1 for k in qkeys if svc.store._one("SELECT 1 AS x FROM quotes WHERE text_key = :k", k=k)
        )
        s = Structured(
            kind=d["kind"],
            title=d["title"],
            quotes=qs,
            date=d.get("date"),
            passages=[
                Passage(
                    text=p["text"],
                    heading_path=p.get("heading_path") or [],
                    page=p.get("page"),
                    seq=p.get("seq") or 0,
                    kind=p.get("kind") or "passage",
                    question=p.get("question"),
                    start=p.get("start"),
                    end=p.get("end"),
                )
                for p in d["passages"]
            ],
            headings=[tuple(h) for h in d.get("headings") or []],
        )
        doc_topics = _known(d.get("topics"), known_topics)
        status, warnings = v.get("status") or "ok", list(v.get("warnings") or [])
        extra: dict = {}
        if n in media:  # a recording: its file (if any) copied from disk, never into memory
            m = media[n]
            rec = d["recording"]
            spooled = pack.files.get(rec.get("file") or "")
            if spooled is None and svc.store.media_files.has(v["sha256"]):
                spooled = svc.store.media_files.path(v["sha256"])  # a file left behind here
                m.pop("file_missing", None)
            if m.get("file_missing"):
                warnings.append(_missing_warning(m))
                status = "warning" if status == "ok" else status
            extra = dict(
                data_path=spooled,
                size=spooled.stat().st_size if spooled else (v.get("size") or 0),
                media=m,
                attachments=[pack.members[rec[k]] for k in ("poster", "transcript") if rec.get(k)],
            )
            data = b""
        else:
            data = pack.members[f"originals/{v['sha256']}.{_EXT.get(v['format'], 'bin')}"]
        item = IngestItem(
            data=data,
            sha256=v["sha256"],
            filename=_base_name(v["filename"]),
            format=v["format"],
            structured=s,
            title_key=text_key(d["title"]) or v["sha256"],
            quote_keys=qkeys,
            status=status,
            warnings=warnings,
            pages=v.get("pages"),
            chars=v.get("chars") or 0,
            doc_topics=doc_topics,
            topics_manual=any(t.get("origin") == "manual" for t in d.get("topics") or []),
            quote_topics=qtopics,
            audiences=list(dict.fromkeys(d.get("audiences") or [])),
            **extra,
        )
        svc.store.store_file(item, actor=actor)
        if n in media:
            if item.data_path is None:
                _drop_placeholder(svc, v["sha256"])
                report.media_missing.append(d["title"])
            else:
                report.media_files += 1
        report.added.append(d["title"])
        report.quotes_added += len(set(qkeys)) - existing
        report.quotes_merged += existing
        report.passages += len(s.passages)
    svc.store.audit(
        actor,
        "import",
        f"pack:{Path(path).name}",
        topic=topic,
        added=len(report.added),
        duplicates=len(report.duplicates),
        media_files=report.media_files,
        media_missing=len(report.media_missing),
        media_completed=len(report.media_completed),
    )
    svc.sync()
    report.seconds = time.perf_counter() - t0
    return report


def _drop_placeholder(svc, sha: str) -> None:
    """The store writes a version's original before its rows; a recording imported without
    its file had nothing to write, and the empty placeholder the store made is removed (only
    that: a real file of that hash is never touched)."""
    originals = svc.store.originals
    if svc.store.db.postgres:
        if svc.store.db.scalar("SELECT size FROM originals WHERE sha256 = :s", s=sha) == 0:
            originals.remove(sha)
        return
    p = originals.path_for(sha)
    if p.is_file() and p.stat().st_size == 0:
        p.unlink()


__all__ = ["import_pack", "ImportReport"]
