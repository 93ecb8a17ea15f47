"""Attack under load (issue 11): while 20 clients send worst-case queries and 4 editors upload
hostile files at once, does a speaker's simple search on another connection still answer, and
do static files?

    .venv/bin/python bench/attack.py [--seconds 60] [--attackers 20] [--port 5098]
                                     [--processes P] [--threads T] [--label TEXT]

Builds the sample library from corpus/ in a temp folder, starts `lecturelib serve` (its default
processes unless --processes is given), then for --seconds runs:

* 20 attackers: GET /api/search with the 100 commonest characters of the library separated by
  spaces (199 characters), or 100 random common characters without spaces, back to back;
* 4 editors: each uploads one hostile file (a PDF whose /Length references go round in a
  circle, a .docx holding 60 MB of document.xml under 200:1, a 700 MB zip bomb, a text with
  control characters), and reports how long the answer took and what it said;
* one speaker: GET /api/search?q=绿水青山 every 0.2 s; one reader: GET /static/style.css.

Prints p50/p95 of the speaker's searches and the static file, the peak summed RSS of the
server's process tree, and each hostile upload's answer time and message. Traffic goes to
127.0.0.1 only; every loop stops by itself.
"""

from __future__ import annotations

import argparse
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
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from load import CLI, PASSWORD, Client, form, multipart, wait_port  # noqa: E402


def hostile_files(tmp: Path) -> list[tuple[str, bytes]]:
    from builders import cyclic_pdf, ratio_tuned_docx, zip_bomb_docx

    return [
        ("循环引用.pdf", cyclic_pdf(2)),
        ("压缩比调校.docx", ratio_tuned_docx(tmp / "r.docx", member_mb=60).read_bytes()),
        ("压缩炸弹.docx", zip_bomb_docx(tmp / "b.docx", member_mb=700).read_bytes()),
        (
            "控制字符.txt",
            "讲稿\x01标题\n正文\x0b里有\x1b控制字符，宣讲员照样能用。\n".encode() * 50,
        ),
    ]


def tree_rss(pid: int) -> int:
    """Summed RSS (bytes) of a process and all its descendants."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            pass
    return total


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def common_chars(port: int) -> list[str]:
    c = Client(port)
    text = ""
    for q in ("的", "是", "在", "人民", "发展", "村"):
        _, data = c.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q, "limit": 100}))
        text += "".join(h["text"] for h in json.loads(data)["hits"])
    counts = Counter(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
    return [ch for ch, _ in counts.most_common(100)]


def run(args, port: int, server) -> None:
    chars = common_chars(port)
    stop = threading.Event()
    simple, static, attack_n, errors = [], [], [0], []
    uploads: list[tuple[str, float, str]] = []
    peak = [0]
    lock = threading.Lock()

    def attacker(n: int):
        rng = random.Random(n)
        c = Client(port)
        while not stop.is_set():
            if rng.random() < 0.5:
                q = " ".join(chars)
            else:
                q = "".join(rng.choice(chars) for _ in range(100))
            try:
                c.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q}))
                with lock:
                    attack_n[0] += 1
            except Exception as e:
                errors.append(f"attack: {e}")

    def timed(path: str, out: list, pause: float):
        c = Client(port)
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                status, _ = c.request("GET", path)
                if status != 200:
                    errors.append(f"{path}: {status}")
            except Exception as e:
                errors.append(f"{path}: {e}")
            out.append(time.perf_counter() - t0)
            time.sleep(pause)

    def editor(n: int, name: str, data: bytes):
        c = Client(port)
        _, page = c.request("GET", "/login")
        tok = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        body, ctype = form({"name": f"editor{n}", "password": PASSWORD, "csrf_token": tok})
        c.request("POST", "/login", body, {"Content-Type": ctype})
        _, page = c.request("GET", "/editor/upload")
        tok = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        body, ctype = multipart({"csrf_token": tok}, [("files", name, data)])
        t0 = time.perf_counter()
        try:
            status, out = c.request(
                "POST", "/editor/upload", body, {"Content-Type": ctype, "X-Requested-With": "fetch"}
            )
            try:
                res = json.loads(out)["results"][0]
                msg = f"{res.get('status')}: {res.get('message') or ''}"
            except Exception:
                msg = f"HTTP {status}: {out[:120]!r}"
        except Exception as e:
            msg = f"error: {e}"
        uploads.append((name, time.perf_counter() - t0, msg))

    def sampler():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(server.pid))
            time.sleep(0.2)

    with tempfile.TemporaryDirectory() as tmp:
        files = hostile_files(Path(tmp))
    threads = [
        threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(args.attackers)
    ]
    threads += [
        threading.Thread(
            target=timed,
            args=("/api/search?q=%E7%BB%BF%E6%B0%B4%E9%9D%92%E5%B1%B1", simple, 0.2),
            daemon=True,
        ),
        threading.Thread(target=timed, args=("/static/style.css", static, 0.2), daemon=True),
        threading.Thread(target=sampler, daemon=True),
    ]
    editors = [
        threading.Thread(target=editor, args=(i, name, data), daemon=True)
        for i, (name, data) in enumerate(files)
    ]
    t_start = time.time()
    for t in threads:
        t.start()
    time.sleep(2)
    for t in editors:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in editors:
        t.join(max(1.0, 120 - (time.time() - t_start)))
    for t in threads:
        t.join(10)
    print(
        f"{args.label}: {args.seconds:.0f} s, {args.attackers} attackers sent "
        f"{attack_n[0]} worst-case queries ({attack_n[0] / args.seconds:.1f}/s)"
    )
    print(
        f"  simple search  n={len(simple):4d}  p50 {statistics.median(simple) * 1000:7.0f} ms"
        f"  p95 {pct(simple, 95) * 1000:7.0f} ms  max {max(simple) * 1000:7.0f} ms"
    )
    print(
        f"  static file    n={len(static):4d}  p50 {statistics.median(static) * 1000:7.0f} ms"
        f"  p95 {pct(static, 95) * 1000:7.0f} ms  max {max(static) * 1000:7.0f} ms"
    )
    print(f"  peak RSS of the server's process tree: {peak[0] / 1024 / 1024:.0f} MB")
    for name, secs, msg in uploads:
        print(f"  upload {name}: answered in {secs:.1f} s — {msg[:110]}")
    missing = len(files) - len(uploads)
    if missing:
        print(f"  {missing} hostile upload(s) not answered within the run")
    print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--attackers", type=int, default=20)
    ap.add_argument("--port", type=int, default=5098)
    ap.add_argument("--processes", type=int, default=None)
    ap.add_argument("--threads", type=int, default=16, help="threads per server process")
    ap.add_argument("--label", default="this commit")
    args = ap.parse_args(argv)
    env = dict(os.environ, LECTURELIB_PASSWORD=PASSWORD)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        subprocess.run(
            CLI + ["--home", str(home), "ingest", str(ROOT / "corpus" / "materials"), "-q"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for i in range(4):
            subprocess.run(
                CLI + ["--home", str(home), "user", "add", f"editor{i}"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        cmd = CLI + [
            "--home",
            str(home),
            "serve",
            "--port",
            str(args.port),
            "--workers",
            str(args.threads),
        ]
        if args.processes:
            cmd += ["--processes", str(args.processes)]
        server = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_port(args.port, server)
            run(args, args.port, server)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
