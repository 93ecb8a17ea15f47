"""Index lifecycle: create, detect missing/stale/corrupt, rebuild, apply changes.

* The index directory holds the Whoosh files plus ``lecturelib-index.json`` with the schema
  version and the vocabulary hash it was built with; a mismatch means "stale".
* A rebuild writes a fresh index next to the live one (``<path>.new``) with ``procs`` worker
  processes (each segments its own share of the text, ``multisegment=True`` so no final merge)
  and swaps it in only when complete; a failed rebuild leaves the old index untouched.
* One writer at a time: the Whoosh lock is retried with a bounded back-off, then reported as a
  :class:`SearchIndexError` in Chinese — a LockError never reaches a user.
* Every writer is a :class:`BulkSegmentWriter` (postings inverted in memory and written a block
  at a time: the same files as Whoosh's writer, about a third of its CPU); a rebuild and a
  large ``apply()`` (a bulk ingest draining) use :class:`BulkMpWriter`'s worker processes.
* ``public=True`` (the ``search_writer: "public"`` setting) writes through Whoosh's public
  ``IndexWriter`` API instead (``ix.writer(...)``: ``SegmentWriter``, or ``MpWriter`` with
  worker processes), with the default codec except for collision-free segment names: the
  same schema and analyzers, the same answers, none of the private internals below. It is
  the way out should a Whoosh release change them.
"""

from __future__ import annotations

import json
import operator
import os
import queue
import secrets
import shutil
import signal
import time
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from pathlib import Path
from pickle import dumps

from whoosh import formats
from whoosh import index as windex
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3PerDocReader,
    W3PostingsWriter,
    W3Segment,
    W3TermInfo,
    _lenfield,
)
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import LockError, SegmentWriter

from indexer.search.jieba_words import bulk_mode
from indexer.search.whoosh.analysis import CountedExistence, CountedFrequency, register_vocabulary
from indexer.search.whoosh.schema import SCHEMA_VERSION, build_schema, to_document
from library.errors import SearchIndexError

META_FILE = "lecturelib-index.json"
LOCK_TIMEOUT = 10.0  # seconds a writer waits for the lock before giving up
REBUILD_LIMIT_MB = 256  # in-memory postings per writer process before a new segment
PARALLEL_APPLY_MIN = 400  # records in one apply() from which worker processes are used


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

    def postings_writer(self, dbfile, byteids=False):
        return _LeanPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


# ---------------------------------------------------------------------------------------------
# Bulk segment writing (docs/PERFORMANCE.md, "index build")
#
# Whoosh's SegmentWriter sends every posting through a PostingPool: one tuple per posting,
# pickled to a run file whenever `limitmb` fills, unpickled and heap-merged at commit, then
# written one `add_posting()` call at a time. Profiled on a 5 MB slice, that machinery was
# over half of the build. The writer below keeps a segment's postings inverted in memory
# (term -> array of doc numbers, plus frequencies where the format has them), and writes each
# posting list a block at a time through the codec's own block encoder. Same files, same
# format: readers see no difference.

_IDS, _FREQ, _GENERIC = 0, 1, 2
_SMALL_BLOCK = 64  # pickled block bytes below which a block is not compressed
_TERMINFO = W3TermInfo._struct


def _new_ids():
    return array("I")


def _new_freqs():
    return array("I"), array("I")


def _new_generic():
    return array("I"), array("f"), []


_FACTORIES = {_IDS: _new_ids, _FREQ: _new_freqs, _GENERIC: _new_generic}
_TERM_BYTES = 400  # memory of one in-memory term (key, dict slot, arrays), measured
_POSTING_BYTES = 10  # memory of one posting (array slots with their over-allocation)


def _mode_for(fieldobj) -> int:
    fmt = fieldobj.format
    if fmt is None or fmt.field_boost != 1.0:
        return _GENERIC
    if type(fmt) in (formats.Existence, CountedExistence):
        return _IDS  # weight 1.0, no value
    if type(fmt) in (formats.Frequency, CountedFrequency):
        return _FREQ  # weight = frequency, value = pack_uint(frequency)
    return _GENERIC


