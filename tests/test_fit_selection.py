"""The thresholds evals/fit_selection.py fits, on small hand-made rows."""

from __future__ import annotations

from evals.fit_selection import Row, related_min_coverage
from rag.selection import FEATURES


def _row(answerable: bool, candidates: list[tuple[float, bool]], name: str) -> Row:
    """A question whose candidates are (coverage, is gold), most probable first."""
    row = Row("t", name, name, answerable, name, 1)
    for i, (coverage, gold) in enumerate(candidates):
        features = [0.0] * len(FEATURES)
        features[FEATURES.index("coverage")] = coverage
        row.features.append(features)
        row.matches.append({0} if gold else set())
        row.scores.append(1.0)
        row.keys.append(f"{name}-{i}")
    return row


def _ranked(row: Row) -> list[tuple[float, set[int], int]]:
    return [(1.0 - 0.1 * i, m, i) for i, m in enumerate(row.matches)]


def test_related_coverage_is_the_lowest_at_which_offered_passages_are_mostly_right():
    rows = [
        _row(True, [(0.3, True)], "a"),           # the gold passage holds little of the question
        _row(True, [(0.7, True)], "b"),
        _row(False, [(0.2, False)], "c"),         # unanswerable: anything offered is a miss
        _row(False, [(0.35, False)], "d"),
        _row(False, [(0.4, False)], "e"),
    ]
    uncertain = [0.3] * len(rows)
    # at 0.0 two of five offered are right; from 0.25 ("c" no longer offered) two of four
    assert related_min_coverage(rows, [_ranked(r) for r in rows], uncertain, 0.1, 0.5) == 0.25
    rows[0] = _row(True, [(0.3, False)], "a")
    # one right of four up to 0.3, of three at 0.35; at 0.4 "b" and "e" are left: one of two
    assert related_min_coverage(rows, [_ranked(r) for r in rows], uncertain, 0.1, 0.5) == 0.4


def test_questions_outside_the_uncertain_band_do_not_count():
    rows = [_row(True, [(0.2, True)], "a"), _row(False, [(0.9, False)], "b")]
    probs = [_ranked(r) for r in rows]
    # "b" is answered (confidence above the answer threshold): only "a" counts
    assert related_min_coverage(rows, probs, [0.3, 0.8], 0.1, 0.5) == 0.0


def test_a_repeated_passage_is_offered_once_and_nothing_qualifying_means_none():
    row = _row(False, [(0.6, False)] * 3, "a")
    row.keys = ["same"] * 3
    assert related_min_coverage([row], [_ranked(row)], [0.3], 0.1, 0.5) == 1.0
