"""OCR benchmark: character error rate per scan condition, and pages per minute by parallelism.

Run from the repository root:  python evals/bench_ocr.py [--repeat 3] [--ablations] [--json OUT]

The scans are ``tests/fixtures/scans`` (made by ``evals/make_scans.py`` from the seed texts),
read exactly as ingestion reads them: PDF pages rendered by MuPDF at ``ocr_dpi`` (300), colour
through the red channel, Sauvola thresholding on grey or noisy paper. "harsh" is a worse copy
of the degraded page made in memory (no fixture). Character error rate is the Levenshtein
distance between OCR text and the text drawn on the page, over the length of the drawn text,
both with whitespace runs collapsed to one space. Speeds are medians over ``--repeat`` runs on
the clean, degraded and stamped pages (4 pages at 300 dpi) with the cache off:

* ``sequential, tesseract threads``: one page at a time, Tesseract's own OpenMP threads;
* ``sequential, 1 thread``: one page at a time, ``OMP_THREAD_LIMIT=1``;
* ``parallel N, 1 thread``: N pages at a time (``Ocr``'s pool, the product's setting).

``--ablations`` adds the choices the product makes, undone: the stamped page read in plain
grey (no red channel) and the degraded pages read with Tesseract's global Otsu threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANS = ROOT / "tests" / "fixtures" / "scans"
sys.path.insert(0, str(ROOT))

import pymupdf  # noqa: E402
from PIL import Image  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from ingest import ocr as ocr_module  # noqa: E402
from ingest.ocr import Ocr, ocr_page  # noqa: E402

DPI = 300


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate: edits to turn the OCR text into the reference, per reference character."""
    hyp, ref = (re.sub(r"\s+", " ", t).strip() for t in (hypothesis, reference))
    return Levenshtein.distance(hyp, ref) / max(1, len(ref))


def manifest() -> dict:
    return json.loads((SCANS / "manifest.json").read_text(encoding="utf-8"))


def render(name: str) -> list[Image.Image]:
    """The pages of a fixture as ingestion renders them (RGB, ``DPI``, resolution stated)."""
    path = SCANS / name
    if path.suffix != ".pdf":
        with Image.open(path) as image:
            return [image.convert("RGB")]
    pages = []
    with pymupdf.open(path) as document:
        for page in document:
            pixmap = page.get_pixmap(dpi=DPI)
            image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
            image.info["dpi"] = (DPI, DPI)
            pages.append(image)
    return pages


def harsh_page() -> tuple[Image.Image, str]:
    """Page 1 of seed 004, worse than the degraded fixture: greyer paper, more shadow and noise."""
    import io

    import numpy as np

    sys.path.insert(0, str(ROOT / "evals"))
    import make_scans

    lines = make_scans.source_lines((make_scans.CORPUS / make_scans.SEED_004).read_text(encoding="utf-8"))
    [(image, rows)] = make_scans.typeset(lines, 150, max_pages=1)
    page = make_scans.degrade(image, np.random.default_rng(7), ink=50, paper=230, shade=0.25, blur=1.0,
                              noise=20.0, skew_deg=1.5)
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=40)
    with Image.open(buffer) as jpeg:
        upscaled = jpeg.convert("L").resize((jpeg.width * 2, jpeg.height * 2), Image.Resampling.BILINEAR)
    return upscaled, make_scans.page_text(rows)


def cer_table(*, ablations: bool) -> list[dict]:
    rows = []
    for name, entry in manifest().items():
        began = time.perf_counter()
        pages = [ocr_page(image, dpi=DPI if name.endswith(".pdf") else None) for image in render(name)]
        seconds = time.perf_counter() - began
        rows.append({
            "scan": name, "condition": entry["condition"], "dpi": entry["dpi"], "pages": len(pages),
            "cer_pct": round(100 * cer("\n".join(p.text for p in pages), "\n".join(entry["pages"])), 2),
            "mean_confidence": round(statistics.mean(p.mean_confidence or 0 for p in pages), 1),
            "seconds": round(seconds, 1),
        })
    image, truth = harsh_page()
    began = time.perf_counter()
    page = ocr_page(image, dpi=DPI)
    rows.append({"scan": "harsh (in memory)", "condition": "harsh", "dpi": 150, "pages": 1,
                 "cer_pct": round(100 * cer(page.text, truth), 2), "mean_confidence": page.mean_confidence,
                 "seconds": round(time.perf_counter() - began, 1)})
    if ablations:
        rows.extend(_ablations(image, truth))
    return rows


