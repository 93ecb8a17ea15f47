"""Search benchmark on the CCTV news corpus: our engine against the tutorial baseline.

    .venv/bin/python bench/cctv_bench.py [--limit-mb N] [--out DIR] [--skip-baseline]
                                         [--public-writer] [--backend postgres]
                                         [--database-url URL]

Reads ``../shared/bench/cctv-news`` (relative to the project root; passages = paragraphs),
builds both indexes in a child process each (peak memory = summed RSS of the child and its
workers, sampled from /proc), then runs four query classes against each: (a) 60 substrings of
2–4 CJK characters cut from the corpus (fixed seed), (b) 60 two-word queries, (c) 60 quoted
phrases, (d) 60 queries with a topic filter (records get a topic by hash of their id). Prints a
table and writes ``results.json`` into the output directory.

``--public-writer`` also builds our index with Whoosh's public ``IndexWriter`` API (the
``search_writer: "public"`` setting) on the same data in the same run ("ours-public"), queries
it the same way and prints the build-time ratio of the two writers.

``--backend postgres`` also builds and queries the PostgreSQL backend ("postgres") in the same
run, in the database of ``--database-url`` or else in a throwaway cluster started for the run
(tests/pgcluster.py) with ``--shared-buffers`` (default 1GB, as docs/DEPLOY.md advises). Its build CPU counts the server's processes too (the postmaster's tree
in /proc, reaped backends included); its index size is the tables' total relation size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "bench" / "cctv-news"
TOPICS = [
    "situation-policy",
    "new-zhaoqing",
    "cadre-capability",
    "rule-of-law",
    "party-history",
    "xi-thought",
    "rural-revitalization",
    "ecology",
    "national-defense",
    "traditional-culture",
]
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


def corpus_files(limit_mb: float | None) -> tuple[list[Path], int]:
    files, size = [], 0
    for p in sorted(CORPUS.glob("*.md")):
        n = p.stat().st_size
        if limit_mb and size + n > limit_mb * 1e6 and files:
            break
        files.append(p)
        size += n
    return files, size


def records(files: list[Path]):
    """One record per paragraph; the heading path is the current ## heading."""
    n = 0
    for doc_id, p in enumerate(files, 1):
        title, heading = p.stem, ""
        d = p.stem
        date = f"{d[:4]}-{d[4:6]}-{d[6:8]}"
        for line in p.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("# "):
                title = line[2:].strip()
                continue
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
                continue
            n += 1
            rid = f"p:{n}"
            yield {
                "id": rid,
                "kind": "passage",
                "text": line,
                "question": None,
                "heading": heading,
                "source": "",
                "speaker": "",
                "date": date,
                "year": int(d[:4]),
                "topics": [TOPICS[zlib.crc32(rid.encode()) % 10]],
                "audiences": [],
                "doc_kind": "script",
                "document_id": doc_id,
                "document_title": title,
                "filename": p.name,
                "page": None,
                "updated": float(doc_id),
                "seq": n,
            }


# ---------------------------------------------------------------------------------------------
# building (in a child process)


def build_ours(files, index_dir: Path, writer: str = "bulk") -> None:
    from indexer.search import open_engine
    from indexer.search.vocab import Vocabulary

    open_engine(index_dir, Vocabulary.load(None), writer=writer).rebuild(records(files), procs=2)


def build_postgres(files, url: str) -> None:
    from indexer.search import open_engine
    from indexer.search.vocab import Vocabulary

    e = open_engine(Path(tempfile.mkdtemp()) / "index", Vocabulary.load(None), database_url=url)
    e.rebuild(records(files), procs=2)
    e.close()


