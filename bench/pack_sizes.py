"""Topic-pack size and export/import time: the largest topic of the sample corpus, and a topic
of about 1,000+ passages (the 31 government reports of ../shared/data, ingested under one topic).

    .venv/bin/python bench/pack_sizes.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.app.export import export_topic  # noqa: E402
from indexer.app.packimport import import_pack  # noqa: E402
from indexer.app.service import LibraryService  # noqa: E402

REPORTS = ROOT.parent / "shared" / "data" / "gov-reports-2025"


def measure(svc: LibraryService, topic: str, tmp: Path, label: str) -> None:
    svc.sync()
    out = tmp / f"{label}.zip"
    rep = export_topic(svc, topic, out)
    target = LibraryService(tmp / f"{label}-target")
    t0 = time.perf_counter()
    imp = import_pack(target, out)
    t_import = time.perf_counter() - t0
    target.close()
    print(
        f"{label}: topic {rep.topic}: {rep.documents} documents, {rep.quotes} quotes, "
        f"{rep.passages} passages → pack {rep.bytes / 1e6:.2f} MB; export {rep.seconds:.1f} s; "
        f"import into an empty library {t_import:.1f} s (incl. indexing; "
        f"{len(imp.added)} added)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        svc = LibraryService(tmp / "corpus")
        svc.ingest([ROOT / "corpus" / "materials"])
        counts = Counter(t for d in svc.store.list_documents() for t in d["topics"][:1])
        largest = counts.most_common(1)[0][0]
        measure(svc, largest, tmp, "sample-largest")
        svc.close()
        if REPORTS.is_dir():
            svc = LibraryService(tmp / "reports")
            svc.ingest(sorted(REPORTS.glob("*.docx")), topics=["形势政策教育"])
            measure(svc, "形势政策教育", tmp, "reports")
            svc.close()
        else:
            print(f"skipped the 1,000-passage topic: {REPORTS} not found")


if __name__ == "__main__":
    main()
