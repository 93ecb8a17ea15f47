"""Quote extraction accuracy on our gold set (tests/data/quote_gold/).

    .venv/bin/python bench/quote_accuracy.py [--gold DIR] [--errors]

Every gold document goes through the real ingest steps (sniff + extract → structure with the
annotated kind); its quote records are compared with ``gold.json``:

* a record is **correct** when its text has the text key (``indexer.ingest.pipeline.text_key``) of an
  annotated quotation of that document not matched yet, and its speaker and date equal the
  annotation's (a missing date must be missing);
* **precision** = correct / records, **recall** = correct / annotated quotations;
* per pattern: precision over the records the extractor made by that pattern (compilation items:
  ``source-first``), recall over the quotations annotated with it;
* quoted non-quotes: every other “…” in the extracted text; the report says how many became
  records (these count against precision already).

Targets (asserted by tests/test_quotes_attributed.py): precision ≥ 97 %, recall ≥ 90 %.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOLD = ROOT / "tests" / "data" / "quote_gold"
TARGET_PRECISION = 0.97
TARGET_RECALL = 0.90


@dataclass
class Stat:
    records: int = 0
    correct_records: int = 0
    gold: int = 0
    found: int = 0

    @property
    def precision(self) -> float:
        return self.correct_records / self.records if self.records else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0


@dataclass
class Report:
    overall: Stat = field(default_factory=Stat)
    patterns: dict[str, Stat] = field(default_factory=lambda: defaultdict(Stat))
    genres: dict[str, Stat] = field(default_factory=lambda: defaultdict(Stat))
    documents: int = 0
    non_quotes: int = 0
    non_quotes_taken: int = 0
    source_right: int = 0
    errors: list[str] = field(default_factory=list)


def genre(filename: str) -> str:
    """The material genre a gold file stands for, from its name (“05-script-…”)."""
    return filename.split("-")[1] if filename.count("-") >= 2 else "other"


def records(path: Path, kind: str) -> list[tuple[object, str]]:
    """(Quote, pattern) for every quote record the ingest steps make of one gold file."""
    from indexer.ingest.extract import extract
    from indexer.ingest.structure import structure
    from indexer.ingest.structure.attributed import quotes_in_passages

    ex = extract(path.read_bytes(), path.name)
    s = structure(ex, kind=kind, filename=path.name)
    if kind == "quotes":
        return [(q, "source-first") for q in s.quotes]
    patterns = [f.pattern for _, f in quotes_in_passages(s.passages)]
    assert len(patterns) == len(s.quotes)
    return list(zip(s.quotes, patterns))


def evaluate(gold_dir: Path = GOLD) -> Report:
    from indexer.ingest.pipeline import text_key

    gold = json.loads((gold_dir / "gold.json").read_text(encoding="utf-8"))
    rep = Report()
    for doc in gold["documents"]:
        rep.documents += 1
        path = gold_dir / doc["file"]
        g = genre(doc["file"])
        wanted = [dict(q, key=text_key(q["text"])) for q in doc["quotes"]]
        for q in wanted:
            rep.overall.gold += 1
            rep.patterns[q["pattern"]].gold += 1
            rep.genres[g].gold += 1
        non_keys = Counter(text_key(t) for t in doc["non_quotes"])
        rep.non_quotes += len(doc["non_quotes"])
        unmatched = list(wanted)
        for q, pattern in records(path, doc["kind"]):
            rep.overall.records += 1
            rep.patterns[pattern].records += 1
            rep.genres[g].records += 1
            key = text_key(q.text)
            match = next((w for w in unmatched if w["key"] == key), None)
            if match is None:
                if non_keys[key] > 0:
                    non_keys[key] -= 1
                    rep.non_quotes_taken += 1
                rep.errors.append(
                    f"{doc['file']}: 多出 [{pattern}] {q.text[:40]} ({q.speaker}, {q.date})"
                )
                continue
            unmatched.remove(match)
            if q.speaker == match["speaker"] and q.date == match["date"]:
                rep.overall.correct_records += 1
                rep.patterns[pattern].correct_records += 1
                rep.genres[g].correct_records += 1
                rep.overall.found += 1
                rep.patterns[match["pattern"]].found += 1
                rep.genres[g].found += 1
                rep.source_right += (q.source or None) == (match.get("source") or None)
            else:
                rep.errors.append(
                    f"{doc['file']}: 说话人或日期不对 [{pattern}] {q.text[:30]}：得到 "
                    f"({q.speaker}, {q.date})，应为 ({match['speaker']}, {match['date']})"
                )
        for w in unmatched:
            rep.errors.append(
                f"{doc['file']}: 漏掉 [{w['pattern']}] {w['text'][:40]} "
                f"({w['speaker']}, {w['date']})"
            )
    return rep


def _row(name: str, s: Stat) -> str:
    return (
        f"{name:<14} {s.records:>7} {s.gold:>6} {s.precision * 100:>9.1f}% {s.recall * 100:>7.1f}%"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=GOLD)
    ap.add_argument("--errors", action="store_true", help="list every miss and extra record")
    args = ap.parse_args(argv)
    rep = evaluate(args.gold)
    head = f"{'pattern':<14} {'records':>7} {'gold':>6} {'precision':>10} {'recall':>8}"
    print(
        f"quote gold set: {rep.documents} documents, {rep.overall.gold} attributed "
        f"quotations, {rep.non_quotes} quoted non-quotes"
    )
    print(head)
    for name in sorted(rep.patterns):
        print(_row(name, rep.patterns[name]))
    print("-" * len(head))
    print(_row("all", rep.overall))
    print()
    print(f"{'genre':<14} {'records':>7} {'gold':>6} {'precision':>10} {'recall':>8}")
    for name in sorted(rep.genres):
        print(_row(name, rep.genres[name]))
    print()
    print(f"quoted non-quotes made into records: {rep.non_quotes_taken} of {rep.non_quotes}")
    print(f"出处 as annotated on correct records: {rep.source_right} of {rep.overall.found}")
    ok = rep.overall.precision >= TARGET_PRECISION and rep.overall.recall >= TARGET_RECALL
    print(
        f"targets (precision ≥ {TARGET_PRECISION:.0%}, recall ≥ {TARGET_RECALL:.0%}): "
        f"{'met' if ok else 'NOT met'}"
    )
    if args.errors:
        print()
        print("\n".join(rep.errors))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
