"""Index lifecycle: create, detect missing/stale/corrupt, rebuild, apply changes.

* The index directory holds the Whoosh files plus ``lecturelib-index.json`` with the schema
  version and the vocabulary hash it was built with; a mismatch means "stale".
* A rebuild writes a fresh index next to the live one (``<path>.new``) with ``procs`` worker
  processes (each segments its own share of the text, ``multisegment=True`` so no final merge)
  and swaps it in only when complete; a failed rebuild leaves the old index untouched.
* One writer at a time: the Whoosh lock is retried with a bounded back-off, then reported as a
  :class:`SearchIndexError` in Chinese — a LockError never reaches a user.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable

from whoosh import index as windex
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader, W3Segment
from whoosh.writing import LockError

from library.errors import SearchIndexError

from .analysis import register_vocabulary
from .schema import SCHEMA_VERSION, build_schema, to_document

META_FILE = "lecturelib-index.json"
LOCK_TIMEOUT = 10.0          # seconds a writer waits for the lock before giving up
REBUILD_LIMIT_MB = 128       # per-process posting pool memory during a rebuild


class _LengthsReader(W3PerDocReader):
    """Whoosh looks up a field's length column once per posting while writing a segment and,
    for fields without lengths (our unscorable fields), does not remember that the column is
    missing: one stat() call per posting. This reader remembers."""

    def _cached_reader(self, fieldname, column):
        if fieldname not in self._readers:
            self._readers[fieldname] = super()._cached_reader(fieldname, column)
        return self._readers[fieldname]


class LeanCodec(W3Codec):
    """The default codec with the cached length lookup above. (Inlining short posting lists,
    ``inlinelimit`` > 1, would suit our many rare bigrams but is broken in Whoosh 2.7.5:
    ``W3TermInfo.set_inline`` does not exist.)"""

    def per_document_reader(self, storage, segment):
        return _LengthsReader(storage, segment)

    def new_segment(self, storage, indexname):
        # Whoosh names segments with the global `random` module; anything that seeds it (a
        # test framework, a library) makes two writers pick the same name and the commit
        # fails. Names from the OS's entropy pool do not collide.
        return W3Segment(self, indexname, segid=secrets.token_hex(8))


def _meta_for(vocab) -> dict:
    return {"schema_version": SCHEMA_VERSION, "vocabulary": vocab.version}


def read_meta(path: Path) -> dict | None:
    try:
        return json.loads((Path(path) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def status(path: Path, vocab) -> str:
    """"ok" | "missing" | "stale" | "corrupt" — never raises."""
    path = Path(path)
    if not path.is_dir() or not any(path.glob("_MAIN_*.toc")):
        return "missing"
    try:
        ix = windex.open_dir(str(path))
        try:
            storage = ix.storage
            for seg in ix._segments():
                if not seg.list_files(storage):
                    return "corrupt"
            with ix.reader() as r:
                n = r.doc_count_all()
                if n:
                    r.stored_fields(n - 1) if r.is_deleted(n - 1) is False else None
                for fname in ("id", "grams"):
                    if fname in r.schema:
                        next(iter(r.lexicon(fname)), None)
        finally:
            ix.close()
    except Exception:
        return "corrupt"
    meta = read_meta(path)
    if meta != _meta_for(vocab):
        return "stale"
    return "ok"


def open_index(path: Path, vocab):
    register_vocabulary(vocab)
    try:
        return windex.open_dir(str(path))
    except Exception as e:
        raise SearchIndexError("搜索索引无法打开或已损坏。", "请运行 lecturelib reindex 重建索引。") from e


def create_empty(path: Path, vocab):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    register_vocabulary(vocab)
    ix = windex.create_in(str(path), build_schema(vocab.version, tuple(vocab.terms)))
    (path / META_FILE).write_text(json.dumps(_meta_for(vocab)), encoding="utf-8")
    return ix


def _writer(ix, timeout: float | None = None, **kw):
    """A writer, retrying the lock with a bounded back-off."""
    deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    delay = 0.05
    while True:
        try:
            return ix.writer(**kw)
        except LockError:
            if time.monotonic() >= deadline:
                raise SearchIndexError("搜索索引正被另一个任务写入，等待超时。",
                                       "请稍后重试；若长时间如此，请检查是否有卡住的入库或重建任务。")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def rebuild(path: Path, vocab, records: Iterable[dict], *, total: int | None = None,
            progress: Callable[[int], None] | None = None, procs: int = 2) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".new")
    if tmp.exists():
        shutil.rmtree(tmp)
    ix = create_empty(tmp, vocab)
    # compound=False: no copying of every segment file into one at the end (and no mmap of a
    # large compound file when a searcher opens).
    kw = {"limitmb": REBUILD_LIMIT_MB, "codec": LeanCodec(), "compound": False}
    if procs and procs > 1:
        kw.update(procs=procs, multisegment=True, batchsize=256)
    w = _writer(ix, **kw)
    n = 0
    try:
        for rec in records:
            w.add_document(**to_document(rec))
            n += 1
            if progress and n % 500 == 0:
                progress(n)
        w.commit()
    except BaseException:
        try:
            w.cancel()
        finally:
            ix.close()
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    ix.close()
    if progress:
        progress(n)
    old = path.with_name(path.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def apply(ix, upserts: list[dict], deletes: list[str]) -> None:
    """Delete and upsert records in one transaction (one writer, lock retried)."""
    if not upserts and not deletes:
        return
    w = _writer(ix, codec=LeanCodec(), compound=False)
    try:
        for rid in deletes:
            w.delete_by_term("id", rid)
        for rec in upserts:
            w.update_document(**to_document(rec))
        w.commit()
    except BaseException:
        w.cancel()
        raise


__all__ = ["META_FILE", "status", "open_index", "create_empty", "rebuild", "apply", "read_meta"]
