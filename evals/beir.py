"""Retrieval benchmark on a BEIR folder with congvan's own retrieval stack.

The passages (title + text) go into a throw-away index (a Qdrant Edge shard in a temporary
folder, never the main index), one document and one chunk point per passage, written through
``ingest.schema`` like ingested files: dense vectors from the configured embedder
(``embed_passages`` in batches), sparse vectors from ``encode_document`` (BM25 over folded
syllables and bigrams, with the corpus's own average length). Each mode then runs every query
through ``Retriever.search``, so the fusion policy measured is the retriever's own (query
normalisation, prefetch, fusion, weights; a reranker too when ``CONGVAN_RERANK_MODEL`` is set),
and is scored with R@1/5/10, MRR@10 and nDCG@10.

Memory is the process's peak resident set size from ``resource.getrusage`` (``ru_maxrss``):
it covers native memory (the embedding engine, Qdrant Edge), which ``tracemalloc`` cannot see,
and it is a high-water mark for the whole process, model included.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.format import BeirSet, read_beir
from evals.metrics import beir_scores, percentile
from evals.runner import git_state, settings_snapshot
from ingest.index import Index, point_record
from ingest.models import Chunk, Document
from ingest.schema import ChunkPoint, DocumentPoint
from ingest.sparse import encode_document, tokenize
from ingest.store import EdgeStore
from ingest.text.normalize import canonical_tones, clean_spacing, display_text
from rag.retrieve import Retriever

if TYPE_CHECKING:
    from ingest.embeddings import Embedder
    from ingest.settings import Settings

MODES = ("sparse", "dense", "hybrid")
_UPSERT_BATCH = 256

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stage is 'embed' or a search mode."""


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _dense_form(text: str) -> str:
    """The normalisation the retriever applies before embedding (and ``dense_text`` at ingest)."""
    return clean_spacing(canonical_tones(display_text(text)))


def bench_beir(
    folder: Path | str,
    settings: Settings,
    *,
    modes: Sequence[str] = MODES,
    limit: int | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Index a BEIR folder into a temporary shard and score every mode; returns a JSON-able dict.

    ``limit`` keeps the first N judged queries (the whole corpus is still indexed).
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f"unknown mode(s) {unknown}; choose from {', '.join(MODES)}")
    data = read_beir(folder)
    query_ids = list(data.queries)[: limit or None]
    needs_dense = any(m != "sparse" for m in modes)

    began = time.perf_counter()
    if needs_dense and embedder is None:
        from ingest.embeddings import load_embedder

        embedder = load_embedder(settings)
    model_seconds = time.perf_counter() - began
    rss_before = peak_rss_mib()

    with tempfile.TemporaryDirectory(prefix="congvan-beir-") as tmp:
        dim = embedder.dim if embedder is not None else 1
        index = Index(settings, EdgeStore(Path(tmp) / "shard", dim), embedder or _NoEmbedder(dim),
                      files_root=Path(tmp))
        try:
            index_stats = _index(index, data, settings, embedder if needs_dense else None, progress)
            rss_indexed = peak_rss_mib()
            retriever = Retriever(index)
            results = {}
            for mode in modes:
                results[mode] = _run_mode(retriever, data, query_ids, mode, progress)
                results[mode]["peak_rss_mib"] = round(peak_rss_mib(), 1)
        finally:
            index.close()

    commit, dirty = git_state()
    return {
        "benchmark": str(folder),
        "timestamp": _now(),
        "git_commit": commit,
        "git_dirty": dirty,
        "embed_model": embedder.name if embedder is not None else None,
        "corpus_size": len(data.corpus),
        "queries": len(query_ids),
        "index": index_stats | {"model_load_s": round(model_seconds, 2)},
        "memory": {
            "how": "resource.getrusage(RUSAGE_SELF).ru_maxrss: peak resident set of the whole process "
                   "(Python, embedding engine, Qdrant Edge), a high-water mark",
            "peak_rss_before_index_mib": round(rss_before, 1),
            "peak_rss_after_index_mib": round(rss_indexed, 1),
            "peak_rss_end_mib": round(peak_rss_mib(), 1),
        },
        "modes": results,
        "settings": {k: v for k, v in settings_snapshot(settings).items()
                     if k.startswith(("bm25_k1", "bm25_b", "embed_", "prefetch", "rrf", "dense_", "sparse_", "unaccented"))},
    }


class _NoEmbedder:
    """Stands in for the model in a sparse-only run, which never embeds: the index's manifest
    needs a name and a size, and loading a model only for them would cost seconds and memory."""

    name = "none"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def embed_passages(self, texts: list[str]) -> Any:
        raise RuntimeError("a sparse-only benchmark run has no embedding model")

    def embed_query(self, text: str) -> Any:
        raise RuntimeError("a sparse-only benchmark run has no embedding model")

    def token_count(self, text: str) -> int:
        raise RuntimeError("a sparse-only benchmark run has no embedding model")