class _InvertedPool:
    """A segment's postings, inverted in memory. Entries per term, by field mode:
    _IDS: array('I') of doc numbers; _FREQ: (doc numbers, frequencies);
    _GENERIC: (doc numbers, array('f') weights, list of value bytes)."""

    def __init__(self, schema):
        self.schema = schema
        self.terms: dict[str, dict[bytes, object]] = {}
        self.modes: dict[str, int] = {}
        self.fieldnames: set[str] = set()
        self.postings = 0
        self.nterms = 0
        self.unsorted: set[tuple[str, bytes]] = set()

    def estimated_bytes(self) -> int:
        return self.postings * _POSTING_BYTES + self.nterms * _TERM_BYTES

    def _field(self, fieldname: str):
        terms = self.terms.get(fieldname)
        if terms is None:
            mode = self.modes[fieldname] = _mode_for(self.schema[fieldname])
            terms = self.terms[fieldname] = defaultdict(_FACTORIES[mode])
            self.fieldnames.add(fieldname)
        return terms, self.modes[fieldname]

    def _to_generic(self, fieldname: str):
        terms, mode = self._field(fieldname)
        out = defaultdict(_FACTORIES[_GENERIC])
        for tb, e in terms.items():
            if mode == _IDS:
                out[tb] = (e, array("f", [1.0]) * len(e), [b""] * len(e))
            elif mode == _FREQ:
                out[tb] = (e[0], array("f", e[1]), [_packed(f) for f in e[1]])
            else:
                out[tb] = e
        self.terms[fieldname] = out
        self.modes[fieldname] = _GENERIC
        return out

    def add_items(self, fieldname: str, docnum: int, items, boost: float) -> int:
        """Add one document's (tbytes, freq, weight, vbytes) items; returns the summed
        frequency (the field length, if the field is scorable)."""
        terms, mode = self._field(fieldname)
        if boost != 1.0 and mode != _GENERIC:
            terms, mode = self._to_generic(fieldname), _GENERIC
        if not isinstance(items, list):
            items = list(items)
        before = len(terms)
        if mode == _IDS:
            for it in items:
                terms[it[0]].append(docnum)
        elif mode == _FREQ:
            for tb, freq, _w, _v in items:
                e = terms[tb]
                e[0].append(docnum)
                e[1].append(freq)
        else:
            for tb, _f, w, v in items:
                e = terms[tb]
                e[0].append(docnum)
                e[1].append(w * boost)
                e[2].append(v or b"")
        self.postings += len(items)
        self.nterms += len(terms) - before
        return sum([it[1] for it in items])

    def add(self, item) -> None:
        """One posting (fieldname, tbytes, docnum, weight, vbytes): the merge path."""
        fieldname, tb, docnum, weight, v = item
        terms, mode = self._field(fieldname)
        if mode == _IDS and not (weight == 1.0 and not v):
            terms, mode = self._to_generic(fieldname), _GENERIC
        elif mode == _FREQ:
            f = int(weight)
            if f != weight or f < 0 or v != _packed(f):
                terms, mode = self._to_generic(fieldname), _GENERIC
        if tb not in terms:
            self.nterms += 1
        e = terms[tb]
        ids = e if mode == _IDS else e[0]
        if ids and ids[-1] >= docnum:
            self.unsorted.add((fieldname, tb))
        ids.append(docnum)
        if mode == _FREQ:
            e[1].append(int(weight))
        elif mode == _GENERIC:
            e[1].append(weight)
            e[2].append(v or b"")
        self.postings += 1

    def _lists(self, fieldname: str, tb: bytes, e):
        """(ids, weights or None for all 1.0, values or None) of one term, sorted by id."""
        mode = self.modes[fieldname]
        if mode == _IDS:
            ids, weights, values = e, None, None
        elif mode == _FREQ:
            ids, weights, values = e[0], array("f", e[1]), [_packed(f) for f in e[1]]
        else:
            ids, weights, values = e
        if (fieldname, tb) in self.unsorted:
            order = sorted(range(len(ids)), key=ids.__getitem__)
            ids = array("I", [ids[i] for i in order])
            if weights is not None:
                weights = array("f", [weights[i] for i in order])
            if values is not None:
                values = [values[i] for i in order]
        return ids, weights, values

    def iter_postings(self):
        """Sorted (fieldname, tbytes, docnum, weight, vbytes) tuples (Whoosh's pool API)."""
        for fieldname in sorted(self.terms):
            terms = self.terms[fieldname]
            for tb in sorted(terms):
                ids, weights, values = self._lists(fieldname, tb, terms[tb])
                for i, docnum in enumerate(ids):
                    yield (
                        fieldname,
                        tb,
                        docnum,
                        1.0 if weights is None else weights[i],
                        b"" if values is None else values[i],
                    )

    def write(self, fieldwriter, schema, pdr) -> None:
        """Write every posting list, a block at a time, through ``fieldwriter``."""
        for fieldname in sorted(self.terms):
            terms = self.terms[fieldname]
            if not terms:
                continue
            fieldobj = schema[fieldname]
            lens = None
            if pdr is not None and fieldobj.scorable:
                lenfield = _lenfield(fieldname)
                if pdr.has_column(lenfield):
                    lens = pdr.column_reader(lenfield, LENGTHS_COLUMN).load()
            fieldwriter.start_field(fieldname, fieldobj)
            pw = fieldwriter._postwriter
            fmt = fieldobj.format
            single = getattr(pw, "single_block", None)
            add_term = fieldwriter._tindex.add
            prefix = pack_ushort(fieldwriter._fieldid)
            limit = pw._blocklimit
            for tb in sorted(terms):
                ids, weights, values = self._lists(fieldname, tb, terms[tb])
                if single is not None and len(ids) <= limit:
                    # most terms: one block, written and described in one step
                    add_term(prefix + tb, single(fmt, ids, weights, values, lens))
                    continue
                fieldwriter.start_term(tb)
                _fill_postings(pw, ids, weights, values, lens)
                fieldwriter.finish_term()
            fieldwriter.finish_field()

    def cleanup(self) -> None:
        self.terms.clear()
        self.unsorted.clear()
        self.postings = self.nterms = 0

    def save(self) -> None:
        """Nothing to spill: the pool lives in memory (see ``estimated_bytes``)."""


