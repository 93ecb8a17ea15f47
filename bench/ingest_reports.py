"""Bulk-ingest throughput on the 31 real government work reports (../shared/data/gov-reports-2025)
and PDF pages/s on the sample corpus's PDFs plus a generated 100-page handout.

    .venv/bin/python bench/ingest_reports.py [--repeat 3]

Prints files/s and MB/s of extracted text for one worker and for two worker processes (same
process, same files, a fresh library each run; medians over --repeat runs), and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from indexer.app.service import LibraryService  # noqa: E402
from indexer.ingest.extract import extract  # noqa: E402

REPORTS = ROOT.parent / "shared" / "data" / "gov-reports-2025"


def run_ingest(files: list[Path], workers: int) -> tuple[float, int, list]:
    with tempfile.TemporaryDirectory() as tmp:
        svc = LibraryService(Path(tmp) / "home")
        svc.home.settings["ingest_workers"] = workers
        t0 = time.perf_counter()
        results = svc.ingest([str(f) for f in files])
        dt = time.perf_counter() - t0
        chars = sum(
            sum(len(p["text"]) for p in svc.store.get_document(r.document_id)["passages"])
            for r in results
            if r.document_id
        )
        svc.close()
    return dt, chars, results


def pdf_pages(paths: list[Path]) -> tuple[int, float]:
    pages, t = 0, 0.0
    for p in paths:
        data = p.read_bytes()
        t0 = time.perf_counter()
        ex = extract(data, p.name)
        t += time.perf_counter() - t0
        pages += ex.pages or 0
    return pages, t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not REPORTS.is_dir():
        sys.exit(f"missing {REPORTS}")
    files = sorted(REPORTS.glob("*.docx"))
    print(f"{len(files)} reports, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB on disk")
    rows = {}
    for workers in (1, 2):
        runs = [run_ingest(files, workers) for _ in range(args.repeat)]
        dts = [r[0] for r in runs]
        chars = runs[0][1]
        bad = [r for r in runs[0][2] if r.status not in ("ok", "warning")]
        med = statistics.median(dts)
        mb = len(("字" * chars).encode("utf-8")) / 1e6
        rows[workers] = med
        print(
            f"workers={workers}: median {med:.2f} s over {args.repeat} runs "
            f"({min(dts):.2f}–{max(dts):.2f}); {len(files) / med:.2f} files/s; "
            f"{chars:,} chars = {mb:.2f} MB UTF-8 text → {mb / med:.2f} MB/s"
            + (f"; {len(bad)} not ok" if bad else "")
        )
    print(f"speed-up with two workers: {rows[1] / rows[2]:.2f}×")

    from builders import make_pdf

    pdfs = sorted((ROOT / "corpus" / "materials").rglob("*.pdf"))
    with tempfile.TemporaryDirectory() as tmp:
        line = (
            "新时代宣讲工作要贴近群众、贴近生活，用身边事讲清大道理，让党的创新理论飞入寻常百姓家。"
        )
        big = make_pdf(Path(tmp) / "handout100.pdf", [[line[:36], line[36:]] * 14] * 100)
        pages, t = pdf_pages(pdfs + [big])
    print(
        f"PDF extraction: {pages} pages in {t:.2f} s → {pages / t:.1f} pages/s "
        f"({len(pdfs)} corpus PDFs + a generated 100-page handout)"
    )


if __name__ == "__main__":
    main()
