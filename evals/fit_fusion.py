"""Choose hybrid search's fusion weights by cross-validation, and report them out of fold.

Run from the repository root, with an index of ``corpus/`` and one of the development set (as
for ``evals/fit_selection.py``):

    python evals/fit_fusion.py --gold-data /tmp/gold-data --devset-data /tmp/devset-data \
        [--alqac ../shared/bench/alqac2022] [--work DIR] [--folds 5] [--repeats 5] [--json OUT]

Every question is searched once by dense and once by sparse search (``CONGVAN_PREFETCH_LIMIT``
hits each, through ``rag.retrieve.Retriever``); for a dense weight w (sparse weighs 1) the two
rankings are fused as the store fuses them (``ingest.fusion.dbsf``). A question's relevant
passages are those matching its gold quotes (gold set, devset: ``evals.metrics.matched_quotes``)
or its judged articles (ALQAC 2022, BEIR format, indexed into a shard of its own as ``congvan
bench beir`` does; ``--work`` keeps that shard for the next run: embedding its 1,377 articles
takes minutes).

The weight maximises MRR@10 averaged over the gold set and the devset (each counts alike,
whatever its size) among the weights that keep ALQAC 2022's MRR@10 within ``--guard-drop``
(0.005) of its figure with equal weights (Qdrant's DBSF): the directive documents congvan
answers from want little of the dense ranking (devset MRR@10 0.66 with equal weights, 0.80 with
sparse alone), while on the legal articles of ALQAC it helps (0.948 against 0.937), and issue 15
bounds that benchmark's drop at 0.005. Without ALQAC, nothing is guarded. It is chosen by
cross-validation grouped by document: a gold or devset question's group
is the file of its first gold quote, an ALQAC question's the law of its first judged article;
each fold's weight is chosen on the other folds and scores the held-out questions. Questions
typed without diacritics (``rag.retrieve.is_unaccented``) get their own weight
(``CONGVAN_UNACCENTED_DENSE_WEIGHT``), chosen the same way on those questions alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.settings import Settings  # noqa: E402

DEFAULT_ALQAC = ROOT.parent / "shared" / "bench" / "alqac2022"
GRID = [round(0.05 * i, 2) for i in range(0, 21)]  # dense weight 0 .. 1, sparse 1
# The answerer's pool (CONGVAN_ANSWER_POOL): a gold passage past it is never read.
POOL = Settings.model_fields["answer_pool"].default


@dataclass
class Searched:
    """One question's dense and sparse rankings (id, raw score), best first, and what is relevant."""

    set_name: str
    qid: str
    group: str
    unaccented: bool
    dense: list[tuple[str, float]]
    sparse: list[tuple[str, float]]
    relevant: set[str] = field(default_factory=set)


@dataclass
class _Hit:
    id: str
    score: float


def ranking(q: Searched, dense_weight: float, limit: int = POOL) -> list[str]:
    """The question's ids in the order hybrid search returns them with this dense weight."""
    from ingest.fusion import dbsf

    lists = [[_Hit(i, s) for i, s in q.dense], [_Hit(i, s) for i, s in q.sparse]]
    return [h.id for h, _ in dbsf(lists, (dense_weight, 1.0), limit)]


def scores(order: list[str], relevant: set[str]) -> dict[str, float]:
    rank = next((i for i, x in enumerate(order) if x in relevant), None)
    return {"mrr@10": 1 / (rank + 1) if rank is not None and rank < 10 else 0.0,
            "hit@1": float(rank is not None and rank < 1), "hit@5": float(rank is not None and rank < 5),
            f"hit@{POOL}": float(rank is not None and rank < POOL)}


GUARDED = ("alqac",)  # sets whose MRR@10 may drop at most --guard-drop below equal weights
GUARD_DROP = 0.005


def set_mrr(questions: list[Searched], dense_weight: float) -> dict[str, float]:
    """MRR@10 of each set's questions with this dense weight."""
    by_set: dict[str, list[float]] = {}
    for q in questions:
        by_set.setdefault(q.set_name, []).append(scores(ranking(q, dense_weight), q.relevant)["mrr@10"])
    return {name: statistics.fmean(v) for name, v in by_set.items()}


