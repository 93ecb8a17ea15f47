"""Many readers (issue 10): `lecturelib serve --processes 2` runs pre-forked worker processes
over one library; concurrent searches are answered by both, a document the CLI ingests while
the server runs is found at once by every worker, and SIGTERM leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from builders import HANDOUT_DOC, QUOTES_DOC, make_docx

pytest.importorskip("gunicorn", reason="gunicorn 未安装（仅 Linux/macOS），跳过多进程测试")

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, q: str) -> dict:
    url = f"http://127.0.0.1:{port}/api/search?q={urllib.parse.quote(q)}"
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(x) for x in out.stdout.split()}


def test_two_processes_serve_one_library(tmp_path):
    src = tmp_path / "src"
    make_docx(src / "q.docx", QUOTES_DOC)
    home = tmp_path / "home"
    subprocess.run(
        [*CLI, "--home", str(home), "ingest", str(src), "-q"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), "serve", "--port", str(port), "--processes", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "2 个进程" in line, line
        workers = set()
        deadline = time.monotonic() + 30
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.2)
        assert len(workers) >= 2
        # twenty concurrent searches, all answered
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda: results.append(_get(port, "绿水青山")["total"]))
            for _ in range(20)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 20 and all(n >= 1 for n in results)
        # a document the CLI ingests now is found by every worker at once
        word = "乡村振兴"
        assert all(_get(port, word)["total"] == 0 for _ in range(4))
        make_docx(tmp_path / "new" / "讲义.docx", HANDOUT_DOC)
        subprocess.run(
            [*CLI, "--home", str(home), "ingest", str(tmp_path / "new"), "-q"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        assert all(_get(port, word)["total"] >= 1 for _ in range(8))
    finally:
        kids = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    time.sleep(0.5)
    alive = [p for p in kids if os.path.exists(f"/proc/{p}")]
    assert not alive, f"worker processes left running: {alive}"
