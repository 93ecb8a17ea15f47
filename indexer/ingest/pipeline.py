"""Ingest: the ordered steps that take a file into the library.

    read → hash (duplicate?) → sniff + extract → normalize → structure → classify → store → index

Extraction, structuring and classification are pure and CPU-bound: they run in worker processes
(both cores) during a bulk ingest. Storing runs in this process, one transaction per file, so a
failing file never leaves half a document behind and never touches what is already stored. The
index is brought up to date from the store's outbox (see ``indexer.app.sync``) before ``ingest``
returns, so a document is searchable as soon as the command ends.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from indexer.ingest.audience import suggest_audiences
from indexer.ingest.normalize import for_search
from library.content import KINDS, Passage, Quote, Structured, join_notes
from library.errors import (
    DuplicateFileError,
    EmptyFileError,
    FileTooLargeError,
    InputError,
    LecturelibError,
    UsageError,
)
from library.originals import sha256_bytes
from library.store import IngestItem, Store
from library.taxonomy import Taxonomy

# Extensions a folder walk picks up. Files named explicitly are always tried (by content).
DOCUMENT_SUFFIXES = {
    ".docx",
    ".doc",
    ".wps",
    ".pdf",
    ".pptx",
    ".txt",
    ".md",
    ".markdown",
    ".html",
    ".htm",
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".bmp",
}

# media (视频/音频): a folder walk takes them too, and the subtitle beside each (same base name)
# as its transcript, not as a file of its own
MEDIA_SUFFIXES = {".mp4", ".webm", ".mkv", ".mp3", ".m4a", ".wav", ".ogg"}
SIDECAR_SUFFIXES = {".srt", ".vtt", ".lrc"}

STATUSES = ("ok", "duplicate", "warning", "needs_ocr", "needs_transcript", "error", "skipped")


@dataclass
class FileResult:
    path: str
    status: str  # one of STATUSES ("skipped": not a document type; never
    # tried, not a failure)
    document_id: int | None = None
    kind: str | None = None
    quotes: int = 0
    passages: int = 0
    pages: int | None = None
    message: str = ""
    title: str | None = None
    version: int | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        return {
            k: d[k]
            for k in (
                "path",
                "status",
                "document_id",
                "kind",
                "quotes",
                "passages",
                "pages",
                "message",
            )
        }

    @property
    def failed(self) -> bool:
        return self.status in ("error", "needs_ocr")


@dataclass
class Prepared:
    """What a worker sends back: everything about one file except its bytes."""

    sha256: str
    filename: str
    format: str
    structured: Structured
    status: str
    warnings: list[str]
    pages: int | None
    chars: int
    doc_topics: list[tuple[str, float]]
    quote_topics: list[list[tuple[str, float]]]
    audiences: list[str]
    # what OCR did, when it read any page: {engine, pages: {"n": confidence}, confidence,
    # low_confidence_pages} (``indexer.ingest.extract.ocr.describe``); None otherwise
    ocr: dict | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Prepared:
        s = dict(d["structured"])
        s["quotes"] = [Quote(**q) for q in s.get("quotes", [])]
        s["passages"] = [Passage(**p) for p in s.get("passages", [])]
        s["headings"] = [tuple(h) for h in s.get("headings", [])]
        d = dict(d, structured=Structured(**s))
        d["doc_topics"] = [tuple(t) for t in d["doc_topics"]]
        d["quote_topics"] = [[tuple(t) for t in qt] for qt in d["quote_topics"]]
        return cls(**d)


@dataclass
class Options:
    kind: str | None = None
    topics: list[str] = field(default_factory=list)  # slugs, already resolved
    audiences: list[str] = field(default_factory=list)
    max_bytes: int = 100 * 1024 * 1024
    workers: int = 2
    actor: str = "cli"
    timeout_s: int = 600  # per file at most, extraction + structuring ...
    seconds_per_mb: float = 20.0  # ... and otherwise this much per MB of the file
    timeout_floor_s: int = 30  # ... with this floor (see file_budget)
    memory_mb: int = 3072  # address-space cap of a worker process
    extract_quotes: bool = True  # quote records of attributed quotations in prose
    speakers: object = None  # the library's SpeakerTable (None: the packaged one)
    ocr: str = "auto"  # OCR engine for scans: auto | rapidocr | tesseract | off
    ocr_page_timeout_s: int = 120  # each OCR'd page may take this long (the file's own
    # budget covers the rest)
    progress: object = None  # progress(stage, done, total) inside the worker
    max_media_bytes: int = 2048 * 1024 * 1024  # a media file (视频/音频) at most


def file_budget(size: int, opts: Options) -> int:
    """Seconds one file may take: its size's share (``seconds_per_mb``), at least
    ``timeout_floor_s``, at most ``timeout_s``. A 571-byte hostile PDF held a worker for the
    flat 600 s of old; real files take 0.5–3 s per MB here (pdfplumber ≤ 260 ms a page)."""
    want = opts.timeout_floor_s + opts.seconds_per_mb * size / (1024 * 1024)
    return int(max(1, min(opts.timeout_s, want)))


# -- helpers ------------------------------------------------------------------------------

_KEY_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def text_key(text: str) -> str:
    """The de-duplication key of a quote or a title: search-normalized, without punctuation
    and white space (so "不忘初心，牢记使命。" and "不忘初心 牢记使命" are the same quote)."""
    return _KEY_DROP.sub("", for_search(text))


def _skip_message(path: Path) -> str:
    suffix = path.suffix.lower()
    what = f"（{suffix}）" if suffix else "（没有扩展名）"
    return (
        f"不支持的文件类型{what}，已跳过。可导入：Word（.docx/.doc/.wps）、PDF、PowerPoint（.pptx）、"
        "文本（.txt/.md）、网页（.html）、扫描页图片（.jpg/.png/.tif，自动文字识别）。如是文档，请另存为其中一种格式后再导入；"
        "如只是扩展名有误，可单独指定该文件导入（按内容识别格式）。"
    )


def _collect(
    paths: Iterable[str | os.PathLike],
) -> tuple[list[Path], list[FileResult], dict[str, int]]:
    """Files to ingest, results for the paths not taken, and the walk order of both."""
    files: list[Path] = []
    others: list[FileResult] = []
    order: dict[str, int] = {}

    def other(path: str, status: str, message: str) -> None:
        if path not in order:
            order[path] = len(order)
            others.append(FileResult(path, status, message=message))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if any(part.startswith(".") for part in rel) or not f.is_file():
                    continue
                if f.suffix.lower() in DOCUMENT_SUFFIXES | MEDIA_SUFFIXES:
                    files.append(f)
                    order.setdefault(str(f), len(order))
                elif f.suffix.lower() in SIDECAR_SUFFIXES and any(
                    f.with_suffix(m).is_file() for m in MEDIA_SUFFIXES
                ):
                    continue  # the transcript of the media beside it
                else:
                    other(str(f), "skipped", _skip_message(f))
        elif p.is_file():
            files.append(p)
            order.setdefault(str(p), len(order))
        else:
            other(str(raw), "error", "文件或文件夹不存在，请检查路径是否正确。")
    return list(dict.fromkeys(files)), others, order


def collect_files(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[FileResult]]:
    """Expand folders (recursively, document types only, hidden files and folders left out).
    Besides the files to ingest, returns a result for each path that does not exist (status
    "error") and for each file in a folder whose type is not a document type (status "skipped",
    with what to do), so that a summary can name every file it did not take."""
    files, others, _ = _collect(paths)
    return files, others


def _error_message(err: Exception) -> str:
    if isinstance(err, LecturelibError):
        return str(err)
    return (
        f"处理时发生内部错误（{type(err).__name__}: {err}）。"
        "请把该文件反馈给管理员；其余文件不受影响。"
    )


# -- the pure steps (run in worker processes) ---------------------------------------------


def prepare(data: bytes, filename: str, opts: Options, taxonomy: Taxonomy) -> Prepared:
    """sniff + extract → structure → classify. Raises InputError on bad input."""
    from indexer.ingest.classify import suggest
    from indexer.ingest.extract import Limits, extract
    from indexer.ingest.structure import structure

    sha = sha256_bytes(data)
    ex = extract(
        data, filename, Limits(max_bytes=opts.max_bytes, ocr=opts.ocr, progress=opts.progress)
    )
    if ex.status == "needs_ocr":
        s = Structured(kind=opts.kind or "handout", title=ex.title or Path(filename).stem)
        return Prepared(
            sha, filename, ex.format, s, "needs_ocr", ex.warnings, ex.pages, 0, [], [], []
        )
    s = structure(
        ex,
        kind=opts.kind,
        filename=filename,
        extract_quotes=opts.extract_quotes,
        speakers=opts.speakers,
    )
    if not s.quotes and not s.passages:
        raise EmptyFileError(
            "文件中没有提取到任何文字内容。",
            "请确认文件不是空白文档或纯图片；如是扫描件请先做文字识别（OCR）。",
        )
    body = "\n".join(
        [s.title]
        + [h for _, h, _ in s.headings]
        + [q.text for q in s.quotes]
        + [p.text for p in s.passages]
    )
    if opts.topics:
        doc_topics = [(slug, 1.0) for slug in opts.topics]
        quote_topics = [list(doc_topics) for _ in s.quotes]
    else:
        doc_topics = [(t.slug, t.score) for t in suggest(body, taxonomy, title=s.title)]
        quote_topics = []
        for q in s.quotes:
            sug = suggest(
                " ".join(filter(None, [q.text, q.theme, q.source])), taxonomy, title=s.title
            )
            quote_topics.append([(t.slug, t.score) for t in sug] or list(doc_topics))
    audiences = list(opts.audiences) or suggest_audiences(body)
    warnings = list(ex.warnings) + list(s.warnings)
    return Prepared(
        sha,
        filename,
        ex.format,
        s,
        "warning" if warnings else "ok",
        warnings,
        ex.pages,
        ex.char_count,
        doc_topics,
        quote_topics,
        audiences,
        ex.meta.get("ocr"),
    )


def _prepare_path(path: str, opts: Options, taxonomy: Taxonomy) -> Prepared:
    data = Path(path).read_bytes()
    return prepare(data, Path(path).name, opts, taxonomy)


class _Timeout(InputError):
    """The file's time is up (an InputError, so that extractors let it through unchanged)."""

    def __init__(self):
        super().__init__("处理超时。")


