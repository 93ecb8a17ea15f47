"""The publish workflow: uploads become drafts, an editor corrects them on the preview page,
and publishing stores them (a new document, or a new version of the document it replaces).

upload → extract/structure/classify (``Pipeline.prepare_upload``, nothing stored) → a draft
(the bytes and what was extracted) → the preview (:func:`prefill`) → corrections (kind,
title, topics, audiences, date, per-quote 出处, date and speaker, quotes left out) applied to
the ``Prepared`` → ``store_prepared`` → draft deleted → index synced. Statuses are the CLI's:
ok, duplicate, warning, needs_ocr, error. Called through :class:`LibraryService` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from indexer.ingest.pipeline import FileResult, Options, Pipeline, Prepared, text_key
from indexer.ingest.structure import document_source
from library import settings
from library.content import join_notes
from library.errors import LecturelibError, NotFoundError
from library.originals import sha256_bytes


@dataclass
class Corrections:
    """What the editor set on the preview form (validated by the delivery layer)."""

    title: str
    kind: str
    date: str | None
    source: str | None
    topics: list[str]
    audiences: list[str]
    quote_sources: dict[int, str | None] = field(default_factory=dict)
    quote_dates: dict[int, str | None] = field(default_factory=dict)
    quote_speakers: dict[int, str | None] = field(default_factory=dict)
    rejected: set[int] = field(default_factory=set)  # quotes the editor did not keep
    passage_texts: dict[int, str] = field(default_factory=dict)  # corrected (OCR'd) passages
    heading_texts: dict[int, str] = field(default_factory=dict)  # corrected (OCR'd) headings


@dataclass
class Draft:
    """A draft as the preview page shows it: the stored row (filename, payload …), what was
    extracted, the document it replaces (if any, and still there) and the form's start."""

    row: dict
    prepared: Prepared
    target: dict | None = None
    prefill: dict = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.row["id"]


def safe_filename(name: str) -> str:
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    return base[:200] or "未命名文件"


OCR_ENGINES = settings.OCR_ENGINES


def ocr_setting(home) -> str:
    """The ``ocr_engine`` setting (``home.config.ocr_engine``, checked when the settings are
    read): auto (rapidocr, else tesseract) | rapidocr | tesseract | off."""
    return home.config.ocr_engine


def _options(svc, actor: str, **kw) -> Options:
    """Pipeline options for one web upload: one worker, the home's budgets."""
    home = svc.home
    kw.setdefault("speakers", svc.speakers)
    return Options(
        max_bytes=home.max_file_bytes,
        workers=1,
        actor=actor,
        timeout_s=home.config.file_timeout_s,
        seconds_per_mb=home.config.file_seconds_per_mb,
        ocr=ocr_setting(home),
        **kw,
    )


CANCELLED = "已取消，文件未保存。需要时可重新上传。"


def upload(
    svc,
    data: bytes,
    filename: str,
    actor: str,
    replace_of: int | None = None,
    *,
    progress=None,
    cancelled=None,
) -> dict:
    """Prepare one uploaded file and keep it as a draft. Returns a per-file result.
    ``progress(stage, done, total)`` is called in the worker process for each OCR page (a
    picklable callable; it may raise ``Cancelled``); ``cancelled()`` says whether the editor
    cancelled: then status "cancelled" and no draft."""
    filename = safe_filename(filename)
    out = {
        "filename": filename,
        "status": "error",
        "message": "",
        "draft_id": None,
        "document_id": None,
        "title": None,
        "kind": None,
        "quotes": 0,
        "passages": 0,
        "pages": None,
    }
    store = svc.store
    if data:
        dup = store.version_by_sha(sha256_bytes(data))
        if dup:
            where = "（在回收站中）" if dup["status"] == "trashed" else ""
            out.update(
                status="duplicate",
                document_id=dup["document_id"],
                title=dup["title"],
                kind=dup["kind"],
                message=f"资料库中已有相同文件：《{dup['title']}》{where}，未做改动。",
            )
            return out
    try:
        prepared = Pipeline(store, svc.taxonomy).prepare_upload(
            data, filename, _options(svc, actor, progress=progress)
        )
    except LecturelibError as e:
        out["message"] = str(e)
        if cancelled and cancelled():
            out.update(status="cancelled", message=CANCELLED)
        return out
    except Exception as e:  # the boundary: one bad file never breaks the page
        out["message"] = (
            f"处理时发生内部错误（{type(e).__name__}）。请把该文件反馈给管理员；其余文件不受影响。"
        )
        return out
    s = prepared.structured
    out.update(
        title=s.title,
        kind=s.kind,
        quotes=len(s.quotes),
        passages=len(s.passages),
        pages=prepared.pages,
        message=join_notes(prepared.warnings),
    )
    if prepared.status == "needs_ocr":
        out.update(
            status="needs_ocr",
            message=(out["message"] or "此 PDF 没有文字层（可能是扫描件），请先做文字识别（OCR）。")
            + " 该文件未入库。",
        )
        return out
    if cancelled and cancelled():  # cancelled after the last page: nothing is kept
        out.update(status="cancelled", message=CANCELLED)
        return out
    payload = {"prepared": prepared.to_json(), "replace_of": replace_of}
    out["draft_id"] = store.save_draft(actor, filename, prepared.sha256, data, payload)
    out["status"] = prepared.status
    return out


