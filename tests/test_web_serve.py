"""`lecturelib serve` builds the app under waitress from the library home."""

from __future__ import annotations

import threading
import urllib.request

from conftest import QUOTES, make_docx


def test_serve_dry_run_returns_zero(tmp_path, monkeypatch, capsys):
    from web.serve import serve

    monkeypatch.setenv("LECTURELIB_SERVE_DRY_RUN", "1")
    assert serve(tmp_path / "home", host="127.0.0.1", port=0, workers=2) == 0
    assert "宣讲素材库已启动" in capsys.readouterr().out


def test_cli_serve_answers_http(tmp_path, library_factory):
    """The real server: a search over HTTP returns the quote."""
    from waitress import create_server

    from web import create_app

    svc = library_factory([make_docx(tmp_path / "q.docx", QUOTES)])
    home = svc.home.path
    svc.close()
    app = create_app({"LECTURELIB_HOME": str(home)})
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    port = server.effective_port
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{port}/api/search?q=%E7%BB%BF%E6%B0%B4"  # 绿水
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read().decode("utf-8")
        assert "绿水青山就是金山银山" in body
    finally:
        server.close()
        app.extensions["lecturelib"].close()


# -- a real server process: port in use, stop signals, no worker left behind --------------------

import http.cookiejar  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    return kids


def _descendants(pid: int) -> set[int]:
    kids, out, todo = _children(), set(), [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_server(home: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            line = proc.stdout.readline()  # the banner comes once the index is ready
            assert "宣讲素材库已启动" in line, line
            return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read()) from None
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start")


def _upload_as_editor(port: int, name: str, password: str, filename: str, data: bytes) -> str:
    """Sign in and upload one file through the editor's form (this starts upload workers)."""
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def token(path):
        html = opener.open(base + path, timeout=30).read().decode("utf-8")
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    form = urllib.parse.urlencode(
        {"name": name, "password": password, "csrf_token": token("/login")}
    ).encode()
    opener.open(base + "/login", data=form, timeout=30).read()
    tok = token("/editor/upload")
    boundary = "----lecturelib-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{tok}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        base + "/editor/upload",
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
        },
    )
    return opener.open(req, timeout=120).read().decode("utf-8")


def test_port_in_use_is_a_chinese_message_naming_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run(
            [*CLI, "--home", str(tmp_path / "home"), "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "OSError" not in r.stderr
    assert f"端口 {port} 已被占用" in r.stderr and "--port" in r.stderr
    assert "已启动" not in r.stdout


def test_serve_rejects_a_port_out_of_range_in_chinese(tmp_path, capsys, monkeypatch):
    from cli.main import main

    monkeypatch.setenv("LECTURELIB_SERVE_DRY_RUN", "1")  # never serve, whatever happens
    with pytest.raises(SystemExit) as e:
        main(["--home", str(tmp_path / "home"), "serve", "--port", "99999"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "用法：" in err and "--port" in err and "端口号" in err


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_stops_the_server_and_all_its_workers(tmp_path, monkeypatch, sig):
    from cli.main import main

    home = tmp_path / "home"
    monkeypatch.setenv("LECTURELIB_PASSWORD", "a-good-password")
    assert main(["--home", str(home), "user", "add", "编辑甲"]) == 0
    port = _free_port()
    proc = _start_server(home, port)
    workers: set[int] = set()
    try:
        body = _upload_as_editor(
            port,
            "编辑甲",
            "a-good-password",
            "q.docx",
            make_docx(tmp_path / "q.docx", QUOTES).read_bytes(),
        )
        assert "生态文明与初心使命金句汇编" in body, body  # prepared in a worker
        workers = _descendants(proc.pid)
        assert workers, "the upload should have started worker processes"
        proc.send_signal(sig)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_running(p) for p in workers):
            time.sleep(0.2)
        left = sorted(p for p in workers if _running(p))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in workers:  # never leave them behind, even when the test fails
            if _running(p):
                os.kill(p, signal.SIGKILL)
    err = proc.stderr.read()  # (a worker left running would hold the pipe open)
    assert not left, f"worker processes still running after the server stopped: {left}"
    assert "Traceback" not in err, err
    assert "已停止" in err