def choose(questions: list[Searched], guard_drop: float = GUARD_DROP) -> float:
    """The grid's weight with the best mean MRR@10 over the unguarded sets among those keeping
    every guarded set within ``guard_drop`` of equal weights; ties go to the smaller weight."""
    values = {w: set_mrr(questions, w) for w in GRID}
    floor = {n: v - guard_drop for n, v in values[1.0].items() if n in GUARDED}
    allowed = [w for w in GRID if all(values[w][n] >= f for n, f in floor.items())]

    def objective(w: float) -> float:
        own = [v for n, v in values[w].items() if n not in GUARDED] or list(values[w].values())
        return statistics.fmean(own)

    best = max(objective(w) for w in allowed)
    return min(w for w in allowed if objective(w) >= best - 1e-12)


def cross_validate(questions: list[Searched], n_folds: int, seed: int, guard_drop: float = GUARD_DROP) -> tuple[dict[str, dict[str, float]], list[float]]:
    """Out-of-fold metrics per set (and per set for unaccented questions as "<set>/unaccented")
    with each fold's weights chosen on the others; and the weights chosen, fold by fold."""
    from evals.fit_selection import folds_of  # the same dealing of documents to folds

    fold = folds_of(questions, n_folds, seed)
    held_scores: dict[str, list[dict[str, float]]] = {}
    chosen: list[float] = []
    for k in range(n_folds):
        train = [q for q in questions if fold[q.group] != k]
        accented_w = choose([q for q in train if not q.unaccented], guard_drop)
        unaccented_w = choose([q for q in train if q.unaccented], guard_drop)
        chosen += [accented_w, unaccented_w]
        for q in questions:
            if fold[q.group] != k:
                continue
            s = scores(ranking(q, unaccented_w if q.unaccented else accented_w), q.relevant)
            held_scores.setdefault(q.set_name, []).append(s)
            if q.unaccented:
                held_scores.setdefault(f"{q.set_name}/unaccented", []).append(s)
    return {name: {m: statistics.fmean(s[m] for s in rows) for m in rows[0]} | {"n": len(rows)}
            for name, rows in held_scores.items()}, chosen


def collect_qa(set_name: str, assistant: Any, items: list[Any], limit: int) -> list[Searched]:
    from evals.metrics import matched_quotes
    from rag.query import Question
    from rag.retrieve import is_unaccented

    out = []
    for item in items:
        if not item.answerable or not item.sources:
            continue
        q = Question.parse(item.question, [])
        gold = [(s.quote, s.file) for s in item.sources]
        found = {mode: assistant.retriever.search(q, top_k=limit, mode=mode).chunks for mode in ("dense", "sparse")}
        relevant = {c.chunk_id for chunks in found.values() for c in chunks if matched_quotes(c.text, c.file, gold)}
        out.append(Searched(set_name, item.id, f"{set_name}:{Path(gold[0][1] or item.id).name}",
                            is_unaccented(item.question),
                            [(c.chunk_id, c.score) for c in found["dense"]],
                            [(c.chunk_id, c.score) for c in found["sparse"]], relevant))
    return out


def collect_beir(folder: Path, settings: Any, work: Path | None, limit: int) -> list[Searched]:
    """Index a BEIR folder (or reuse ``work``'s shard) and search each judged query both ways."""
    import tempfile

    from evals.beir import _index, read_beir
    from ingest.embeddings import load_embedder
    from ingest.index import Index
    from ingest.store import EdgeStore
    from rag.retrieve import Retriever, is_unaccented

    data = read_beir(folder)
    embedder = load_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="congvan-fusion-") as tmp:
        shard = (work or Path(tmp)) / "alqac-shard"
        fresh = not shard.exists()
        index = Index(settings, EdgeStore(shard, embedder.dim), embedder, files_root=Path(tmp))
        try:
            if fresh:
                _index(index, data, settings, embedder, None)
            retriever = Retriever(index)
            out = []
            for qid, text in data.queries.items():
                relevant = {d for d, grade in data.qrels.get(qid, {}).items() if grade > 0}
                if not relevant:
                    continue
                found = {mode: retriever.search(text, top_k=limit, mode=mode).chunks for mode in ("dense", "sparse")}
                out.append(Searched("alqac", qid, "alqac:" + sorted(relevant)[0].split("#")[0], is_unaccented(text),
                                    [(c.doc_id, c.score) for c in found["dense"]],
                                    [(c.doc_id, c.score) for c in found["sparse"]], relevant))
            return out
        finally:
            index.close()


