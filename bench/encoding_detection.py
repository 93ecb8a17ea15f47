"""Encoding detection of undeclared text files: our decoder (indexer.ingest.extract._decode)
against charset-normalizer, in one run, on the same samples.

    .venv/bin/python bench/encoding_detection.py [--per-cell 40] [--seed 7] [--before FILE]

Samples: windows of 20, 100 and 1000 characters cut from the corpus's Chinese text files
(simplified Chinese, mixed with digits and Latin letters as real material is), encoded as
UTF-8, GB18030, GBK, UTF-16 (with BOM) and UTF-16-LE (without); the same windows in
traditional characters as Big5 (converted with hanziconv when it is importable:
``pip install --target /tmp/b7 hanziconv`` and ``PYTHONPATH=/tmp/b7``; without it the Big5
rows are left out); and Western European prose (French, German, Spanish, English with curly
quotes, dashes and €) as cp1252. A sample counts as right when the decoded text equals the
original exactly (GBK read as GB18030 is right: same text).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.ingest.extract import _decode  # noqa: E402

LATIN = [
    "Le « plan de relance » présenté hier prévoit 3 milliards d’euros pour les régions : "
    "écoles, hôpitaux, réseaux ferrés. « C’est un élan décisif », a déclaré la ministre — "
    "mais les élus réclament déjà davantage de moyens pour l’été prochain.",
    "Die Bürgerinnen und Bürger können ihre Anträge ab Montag über das Portal einreichen. "
    "Für Rückfragen stehen die Mitarbeiter des Bürgeramts zur Verfügung; die Gebühr beträgt "
    "12 €. „Wir wollen schneller werden“, sagte der Oberbürgermeister.",
    "El ayuntamiento aprobó ayer la reforma de la plaza mayor: más árboles, bancos nuevos y "
    "un carril para bicicletas. «Queremos una ciudad más amable», explicó la alcaldesa; las "
    "obras costarán 2,4 millones de euros y durarán año y medio.",
    "The council’s report – published on Tuesday – says the new bus lanes cut journey times "
    "by 14%. “It’s a good start,” said the transport officer, “but the money (€4.5m) has to "
    "last until 2027.” Residents can comment until 30 June.",
    "À Genève, la conférence a réuni des experts venus de vingt pays. Les débats ont porté "
    "sur l’énergie, la santé et l’éducation ; une déclaration commune sera publiée vendredi.",
    "Über 300 Schülerinnen nahmen am Wettbewerb teil. Die Jury lobte besonders die Beiträge "
    "zur Energiewende – „kreativ und gründlich“ – und vergab drei Preise à 500 €.",
]


def chinese_sources() -> list[str]:
    texts = []
    for p in sorted((ROOT / "corpus" / "materials").rglob("*")):
        if p.suffix not in (".txt", ".md"):
            continue
        try:
            t = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # the corpus has one GB18030 file on purpose
        t = re.sub(r"[ \t]+", " ", t.replace("\r\n", "\n"))
        t = re.sub(r"[#*>`|\[\]()_-]", "", t)  # markdown marks
        if len(_decode._CJK.findall(t)) > 0.5 * len(t):
            texts.append(t)
    return texts


def windows(texts: list[str], n: int, count: int, rng: random.Random) -> list[str]:
    out = []
    pool = [t for t in texts if len(t) > n]
    if not pool:  # long windows: join documents
        pool = ["\n".join(texts)]
    while len(out) < count:
        t = rng.choice(pool)
        i = rng.randrange(0, len(t) - n)
        out.append(t[i : i + n])
    return out


def load_before(path: str):
    """An older decoder to compare (e.g. ``git show fa2a27f:indexer/ingest/extract/_decode.py
    > /tmp/old_decode.py``; the hand-written one, before charset-normalizer)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("decode_before", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def before(data: bytes) -> str | None:
        try:
            return mod.decode(data)[0]
        except Exception:
            return None

    return before


def ours(data: bytes) -> str | None:
    """The decoder as it stands (hand-written steps, charset-normalizer among the Chinese
    legacy encodings)."""
    try:
        return _decode.decode(data)[0]
    except Exception:
        return None


def normalizer(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-cell", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--before", help="an older _decode.py to compare with")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    try:
        from hanziconv import HanziConv
    except ImportError:
        HanziConv = None
    approaches = {"ours": ours, "charset-normalizer": normalizer}
    if args.before:
        approaches["before"] = load_before(args.before)
    zh = chinese_sources()
    rows, totals = [], {a: [0, 0, 0.0] for a in approaches}
    for n in (20, 100, 1000):
        simp = windows(zh, n, args.per_cell, rng)
        cases = [(enc, simp) for enc in ("utf-8", "gb18030", "gbk", "utf-16", "utf-16-le")]
        if HanziConv is not None:  # characters Big5 lacks are left out
            trad = [
                "".join(c for c in HanziConv.toTraditional(t) if _encodable(c, "big5")) for t in zh
            ]
            cases.append(("big5", windows(trad, n, args.per_cell, rng)))
        latin_text = " ".join(LATIN * 3)
        lat = [
            latin_text[i : i + n]
            for i in (rng.randrange(0, len(latin_text) - n) for _ in range(args.per_cell))
        ]
        cases.append(("cp1252", lat))
        for enc, texts in cases:
            texts = [t for t in texts if _encodable(t, enc)]
            row = [n, enc, len(texts)]
            for name, fn in approaches.items():
                right, spent = 0, 0.0
                for t in texts:
                    data = t.encode(enc)
                    start = time.perf_counter()
                    got = fn(data)
                    spent += time.perf_counter() - start
                    right += got == t
                row.append((right, spent / max(len(texts), 1) * 1000))
                totals[name][0] += right
                totals[name][1] += len(texts)
                totals[name][2] += spent
            rows.append(row)
    names = list(approaches)
    print(
        f"{'chars':>5}  {'encoding':<9} {'n':>3}  "
        + "  ".join(f"{a + ' right':>24}  {'ms':>6}" for a in names)
    )
    for n, enc, count, *res in rows:
        print(
            f"{n:>5}  {enc:<9} {count:>3}  "
            + "  ".join(
                f"{f'{r}/{count} ({100 * r / max(count, 1):.0f}%)':>24}  {ms:6.2f}" for r, ms in res
            )
        )
    for name, (right, total, spent) in totals.items():
        print(
            f"{name}: {right}/{total} right ({100 * right / total:.1f}%), "
            f"{spent / total * 1000:.2f} ms per sample"
        )


def _encodable(text: str, enc: str) -> bool:
    try:
        text.encode(enc)
        return True
    except UnicodeEncodeError:
        return False


if __name__ == "__main__":
    main()