_MISSING_SOURCE = re.compile(r"有 \d+ 条金句没有找到出处[^。；]*。?")


def _field(q, key):
    return q.get(key) if isinstance(q, dict) else getattr(q, key, None)


def missing_source_warnings(warnings: list[str], quotes, *, kind: str | None = None) -> list[str]:
    """``warnings`` with “有 N 条金句没有找到出处” counted again from ``quotes`` (mappings or
    objects with ``source`` and ``speaker``): the warning says what is true of the data shown
    or stored now, so it clears once every quote has its 出处 (or speaker). It is given for a
    quote compilation, or when the file's warnings had it."""
    out = [w for w in warnings if not _MISSING_SOURCE.search(w)]
    applies = kind == "quotes" or len(out) != len(warnings)
    missing = sum(1 for q in quotes if not _field(q, "source") and not _field(q, "speaker"))
    if applies and missing:
        out.append(f"有 {missing} 条金句没有找到出处，请核对后补充。")
    return out


def _recount(message: str, quotes, kind: str | None) -> str:
    """A result message whose missing-出处 warning is counted again from ``quotes``."""
    if not message or not _MISSING_SOURCE.search(message):
        return message
    rest = _MISSING_SOURCE.sub("", message).strip(" ；")
    fixed = missing_source_warnings(["有 1 条金句没有找到出处。"], quotes, kind=kind)
    return join_notes([rest] + fixed)


def stored_quotes(store, prepared: Prepared) -> dict[int, dict]:
    """For each quote of the prepared file (by position), the stored quote it will be merged
    into (same text key), if any."""
    keys = [text_key(q.text) for q in prepared.structured.quotes]
    found = store.quotes_by_keys(keys)
    return {i: found[k] for i, k in enumerate(keys) if k in found}


def _member_topics(store, doc_id: int) -> list[str]:
    return [t["topic"] for t in store.document_topics(doc_id) if t["member"]]


def prefill(prepared: Prepared, target: dict | None = None, store=None) -> dict:
    """What the preview form starts with, and what the new file suggests beside it.

    A new document starts from what the file says: its title, kind, suggested topics, and the
    date and 来源 the text states (“来源：浙江日报”, “——2025年1月14日在……会议上”, a year in
    the title). A new version of ``target`` starts from the document as it is now (title,
    kind, date, 来源, topics and audiences); the new file's own values are shown beside them
    (``suggest``). Each quote starts from the stored quote it will be merged into (an editor's
    corrected 出处 and date), else from what was parsed. Warnings are counted from what the
    form shows."""
    s = prepared.structured
    found = document_source(s)
    suggested = [slug for slug, _ in prepared.doc_topics]
    out = {
        "title": s.title,
        "kind": s.kind,
        "date": s.date or "",
        "source": found or "",
        "topics": suggested,
        "audiences": list(prepared.audiences),
        "date_found": bool(s.date),
        "source_found": bool(found),
        "suggest": None,
    }
    if target:
        out.update(
            title=target["title"],
            kind=target["kind"],
            date=target.get("date") or "",
            source=target.get("source") or "",
            date_found=False,
            source_found=False,
        )
        if store is not None:
            out["topics"] = _member_topics(store, target["id"])
            out["audiences"] = store.document_audiences(target["id"])
        out["suggest"] = {
            "title": s.title,
            "kind": s.kind,
            "date": s.date or "",
            "source": found or "",
            "topics": list(prepared.doc_topics),
        }
    known = stored_quotes(store, prepared) if store is not None else {}
    quotes = []
    for i, q in enumerate(s.quotes):
        row = known.get(i) or {}
        quotes.append(
            {
                "source": row.get("source") or q.source or "",
                "date": row.get("date") or q.date or "",
                "speaker": row.get("speaker") or q.speaker or "",
                "stored": bool(row),
            }
        )
    out["quotes"] = quotes
    out["warnings"] = missing_source_warnings(list(prepared.warnings), quotes, kind=s.kind)
    out["ocr"] = ocr_pages(prepared)
    return out


