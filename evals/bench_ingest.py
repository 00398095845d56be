"""Ingest benchmark: cold ingest, unchanged re-ingest, dense embedding speed, peak memory.

Run from the repository root:  python evals/bench_ingest.py [--repeat 3] [--json OUT]

Each ingest is a fresh ``congvan ingest`` process, as a user runs it, so model loading and
start-up count. Figures are medians over ``--repeat`` runs (these machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed_ingest(data_dir: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one ``congvan ingest`` process over ``corpus/``."""
    cmd = [sys.executable, "-m", "rag.cli", "ingest", "--quiet", "--json", "--data-dir", str(data_dir)]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest failed:\n{out.decode()}\n{err.decode()}")
    return seconds, usage.ru_maxrss / 1024


def _embedding_rate(repeat: int) -> tuple[float, int]:
    """Chunks per second of dense embedding over the corpus chunks (model already loaded)."""
    sys.path.insert(0, str(ROOT))
    from ingest.embeddings import load_embedder
    from ingest.loaders import discover, load_file
    from ingest.index import file_key
    from ingest.pipeline import dense_text, parse_file
    from ingest.settings import Settings

    settings = Settings()
    files, _ = discover([ROOT / "corpus"])
    chunks = []
    for path in files:
        loaded = load_file(path, key=file_key(path, ROOT), max_bytes=1 << 30)
        chunks += parse_file(loaded, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)[1]
    texts = [dense_text(c) for c in chunks]
    embedder = load_embedder(settings)
    embedder.embed_passages(texts[:2])  # warm-up
    rates = []
    for _ in range(repeat):
        began = time.perf_counter()
        for i in range(0, len(texts), settings.embed_batch_size):
            embedder.embed_passages(texts[i:i + settings.embed_batch_size])
        rates.append(len(texts) / (time.perf_counter() - began))
    return statistics.median(rates), len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    cold, warm, peaks = [], [], []
    for _ in range(args.repeat):
        data_dir = Path(tempfile.mkdtemp(prefix="congvan-bench-"))
        try:
            seconds, peak = _timed_ingest(data_dir)
            cold.append(seconds)
            peaks.append(peak)
            seconds, peak = _timed_ingest(data_dir)
            warm.append(seconds)
            peaks.append(peak)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    rate, n_chunks = _embedding_rate(args.repeat)
    figures = {
        "cold_ingest_s": round(statistics.median(cold), 2),
        "unchanged_reingest_s": round(statistics.median(warm), 2),
        "dense_chunks_per_s": round(rate, 1),
        "chunks": n_chunks,
        "peak_rss_mib": round(max(peaks), 1),
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