def _passage(doc_id: str, text: str) -> tuple[Document, Chunk]:
    """A BEIR passage as a one-chunk document, so it is stored and retrieved like ingested text."""
    doc = Document(doc_id=doc_id, file=doc_id, file_sha256="", kind="beir", text=text)
    return doc, Chunk(chunk_id=f"{doc_id}:0", doc_id=doc_id, ordinal=0, text=text, start=0, end=len(text))


def _index(index: Index, data: BeirSet, settings: Settings, embedder: Embedder | None,
           progress: Progress | None) -> dict[str, Any]:
    """Write every passage with its sparse (and dense) vector; return timings."""
    began = time.perf_counter()
    ids = list(data.corpus)
    texts = [f"{title}\n{text}".strip() for title, text in (data.corpus[i] for i in ids)]
    avg_len = sum(len(tokenize(t)) for t in texts) / max(1, len(texts))
    sparse = [encode_document(t, k1=settings.bm25_k1, b=settings.bm25_b, avg_len=avg_len) for t in texts]
    sparse_seconds = time.perf_counter() - began

    embed_seconds = 0.0
    dense: list[list[float] | None] = [None] * len(texts)
    if embedder is not None:
        batch = max(1, settings.embed_batch_size)
        embed_began = time.perf_counter()
        for start in range(0, len(texts), batch):
            vectors = embedder.embed_passages([_dense_form(t) for t in texts[start:start + batch]])
            for offset, vector in enumerate(vectors):
                dense[start + offset] = [float(x) for x in vector]
            if progress:
                progress("embed", min(start + batch, len(texts)), len(texts))
        embed_seconds = time.perf_counter() - embed_began

    write_began = time.perf_counter()
    passages = [_passage(doc_id, text) for doc_id, text in zip(ids, texts)]
    points = [point_record(ChunkPoint.of(chunk, doc), dense=d, sparse=s)
              for (doc, chunk), d, s in zip(passages, dense, sparse)]
    for start in range(0, len(points), _UPSERT_BATCH):
        index.store.upsert(points[start:start + _UPSERT_BATCH])
    # Document points after all chunks: the retriever reads documents (its cache), searches
    # see only chunks.
    for start in range(0, len(passages), _UPSERT_BATCH):
        index.write([DocumentPoint.of(doc, chunks=1) for doc, _chunk in passages[start:start + _UPSERT_BATCH]])
    index.store.optimize()
    write_seconds = time.perf_counter() - write_began
    return {
        "seconds": round(time.perf_counter() - began, 2),
        "sparse_s": round(sparse_seconds, 2),
        "embed_s": round(embed_seconds, 2),
        "write_s": round(write_seconds, 2),
        "passages_per_s_embedding": round(len(texts) / embed_seconds, 1) if embed_seconds else None,
        "avg_len_tokens": round(avg_len, 1),
    }


def _run_mode(retriever: Retriever, data: BeirSet, query_ids: list[str], mode: str,
              progress: Progress | None) -> dict[str, Any]:
    """Every query through one search mode of the retriever; mean metrics and latency percentiles."""
    retriever.documents()  # read the document cache before timing, as a running app has it
    totals: dict[str, float] = {}
    latencies: list[float] = []
    misses: list[str] = []
    for n, qid in enumerate(query_ids, start=1):
        began = time.perf_counter()
        retrieval = retriever.search(data.queries[qid], top_k=10, mode=mode)
        latencies.append((time.perf_counter() - began) * 1000)
        ranked = [c.doc_id for c in retrieval.chunks]
        scores = beir_scores(ranked, data.qrels[qid])
        for key, value in scores.items():
            totals[key] = totals.get(key, 0.0) + value
        if scores["recall@10"] == 0:
            misses.append(qid)
        if progress:
            progress(mode, n, len(query_ids))
    count = max(1, len(query_ids))
    out: dict[str, Any] = {key: round(value / count, 4) for key, value in totals.items()}
    out["query_p50_ms"] = round(percentile(latencies, 50) or 0.0, 2)
    out["query_p95_ms"] = round(percentile(latencies, 95) or 0.0, 2)
    out["missed_at_10"] = misses
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def format_bench(result: dict[str, Any]) -> str:
    """A plain-text table of a ``bench_beir`` result."""
    lines = [(f"{result['benchmark']}: {result['corpus_size']} passages, {result['queries']} queries, "
             f"model {result.get('embed_model') or '-'}"),
             (f"index {result['index']['seconds']} s (embedding {result['index']['embed_s']} s, "
             f"sparse {result['index']['sparse_s']} s, write {result['index']['write_s']} s); "
             f"peak RSS {result['memory']['peak_rss_end_mib']} MiB"),
             "",
             f"{'mode':<8} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} {'nDCG@10':>8} {'p50 ms':>8} {'p95 ms':>8}"]
    for mode, m in result["modes"].items():
        lines.append(f"{mode:<8} {m['recall@1']:>6.3f} {m['recall@5']:>6.3f} {m['recall@10']:>6.3f} "
                     f"{m['mrr@10']:>7.3f} {m['ndcg@10']:>8.3f} {m['query_p50_ms']:>8.1f} {m['query_p95_ms']:>8.1f}")
    return "\n".join(lines)
