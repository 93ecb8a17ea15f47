"""OCR candidates on generated pages of our own text: Han-character accuracy and seconds a page.

    .venv/bin/python bench/ocr_bench.py [--repeat 1]

Pages (tests/scans.py): the handout text in a serif (宋体-like, Noto Serif CJK) and a sans
(黑体-like) face, clean at 300 dpi, degraded at 200 dpi (blur 0.8, rotated 0.8°, 2 % speckle),
and a "phone photo" (150 dpi, rotated 2.5°, uneven lighting). Engines: rapidocr (our default),
tesseract --psm 6 and --psm 3 (Debian 5.3 + chi_sim) when installed. Everything in one run, so
the figures compare on this machine's current load.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import scans  # noqa: E402


def pages():
    serif, sans = scans.FONT_CANDIDATES[0], scans.FONT_CANDIDATES[1]
    out = {}
    for face, path in (("serif", serif), ("sans", sans)):
        if not Path(path).exists():
            continue
        scans.FONT_CANDIDATES.insert(0, path)
        clean = scans.render_page()
        scans.FONT_CANDIDATES.pop(0)
        out[f"{face} clean 300dpi"] = (clean, 300)
        out[f"{face} degraded 200dpi"] = (scans.degrade(clean, dpi=200), 200)
        photo = scans.degrade(clean, dpi=150, angle=2.5, blur=1.0, noise=0.01, seed=3)
        from PIL import Image, ImageChops

        # light falling off towards the bottom of the page (a photo taken under a desk lamp)
        shade = Image.linear_gradient("L").resize(photo.size).point(lambda v: 255 - v // 3)
        out[f"{face} photo 150dpi"] = (ImageChops.multiply(photo, shade), 150)
    return out


def run_rapidocr(img, dpi):
    from indexer.ingest.extract import ocr

    return ocr.engine("rapidocr").page(img, 1, dpi).text


def run_tesseract(psm):
    def run(img, dpi):
        with tempfile.NamedTemporaryFile(suffix=".png") as fh:
            img.save(fh, format="PNG", dpi=(dpi, dpi))
            fh.flush()
            out = subprocess.run(
                ["tesseract", fh.name, "-", "-l", "chi_sim", "--psm", psm],
                capture_output=True,
                text=True,
            ).stdout
        from indexer.ingest.extract.ocr import join_cjk

        return "\n".join(join_cjk(line) for line in out.splitlines())

    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    engines = {}
    try:
        from indexer.ingest.extract import ocr

        ocr.engine("rapidocr")
        engines["rapidocr 3 (default)"] = run_rapidocr
    except Exception as e:  # noqa: BLE001 — report and go on
        print("rapidocr unavailable:", e)
    if shutil.which("tesseract"):
        engines["tesseract 5.3 --psm 6"] = run_tesseract("6")
        engines["tesseract 5.3 --psm 3"] = run_tesseract("3")
    expected = "".join(scans.PAGE_TEXT)
    print(f"{len(scans.han_chars(expected))} Han characters a page\n")
    print(f"| page | {' | '.join(engines)} |")
    print("|---|" + "---|" * len(engines))
    for name, (img, dpi) in pages().items():
        cells = []
        for run in engines.values():
            times, acc = [], 0.0
            for _ in range(args.repeat):
                t = time.perf_counter()
                text = run(img, dpi)
                times.append(time.perf_counter() - t)
                acc = scans.accuracy(expected, text)
            cells.append(f"{acc:.1%} · {statistics.median(times):.1f} s")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
