"""Uploads as background jobs: the upload page sends a file, gets a job id at once and polls
the job for its progress (“正在识别第 2/3 页”) until the draft is ready; 取消 stops it.

A job is three small files in the home's ``run/uploads/`` folder, so that any process of a
multi-process server answers a poll or a cancel for a job another process runs:

    <id>.json      the job: file name, actor, state (running | done | cancelled | error),
                   the per-file result when finished (written by the thread running the job)
    <id>.progress  the stage and page the worker process is at (written by the worker)
    <id>.cancel    present once an editor pressed 取消

The preparation itself runs where every upload runs (``Pipeline.prepare_upload``: a bounded
worker process). The worker reports each OCR page through :class:`JobReport`, which also raises
``Cancelled`` when the cancel file exists: a cancel takes effect before the next page (a page
takes 0.3–3 s), and a cancelled job stores nothing. Finished jobs' files are removed after a day.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from indexer.app import publish
from indexer.ingest.pipeline import Cancelled

KEEP_S = 24 * 3600  # finished jobs are forgotten after this long
STALE_S = 3 * 3600  # a job "running" this long was cut off (the server stopped): it failed
_ID = re.compile(r"^[0-9a-f]{16}$")


def _write(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class JobReport:
    """The progress callback of one upload job, called in the worker process
    (``progress(stage, done, total)``); pickled with the pipeline's options."""

    folder: str
    job_id: str

    def __call__(self, stage: str, done: int, total: int) -> None:
        folder = Path(self.folder)
        if (folder / f"{self.job_id}.cancel").exists():
            raise Cancelled()
        if stage == "ocr":
            _write(
                folder / f"{self.job_id}.progress",
                {"stage": stage, "done": done, "total": total},
            )


def describe(job: dict) -> dict:
    """A job as the upload page shows it: state, percent and a line of text."""
    progress = job.get("progress") or {}
    state = job["state"]
    done, total = int(progress.get("done", 0)), int(progress.get("total", 0))
    if state == "running":
        if job.get("cancel_requested"):
            text = "正在取消…"
        elif progress.get("stage") == "ocr" and total and done < total:
            text = f"正在识别第 {done + 1}/{total} 页"
        elif progress.get("stage") == "ocr" and total:
            text = f"已识别 {total} 页，正在整理"
        else:
            text = "正在提取文字"
        percent = int(done * 100 / total) if total else 0
    else:
        percent = 100
        text = (job.get("result") or {}).get("message") or ""
        if state == "cancelled":
            text = publish.CANCELLED
    return {
        "id": job["id"],
        "filename": job["filename"],
        "state": state,
        "stage": progress.get("stage") or "",
        "done": done,
        "total": total,
        "percent": percent,
        "text": text,
        "result": job.get("result"),
    }


class Uploads:
    """The upload jobs of one library home (threads of this process run the ones it started;
    any process reads and cancels any of them)."""

    def __init__(self, svc):
        self.svc = svc
        self.folder = Path(svc.home.path) / "run" / "uploads"
        self._threads: dict[str, threading.Thread] = {}

    def _path(self, job_id: str, ext: str) -> Path:
        return self.folder / f"{job_id}.{ext}"

    def start(
        self, data: bytes, filename: str, *, actor: str, replace_of: int | None = None
    ) -> dict:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._forget_old()
        job_id = secrets.token_hex(8)
        job = {
            "id": job_id,
            "filename": publish.safe_filename(filename),
            "actor": actor,
            "state": "running",
            "started": time.time(),
            "result": None,
        }
        _write(self._path(job_id, "json"), job)
        t = threading.Thread(
            target=self._run,
            args=(job, data, filename, actor, replace_of),
            daemon=True,
            name=f"lecturelib-upload-{job_id}",
        )
        self._threads[job_id] = t
        t.start()
        return describe(job)

    def _run(self, job: dict, data: bytes, filename: str, actor: str, replace_of) -> None:
        job_id = job["id"]
        cancel = self._path(job_id, "cancel")
        try:
            result = publish.upload(
                self.svc,
                data,
                filename,
                actor,
                replace_of,
                progress=JobReport(str(self.folder), job_id),
                cancelled=cancel.exists,
            )
            job["state"] = "cancelled" if result["status"] == "cancelled" else "done"
        except Exception as e:  # the thread boundary: the page shows what went wrong
            result = {
                "filename": job["filename"],
                "status": "error",
                "message": f"处理时发生内部错误（{type(e).__name__}）。请把该文件反馈给管理员。",
                "draft_id": None,
                "document_id": None,
            }
            job["state"] = "error"
        job["result"] = result
        job["finished"] = time.time()
        _write(self._path(job_id, "json"), job)

    def get(self, job_id: str, *, actor: str) -> dict | None:
        """The job as the page shows it; None when there is none (or it is someone else's)."""
        if not _ID.match(job_id or ""):
            return None
        job = _read(self._path(job_id, "json"))
        if job is None or job.get("actor") != actor:
            return None
        job["progress"] = _read(self._path(job_id, "progress"))
        job["cancel_requested"] = self._path(job_id, "cancel").exists()
        if job["state"] == "running" and time.time() - job.get("started", 0) > STALE_S:
            job["state"] = "error"
            job["result"] = {
                "filename": job["filename"],
                "status": "error",
                "message": "处理被中断（服务器可能重新启动过），文件未保存。请重新上传。",
                "draft_id": None,
                "document_id": None,
            }
        return describe(job)

    def cancel(self, job_id: str, *, actor: str) -> dict | None:
        """Ask a running job to stop (it stops before its next page; nothing is stored)."""
        job = self.get(job_id, actor=actor)
        if job is None or job["state"] != "running":
            return job
        self._path(job_id, "cancel").touch()
        self.svc.audit(actor, "cancel_upload", f"upload:{job_id}", file=job["filename"])
        return self.get(job_id, actor=actor)

    def wait(self, timeout: float = 120) -> None:
        """Block until the jobs this process started finish (tests and shutdown)."""
        for t in list(self._threads.values()):
            t.join(timeout)

    def _forget_old(self) -> None:
        now = time.time()
        for p in self.folder.glob("*.json"):
            job = _read(p)
            if job and job.get("state") != "running" and now - job.get("finished", now) > KEEP_S:
                for ext in ("json", "progress", "cancel"):
                    self._path(job["id"], ext).unlink(missing_ok=True)


__all__ = ["Uploads", "JobReport", "describe"]
