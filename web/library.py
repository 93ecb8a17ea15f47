"""One library per app: the service, the lock that serializes index access inside the process,
and background jobs (index rebuilds after a dictionary or synonym change) with their progress.

Whoosh allows one writer and its searchers are not meant to be shared by threads at once, so
every call that reads or writes the index goes through :meth:`WebLibrary.locked`. Searches take
milliseconds; a rebuild can take minutes, so while one runs, searches do not wait for the lock:
they raise :class:`IndexBusy` and the page shows the rebuild's progress instead.
"""

from __future__ import annotations

import itertools
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, current_app

from indexer.ingest.pipeline import Options, Pipeline
from indexer.app.service import LibraryService
from library.errors import LecturelibError, SearchIndexError


class SearchBusy(LecturelibError):
    """Too many broad queries at once: this one is answered at once with a message instead of
    taking a request thread from everybody else."""

    def __init__(self):
        super().__init__("检索繁忙：同时有很多范围很大的查询在运行，这个查询没有执行。",
                         "请稍等几秒再试，或输入更具体的词语（少用单个字、少用很长的检索串）。")


class IndexBusy(SearchIndexError):
    """The index is being rebuilt; try again in a moment."""

    def __init__(self, job: "Job"):
        pct = job.percent
        super().__init__(f"检索索引正在按新的词典重建（{pct}%），请稍候再试。",
                         "重建通常只需要几十秒，完成后页面会自动恢复。")
        self.job = job


BROAD_SEARCHES = 1     # broad queries running at once per process
BROAD_WAIT_S = 0.1     # how long a broad query waits for its turn before being told


@dataclass
class Job:
    id: int
    label: str
    actor: str
    state: str = "running"            # running | done | error
    done: int = 0
    total: int = 0
    message: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "state": self.state, "done": self.done,
                "total": self.total, "percent": self.percent, "message": self.message}


class WebLibrary:
    def __init__(self, home):
        self.svc = LibraryService(home)
        self.svc.ready()               # once, before serving: reads never rebuild or drain
        self._broad = threading.BoundedSemaphore(BROAD_SEARCHES)
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.jobs: dict[int, Job] = {}
        self._threads: dict[int, threading.Thread] = {}
        self.generation = 0            # bumped on every write; keys small caches
        self._cache: dict = {}

    @classmethod
    def init_app(cls, app: Flask) -> "WebLibrary":
        lib = cls(app.config["LECTURELIB_HOME_OBJ"])
        app.extensions["lecturelib"] = lib
        return lib

    # -- locking ---------------------------------------------------------------------------

    def running_rebuild(self) -> Job | None:
        return next((j for j in self.jobs.values() if j.state == "running"), None)

    @contextmanager
    def locked(self, *, wait: bool = True):
        """Hold the index lock. Readers (``wait=False``) raise IndexBusy during a rebuild."""
        job = self.running_rebuild()
        if job is not None and not wait:
            raise IndexBusy(job)
        with self._lock:
            yield self.svc

    @contextmanager
    def writing(self):
        """Hold the lock for a write, then bring the index up to date (the writer applies its
        own outbox; readers see the change on their next query)."""
        with self._lock:
            yield self.svc
            if self.running_rebuild() is None:
                self.svc.sync()
            self.generation += 1
            self._cache.clear()

    def cached(self, key, compute, ttl: float = 60.0):
        """A value computed once per library generation (cleared by every write here) and at
        most ``ttl`` seconds old (changes made by the CLI in another process show up too)."""
        stamp = (self.generation, int(time.monotonic() // ttl))
        hit = self._cache.get(key)
        if hit is None or hit[0] != stamp:
            hit = self._cache[key] = (stamp, compute())
        return hit[1]

    # -- reads -------------------------------------------------------------------------------

    def _read(self, fn, empty):
        """Reads take no lock and never write: each request thread searches its own snapshot
        of the newest committed index, also while a writer or a rebuild is at work."""
        try:
            return fn()
        except TypeError:
            # Whoosh cannot refresh a searcher opened on an index with no segments
            # (EmptyReader.segments() is None), so an empty library cannot be searched:
            # answer "nothing found" for it; anything else is a real error.
            self.svc.index._refresh()
            if self.svc.store.count_records() == 0:
                return empty
            raise

    def search(self, query: str, **kw) -> dict:
        from indexer.search.query import parse
        from indexer.search.whoosh.searching import is_expensive
        if is_expensive(parse(query or "")):
            # broad queries one at a time per process (a short wait, then a clear answer): a
            # flood of them cannot take every thread from speakers and static files
            if not self._broad.acquire(timeout=BROAD_WAIT_S):
                raise SearchBusy()
            try:
                return self._search(query, **kw)
            finally:
                self._broad.release()
        return self._search(query, **kw)

    def _search(self, query: str, **kw) -> dict:
        empty = {"query": query, "total": 0, "total_is_estimate": False, "page": 1, "pages": 0,
                 "hits": [], "facets": {k: {} for k in ("topic", "kind", "doc_kind", "audience",
                                                          "year", "speaker")}, "suggestions": []}
        return self._read(lambda: self.svc.search(query, **kw), empty)

    def suggest(self, prefix: str, limit: int = 8) -> list[dict]:
        def run():
            return self.svc.index.autocomplete(prefix, limit=limit)
        return self._read(run, [])

    def more_like_this(self, hit_id: str, limit: int = 5) -> list[dict]:
        def run():
            return self.svc.index.more_like_this(hit_id, limit=limit)
        return self._read(run, [])

    # -- ingest ----------------------------------------------------------------------------

    def pipeline(self) -> Pipeline:
        return Pipeline(self.svc.store, self.svc.taxonomy)

    def options(self, actor: str, **kw) -> Options:
        home = self.svc.home
        kw.setdefault("speakers", self.svc.speakers)
        return Options(max_bytes=home.max_file_bytes, workers=1, actor=actor,
                       timeout_s=int(home.settings.get("file_timeout_s", 600)),
                       seconds_per_mb=float(home.settings.get("file_seconds_per_mb", 20)),
                       **kw)

    # -- background rebuilds -----------------------------------------------------------------

    def start_rebuild(self, label: str, actor: str) -> Job:
        """Rebuild the index in a background thread (after a vocabulary change)."""
        with self._lock:
            job = self.running_rebuild()
            if job is not None:
                return job
            job = Job(next(self._ids), label, actor)
            self.jobs[job.id] = job
            t = threading.Thread(target=self._run_rebuild, args=(job,), daemon=True,
                                 name=f"lecturelib-rebuild-{job.id}")
            self._threads[job.id] = t
            t.start()
            return job

    def _run_rebuild(self, job: Job) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            with self._lock:
                job.total = self.svc.store.count_records()
                n = self.svc.reindex(progress=progress)
                job.done = job.total = n
                job.message = f"索引已重建：{n} 条可检索内容。"
                job.state = "done"
                self.generation += 1
                self._cache.clear()
        except Exception as e:   # the thread boundary: the page shows what went wrong
            job.state = "error"
            job.message = f"重建失败：{e}"
        finally:
            job.finished = time.time()

    def wait_for_jobs(self, timeout: float = 120) -> None:
        """Block until background jobs finish (tests and shutdown)."""
        for t in list(self._threads.values()):
            t.join(timeout)

    def close(self) -> None:
        self.wait_for_jobs()
        self.svc.close()


def get_library() -> WebLibrary:
    return current_app.extensions["lecturelib"]


__all__ = ["WebLibrary", "Job", "IndexBusy", "SearchBusy", "get_library"]
