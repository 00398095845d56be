"""Q&A figures on the development set: documents and questions nobody tuned congvan for.

Run from the repository root:

    python evals/bench_devset.py [--devset ../shared/devset] [--data-dir DIR] [--json OUT]

The devset's ``docs/`` folder is ingested into an index of its own (a temporary data directory
unless ``--data-dir`` is given), with file names relative to the devset folder, so indexed files
are ``docs/<name>`` like the ``sources[].file`` of its ``qa.jsonl``. The questions then go
through the evaluator of ``congvan eval`` (``evals.format.load_items`` and
``evals.runner.run_eval`` over ``rag.assistant.Assistant``) and the overall metrics and a per-tag
table are printed; ``--json`` writes the full ``EvalResult`` plus the ingest outcomes.

Every run builds the index afresh, so a change to loading, parsing or chunking is measured (an
incremental ingest would keep files whose bytes did not change). The OCR cache is kept in a
reused ``--data-dir``: the two scans are read by Tesseract once (minutes), not on every run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DEVSET = ROOT.parent / "shared" / "devset"
# What a reused data directory may hold between runs: the OCR cache survives, the index does not.
_KEEP = {"ocr-cache", ".congvan.lock"}
# Written into a data directory this script created, so that it only ever empties its own.
_MARKER = ".congvan-bench-devset"

OVERALL: list[tuple[str, str]] = [
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("mrr@10", "MRR@10"),
    ("fact_recall", "fact recall"),
    ("citation_precision", "citation precision"),
    ("abstention_accuracy", "abstention accuracy (unanswerable)"),
    ("false_abstention_rate", "false abstentions (answerable)"),
    ("related_hit", "related hit (declined answerable)"),
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
]
TAG_COLUMNS: list[tuple[str, str]] = [("hit@5", "hit@5"), ("fact_recall", "fact recall")]


def prepare_data_dir(data_dir: Path) -> None:
    """Empty ``data_dir`` of everything but the OCR cache, creating it if needed.

    Refuses a non-empty folder this script did not create (it might be someone's real index).
    """
    if data_dir.exists() and any(data_dir.iterdir()) and not (data_dir / _MARKER).exists():
        raise SystemExit(f"{data_dir} is not empty and was not made by this script; "
                         "give an empty or new folder to --data-dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    for entry in data_dir.iterdir():
        if entry.name in _KEEP or entry.name == _MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (data_dir / _MARKER).write_text("made by evals/bench_devset.py: emptied on every run but ocr-cache\n")


def _fmt(value: float | int | None, *, latency: bool = False, width: int = 8) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}.1f}" if latency else f"{value:>{width}.3f}"


def format_figures(result: Any, outcomes: list[Any]) -> str:
    """Ingest outcomes in short, the overall metrics, then one row per tag (n, hit@5, fact recall)."""
    m = result.metrics
    ingested = sum(1 for o in outcomes if o.status == "ingested")
    lines = [f"ingest: {ingested} of {len(outcomes)} files, {sum(o.chunks for o in outcomes)} chunks"]
    for o in outcomes:
        if o.status == "failed":
            lines.append(f"  FAILED {o.file}: {o.reason}")
        for warning in o.warnings:
            lines.append(f"  warning {o.file}: {warning}")
    lines += ["", f"{m.get('questions')} questions ({m.get('answerable')} answerable, "
                  f"{m.get('unanswerable')} unanswerable), {len(result.failures)} failed, {m.get('errors')} errors", ""]
    for key, label in OVERALL:
        lines.append(f"  {label:<36}{_fmt(m.get(key), latency=key.startswith('latency'))}")
    width = max([len(t) for t in result.by_tag] + [3])
    lines += ["", f"  {'tag':<{width}} {'n':>4}" + "".join(f"{label:>13}" for _, label in TAG_COLUMNS)]
    for tag, tm in result.by_tag.items():
        cells = "".join(_fmt(tm.get(key), width=13) for key, _ in TAG_COLUMNS)
        lines.append(f"  {tag:<{width}} {tm.get('questions'):>4}{cells}")
    return "\n".join(lines)


def run(devset: Path, data_dir: Path, *, mode: str = "hybrid", quiet: bool = False) -> tuple[Any, list[Any], float]:
    """Ingest ``devset/docs`` into a fresh index in ``data_dir`` and evaluate ``devset/qa.jsonl``.

    Returns the ``EvalResult``, the ingest ``FileOutcome``s and the ingest seconds.
    """
    from evals.format import load_items
    from evals.runner import run_eval
    from ingest.index import Index
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings
    from rag.assistant import Assistant

    loaded = load_items(devset / "qa.jsonl")
    if loaded.errors:
        # The devset's format is the evaluator's: a bad row means one of the two changed.
        raise SystemExit("qa.jsonl rows the evaluator refuses:\n" + "\n".join(map(str, loaded.errors)))
    prepare_data_dir(data_dir)
    # Its own embedded index (never a configured server), file names relative to the devset.
    settings = Settings(data_dir=data_dir, files_root=devset.resolve(), qdrant_url=None)

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    def ocr_progress(done: int, total: int, key: str) -> None:
        say(f"OCR {key}: page {done} of {total}")

    def progress(done: int, total: int, key: str) -> None:
        if done == total or done % 100 == 0:
            say(f"embedded {done} of {total} chunks")

    def asked(done: int, total: int, record: Any) -> None:
        if done == total or done % 20 == 0:
            say(f"asked {done} of {total}")

    with Index.open(settings) as index:
        began = time.perf_counter()
        summary = ingest_paths(index, [devset / "docs"], progress=progress, ocr_progress=ocr_progress)
        ingest_s = time.perf_counter() - began
        say(f"ingested in {ingest_s:.0f} s")
        result = run_eval(Assistant(index), loaded.items, config_label=f"devset {mode}", mode=mode,
                          test_set=str(devset / "qa.jsonl"), progress=asked)
    return result, summary.outcomes, ingest_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET,
                        help=f"the devset folder (docs/, qa.jsonl; default {DEFAULT_DEVSET})")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the index and OCR cache live (default: a temporary folder, removed after); "
                             "a folder reused across runs keeps only its OCR cache")
    parser.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    parser.add_argument("--json", type=Path, help="write the eval result and ingest outcomes here")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()

    devset = args.devset
    if not (devset / "docs").is_dir() or not (devset / "qa.jsonl").is_file():
        raise SystemExit(f"{devset}: not a devset folder (docs/ and qa.jsonl expected)")
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="congvan-devset-")) if temporary else args.data_dir
    try:
        result, outcomes, ingest_s = run(devset, data_dir, mode=args.mode, quiet=args.quiet)
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(format_figures(result, outcomes))
    if args.json:
        payload = result.model_dump(mode="json")
        payload["ingest"] = {"seconds": round(ingest_s, 1), "outcomes": [o.model_dump(mode="json") for o in outcomes]}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"\nresult: {args.json}")


if __name__ == "__main__":
    main()