def _pg_server_cpu(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL server behind ``url`` (postmaster, its live
    children, and the children it reaped), when it runs on this machine."""
    import psycopg

    with psycopg.connect(url) as c:
        datadir = c.execute("SHOW data_directory").fetchone()[0]
    try:
        pid = int(Path(datadir, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")

    def stat(p):
        with open(f"/proc/{p}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()

    total = 0.0
    try:
        parts = stat(pid)
        total += sum(int(x) for x in parts[11:15]) / tick  # utime stime cutime cstime
    except OSError:
        return 0.0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parts = stat(d)
                if int(parts[1]) == pid:
                    total += (int(parts[11]) + int(parts[12])) / tick
            except (OSError, IndexError, ValueError):
                continue
    return total


def _pg_index_mb(url: str) -> float:
    import psycopg

    with psycopg.connect(url) as c:
        n = c.execute(
            "SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class "
            "WHERE relkind = 'r' AND relname LIKE 'search_%'"
        ).fetchone()[0]
    return int(n) / 1e6


def build_baseline(files, index_dir: Path) -> None:
    import logging

    import jieba
    from jieba.analyse import ChineseAnalyzer
    from whoosh import fields, index

    jieba.setLogLevel(logging.WARNING)
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        topic=fields.ID,
        content=fields.TEXT(stored=True, analyzer=ChineseAnalyzer()),
    )
    index_dir.mkdir(parents=True)
    ix = index.create_in(str(index_dir), schema)
    w = ix.writer()
    for r in records(files):
        w.add_document(id=r["id"], topic=r["topics"][0], content=r["text"])
    w.commit()


def _tree_rss(pid: int) -> int:
    """Summed RSS (bytes) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
            rss[int(d)] = int(parts[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def timed_build(engine: str, limit_mb, index_dir: Path, url: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--build-only", engine, "--out", str(index_dir)]
    if limit_mb:
        cmd += ["--limit-mb", str(limit_mb)]
    if url:
        cmd += ["--database-url", url]
    server_before = _pg_server_cpu(url) if url else 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.2)
    secs = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{engine} build failed")
    size = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server_cpu = 0.0
    if url:
        server_cpu = _pg_server_cpu(url) - server_before
        cpu += server_cpu
        size = _pg_index_mb(url) * 1e6
    # ru_maxrss (KiB) of RUSAGE_CHILDREN: the largest single process of the build tree
    return {
        "seconds": secs,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak / 1e6,
        "max_single_rss_mb": after.ru_maxrss / 1024,
        "index_mb": size / 1e6,
        "server_cpu_seconds": server_cpu,
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg()[0],
    }


# ---------------------------------------------------------------------------------------------
# queries


def make_queries(files, seed: int = 42) -> dict:
    import jieba

    rnd = random.Random(seed)
    paras = [r for r in records(files)]
    out = {"substring": [], "two_words": [], "phrase": [], "topic": []}
    while len(out["substring"]) < 60:
        r = rnd.choice(paras)
        t = r["text"]
        n = rnd.randint(2, 4)
        if len(t) <= n:
            continue
        i = rnd.randrange(len(t) - n)
        s = t[i : i + n]
        if _CJK.match(s):
            out["substring"].append((s, r["id"], None))
    while len(out["two_words"]) < 60:
        r = rnd.choice(paras)
        ws = [w for w in jieba.lcut(r["text"]) if len(w) >= 2 and _CJK.match(w)]
        if len(ws) >= 2:
            a, b = rnd.sample(ws, 2)
            out["two_words"].append((f"{a} {b}", r["id"], None))
    while len(out["phrase"]) < 60:
        r = rnd.choice(paras)
        t = r["text"]
        n = rnd.randint(4, 8)
        if len(t) <= n:
            continue
        i = rnd.randrange(len(t) - n)
        s = t[i : i + n]
        if _CJK.match(s):
            out["phrase"].append((f'"{s}"', r["id"], None))
    while len(out["topic"]) < 60:
        r = rnd.choice(paras)
        ws = [w for w in jieba.lcut(r["text"]) if len(w) >= 2 and _CJK.match(w)]
        if ws:
            out["topic"].append((rnd.choice(ws), r["id"], r["topics"][0]))
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def query_ours(index_dir: Path, queries: dict) -> dict:
    from indexer.search.vocab import Vocabulary
    from indexer.search.whoosh import searching
    from indexer.search.whoosh.index import SearchIndex

    ix = SearchIndex(index_dir, Vocabulary.load(None))
    ix.search("中国")  # open searcher, facet cache
    res = {}
    for cls, qs in queries.items():
        lat, found = [], 0
        for q, rid, topic in qs:
            t0 = time.perf_counter()
            ix.search(q, topic=topic, limit=10)
            lat.append((time.perf_counter() - t0) * 1000)
            if cls == "substring":  # outside the timing
                s = ix._search()
                plan = searching.build_plan(q, ix.vocab, ix.taxonomy)
                dn = s.document_number(id=rid)
                ok = dn in searching.candidates(plan, ix._snap().docsets)
                found += int(ok and searching.verify(plan, s.stored_fields(dn)["rec"]))
        res[cls] = {"p50_ms": statistics.median(lat), "p95_ms": pct(lat, 95), "max_ms": max(lat)}
        if cls == "substring":
            res[cls]["found"] = found
    ix.close()
    return res


def query_postgres(url: str, queries: dict) -> dict:
    from indexer.search import open_engine
    from indexer.search import plan as P
    from indexer.search.postgres import searching
    from indexer.search.postgres.schema import RECORDS, TEXTS
    from indexer.search.vocab import Vocabulary

    ix = open_engine(Path(tempfile.mkdtemp()) / "index", Vocabulary.load(None), database_url=url)
    ix.search("中国")  # connect, load jieba
    res = {}
    for cls, qs in queries.items():
        lat, found = [], 0
        for q, rid, topic in qs:
            t0 = time.perf_counter()
            ix.search(q, topic=topic, limit=10)
            lat.append((time.perf_counter() - t0) * 1000)
            if cls == "substring":  # outside the timing
                plan = P.build_plan(q, ix.vocab, ix.taxonomy)
                with ix._conn().cursor() as cur:
                    cur.execute(
                        f"SELECT r.docnum, t.rec FROM {RECORDS} r JOIN {TEXTS} t "
                        "ON t.docnum = r.docnum WHERE r.id = %s",
                        (rid,),
                    )
                    dn, rec = cur.fetchone()
                    ok = dn in set(searching.candidates(cur, plan) or ())
                found += int(ok and P.verify(plan, rec))
        res[cls] = {"p50_ms": statistics.median(lat), "p95_ms": pct(lat, 95), "max_ms": max(lat)}
        if cls == "substring":
            res[cls]["found"] = found
    ix.close()
    return res


def query_baseline(index_dir: Path, queries: dict) -> dict:
    from jieba.analyse import ChineseAnalyzer  # noqa: F401  (unpickling the schema)
    from whoosh import index
    from whoosh import query as wq
    from whoosh.qparser import QueryParser

    ix = index.open_dir(str(index_dir))
    s = ix.searcher()
    qp = QueryParser("content", ix.schema)
    s.search(qp.parse("中国"), limit=10)
    res = {}
    for cls, qs in queries.items():
        lat, found = [], 0
        for q, rid, topic in qs:
            t0 = time.perf_counter()
            pq = qp.parse(q)
            if topic:
                pq = wq.And([pq, wq.Term("topic", topic)])
            r = s.search(pq, limit=10)
            [h["id"] for h in r]
            lat.append((time.perf_counter() - t0) * 1000)
            if cls == "substring":
                dn = s.document_number(id=rid)
                found += int(dn in s.search(pq, limit=None).docs())
        res[cls] = {"p50_ms": statistics.median(lat), "p95_ms": pct(lat, 95), "max_ms": max(lat)}
        if cls == "substring":
            res[cls]["found"] = found
    s.close()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit-mb", type=float, default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument(
        "--public-writer",
        action="store_true",
        help="also build ours with Whoosh's public writer (search_writer=public)",
    )
    ap.add_argument(
        "--backend",
        choices=["whoosh", "postgres"],
        default="whoosh",
        help="postgres: also build and query the PostgreSQL backend in the same run",
    )
    ap.add_argument("--database-url", default=None, help="PostgreSQL database for --backend")
    ap.add_argument(
        "--shared-buffers",
        default="1GB",
        help="shared_buffers of the throwaway cluster (when no --database-url is given)",
    )
    ap.add_argument(
        "--build-only",
        choices=["ours", "ours-public", "baseline", "postgres"],
        help=argparse.SUPPRESS,
    )
    a = ap.parse_args(argv)
    if not CORPUS.is_dir():
        raise SystemExit(f"corpus not found: {CORPUS}")
    files, size = corpus_files(a.limit_mb)
    if a.build_only:
        if a.build_only == "baseline":
            build_baseline(files, Path(a.out))
        elif a.build_only == "postgres":
            build_postgres(files, a.database_url)
        else:
            build_ours(files, Path(a.out), "public" if a.build_only == "ours-public" else "bulk")
        return
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="cctv-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    mb = size / 1e6
    print(f"corpus: {len(files)} files, {mb:.1f} MB", flush=True)
    queries = make_queries(files)
    results = {"corpus_mb": mb, "files": len(files), "engines": {}}
    engines = (
        ["ours"]
        + (["ours-public"] if a.public_writer else [])
        + (["postgres"] if a.backend == "postgres" else [])
        + ([] if a.skip_baseline else ["baseline"])
    )
    url, cluster = a.database_url, None
    if a.backend == "postgres" and not url:
        sys.path.insert(0, str(ROOT / "tests"))
        from pgcluster import remove, start_cluster

        cluster, why = start_cluster()
        if cluster is None:
            raise SystemExit(f"no PostgreSQL server: {why}")
    try:
        if cluster is not None:
            _configure(cluster, a.shared_buffers)
            url = cluster.url_for(cluster.create_database().rsplit("/", 1)[1])
        _run_engines(a, engines, out, mb, queries, results, url)
    finally:
        if cluster is not None:
            remove(cluster)


def _configure(cluster, shared_buffers: str) -> None:
    """Give the throwaway cluster the memory docs/DEPLOY.md asks of a server (the default
    128 MB of shared_buffers holds less than the gram index and the records' heap), restart."""
    import psycopg

    with psycopg.connect(cluster.url, autocommit=True) as c:
        c.execute(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
    log = str(cluster.datadir.parent / "server.log")  # the server's output, not our pipes
    subprocess.run(
        cluster._cmd(
            "pg_ctl", "-D", str(cluster.datadir), "-l", log, "-w", "-m", "fast", "restart"
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    print(f"throwaway PostgreSQL cluster: shared_buffers = {shared_buffers}", flush=True)


def _run_engines(a, engines, out, mb, queries, results, url) -> None:
    for eng in engines:
        d = out / eng
        if d.exists():
            shutil.rmtree(d)
        if eng == "postgres":
            d.mkdir(parents=True)  # nothing on disk: the index lives in the database
        b = timed_build(eng, a.limit_mb, d, url if eng == "postgres" else None)
        b["mb_per_s"] = mb / b["seconds"]
        b["mb_per_cpu_s"] = mb / b["cpu_seconds"] if b["cpu_seconds"] else None
        print(
            f"{eng}: built in {b['seconds']:.1f} s = {b['mb_per_s']:.2f} MB/s wall, "
            f"{b['cpu_seconds']:.0f} CPU s = {b['mb_per_cpu_s']:.3f} MB per CPU-s, "
            f"index {b['index_mb']:.0f} MB, peak RSS {b['peak_rss_mb']:.0f} MB "
            f"(load avg {b['load_avg_before']:.1f} before, {b['load_avg_after']:.1f} after)",
            flush=True,
        )
        load_q = os.getloadavg()[0]
        if eng == "postgres":
            q = query_postgres(url, queries)
        else:
            q = (query_baseline if eng == "baseline" else query_ours)(d, queries)
        q["load_avg"] = {"before": load_q, "after": os.getloadavg()[0]}
        print(
            f"  queries (load avg {load_q:.1f} before, {q['load_avg']['after']:.1f} after)",
            flush=True,
        )
        for cls, v in q.items():
            if cls == "load_avg":
                continue
            extra = f"  found {v['found']}/60" if "found" in v else ""
            print(
                f"  {cls:10s} p50 {v['p50_ms']:7.1f} ms  p95 {v['p95_ms']:7.1f} ms  "
                f"max {v['max_ms']:7.1f} ms{extra}",
                flush=True,
            )
        results["engines"][eng] = {"build": b, "queries": q}
    if "ours-public" in results["engines"]:
        bulk, public = (results["engines"][e]["build"] for e in ("ours", "ours-public"))
        results["public_writer_time_ratio"] = public["seconds"] / bulk["seconds"]
        results["public_writer_cpu_ratio"] = public["cpu_seconds"] / bulk["cpu_seconds"]
        print(
            f"build time public/bulk writer: {results['public_writer_time_ratio']:.2f}x wall, "
            f"{results['public_writer_cpu_ratio']:.2f}x CPU"
        )
    if "baseline" in results["engines"]:
        ratio = (
            results["engines"]["ours"]["build"]["mb_per_s"]
            / results["engines"]["baseline"]["build"]["mb_per_s"]
        )
        results["throughput_ratio"] = ratio
        cpu_ratio = (
            results["engines"]["ours"]["build"]["mb_per_cpu_s"]
            / results["engines"]["baseline"]["build"]["mb_per_cpu_s"]
        )
        results["cpu_throughput_ratio"] = cpu_ratio
        print(f"throughput ours/baseline: {ratio:.2f}x wall, {cpu_ratio:.2f}x per CPU-second")
    if "postgres" in results["engines"]:
        pg, ours = (results["engines"][e]["build"] for e in ("postgres", "ours"))
        results["postgres_throughput_ratio"] = pg["mb_per_s"] / ours["mb_per_s"]
        results["postgres_cpu_throughput_ratio"] = pg["mb_per_cpu_s"] / ours["mb_per_cpu_s"]
        print(
            f"throughput postgres/whoosh: {results['postgres_throughput_ratio']:.2f}x wall, "
            f"{results['postgres_cpu_throughput_ratio']:.2f}x per CPU-second"
        )
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"results: {out / 'results.json'}")


if __name__ == "__main__":
    main()
