"""Background jobs: an index rebuild after a dictionary or synonym change runs in a thread
while pages keep being served; its progress is a :class:`Job` that pages poll."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Job:
    id: int
    label: str
    actor: str
    state: str = "running"  # running | done | error
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
        return {
            "id": self.id,
            "label": self.label,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "message": self.message,
        }


# work(job) does the job, updating job.done/total, and returns the message shown when done
Work = Callable[[Job], str]


class Jobs:
    """The jobs of one process, by id. One rebuild at a time: starting another while one
    runs returns the running one."""

    def __init__(self):
        self.all: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._threads: dict[int, threading.Thread] = {}
        self._start = threading.Lock()

    def running(self) -> Job | None:
        return next((j for j in self.all.values() if j.state == "running"), None)

    def get(self, job_id: int) -> Job | None:
        return self.all.get(job_id)

    def start(
        self, label: str, actor: str, work: Work, on_done: Callable[[], None] | None = None
    ) -> Job:
        with self._start:
            job = self.running()
            if job is not None:
                return job
            job = Job(next(self._ids), label, actor)
            self.all[job.id] = job
            t = threading.Thread(
                target=self._run,
                args=(job, work, on_done),
                daemon=True,
                name=f"lecturelib-job-{job.id}",
            )
            self._threads[job.id] = t
            t.start()
            return job

    @staticmethod
    def _run(job: Job, work: Work, on_done) -> None:
        try:
            job.message = work(job)
            job.state = "done"
            if on_done is not None:
                on_done()
        except Exception as e:  # the thread boundary: the page shows what went wrong
            job.state = "error"
            job.message = f"重建失败：{e}"
        finally:
            job.finished = time.time()

    def wait(self, timeout: float = 120) -> None:
        """Block until the jobs finish (tests and shutdown)."""
        for t in list(self._threads.values()):
            t.join(timeout)


__all__ = ["Job", "Jobs"]
