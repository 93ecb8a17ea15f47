"""Crash consistency: kill -9 ingest, reindex and pack import at random moments, then check.

    .venv/bin/python bench/crash_kill.py [--kills 50] [--seed 1] [--ops ingest,reindex,import]

For each operation: time one uninterrupted run, then repeatedly start it in a fresh process
group, SIGKILL the whole group (workers included) after a random delay within that time, and
open the library again. After every kill we record whether `check` was clean at once, whether
`check --repair` made it clean, and whether any document was half-stored (a document without a
valid version, a version without its original file, passages of a version that is not stored).
Between kills the library keeps what earlier (killed) runs stored, like a real one would.
Prints a table; exits 1 if any kill left a library that repair could not mend.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.app.service import LibraryService  # noqa: E402

CLI = [sys.executable, "-m", "cli.main"]


def half_stored(home: Path) -> list[str]:
    """Store-level evidence of a half-written document (independent of our own check)."""
    con = sqlite3.connect(home / "library.sqlite3")
    bad = []
    if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'documents'").fetchone():
        con.close()  # killed before the schema's transaction committed: nothing stored
        return bad
    for did, title in con.execute(
        "SELECT id, title FROM documents WHERE current_version_id IS NULL OR "
        "current_version_id NOT IN (SELECT id FROM versions)"
    ):
        bad.append(f"document {did} {title} has no version")
    for vid, sha in con.execute("SELECT id, sha256 FROM versions"):
        if not (home / "originals" / sha[:2] / sha).is_file():
            bad.append(f"version {vid} lacks its original")
    n = con.execute(
        "SELECT COUNT(*) FROM passages WHERE version_id NOT IN (SELECT id FROM versions)"
    ).fetchone()[0]
    if n:
        bad.append(f"{n} orphan passages")
    con.close()
    return bad


def run_cli(home: Path, args: list[str], env) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        CLI + ["--home", str(home)] + args,
        cwd=ROOT,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def kill_after(home: Path, args: list[str], delay: float, env) -> int | None:
    p = subprocess.Popen(
        CLI + ["--home", str(home)] + args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return p.wait(timeout=delay)  # finished before the kill
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return None


def verdict(home: Path) -> tuple[bool, bool, list[str]]:
    """(clean at once, clean after repair, half-stored evidence)"""
    if not (home / "library.sqlite3").exists():
        return True, True, []  # killed before anything was written
    half = half_stored(home)
    svc = LibraryService(home)
    try:
        problems = svc.check()
        repaired = True
        if problems:
            svc.check(repair=True)
            repaired = svc.check() == []
    finally:
        svc.close()
    return not problems, repaired, half


def make_inputs(tmp: Path, n_batches: int) -> list[Path]:
    """Batches of distinct files: the corpus, each copy made unique by a trailing line."""
    src = sorted((ROOT / "corpus" / "materials").rglob("*.txt")) + sorted(
        (ROOT / "corpus" / "materials").rglob("*.md")
    )
    batches = []
    for b in range(n_batches):
        d = tmp / f"batch{b}"
        d.mkdir(parents=True)
        for f in src:
            (d / f"{b}-{f.name}").write_bytes(f.read_bytes() + f"\n第{b}批副本。\n".encode())
        for f in sorted((ROOT / "corpus" / "materials").rglob("*.docx"))[:4]:
            shutil.copy(f, d / f"{b}-{f.name}")  # identical across batches: duplicates
        batches.append(d)
    return batches


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=50, help="kills per operation")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ops", default="ingest,reindex,import")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rows = []
    failed = False
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        batches = make_inputs(tmp / "in", args.kills + 1)
        home = tmp / "home"
        base = run_cli(home, ["ingest", str(batches[0])], env)
        pack = tmp / "pack.zip"
        run_cli(home, ["export", "--topic", "乡村振兴", "-o", str(pack)], env)
        for op in args.ops.split(","):
            if op == "ingest":
                full = base
                argv = lambda i: ["ingest", str(batches[1 + i % args.kills])]  # noqa: E731
            elif op == "reindex":
                full = run_cli(home, ["reindex"], env)
                argv = lambda i: ["reindex"]  # noqa: E731
            elif op == "import":
                target = tmp / "import-home"
                full = run_cli(target, ["import", str(pack)], env)
                shutil.rmtree(target)
                argv = lambda i: ["import", str(pack)]  # noqa: E731
            else:
                continue
            where = tmp / "import-home" if op == "import" else home
            clean = repaired = finished = 0
            half_total = []
            t0 = time.perf_counter()
            for i in range(args.kills):
                if op == "import" and i % 5 == 0 and where.exists():
                    shutil.rmtree(where)  # start some imports from an empty library
                delay = rng.uniform(0.05, max(0.1, full * 0.9))
                if kill_after(where, argv(i), delay, env) is not None:
                    finished += 1
                ok, rep, half = verdict(where)
                clean += ok
                repaired += rep
                half_total += half
                if not rep or half:
                    failed = True
                    print(f"  {op} kill {i} at {delay:.2f}s: repaired={rep} half={half}")
            rows.append(
                (
                    op,
                    args.kills,
                    finished,
                    full,
                    clean,
                    repaired,
                    len(half_total),
                    time.perf_counter() - t0,
                )
            )
            print(
                f"{op}: {args.kills} kills, {finished} finished first, {clean} clean at once, "
                f"{repaired} clean after repair, {len(half_total)} half-stored",
                flush=True,
            )
    print(
        f"{'operation':10} {'kills':>5} {'finished':>8} {'run s':>6} {'clean':>6} "
        f"{'repaired':>8} {'half':>5} {'total s':>8}"
    )
    for op, k, fin, full, clean, rep, half, dt in rows:
        print(f"{op:10} {k:5d} {fin:8d} {full:6.1f} {clean:6d} {rep:8d} {half:5d} {dt:8.1f}")
    print(
        "'finished': runs that ended before their kill; 'clean': check passed at once; "
        "'repaired': clean after check --repair; 'half': half-stored documents found"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
