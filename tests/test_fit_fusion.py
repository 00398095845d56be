"""How evals/fit_fusion.py chooses the dense weight, on small hand-made rankings."""

from __future__ import annotations

from evals.fit_fusion import GUARD_DROP, Searched, choose, ranking, set_mrr


def _q(set_name: str, qid: str, dense_first: bool) -> Searched:
    """Three passages; the relevant one "r" is first by dense and third by sparse, or the reverse."""
    dense = [("r", 0.9), ("x", 0.5), ("y", 0.4)] if dense_first else [("x", 0.9), ("y", 0.8), ("r", 0.1)]
    sparse = [("x", 9.0), ("y", 8.0), ("r", 1.0)] if dense_first else [("r", 9.0), ("x", 5.0), ("y", 4.0)]
    return Searched(set_name, qid, f"{set_name}:{qid}", False, dense, sparse, {"r"})


def test_ranking_follows_the_weight():
    q = _q("devset", "a", dense_first=False)
    assert ranking(q, 1.0)[0] == "x"  # the equal sum lets dense's first lead
    assert ranking(q, 0.0)[0] == "r"  # sparse alone


def test_the_weight_serves_the_directive_sets_while_the_guarded_set_keeps_its_figure():
    directive = [_q("devset", f"d{i}", dense_first=False) for i in range(4)]
    # ALQAC questions dense answers best: a weight low enough to lose them is not allowed
    legal = [_q("alqac", f"l{i}", dense_first=True) for i in range(4)]
    unguarded = choose(directive)
    guarded = choose(directive + legal)
    assert unguarded == 0.0
    assert guarded > unguarded
    # the guard holds: ALQAC keeps its figure with equal weights, less at most GUARD_DROP
    assert set_mrr(legal, guarded)["alqac"] >= set_mrr(legal, 1.0)["alqac"] - GUARD_DROP
    assert set_mrr(legal, guarded - 0.05)["alqac"] < set_mrr(legal, 1.0)["alqac"] - GUARD_DROP  # the lowest such