def _ablations(harsh: Image.Image, harsh_truth: str) -> list[dict]:
    rows = []
    entries = manifest()
    [stamped] = render("stamp-300dpi.pdf")
    began = time.perf_counter()
    page = ocr_page(stamped.convert("L"), dpi=DPI)
    rows.append({"scan": "stamp-300dpi.pdf, grey instead of red channel", "condition": "stamp",
                 "cer_pct": round(100 * cer(page.text, entries["stamp-300dpi.pdf"]["pages"][0]), 2),
                 "mean_confidence": page.mean_confidence, "seconds": round(time.perf_counter() - began, 1)})
    clean_paper = ocr_module.clean_paper
    ocr_module.clean_paper = lambda image: True  # Tesseract's global Otsu threshold everywhere
    try:
        for label, image, truth in (
            ("degraded-150dpi.pdf", render("degraded-150dpi.pdf")[0], entries["degraded-150dpi.pdf"]["pages"][0]),
            ("harsh (in memory)", harsh, harsh_truth),
        ):
            began = time.perf_counter()
            try:
                page = ocr_page(image, dpi=DPI, timeout=180)
                error, confidence = round(100 * cer(page.text, truth), 2), page.mean_confidence
            except ocr_module.OcrFailed:
                error, confidence = None, None
            rows.append({"scan": f"{label}, global Otsu threshold", "condition": "ablation", "cer_pct": error,
                         "mean_confidence": confidence, "seconds": round(time.perf_counter() - began, 1)})
    finally:
        ocr_module.clean_paper = clean_paper
    return rows


def _pages_per_minute(images: list[Image.Image], *, workers: int, tesseract_threads: bool, repeat: int) -> float:
    """Median pages per minute of ``Ocr.recognise`` over ``images`` with the cache off."""
    env = ocr_module._TESSERACT_ENV
    if tesseract_threads:
        ocr_module._TESSERACT_ENV = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    rates = []
    try:
        for _ in range(repeat):
            with Ocr(cache_dir=None, workers=workers) as ocr:
                jobs = [(i, (lambda image=image: image)) for i, image in enumerate(images)]
                began = time.perf_counter()
                ocr.recognise("bench", "no-cache", jobs)
                rates.append(60 * len(images) / (time.perf_counter() - began))
    finally:
        ocr_module._TESSERACT_ENV = env
    return round(statistics.median(rates), 1)


def speeds(repeat: int) -> list[dict]:
    images = render("clean-300dpi.pdf") + render("degraded-150dpi.pdf") + render("stamp-300dpi.pdf")
    cores = ocr_module._cpu_count()
    rows = [
        {"mode": "sequential, tesseract threads", "workers": 1,
         "pages_per_minute": _pages_per_minute(images, workers=1, tesseract_threads=True, repeat=repeat)},
        {"mode": "sequential, 1 thread", "workers": 1,
         "pages_per_minute": _pages_per_minute(images, workers=1, tesseract_threads=False, repeat=repeat)},
    ]
    for workers in sorted({2, cores}):
        rows.append({"mode": f"parallel {workers}, 1 thread", "workers": workers,
                     "pages_per_minute": _pages_per_minute(images, workers=workers, tesseract_threads=False,
                                                           repeat=repeat)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ablations", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ocr_module.check_tesseract()
    result = {"cpu_count": ocr_module._cpu_count(), "load_average": os.getloadavg(),
              "cer": cer_table(ablations=args.ablations)}
    if not args.skip_speed:
        result["speed"] = speeds(args.repeat)
    print("| scan | condition | CER % | mean confidence | seconds |")
    print("|---|---|---|---|---|")
    for row in result["cer"]:
        print(f"| {row['scan']} | {row['condition']} | {row['cer_pct']} | {row['mean_confidence']} | {row['seconds']} |")
    for row in result.get("speed", []):
        print(f"{row['mode']:32s} {row['pages_per_minute']:6.1f} pages/min")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