class Cancelled(InputError):
    """An editor cancelled the upload (raised by its progress callback between pages)."""

    def __init__(self):
        super().__init__("已取消。", "文件未保存，可重新上传。")


def _on_alarm(signum, frame):
    raise _Timeout()


# A file's budget is CPU time (SIGPROF): workers run at nice 10, and on a busy machine a page
# that needs 6 s of CPU took 37 s of wall time, so a wall-clock limit blamed the file for the
# machine's load. A wall clock this many times the budget (SIGALRM) still stops a file that
# hangs without using the CPU.
WALL_SLACK = 10


def _arm(seconds: int) -> None:
    import signal

    if hasattr(signal, "setitimer") and hasattr(signal, "ITIMER_PROF"):
        signal.setitimer(signal.ITIMER_PROF, seconds)
        signal.alarm(seconds * WALL_SLACK)
    elif hasattr(signal, "SIGALRM"):
        signal.alarm(seconds)


def _disarm() -> None:
    import signal

    if hasattr(signal, "setitimer") and hasattr(signal, "ITIMER_PROF"):
        signal.setitimer(signal.ITIMER_PROF, 0)
    if hasattr(signal, "SIGALRM"):
        signal.alarm(0)


# Page events of this worker process go here (a queue the parent drains), set by _init_worker
_events = None


