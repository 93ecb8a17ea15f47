"""Load with concurrent editors: the web app (waitress, a separate process) on loopback under 20
concurrent searchers and 2 editors uploading and publishing for 60 seconds.

    .venv/bin/python bench/load.py [--seconds 60] [--searchers 20] [--editors 2] [--port 5099]
    .venv/bin/python bench/load.py --pg --nodes 2 [--processes 1]   # several nodes, one database
    .venv/bin/python bench/load.py --database-url postgresql://… --nodes 2

Builds a library from corpus/ in a temp folder (or, with a database, in that database: an empty
one given by --database-url, or a fresh one on a throwaway cluster started with --pg from
tests/pgcluster.py), starts `lecturelib serve` (with --nodes N: N serve processes, each with its
own home, on ports port … port+N-1), runs the load from this process (threads, persistent HTTP
connections; searchers and editors spread over the nodes), then checks that every published
upload is searchable — on another node than the one it was uploaded to. Prints requests/s,
search latency p50/p95, upload latency, errors and lost uploads. Sends traffic only to
127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cli.main"]
PASSWORD = "load-test-password"
QUERIES = [
    "绿水青山",
    "乡村振兴",
    "初心",
    "党",
    "法治",
    "人民 幸福",
    '"共同富裕"',
    "端砚",
    "七星岩",
    "依法治国 -宪法",
    "生态 OR 环保",
    "topic:乡村振兴 产业",
    "kind:quote 民",
    "year:2021 江山",
    "调查研究",
    "退役军人",
    "垃圾分类",
    "新质生产力",
    "家风",
    "网格",
]


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return r.status, data


def form(fields: dict) -> tuple[bytes, str]:
    return urllib.parse.urlencode(fields, doseq=True).encode(), "application/x-www-form-urlencoded"


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        )
    for name, filename, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def make_upload(token: str) -> bytes:
    import docx

    d = docx.Document()
    d.add_heading(f"负载测试讲义{token}", level=1)
    d.add_paragraph("一、为什么要做好基层宣讲")
    d.add_paragraph(f"宣讲员走进村里，和村民拉家常、讲政策，{token}是这次测试留下的标记。" * 3)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def token_for(i: int, who: int) -> str:
    # a run of hanzi no other document contains: the character-level field must find it
    base = 0x4E00 + 7000 + who * 997 + i * 13
    return "".join(chr(base + k * 101) for k in range(4))


def wait_port(port: int, proc, log: Path, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit("server exited: " + log.read_text(errors="replace")[-2000:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/")
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


@contextlib.contextmanager
def throwaway_database():
    """A fresh database on a throwaway PostgreSQL cluster (tests/pgcluster.py), removed after."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pgcluster import remove, start_cluster

    cluster, why = start_cluster()
    if cluster is None:
        raise SystemExit(f"PostgreSQL not available: {why}")
    try:
        yield cluster.create_database()
    finally:
        remove(cluster)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--searchers", type=int, default=20)
    ap.add_argument("--editors", type=int, default=2)
    ap.add_argument("--port", type=int, default=5099, help="the first node's; node i: port + i")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--processes", type=int, help="serve's --processes (default: serve's own)")
    ap.add_argument("--nodes", type=int, default=1, help="serve processes, own home each")
    db = ap.add_mutually_exclusive_group()
    db.add_argument("--database-url", metavar="URL", help="an empty PostgreSQL database")
    db.add_argument("--pg", action="store_true", help="start a throwaway PostgreSQL cluster")
    args = ap.parse_args()
    if args.nodes > 1 and not (args.database_url or args.pg):
        ap.error("--nodes > 1 needs a shared database: --database-url URL or --pg")
    with contextlib.ExitStack() as stack:
        url = args.database_url or (stack.enter_context(throwaway_database()) if args.pg else None)
        return run_nodes(args, url, Path(stack.enter_context(tempfile.TemporaryDirectory())))