def main(argv: list[str] | None = None) -> int:
    from evals.fit_selection import add_set_arguments

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_set_arguments(parser)
    # A str, not a Path: Path("") is "." and would never leave ALQAC out.
    parser.add_argument("--alqac", default=str(DEFAULT_ALQAC), help="BEIR folder; '' to leave it out")
    parser.add_argument("--work", type=Path, help="keep the ALQAC shard here and reuse it next time")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--guard-drop", type=float, default=GUARD_DROP,
                        help="how far below equal weights ALQAC's MRR@10 may go")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    from evals.format import load_items
    from ingest.index import Index
    from rag.assistant import Assistant

    base = Settings()
    limit = base.prefetch_limit
    questions: list[Searched] = []
    for name, data_dir, files_root, path in (
            ("gold", args.gold_data, None, args.gold),
            ("devset", args.devset_data, args.devset.resolve(), args.devset / "qa.jsonl")):
        settings = Settings(data_dir=data_dir, qdrant_url=None, **({"files_root": files_root} if files_root else {}))
        index = Index.open(settings)
        try:
            questions += collect_qa(name, Assistant(index), load_items(path).items, limit)
        finally:
            index.close()
    if args.alqac:
        if args.work:
            args.work.mkdir(parents=True, exist_ok=True)
        questions += collect_beir(Path(args.alqac), base, args.work, limit)

    report: dict[str, Any] = {"grid": GRID, "objective": f"MRR@10, mean over gold and devset; ALQAC within "
                              f"{args.guard_drop} of equal weights", "repeats": []}
    for label, w in (("equal weights (Qdrant's DBSF)", (1.0, 1.0)), ("settings now", (base.dense_weight, base.unaccented_dense_weight))):
        figures = _fixed(questions, *w)
        report[label] = figures
        _print(f"{label}: dense {w[0]}, unaccented {w[1]}", figures)
    for seed in range(args.repeats):
        figures, chosen = cross_validate(questions, args.folds, seed, args.guard_drop)
        report["repeats"].append({"seed": seed, "figures": figures, "chosen": chosen})
        _print(f"out of fold, seed {seed}: dense weights chosen {chosen[0::2]}, unaccented {chosen[1::2]}", figures)
    names = report["repeats"][0]["figures"].keys()
    mean = {n: {m: round(statistics.fmean(r["figures"][n][m] for r in report["repeats"]), 4)
                for m in report["repeats"][0]["figures"][n]} for n in names}
    report["out_of_fold_mean"] = mean
    _print(f"out of fold, mean of {args.repeats} splits", mean)
    final = (choose([q for q in questions if not q.unaccented], args.guard_drop),
             choose([q for q in questions if q.unaccented], args.guard_drop))
    report["chosen_on_all"] = {"dense_weight": final[0], "unaccented_dense_weight": final[1]}
    print(f"\nchosen on all questions: CONGVAN_DENSE_WEIGHT={final[0]} CONGVAN_UNACCENTED_DENSE_WEIGHT={final[1]}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def _fixed(questions: list[Searched], dense_weight: float, unaccented_weight: float) -> dict[str, dict[str, float]]:
    rows: dict[str, list[dict[str, float]]] = {}
    for q in questions:
        s = scores(ranking(q, unaccented_weight if q.unaccented else dense_weight), q.relevant)
        rows.setdefault(q.set_name, []).append(s)
        if q.unaccented:
            rows.setdefault(f"{q.set_name}/unaccented", []).append(s)
    return {n: {m: statistics.fmean(s[m] for s in r) for m in r[0]} | {"n": len(r)} for n, r in rows.items()}


def _print(title: str, figures: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    for name, f in sorted(figures.items()):
        print(f"  {name:<18} n={int(f['n']):<4} " + "  ".join(f"{m} {v:.3f}" for m, v in f.items() if m != "n"))


if __name__ == "__main__":
    raise SystemExit(main())