_PACKED = [pack_uint(i) for i in range(256)]


def _packed(n: int) -> bytes:
    return _PACKED[n] if n < 256 else pack_uint(n)


def _fill_postings(pw, ids, weights, values, lens) -> None:
    """Hand one term's postings to a W3PostingsWriter in blocks of its block size, setting the
    block buffer and statistics exactly as ``add_posting`` would, without its per-posting
    Python. The last block is left buffered for ``finish_postings``."""
    limit = pw._blocklimit
    n = len(ids)
    for s in range(0, n, limit):
        if s:
            pw._write_block()
        chunk = ids[s : s + limit]
        pw._ids = chunk
        if weights is None:
            pw._weights = array("f", [1.0]) * len(chunk)
            pw._maxweight = 1.0
        else:
            w = weights[s : s + limit]
            pw._weights = w
            pw._maxweight = max(0, max(w))
        pw._values = [] if values is None else values[s : s + limit]
        if lens is not None:
            lb = [lens[i] for i in chunk]
            nz = [b for b in lb if b]
            pw._minlength = byte_to_length(min(nz)) if nz else None
            pw._maxlength = byte_to_length(max(nz)) if nz else 0
        else:
            pw._minlength, pw._maxlength = None, 0


class _LeanPostingsWriter(W3PostingsWriter):
    """The W3 block encoder with C-speed delta coding and weight checks (same bytes), and a
    one-call path for a posting list that fits in one block."""

    def single_block(self, fmt, ids, weights, values, lens) -> bytes:
        """Write a whole posting list of at most one block; return its term-info bytes (what
        start_postings / add_posting... / finish_postings / W3TermInfo.to_bytes make)."""
        n = len(ids)
        if weights is None:
            weights = array("f", [1.0]) * n
        maxweight = max(0, max(weights))
        minlength, maxlength = None, 0
        if lens is not None:
            nz = [b for b in [lens[i] for i in ids] if b]
            if nz:
                minlength, maxlength = byte_to_length(min(nz)), byte_to_length(max(nz))
        self._format = fmt
        self._ids, self._weights = ids, weights
        self._values = [] if values is None else values
        databytes = dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 2)
        comp = self._compression if len(databytes) >= _SMALL_BLOCK else 0
        if comp:
            databytes = zlib.compress(databytes, comp)
        minbyte = length_to_byte(minlength)
        maxbyte = length_to_byte(maxlength)
        infobytes = dumps((n, ids[-1], maxweight, comp, minbyte, maxbyte), 2)
        postfile = self._postfile
        start = postfile.tell()
        postfile.write(
            WHOOSH3_HEADER_MAGIC
            + pack_int(-(len(infobytes) + len(databytes)))
            + infobytes
            + databytes
        )
        length = postfile.tell() - start
        return (
            _TERMINFO.pack(
                0,
                sum(weights),
                n,
                0 if minlength is None else minbyte,
                maxbyte,
                maxweight,
                ids[0],
                ids[-1],
            )
            + pack_long(start)
            + pack_int(length)
        )

    def _mini_ids(self):
        ids = self._ids
        if self._byteids:
            return tuple(ids)
        return tuple(map(operator.sub, ids, chain((0,), ids)))

    def _write_block(self, last=False):
        # Whoosh's _write_block, except that a block whose pickle is tiny is stored
        # uncompressed (compression level 0 in its header, which the reader honours): zlib on
        # a one- or two-posting block costs time and saves nothing. (Whoosh meant to do this
        # too; its check is overwritten on the next line.)
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        databytes = dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 2)
        comp = self._compression if len(databytes) >= _SMALL_BLOCK else 0
        if comp:
            databytes = zlib.compress(databytes, comp)
        ids = self._ids
        infobytes = dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(databytes)
        postfile = self._postfile
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        self._blockcount += 1
        self._new_block()

    def _mini_weights(self):
        w = self._weights
        n = len(w)
        if w.count(1.0) == n:
            return None
        if w.count(w[0]) == n:
            return w[0]
        return tuple(w)


