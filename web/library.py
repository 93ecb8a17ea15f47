"""One library per app: the application service, the broad-query gate, and small caches.

Searches take no lock and never write: each request thread searches its own snapshot of the
newest committed index, also while a writer or a background rebuild is at work. Writes go
through :meth:`WebLibrary.writing` (the service's write lock, then the caches are dropped).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from flask import Flask, current_app

from indexer.app.jobs import Job
from indexer.app.service import LibraryService
from library.errors import LecturelibError, SearchIndexError


class SearchBusy(LecturelibError):
    """Too many broad queries at once: this one is answered at once with a message instead of
    taking a request thread from everybody else."""

    def __init__(self):
        super().__init__(
            "检索繁忙：同时有很多范围很大的查询在运行，这个查询没有执行。",
            "请稍等几秒再试，或输入更具体的词语（少用单个字、少用很长的检索串）。",
        )


class IndexBusy(SearchIndexError):
    """The index is being rebuilt; try again in a moment."""

    def __init__(self, job: Job):
        pct = job.percent
        super().__init__(
            f"检索索引正在按新的词典重建（{pct}%），请稍候再试。",
            "重建通常只需要几十秒，完成后页面会自动恢复。",
        )
        self.job = job


BROAD_SEARCHES = 1  # broad queries running at once per process
BROAD_WAIT_S = 0.1  # how long a broad query waits for its turn before being told


class WebLibrary:
    def __init__(self, home):
        self.svc = LibraryService(home)
        self.svc.ready()  # once, before serving: reads never rebuild or drain
        self.svc.upkeep_in_background = self._changed  # no request rebuilds the index either
        self._broad = threading.BoundedSemaphore(BROAD_SEARCHES)
        self.generation = 0  # bumped on every write; keys small caches
        self._cache: dict = {}

    @classmethod
    def init_app(cls, app: Flask) -> WebLibrary:
        lib = cls(app.config["LECTURELIB_HOME_OBJ"])
        app.extensions["lecturelib"] = lib
        return lib

    # -- writes and caches -------------------------------------------------------------------

    @property
    def jobs(self) -> dict[int, Job]:
        return self.svc.jobs.all

    def running_rebuild(self) -> Job | None:
        return self.svc.running_job()

    @contextmanager
    def writing(self):
        """Hold the service's write lock for a write (the service applies its own index
        changes; readers see them on their next query), then drop the caches."""
        with self.svc.writing() as svc:
            try:
                yield svc
            finally:
                self._changed()

    def _changed(self) -> None:
        self.generation += 1
        self._cache.clear()

    def start_rebuild(self, label: str, actor: str) -> Job:
        """Rebuild the index in the background (after a vocabulary change)."""
        return self.svc.start_rebuild(label, actor, on_done=self._changed)

    def cached(self, key, compute, ttl: float = 60.0):
        """A value computed once per library generation (cleared by every write here) and at
        most ``ttl`` seconds old (changes made by the CLI in another process show up too)."""
        stamp = (self.generation, int(time.monotonic() // ttl))
        hit = self._cache.get(key)
        if hit is None or hit[0] != stamp:
            hit = self._cache[key] = (stamp, compute())
        return hit[1]

    # -- reads -------------------------------------------------------------------------------

    def search(self, query: str, **kw) -> dict:
        if self.svc.is_expensive(query):
            # broad queries one at a time per process (a short wait, then a clear answer): a
            # flood of them cannot take every thread from speakers and static files
            if not self._broad.acquire(timeout=BROAD_WAIT_S):
                raise SearchBusy()
            try:
                return self.svc.search(query, **kw)
            finally:
                self._broad.release()
        return self.svc.search(query, **kw)

    def suggest(self, prefix: str, limit: int = 8) -> list[dict]:
        return self.svc.autocomplete(prefix, limit=limit)

    def more_like_this(self, hit_id: str, limit: int = 5) -> list[dict]:
        return self.svc.more_like_this(hit_id, limit=limit)

    def wait_for_jobs(self, timeout: float = 120) -> None:
        """Block until background jobs finish (tests and shutdown)."""
        self.svc.wait_for_jobs(timeout)

    def close(self) -> None:
        self.wait_for_jobs()
        self.svc.close()


def get_library() -> WebLibrary:
    return current_app.extensions["lecturelib"]


__all__ = ["WebLibrary", "Job", "IndexBusy", "SearchBusy", "get_library"]