MAX_OCR_PAGES_SHOWN = 60  # the preview shows the first pages' images beside their text


def ocr_pages(prepared: Prepared) -> dict | None:
    """For a draft whose text was (partly) read by OCR: the engine, its mean confidence and
    each page with its confidence, whether it is below ``ocr.LOW_CONFIDENCE`` (the editor should
    check it) and the passages (by position) that start on it. None otherwise."""
    from indexer.ingest.extract.ocr import LOW_CONFIDENCE

    info = prepared.ocr
    if not info or prepared.format not in ("pdf", "image"):
        return None
    conf = {int(k): float(v) for k, v in (info.get("pages") or {}).items()}
    total = prepared.pages or max(conf, default=0)
    pages = []
    for n in range(1, min(total, MAX_OCR_PAGES_SHOWN) + 1):
        c = conf.get(n)
        starting = [i for i, p in enumerate(prepared.structured.passages) if (p.page or 1) == n]
        pages.append(
            {
                "number": n,
                "ocr": c is not None,
                "confidence": c,
                "low": c is not None and c < LOW_CONFIDENCE,
                "passages": starting,
                # no passage starts here, but one before does: it runs on into this page
                "continued": not starting
                and any((p.page or 1) < n for p in prepared.structured.passages),
            }
        )
    return {
        "engine": info.get("engine", ""),
        "confidence": info.get("confidence"),
        "low_pages": [p["number"] for p in pages if p["low"]],
        "pages": pages,
        "more_pages": max(0, total - MAX_OCR_PAGES_SHOWN),
    }


def load_draft(svc, draft_id: int) -> Draft:
    """A stored draft with what the preview page needs (NotFoundError when it is gone)."""
    store = svc.store
    row = store.get_draft(draft_id)
    prepared = Prepared.from_json(row["payload"]["prepared"])
    target = None
    if row["payload"].get("replace_of"):
        try:
            target = store.get_document_row(int(row["payload"]["replace_of"]))
        except NotFoundError:
            target = None
    draft = Draft(row, prepared, target, prefill(prepared, target, store))
    if target is None:  # publishing under an existing title makes a new version of it: say so
        same = store.document_by_title_key(text_key(prepared.structured.title))
        if same is not None:
            draft.prefill["same_title"] = {"id": same["id"], "title": same["title"]}
    return draft


def discard(svc, draft_id: int, actor: str) -> dict:
    """Delete a draft (audited); returns its row."""
    store = svc.store
    row = store.get_draft(draft_id)
    store.delete_draft(draft_id)
    store.audit(actor, "discard_upload", f"draft:{draft_id}", file=row["filename"])
    return row