class BulkSegmentWriter(SegmentWriter):
    """A SegmentWriter whose postings go into an :class:`_InvertedPool` (no run files, no
    pickling, no heap merge) and are written a block at a time. Fields with spelling or term
    vectors are not supported (our schema has none)."""

    def __init__(self, ix, limitmb: int = 128, **kwargs):
        super().__init__(ix, limitmb=limitmb, **kwargs)
        for name, f in self.schema.items():
            if f.vector or f.separate_spelling():
                raise ValueError(f"field {name!r}: vectors and spelling are not supported")
        self.pool.cleanup()
        self.pool = _InvertedPool(self.schema)
        self.limit_bytes = limitmb * 1024 * 1024

    def full(self) -> bool:
        return self.pool.estimated_bytes() >= self.limit_bytes

    def add_document(self, **fields):
        self._check_state()
        pdw = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        add_items = self.pool.add_items
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        pdw.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    boost = self._field_boost(fields, fieldname, docboost)
                    total = add_items(fieldname, docnum, field.index(value), boost)
                    if field.scorable:
                        length = total
                customval = fields.get("_stored_%s" % fieldname, value)
                pdw.add_field(fieldname, field, customval if field.stored else None, length)
                column = field.column_type
                if column and customval is not None:
                    pdw.add_column_value(fieldname, column, field.to_column_value(customval))
        except Exception:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        try:
            self.pool.write(self.fieldwriter, self.schema, pdr)
        finally:
            self.fieldwriter.close()
            if pdr:
                pdr.close()


