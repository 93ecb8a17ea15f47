"""Topic suggestion accuracy on the labelled sample corpus.

    .venv/bin/python bench/topic_accuracy.py [--corpus corpus] [--no-loo]

Reads ``corpus/manifest.json`` (``{"documents": [{"path": "materials/…", "kind": …,
"topics": [slug, …]}]}``, paths relative to the corpus folder), extracts and structures every
labelled document, and reports, for

  (a) the keyword lexicon alone (all documents, and the test split),
  (b) lexicon + naive Bayes trained on the other documents: a deterministic split (every third
      document is a test document) and leave-one-out,

the share of documents whose first suggestion is one of its labelled topics (top-1) and whose
first two suggestions include one (any of top-2). Documents that cannot be read are counted and
listed, never fatal.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from indexer.ingest.classify import TopicModel, suggest, tokens  # noqa: E402
from library.taxonomy import Taxonomy  # noqa: E402


def load_documents(corpus: Path) -> tuple[list[dict], list[str]]:
    """(labelled documents with title and text, problems) from the manifest."""
    from indexer.ingest.extract import extract
    from indexer.ingest.structure import structure

    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    docs, problems = [], []
    for entry in manifest.get("documents", []):
        topics = [t for t in entry.get("topics", []) if t]
        path = corpus / entry["path"]
        if not topics:
            continue
        try:
            ex = extract(path.read_bytes(), path.name)
            st = structure(ex, kind=entry.get("kind") or None, filename=path.name)
        except Exception as exc:  # a bench reports and goes on
            problems.append(f"{entry['path']}: {type(exc).__name__}: {exc}")
            continue
        parts = [q.text for q in st.quotes] + [
            f"{p.question}\n{p.text}" if p.question else p.text for p in st.passages
        ]
        docs.append(
            {"path": entry["path"], "title": st.title, "text": "\n".join(parts), "topics": topics}
        )
    return docs, problems


def _hits(ranked: list[str], gold: list[str]) -> tuple[int, int]:
    return int(bool(ranked) and ranked[0] in gold), int(any(s in gold for s in ranked[:2]))


def _evaluate(docs: list[dict], tx: Taxonomy, model_for=None) -> tuple[float, float, float]:
    """(top-1, any of top-2, ms per document); ``model_for(i)`` gives the model for doc i."""
    top1 = top2 = 0
    t0 = time.perf_counter()
    for i, d in enumerate(docs):
        model = model_for(i) if model_for else None
        ranked = [s.slug for s in suggest(d["text"], tx, title=d["title"], k=2, model=model)]
        a, b = _hits(ranked, d["topics"])
        top1, top2 = top1 + a, top2 + b
    n = max(1, len(docs))
    return top1 / n, top2 / n, (time.perf_counter() - t0) * 1000 / n


def _model(counters: list[Counter], docs: list[dict], keep: list[int]) -> TopicModel:
    counts: dict[str, Counter] = {}
    ndocs: Counter = Counter()
    for i in keep:
        for slug in docs[i]["topics"]:
            counts.setdefault(slug, Counter()).update(counters[i])
            ndocs[slug] += 1
    return TopicModel({s: dict(c) for s, c in counts.items()}, dict(ndocs))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--no-loo", action="store_true", help="skip leave-one-out")
    ap.add_argument("-v", "--verbose", action="store_true", help="list lexicon top-1 misses")
    args = ap.parse_args(argv)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)

    if not (args.corpus / "manifest.json").is_file():
        print(f"没有找到 {args.corpus / 'manifest.json'}：请先生成样例素材库的清单。")
        return 2
    try:
        docs, problems = load_documents(args.corpus)
    except ImportError as exc:
        print(f"文本提取模块还不可用（{exc}），无法评测。")
        return 2
    tx = Taxonomy.default()
    print(f"labelled documents: {len(docs)}   unreadable: {len(problems)}")
    for p in problems:
        print("  !", p)
    if not docs:
        return 1
    print("label counts:", dict(Counter(s for d in docs for s in d["topics"]).most_common()))

    if args.verbose:
        for d in docs:
            got = [f"{s.slug}:{s.score:.2f}" for s in suggest(d["text"], tx, title=d["title"])]
            if not got or got[0].split(":")[0] not in d["topics"]:
                print(f"  miss {d['path']}: labelled {d['topics']}, suggested {got}")
    rows = []
    rows.append(("lexicon, all documents", len(docs)) + _evaluate(docs, tx))
    test = [i for i in range(len(docs)) if i % 3 == 2]
    train = [i for i in range(len(docs)) if i % 3 != 2]
    counters = [Counter(tokens(f"{d['title']}\n{d['text']}")) for d in docs]
    test_docs = [docs[i] for i in test]
    rows.append(("lexicon, test split (every 3rd)", len(test)) + _evaluate(test_docs, tx))
    split_model = _model(counters, docs, train)
    rows.append(
        ("lexicon + NB, test split", len(test)) + _evaluate(test_docs, tx, lambda i: split_model)
    )
    nb_only = _evaluate_nb_only(test_docs, split_model)
    rows.append(("NB alone, test split", len(test)) + nb_only)
    if not args.no_loo and len(docs) <= 500:
        everyone = list(range(len(docs)))
        rows.append(
            ("lexicon + NB, leave-one-out", len(docs))
            + _evaluate(docs, tx, lambda i: _model(counters, docs, [j for j in everyone if j != i]))
        )

    print()
    print(f"{'method':36} {'n':>4} {'top-1':>7} {'top-2':>7} {'ms/doc':>8}")
    for name, n, a, b, ms in rows:
        print(f"{name:36} {n:>4} {a:>7.1%} {b:>7.1%} {ms:>8.1f}")
    return 0


def _evaluate_nb_only(docs: list[dict], model: TopicModel) -> tuple[float, float, float]:
    top1 = top2 = 0
    t0 = time.perf_counter()
    for d in docs:
        proba = model.predict_proba(f"{d['title']}\n{d['text']}")
        ranked = [s for s, _ in sorted(proba.items(), key=lambda kv: -kv[1])]
        a, b = _hits(ranked, d["topics"])
        top1, top2 = top1 + a, top2 + b
    n = max(1, len(docs))
    return top1 / n, top2 / n, (time.perf_counter() - t0) * 1000 / n


if __name__ == "__main__":
    sys.exit(main())