def apply_corrections(prepared: Prepared, c: Corrections) -> bool:
    """Change the prepared file in place. Returns True when topics were set by hand."""
    s = prepared.structured
    s.title, s.kind, s.date = c.title, c.kind, c.date
    for i, text in c.passage_texts.items():
        if 0 <= i < len(s.passages) and text:
            s.passages[i].text = text
    for j, text in c.heading_texts.items():  # a misread heading, wherever it is used
        if 0 <= j < len(s.headings) and text:
            level, old, page = s.headings[j]
            s.headings[j] = (level, text, page)
            for ps in s.passages:
                ps.heading_path = [text if h == old else h for h in ps.heading_path]
            for q in s.quotes:
                if q.theme == old:
                    q.theme = text
    for i, src in c.quote_sources.items():
        s.quotes[i].source = src
    for i, d in c.quote_dates.items():
        s.quotes[i].date = d
    for i, who in c.quote_speakers.items():
        s.quotes[i].speaker = who
    if c.rejected:
        # quotations the editor did not keep are not stored (their passages stay)
        keep = [i for i in range(len(s.quotes)) if i not in c.rejected]
        s.quotes = [s.quotes[i] for i in keep]
        if len(prepared.quote_topics) > max(keep, default=-1):
            prepared.quote_topics = [prepared.quote_topics[i] for i in keep]
        c.quote_sources = {keep.index(i): v for i, v in c.quote_sources.items() if i in keep}
        c.quote_dates = {keep.index(i): v for i, v in c.quote_dates.items() if i in keep}
        c.quote_speakers = {keep.index(i): v for i, v in c.quote_speakers.items() if i in keep}
        c.rejected = set()
    suggested = {slug for slug, _ in prepared.doc_topics}
    manual = set(c.topics) != suggested
    if manual:
        prepared.doc_topics = [(slug, 1.0) for slug in c.topics]
        prepared.quote_topics = [[(slug, 1.0) for slug in c.topics] for _ in s.quotes]
    prepared.audiences = list(c.audiences)
    return manual


def publish(svc, draft_id: int, c: Corrections, actor: str) -> FileResult:
    """Store a draft with the editor's corrections; the index is synced before returning.

    What the form showed is what is stored: after the file is stored (a new document, or a
    new version of the document it replaces), the document's title, kind, date, 来源 and
    audiences, its topics (for a new version), and the 出处 and date of quotes merged into
    stored ones are set to the form's values wherever the store kept something else.
    The caller holds the service's write lock."""
    store = svc.store
    draft = store.get_draft(draft_id)
    prepared = Prepared.from_json(draft["payload"]["prepared"])
    replace_of = draft["payload"].get("replace_of")
    wanted_title = c.title
    if replace_of:
        target = store.get_document_row(int(replace_of))
        c.title = target["title"]  # same title key → a new version of that document
    manual = apply_corrections(prepared, c)
    data = store.originals.read(draft["sha256"])
    opts = _options(
        svc, actor, kind=c.kind, topics=c.topics if manual else [], audiences=c.audiences
    )
    result = Pipeline(store, svc.taxonomy).store_prepared(data, draft["filename"], prepared, opts)
    if result.status in ("ok", "warning", "duplicate"):
        store.delete_draft(draft_id)
    if result.document_id and result.status in ("ok", "warning"):
        doc_id = result.document_id
        c.title = wanted_title
        now = store.get_document_row(doc_id)
        changes: dict = {}
        for key, want in (
            ("title", c.title),
            ("kind", c.kind),
            ("date", c.date or ""),
            ("source", c.source or ""),
        ):
            if (now.get(key) or "") != want:
                changes[key] = want
        if sorted(store.document_audiences(doc_id)) != sorted(c.audiences):
            changes["audiences"] = c.audiences
        if (replace_of or manual) and sorted(_member_topics(store, doc_id)) != sorted(c.topics):
            changes["topics"] = c.topics
        if changes:
            svc.update_document(doc_id, actor=actor, **changes)
        _store_quote_corrections(svc, prepared, c, actor)
        stored_doc = store.get_document(doc_id)
        result.message = _recount(result.message, stored_doc["quotes"], stored_doc["kind"])
        result.title = c.title
    svc.sync()
    return result


def _store_quote_corrections(svc, prepared: Prepared, c: Corrections, actor: str) -> None:
    """Quotes merged into stored ones keep the stored 出处 and date; where the form said
    something else, the form wins (it showed the stored value to begin with)."""
    stored = stored_quotes(svc.store, prepared)
    for i, row in stored.items():
        changes = {}
        if i in c.quote_sources and (row.get("source") or None) != c.quote_sources[i]:
            changes["source"] = c.quote_sources[i] or ""
        if i in c.quote_dates and (row.get("date") or None) != c.quote_dates[i]:
            changes["date"] = c.quote_dates[i] or ""
        if i in c.quote_speakers and (row.get("speaker") or None) != c.quote_speakers[i]:
            changes["speaker"] = c.quote_speakers[i] or ""
        if changes:
            svc.update_quote(row["id"], actor=actor, **changes)


__all__ = [
    "Corrections",
    "Draft",
    "upload",
    "load_draft",
    "discard",
    "publish",
    "prefill",
    "ocr_pages",
    "ocr_setting",
    "missing_source_warnings",
    "safe_filename",
]