class _BulkSubTask(SubWriterTask):
    """A worker process of :class:`BulkMpWriter`: segments and inverts its share of the
    documents with :class:`BulkSegmentWriter`, starting a new segment whenever the in-memory
    postings reach ``limitmb`` (bounded memory), and returns the list of its segments."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_pid = os.getpid()

    def run(self):
        # a forked child keeps the parent's handlers: the CLI's SIGTERM handler raises
        # Terminated, which here would run on in the parent's code when the task is stopped
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
        ix = self.storage.open_index(self.indexname)
        segments = []
        self.writer = BulkSegmentWriter(ix, _lk=False, **self.kwargs)
        while self.running:
            try:
                jobinfo = self.jobqueue.get(timeout=2.0)
            except queue.Empty:
                if os.getppid() != self.parent_pid:  # the writing process was killed
                    return
                continue
            if jobinfo is None:
                break
            self._process_file(*jobinfo)
            if self.writer.full():
                segments.append(self.writer._finalize_segment())
                self.writer = BulkSegmentWriter(ix, _lk=False, **self.kwargs)
        if not self.running:
            self.writer.cancel()
            return
        if self.writer._added:
            segments.append(self.writer._finalize_segment())
        else:
            self.writer._close_segment()
        self.resultqueue.put((None, None, segments), timeout=5)


class BulkMpWriter(MpWriter, BulkSegmentWriter):
    """Whoosh's multi-process writer in its ``multisegment`` mode, with bulk workers: each
    worker process analyses (jieba included) and writes its own segments; nothing is merged
    at the end. Deletions and merges of small existing segments (the merge policy) happen in
    this process, through the same in-memory pool."""

    def __init__(self, ix, procs: int = 2, batchsize: int = 256, limitmb: int = 128, **kwargs):
        MpWriter.__init__(
            self, ix, procs=procs, batchsize=batchsize, multisegment=True, limitmb=limitmb, **kwargs
        )
        self.subargs = dict(kwargs, limitmb=limitmb)
        self.pool.cleanup()
        self.pool = _InvertedPool(self.schema)
        self.limit_bytes = limitmb * 1024 * 1024

    def _new_task(self):
        task = _BulkSubTask(
            self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, True
        )
        self.tasks.append(task)
        task.start()
        return task

    def _commit(self, mergetype, optimize, merge):
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self.jobqueue.put(None)
        finalsegments = self._merge_segments(mergetype, optimize, merge)
        results = []
        while len(results) < len(self.tasks):
            try:
                results.append(self.resultqueue.get(timeout=1))
            except queue.Empty:
                if not any(t.is_alive() for t in self.tasks) and self.resultqueue.empty():
                    break
        for task in self.tasks:
            task.join()
        if len(results) != len(self.tasks) or any(t.exitcode for t in self.tasks):
            raise RuntimeError("an index worker process failed")
        for _, _, segments in results:
            finalsegments.extend(segments)
        if self._added:
            finalsegments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(finalsegments)
        self._finish()

    def cancel(self):
        # MpWriter.cancel only flags the parent's copies of the tasks; stop the workers.
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
            task.join()
        SegmentWriter.cancel(self)


class PublicCodec(W3Codec):
    """Whoosh's default codec, naming segments from the OS's entropy pool (see
    ``LeanCodec.new_segment``); ``new_segment`` is the codec API's own extension point."""

    def new_segment(self, storage, indexname):
        return W3Segment(self, indexname, segid=secrets.token_hex(8))


def _meta_for(vocab) -> dict:
    return {"schema_version": SCHEMA_VERSION, "vocabulary": vocab.version}