def run_nodes(args, url: str | None, tmp: Path) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT), LECTURELIB_PASSWORD=PASSWORD)
    homes = [tmp / f"node{i}" for i in range(args.nodes)]
    db = ["--database", url] if url else []

    def cli(home: Path, *rest: str) -> None:
        subprocess.run(
            CLI + ["--home", str(home), *db, *rest],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    t0 = time.perf_counter()
    cli(homes[0], "ingest", str(ROOT / "corpus" / "materials"), "-q")  # into the database
    for i in range(args.editors):
        cli(homes[0], "user", "add", f"editor{i}")
    print(
        f"library built in {time.perf_counter() - t0:.1f} s "
        f"({'PostgreSQL' if url else 'SQLite + Whoosh'}; {args.nodes} node(s))"
    )
    servers = []
    logs = [tmp / f"node{i}.log" for i in range(args.nodes)]
    try:
        for i, home in enumerate(homes):
            extra = ["--processes", str(args.processes)] if args.processes else []
            servers.append(
                subprocess.Popen(
                    CLI
                    + ["--home", str(home), *db, "serve", "--port", str(args.port + i)]
                    + ["--workers", str(args.workers), *extra],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=logs[i].open("wb"),
                )
            )
            wait_port(args.port + i, servers[-1], logs[i])
        args.ports = [args.port + i for i in range(args.nodes)]
        failed = run_load(args)
        if failed:  # the servers' tracebacks say why
            for log in logs:
                tail = log.read_text(errors="replace").strip()[-3000:]
                if "Traceback" in tail:
                    print(f"--- {log.name} (last lines)\n{tail}")
        return failed
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def run_load(args) -> int:
    stop = threading.Event()
    lock = threading.Lock()
    search_lat: list[float] = []
    upload_lat: list[float] = []
    errors: list[str] = []
    published: list[tuple[str, int]] = []  # (token, node it was sent to)
    counts = {"requests": 0}

    def note(ok: bool, what: str):
        with lock:
            counts["requests"] += 1
            if not ok:
                errors.append(what)

    ports = args.ports

    def searcher(n: int):
        rng = random.Random(n)
        c = Client(ports[n % len(ports)])
        while not stop.is_set():
            q = rng.choice(QUERIES)
            path = ("/search?q=" if rng.random() < 0.7 else "/api/search?q=") + urllib.parse.quote(
                q
            )
            t0 = time.perf_counter()
            try:
                status, data = c.request("GET", path)
                ok = status == 200
                if not ok:  # what the page said, without its markup
                    said = re.sub(r"<[^>]+>|\s+", " ", data.decode(errors="replace"))
                    status = f"{status} {said[-300:].strip()}"
            except Exception as e:  # counted, reported
                ok, status = False, repr(e)
            dt = time.perf_counter() - t0
            with lock:
                search_lat.append(dt)
            note(ok, f"search {q}: {status}")

    def editor(n: int):
        node = n % len(ports)
        c = Client(ports[node])
        status, page = c.request("GET", "/login")
        tok = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        body, ctype = form({"name": f"editor{n}", "password": PASSWORD, "csrf_token": tok})
        status, _ = c.request("POST", "/login", body, {"Content-Type": ctype})
        note(status == 302, f"login {status}")
        status, page = c.request("GET", "/editor/upload")
        tok = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        i = 0
        while not stop.is_set():
            token = token_for(i, n)
            i += 1
            t0 = time.perf_counter()
            body, ctype = multipart(
                {"csrf_token": tok}, [("files", f"负载测试{n}-{i}.docx", make_upload(token))]
            )
            try:
                status, data = c.request(
                    "POST",
                    "/editor/upload",
                    body,
                    {"Content-Type": ctype, "X-Requested-With": "fetch"},
                )
                res = json.loads(data)["results"][0] if status == 200 else None
                note(status == 200 and res and res["draft_id"], f"upload {status} {data[:200]!r}")
                if not res or not res.get("draft_id"):
                    continue
                body, ctype = form(
                    {
                        "csrf_token": tok,
                        "title": f"负载测试讲义{token}",
                        "kind": "handout",
                        "topics": "rural-revitalization",
                    }
                )
                status, _ = c.request(
                    "POST",
                    f"/editor/drafts/{res['draft_id']}/publish",
                    body,
                    {"Content-Type": ctype},
                )
                note(status == 302, f"publish {status}")
                if status == 302:
                    with lock:
                        published.append((token, node))
                        upload_lat.append(time.perf_counter() - t0)
            except Exception as e:
                note(False, f"editor: {e!r}")

    threads = [threading.Thread(target=searcher, args=(i,)) for i in range(args.searchers)]
    threads += [threading.Thread(target=editor, args=(i,)) for i in range(args.editors)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    # every published upload must be found, and on another node than the one it was sent to
    others = [Client(port) for port in ports]
    lost = []
    for token, node in published:
        c = others[(node + 1) % len(ports)]
        status, data = c.request("GET", "/api/search?q=" + urllib.parse.quote(token))
        if status != 200 or json.loads(data)["total"] < 1:
            lost.append(token)
    q = statistics.quantiles(search_lat, n=100) if len(search_lat) > 1 else [0] * 99
    print(
        f"duration {elapsed:.1f} s, {args.searchers} searchers + {args.editors} editors "
        f"over {len(ports)} node(s) (ports {', '.join(map(str, ports))})"
    )
    print(
        f"requests {counts['requests']} → {counts['requests'] / elapsed:.1f} req/s; "
        f"errors {len(errors)}"
    )
    print(
        f"search latency p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms "
        f"({len(search_lat)} searches)"
    )
    if upload_lat:
        print(
            f"uploads published {len(published)}; upload+publish p50 "
            f"{statistics.median(upload_lat) * 1000:.0f} ms; lost (not searchable after"
            f"{' on the other node' if len(ports) > 1 else ''}) {len(lost)}"
        )
    for e in errors[:10]:
        print("  error:", e)
    return 1 if errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
