"""Retrieval and answer latency (warm, no LLM) and memory, on the bundled corpus and on an index
of at least 10,000 chunks made by replicating the corpus.

Run from the repository root:

    python evals/bench_answer.py [--copies 120] [--repeat 5] [--devset-data DIR] [--json OUT]

``--copies 0`` skips the replicated index. ``--devset-data`` also measures an existing index of the
development set (made by ``evals/bench_devset.py --data-dir DIR``) with the first 20 questions of
its ``qa.jsonl``.

The large index holds ``--copies`` renamed copies of every corpus file. Copies have identical
text, so an embedding cache embeds each distinct passage once; the store still holds, indexes and
searches every point.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.embeddings import load_embedder  # noqa: E402
from ingest.index import Index  # noqa: E402
from ingest.pipeline import ingest_paths  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from ingest.settings import Settings  # noqa: E402

QUESTIONS = [
    "Đơn vị nào phải báo cáo trước ngày 10/11?",
    "don vi nao phai bao cao truoc ngay 10/11",
    "Sở LĐTBXH phải làm gì trong tháng 11/2024?",
    "Ai ký Công văn 3452/UBND-VX?",
    "Mục tiêu tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng thể cân nặng là bao nhiêu?",
    "Kế hoạch của huyện Bắc Sơn giao Phòng Lao động, Thương binh, Xã hội – Dân tộc nhiệm vụ gì?",
    "Chỉ thị 28-CT/TW ngày 25/12/2023 về vấn đề gì?",
    "Kon Tum tổ chức kỷ niệm Ngày Công tác xã hội Việt Nam như thế nào?",
    "Tỉnh Cà Mau có kế hoạch gì về người cao tuổi?",
    "UBND các xã, thị trấn ở Bắc Sơn phải làm gì?",
]


class _CachingEmbedder:
    """The real embedder, embedding each distinct passage text once."""

    def __init__(self, inner) -> None:
        self._inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cache: dict[str, np.ndarray] = {}

    def embed_passages(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._inner.embed_passages(missing)))
        return np.stack([self._cache[t] for t in texts])

    def embed_query(self, text):
        return self._inner.embed_query(text)

    def token_count(self, text):
        return self._inner.token_count(text)


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)}


def _measure(assistant: Assistant, repeat: int, questions: list[str] = QUESTIONS) -> dict:
    for q in questions:  # warm-up: caches, term statistics, first-query costs
        assistant.ask(q)
    retrieval_ms, answer_ms = [], []
    for _ in range(repeat):
        for q in questions:
            began = time.perf_counter()
            assistant.retriever.search(q)
            retrieval_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            assistant.ask(q)
            answer_ms.append((time.perf_counter() - began) * 1000)
    return {"retrieval_ms": _percentiles(retrieval_ms), "answer_ms": _percentiles(answer_ms),
            "queries": len(retrieval_ms)}


def _index(corpus: Path, data_dir: Path, embedder) -> tuple[Index, dict]:
    index = Index.open(Settings(data_dir=data_dir), embedder=embedder)
    began = time.perf_counter()
    summary = ingest_paths(index, [corpus])
    chunks = sum(o.chunks for o in summary.outcomes)
    return index, {"chunks": chunks, "documents": sum(o.documents for o in summary.outcomes),
                   "ingest_s": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--devset-data", type=Path, help="an index of the devset (evals/bench_devset.py --data-dir)")
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "devset")
    args = parser.parse_args()

    embedder = _CachingEmbedder(load_embedder(Settings()))
    work = Path(tempfile.mkdtemp(prefix="congvan-bench-"))
    figures: dict = {}
    try:
        index, info = _index(ROOT / "corpus", work / "small", embedder)
        assistant = Assistant(index)
        figures["corpus"] = info | _measure(assistant, args.repeat)
        index.close()

        if args.devset_data:
            lines = (args.devset / "qa.jsonl").read_text(encoding="utf-8").splitlines()
            questions = [json.loads(line)["question"] for line in lines if line.strip()][:20]
            index = Index.open(Settings(data_dir=args.devset_data, files_root=args.devset.resolve()))
            info = {"chunks": sum(1 for _ in index.chunks()), "documents": len(index.documents())}
            figures["devset"] = info | _measure(Assistant(index), args.repeat, questions)
            index.close()

        if args.copies <= 0:
            return _finish(figures, args.json, work)
        big = work / "replicated"
        for copy in range(args.copies):
            folder = big / f"copy{copy:03d}"
            folder.mkdir(parents=True)
            for path in (ROOT / "corpus").iterdir():
                shutil.copy(path, folder / path.name)
        index, info = _index(big, work / "large", embedder)
        assistant = Assistant(index)
        began = time.perf_counter()
        assistant.term_stats  # noqa: B018 - built once per process; reported separately
        info["term_stats_s"] = round(time.perf_counter() - began, 2)
        figures["replicated"] = info | _measure(assistant, args.repeat)
        index.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _finish(figures, args.json, work)


def _finish(figures: dict, out: Path | None, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if out:
        out.write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