WORKER_NICE = 10  # worker processes run at a lower CPU priority than the server


def _address_space() -> int:
    """Bytes of address space this process has now (Linux; 0 where unknown)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def _init_worker(memory_mb: int, events=None) -> None:
    """Worker processes get a memory cap, so a hostile file ends in MemoryError (a clear
    message) instead of the machine swapping. They ignore Ctrl+C (the terminal sends it to the
    whole process group) and die quietly on SIGTERM (a forked worker would otherwise inherit the
    command's own SIGTERM handler): the parent process stops them, and none prints a traceback.
    ``events``: a queue inherited from the parent, where ``_worker`` puts its files' page
    progress (``(key, stage, done, total)``)."""
    import signal

    global _events
    _events = events

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):
        pass
    try:
        import resource

        # the cap is what the worker may add to the address space it starts with: a worker
        # forked from a process that had grown (a long test run, a server after days) got
        # so little room that the OCR engine failed to allocate and its scan was called damaged
        cap = _address_space() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    try:
        # Extraction and OCR are background work: a speaker's search in the web server comes
        # first (bench/load.py, 2 editors publishing: search p95 218 -> 145 ms, same load).
        os.nice(WORKER_NICE)
    except (AttributeError, OSError):
        pass


def _worker(path: str | bytes, opts: Options, taxonomy: Taxonomy, filename: str = "", key=None):
    """Process-pool entry point (see :func:`_bounded`): a time limit that fires between the
    work's end and the timers' disarming still ends as this file's message, never as an
    exception that would stop the whole batch."""
    try:
        return _bounded(path, opts, taxonomy, filename, key)
    except _Timeout:
        _disarm()
        return (
            None,
            "处理超时，已停止。文件可能过于复杂或已损坏，请拆分文件或另存为新文件后再导入。",
        )


def _bounded(path: str | bytes, opts: Options, taxonomy: Taxonomy, filename: str, key):
    """Process-pool entry point: never raises, returns (Prepared | None, error message).
    ``path`` is a file path, or the file's bytes (uploads) with ``filename``.
    Bounded in time (SIGALRM) and, through _init_worker, in memory. Page progress goes to
    ``opts.progress`` (which may raise :class:`Cancelled`) and, with ``key``, to the parent's
    event queue."""
    import signal

    use_alarm = hasattr(signal, "SIGALRM")
    try:
        size = len(path) if isinstance(path, bytes) else Path(path).stat().st_size
    except OSError:
        size = 0
    budget = file_budget(size, opts)
    outer = opts.progress
    events = _events if key is not None else None

    def per_page(stage: str, done: int, total: int) -> None:
        # OCR: every page gets its own time limit, whatever the file's size
        if use_alarm and stage == "ocr" and done < total:
            _arm(max(budget, opts.ocr_page_timeout_s))
        if events is not None:
            try:
                events.put((key, stage, done, total))
            except (OSError, ValueError):
                pass
        if outer:
            outer(stage, done, total)

    opts = replace(opts, progress=per_page)
    if use_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)
        if hasattr(signal, "SIGPROF"):
            signal.signal(signal.SIGPROF, _on_alarm)
        _arm(budget)
    try:
        per_page("start", 0, 0)  # a cancelled upload stops before it begins
        if isinstance(path, bytes):
            return prepare(path, filename, opts, taxonomy), None
        return _prepare_path(path, opts, taxonomy), None
    except _Timeout:
        return None, (
            f"处理超时（{size / 1024 / 1024:.1f} MB 的文件最多用 {budget} 秒计算时间），已停止。"
            "文件可能过于复杂或已损坏，请拆分文件或另存为新文件后再导入。"
        )
    except Cancelled as e:
        return None, str(e)
    except MemoryError:
        return None, (
            "处理该文件所需内存超出限制，已跳过。"
            "文件可能已损坏或内容异常，请另存为新文件或拆分后再导入。"
        )
    except Exception as e:  # the boundary: every failure becomes a per-file message
        return None, _error_message(e)
    finally:
        if use_alarm:
            _disarm()


_upload_pool: cf.ProcessPoolExecutor | None = None
UPLOAD_TASKS_PER_WORKER = 4
_upload_lock = threading.Lock()


def _stop_pool(pool: cf.ProcessPoolExecutor, timeout: float = 5.0) -> None:
    """Stop a pool now: cancel what waits, terminate what runs (a file can take minutes), and
    reap the worker processes, so that none outlives the ingest or the server."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        try:
            if proc.is_alive():
                proc.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for proc in procs:
        try:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join(1)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


# Pools stopped on purpose (the server is stopping): their files are not to blame
_stopped_pools: set[int] = set()

SERVER_STOPPING = (
    "服务器正在停止，该文件还没有处理完，未保存。文件本身没有问题，请在服务器重新启动后重新上传。"
)


def shutdown_workers() -> None:
    """Stop the upload worker processes (the server calls this when it stops)."""
    global _upload_pool
    with _upload_lock:
        pool, _upload_pool = _upload_pool, None
        if pool is not None:
            _stopped_pools.add(id(pool))
    if pool is not None:
        _stop_pool(pool)


def _bounded_upload(data: bytes, filename: str, opts: Options, taxonomy: Taxonomy):
    """Run one upload's preparation in a long-lived worker process (created on first use, not
    at import), bounded like bulk ingest. The web server is threaded, so the workers come from
    a fork server rather than a fork of this process."""
    global _upload_pool
    with _upload_lock:
        if _upload_pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            # a worker is replaced after a few files: memory a large file made it take is
            # given back instead of being kept for the life of the server
            _upload_pool = cf.ProcessPoolExecutor(
                max_workers=2,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(opts.memory_mb,),
                max_tasks_per_child=UPLOAD_TASKS_PER_WORKER,
            )
            atexit.register(_upload_pool.shutdown, wait=True, cancel_futures=True)
        pool = _upload_pool
    try:
        return pool.submit(_worker, data, opts, taxonomy, filename).result()
    except (cf.process.BrokenProcessPool, RuntimeError, cf.CancelledError):
        # RuntimeError: submitted after shutdown; CancelledError: waiting when it came
        with _upload_lock:
            if _upload_pool is pool:
                _upload_pool = None
            stopped = id(pool) in _stopped_pools
        if stopped:
            return None, SERVER_STOPPING
        return None, (
            "处理该文件时程序异常退出（可能内存不足或文件损坏）。请另存为新文件后再上传。"
        )


def _duplicate(name: str, dup: dict) -> FileResult:
    """The file is in the library already (``dup``: its version, as ``version_by_sha`` gives)."""
    where = "（在回收站中）" if dup.get("status") == "trashed" else ""
    return FileResult(
        name,
        "duplicate",
        document_id=dup["document_id"],
        kind=dup["kind"],
        title=dup["title"],
        version=dup.get("number"),
        message=f"资料库中已有相同文件：《{dup['title']}》{where}，未做改动。",
    )


# -- the batch ----------------------------------------------------------------------------


class Pipeline:
    def __init__(
        self, store: Store, taxonomy: Taxonomy, *, after_store: Callable[[], None] | None = None
    ):
        self.store = store
        self.taxonomy = taxonomy
        self.after_store = after_store  # e.g. drain the index outbox

    def validate(self, opts: Options) -> None:
        if opts.kind is not None and opts.kind not in KINDS:
            raise UsageError(
                f"未知的材料类型“{opts.kind}”。",
                "可用类型：" + "、".join(f"{k}（{v}）" for k, v in KINDS.items()),
            )

    def _precheck(self, path: Path, opts: Options) -> FileResult | tuple[str, int]:
        """Size, emptiness and duplicate checks that need no extraction."""
        name = str(path)
        try:
            size = path.stat().st_size
            if size == 0:
                raise EmptyFileError(
                    "文件为空（0 字节）。", "请检查文件是否完整，重新导出后再导入。"
                )
            if size > opts.max_bytes:
                mb = opts.max_bytes / 1024 / 1024
                raise FileTooLargeError(
                    f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {mb:.0f} MB）。",
                    "请拆分文件或压缩图片后再导入；管理员可在 settings.json 中调整 max_file_mb。",
                )
            data = path.read_bytes()
        except InputError as e:
            return FileResult(name, "error", message=str(e))
        except OSError as e:
            return FileResult(
                name, "error", message=f"无法读取文件：{e.strerror or e}。请检查文件权限或路径。"
            )
        sha = sha256_bytes(data)
        dup = self.store.version_by_sha(sha)
        if dup:
            return _duplicate(name, dup)
        return sha, size

    def ingest(
        self,
        paths: Iterable[str | os.PathLike],
        opts: Options | None = None,
        progress: Callable[[FileResult, int, int], None] | None = None,
        page_progress: Callable[[str, str, int, int], None] | None = None,
    ) -> list[FileResult]:
        """Ingest files and folders. ``progress(result, done, total)`` after each file;
        ``page_progress(path, stage, done, total)`` from inside a file (OCR pages: ``("ocr", k,
        n)`` before page k+1 of n, and ``(n, n)`` at the end; first ``("", "batch", 0,
        files)``), all called in this thread."""
        opts = opts or Options()
        self.validate(opts)
        files, results, order = _collect(paths)
        total = len(files) + len(results)
        done = 0
        page_progress and page_progress("", "batch", 0, total)
        for r in results:
            done += 1
            progress and progress(r, done, total)

        todo: list[tuple[Path, str]] = []
        for f in files:
            if f.suffix.lower() in MEDIA_SUFFIXES:
                r = self.ingest_media(f, opts)
                results.append(r)
                done += 1
                progress and progress(r, done, total)
                continue
            pre = self._precheck(f, opts)
            if isinstance(pre, FileResult):
                results.append(pre)
                done += 1
                progress and progress(pre, done, total)
            else:
                todo.append((f, pre[0]))

        def finish(path: Path, sha: str, prepared: Prepared | None, err: str | None):
            nonlocal done
            r = self._store(path, sha, prepared, err, opts)
            results.append(r)
            done += 1
            progress and progress(r, done, total)

        for path, sha, prepared, err in self._prepare_all(todo, opts, page_progress):
            finish(path, sha, prepared, err)
        if self.after_store:
            self.after_store()
        results.sort(key=lambda r: order.get(r.path, -1))  # in the order of the walk
        return results

    def _prepare_all(
        self,
        todo: list[tuple[Path, str]],
        opts: Options,
        page_progress: Callable[[str, str, int, int], None] | None = None,
    ):
        """Yield (path, sha, Prepared | None, error) as files finish. Always in worker
        processes (forked: cheap), so every file is bounded in time and memory and a crash in a
        C library takes down a worker, never the ingest. With ``page_progress``, the workers put
        their page events on a queue that this thread drains while it waits for files."""
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        events = ctx.SimpleQueue() if page_progress else None

        def pool(n):
            return cf.ProcessPoolExecutor(
                max_workers=n,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(opts.memory_mb, events),
            )

        def drain() -> None:
            while events is not None and not events.empty():
                key, stage, done, total = events.get()
                if stage != "start":
                    page_progress(key, stage, done, total)

        def results(futs):
            """Futures as they finish, page events passed on in between."""
            waiting = set(futs)
            while waiting:
                finished, waiting = cf.wait(
                    waiting, timeout=0.2 if events else None, return_when=cf.FIRST_COMPLETED
                )
                drain()
                yield from finished

        pending = list(todo)
        if not pending:
            return
        key = str if events is not None else (lambda p: None)
        survivors: list[tuple[Path, str]] = []
        # Interrupted (Ctrl+C, SIGTERM) or abandoned: the workers are stopped at once instead
        # of finishing their files (the pool's own exit would wait for them).
        ex = pool(max(1, min(opts.workers, len(pending))))
        try:
            futs = {
                ex.submit(_worker, str(p), opts, self.taxonomy, "", key(p)): (p, sha)
                for p, sha in pending
            }
            for fut in results(futs):
                path, sha = futs[fut]
                try:
                    prepared, err = fut.result()
                except cf.process.BrokenProcessPool:
                    survivors.append((path, sha))
                    continue
                yield path, sha, prepared, err
        except BaseException:
            _stop_pool(ex)
            raise
        ex.shutdown(wait=True)
        # A worker died (killed for memory, a crash in a C library): retry the files it took
        # down one at a time, each in a fresh worker, so one bad file cannot sink the others.
        for path, sha in survivors:
            ex = pool(1)
            try:
                fut = ex.submit(_worker, str(path), opts, self.taxonomy, "", key(path))
                prepared, err = next(results({fut: path})).result()
            except cf.process.BrokenProcessPool:
                prepared, err = (
                    None,
                    (
                        "处理该文件时程序异常退出（可能内存不足或文件损坏），已跳过。"
                        "请另存为新文件后再导入；其余文件不受影响。"
                    ),
                )
            except BaseException:
                _stop_pool(ex)
                raise
            ex.shutdown(wait=True)
            yield path, sha, prepared, err

    def _store(
        self, path: Path, sha: str, prepared: Prepared | None, err: str | None, opts: Options
    ) -> FileResult:
        name = str(path)
        if prepared is None:
            return FileResult(name, "error", message=err or "未知错误。")
        if prepared.status == "needs_ocr":
            return self.store_prepared(b"", name, prepared, opts)
        try:
            data = path.read_bytes()
        except OSError as e:
            return FileResult(name, "error", message=f"无法读取文件：{e}。")
        return self.store_prepared(data, name, prepared, opts)

    def ingest_media(
        self,
        path: Path,
        opts: Options,
        *,
        filename: str | None = None,
        transcript: tuple[bytes, str] | None = None,
        title: str | None = None,
        find_sidecar: bool = True,
    ) -> FileResult:
        """Store one media file (视频/音频) read from disk, never into memory: probe, poster,
        transcript (given, sidecar or container stream), quotes, topics; one transaction.
        ``filename``: its name when ``path`` is a temporary file (uploads)."""
        from indexer.ingest.classify import suggest
        from indexer.ingest.media import prepare_media

        name = str(path) if filename is None else filename
        shown = Path(filename or path.name).name
        try:
            size = path.stat().st_size
            if size == 0:
                raise EmptyFileError(f"“{shown}”是空文件（0 字节）。", "请检查文件是否完整。")
            if size > opts.max_media_bytes:
                mb = opts.max_media_bytes / 1024 / 1024
                raise FileTooLargeError(
                    f"“{shown}”过大（{size / 1024 / 1024:.0f} MB，视频/音频上限 {mb:.0f} MB）。",
                    "请压缩或分段后再导入；管理员可在 settings.json 中调整 max_media_mb。",
                )
            from library.originals import sha256_file

            sha = sha256_file(path)
            dup = self.store.version_by_sha(sha)
            if dup:
                status, message = (
                    "duplicate",
                    f"资料库中已有相同文件：《{dup['title']}》，未做改动。",
                )
                if not self.store.media_files.has(sha):
                    # the library knows this recording but lost its file (a backup made with
                    # --no-media, a pack without it, a damaged copy removed by check --repair):
                    # the very same file puts it back
                    self.store.media_files.put_file(path, sha)
                    status = "ok"
                    message = f"已为《{dup['title']}》补回缺失的录音/录像文件（与原文件一致）。"
                return FileResult(
                    name,
                    status,
                    document_id=dup["document_id"],
                    kind=dup["kind"],
                    title=dup["title"],
                    message=message,
                )
            info, still, s, status, warnings, chars, tfile = prepare_media(
                path,
                sha256=sha,
                kind_title=title,  # else the container's title tag, else the file name
                transcript=transcript,
                speakers=opts.speakers,
                find_sidecar=find_sidecar and filename is None,
                name=shown,
            )
        except LecturelibError as e:
            return FileResult(name, "error", kind="media", message=str(e))
        except OSError as e:
            return FileResult(name, "error", message=f"无法读取文件“{shown}”：{e}。")
        body = "\n".join([s.title] + [p.text for p in s.passages])
        if opts.topics:
            doc_topics = [(slug, 1.0) for slug in opts.topics]
        else:
            doc_topics = [(t.slug, t.score) for t in suggest(body, self.taxonomy, title=s.title)]
        quote_topics = [list(doc_topics) for _ in s.quotes]
        attachments = []
        if still:
            info["poster"] = sha256_bytes(still)
            attachments.append(still)
        if tfile is not None:
            info["transcript_sha256"] = sha256_bytes(tfile[0])
            attachments.append(tfile[0])
        audiences = list(opts.audiences) or (suggest_audiences(body) if s.passages else [])
        item = IngestItem(
            data=b"",
            sha256=sha,
            filename=shown,
            format=Path(shown).suffix.lower().lstrip(".") or "media",
            structured=s,
            title_key=text_key(s.title) or sha,
            quote_keys=[text_key(q.text) for q in s.quotes],
            status=status,
            warnings=warnings,
            chars=chars,
            doc_topics=doc_topics,
            topics_manual=bool(opts.topics),
            quote_topics=quote_topics,
            audiences=audiences,
            data_path=path,
            size=size,
            media=info,
            attachments=attachments,
        )
        try:
            stored = self.store.store_file(item, actor=opts.actor)
        except DuplicateFileError as e:
            return _duplicate(name, e.existing)
        except LecturelibError as e:
            return FileResult(name, "error", message=str(e))
        except OSError as e:
            return FileResult(name, "error", message=f"无法保存文件“{shown}”：{e}。")
        return FileResult(
            name,
            status,
            document_id=stored.document_id,
            kind="media",
            quotes=len(s.quotes),
            passages=len(s.passages),
            message=join_notes(warnings),
            title=s.title,
            version=stored.version_number,
        )

    def prepare_upload(self, data: bytes, filename: str, opts: Options) -> Prepared:
        """Extract, structure and classify an uploaded file without storing it (the editor's
        preview), in a worker process bounded in time and memory. Raises InputError."""
        self.validate(opts)
        if not data:
            raise EmptyFileError("文件为空（0 字节）。", "请检查文件是否完整，重新导出后再上传。")
        if len(data) > opts.max_bytes:
            raise FileTooLargeError(
                f"文件过大（{len(data) / 1024 / 1024:.1f} MB，上限 "
                f"{opts.max_bytes / 1024 / 1024:.0f} MB）。",
                "请拆分文件或压缩图片后再上传。",
            )
        prepared, err = _bounded_upload(data, filename, opts, self.taxonomy)
        if prepared is None:
            raise InputError(err or "未知错误。")
        return prepared

    def store_prepared(
        self, data: bytes, name: str, prepared: Prepared, opts: Options
    ) -> FileResult:
        """Store a prepared file (one transaction) and report it as a FileResult."""
        s = prepared.structured
        if prepared.status == "needs_ocr":
            msg = (
                join_notes(prepared.warnings)
                or "此 PDF 没有文字层（可能是扫描件），请先做文字识别（OCR）。"
            )
            return FileResult(
                name,
                "needs_ocr",
                kind=s.kind,
                pages=prepared.pages,
                message=msg + " 该文件未入库。",
                title=s.title,
            )
        try:
            if sha256_bytes(data) != prepared.sha256:
                raise InputError("文件在导入过程中被修改。", "请等文件保存完成后重新导入。")
            dup = self.store.version_by_sha(prepared.sha256)
            if dup:  # e.g. the same file twice in one batch
                return FileResult(
                    name,
                    "duplicate",
                    document_id=dup["document_id"],
                    kind=dup["kind"],
                    title=dup["title"],
                    message=f"资料库中已有相同文件：《{dup['title']}》，未做改动。",
                )
            item = IngestItem(
                data=data,
                sha256=prepared.sha256,
                filename=Path(prepared.filename).name,
                format=prepared.format,
                structured=s,
                title_key=text_key(s.title) or prepared.sha256,
                quote_keys=[text_key(q.text) for q in s.quotes],
                status=prepared.status,
                warnings=prepared.warnings,
                pages=prepared.pages,
                chars=prepared.chars,
                doc_topics=prepared.doc_topics,
                topics_manual=bool(opts.topics),
                quote_topics=prepared.quote_topics,
                audiences=prepared.audiences,
                ocr=prepared.ocr,
            )
            stored = self.store.store_file(item, actor=opts.actor)
        except DuplicateFileError as e:  # stored by another node a moment ago
            return _duplicate(name, e.existing)
        except LecturelibError as e:
            return FileResult(name, "error", message=str(e))
        except OSError as e:
            return FileResult(name, "error", message=f"无法保存文件：{e}。")
        msg = join_notes(prepared.warnings)
        if stored.version_number > 1:
            msg = (
                f"《{s.title}》已有旧版本，已保存为第 {stored.version_number} 版，旧版本保留。"
                + (" " + msg if msg else "")
            )
        return FileResult(
            name,
            prepared.status,
            document_id=stored.document_id,
            kind=s.kind,
            quotes=len(s.quotes),
            passages=len(s.passages),
            pages=prepared.pages,
            message=msg,
            title=s.title,
            version=stored.version_number,
        )


__all__ = [
    "Pipeline",
    "Options",
    "FileResult",
    "Prepared",
    "Cancelled",
    "prepare",
    "text_key",
    "collect_files",
    "shutdown_workers",
    "DOCUMENT_SUFFIXES",
    "MEDIA_SUFFIXES",
    "STATUSES",
]