def read_meta(path: Path) -> dict | None:
    try:
        return json.loads((Path(path) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def status(path: Path, vocab) -> str:
    """ "ok" | "missing" | "stale" | "corrupt" — never raises."""
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
        raise SearchIndexError(
            "搜索索引无法打开或已损坏。", "请运行 lecturelib reindex 重建索引。"
        ) from e


def create_empty(path: Path, vocab):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    register_vocabulary(vocab)
    ix = windex.create_in(str(path), build_schema(vocab.version, tuple(vocab.terms)))
    (path / META_FILE).write_text(json.dumps(_meta_for(vocab)), encoding="utf-8")
    return ix


def _writer(ix, cls=None, timeout: float | None = None, **kw):
    """A writer (``cls(ix, **kw)``, Whoosh's default when None), retrying the lock with a
    bounded back-off."""
    deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    delay = 0.05
    while True:
        try:
            return ix.writer(**kw) if cls is None else cls(ix, **kw)
        except LockError:
            if time.monotonic() >= deadline:
                raise SearchIndexError(
                    "搜索索引正被另一个任务写入，等待超时。",
                    "请稍后重试；若长时间如此，请检查是否有卡住的入库或重建任务。",
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def rebuild(
    path: Path,
    vocab,
    records: Iterable,
    *,
    total: int | None = None,
    progress: Callable[[int], None] | None = None,
    procs: int = 2,
    public: bool = False,
) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".new")
    if tmp.exists():
        shutil.rmtree(tmp)
    ix = create_empty(tmp, vocab)
    bulk_mode()  # the full tokenizer before workers fork: they inherit it
    parallel = bool(procs and procs > 1)
    # compound=False: no copying of every segment file into one at the end (and no mmap of a
    # large compound file when a searcher opens).
    if public:
        kw = {"limitmb": REBUILD_LIMIT_MB, "codec": PublicCodec(), "compound": False}
        if parallel:
            kw.update(procs=procs, batchsize=256, multisegment=True)

        def new_writer():
            return _writer(ix, **kw)
    else:
        kw = {"limitmb": REBUILD_LIMIT_MB, "codec": LeanCodec(), "compound": False}

        def new_writer():
            if parallel:
                return _writer(ix, BulkMpWriter, procs=procs, batchsize=256, **kw)
            return _writer(ix, BulkSegmentWriter, **kw)

    w = new_writer()
    n = 0
    try:
        for rec in records:
            w.add_document(**to_document(rec))
            n += 1
            if progress and n % 500 == 0:
                progress(n)
            if not public and not parallel and n % 256 == 0 and w.full():
                w.commit(merge=False)  # bounded memory: start a new segment
                w = new_writer()
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


# Records in one apply from which the full in-memory jieba dictionary pays for its 0.55 s load
# (a lazy, on-disk one looks up each new fragment: ~3 µs, ~100 fragments a passage).
BULK_WORDS_MIN = 300


def apply(ix, upserts: list, deletes: list[str], procs: int = 2, public: bool = False) -> None:
    """Delete and upsert records in one transaction (one writer, lock retried). A large batch
    (a bulk ingest draining, ``PARALLEL_APPLY_MIN`` records or more) is analysed by ``procs``
    worker processes, as a rebuild is."""
    if not upserts and not deletes:
        return
    parallel = bool(procs and procs > 1 and len(upserts) >= PARALLEL_APPLY_MIN)
    if len(upserts) >= BULK_WORDS_MIN:
        bulk_mode()
    if public:
        kw = {"codec": PublicCodec(), "compound": False}
        if parallel:
            kw.update(procs=procs, batchsize=64)
        w = _writer(ix, **kw)
    else:
        kw = {"codec": LeanCodec(), "compound": False}
        if parallel:
            w = _writer(ix, BulkMpWriter, procs=procs, batchsize=64, **kw)
        else:
            w = _writer(ix, BulkSegmentWriter, **kw)
    try:
        for rid in deletes:
            w.delete_by_term("id", rid)
        for rec in upserts:
            w.update_document(**to_document(rec))
        w.commit()
    except BaseException:
        w.cancel()
        raise


__all__ = [
    "META_FILE",
    "status",
    "open_index",
    "create_empty",
    "rebuild",
    "apply",
    "read_meta",
    "PublicCodec",
]
