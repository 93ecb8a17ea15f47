"""Import a topic pack into a library: verify it completely first (library.pack.read_pack),
check every row's fields and their types (a pack's checksums prove only that it is intact, not
that whoever made it was friendly: a malformed row is refused with PackError before the first
write), then add each document in its own transaction. De-duplicates by file hash (a document
already present is skipped) and by quote text (the store merges quotes with the same normalized
text), so importing the same pack twice changes nothing."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from indexer.ingest.pipeline import text_key
from library.content import AUDIENCES, KINDS, Passage, Quote, Structured
from library.errors import PackError
from library.originals import sha256_bytes
from library.pack import read_pack
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


_EXT = {
    "docx": "docx",
    "pdf": "pdf",
    "doc": "doc",
    "pptx": "pptx",
    "txt": "txt",
    "md": "md",
    "html": "html",
}


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


def _check_document(d, quotes: dict, members: dict) -> None:
    """Every field import_pack and the store use, with the type they need."""
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
    if not _one_of(v.get("status") or "ok", ("ok", "warning", "needs_ocr")):
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
            _check_document(d, quotes, pack.members)
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


def import_pack(svc, path: Path, *, actor: str = "cli") -> ImportReport:
    t0 = time.perf_counter()
    pack = read_pack(Path(path))  # raises PackError before anything is written
    docs, quotes, topic = _validated(pack)  # every row checked before the first write
    report = ImportReport(Path(path), topic)
    known_topics = set(svc.taxonomy.slugs)
    for d in docs:
        v = d["version"]
        if svc.store.version_by_sha(v["sha256"]):
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
                )
                for p in d["passages"]
            ],
            headings=[tuple(h) for h in d.get("headings") or []],
        )
        doc_topics = _known(d.get("topics"), known_topics)
        member = f"originals/{v['sha256']}.{_EXT.get(v['format'], 'bin')}"
        item = IngestItem(
            data=pack.members[member],
            sha256=v["sha256"],
            filename=_base_name(v["filename"]),
            format=v["format"],
            structured=s,
            title_key=text_key(d["title"]) or v["sha256"],
            quote_keys=qkeys,
            status=v.get("status") or "ok",
            warnings=v.get("warnings") or [],
            pages=v.get("pages"),
            chars=v.get("chars") or 0,
            doc_topics=doc_topics,
            topics_manual=any(t.get("origin") == "manual" for t in d.get("topics") or []),
            quote_topics=qtopics,
            audiences=list(dict.fromkeys(d.get("audiences") or [])),
        )
        svc.store.store_file(item, actor=actor)
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
    )
    svc.sync()
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["import_pack", "ImportReport"]
