"""The thresholds evals/fit_selection.py fits, on small hand-made rankings."""

from __future__ import annotations

from evals.fit_selection import Row, _related_threshold, folds_of


def _ranked(gold: bool) -> list[tuple[float, set[int], int]]:
    """A question's candidates, best first: the best one gold or not, then two that are not."""
    return [(0.4, {0} if gold else set(), 0), (0.2, set(), 1), (0.1, set(), 2)]


def test_the_uncertain_band_is_judged_whole_not_from_its_top():
    # Just under the answer threshold one question whose best passages miss; below it, many
    # whose passages hold the answer: the band from 0.1 up is right 4 times in 5.
    confidence = [0.49, 0.3, 0.3, 0.2, 0.15]
    probs = [_ranked(False), _ranked(True), _ranked(True), _ranked(True), _ranked(True)]
    assert _related_threshold([], probs, confidence, 0.5) == 0.02


def test_no_uncertain_band_when_its_passages_are_mostly_wrong():
    confidence = [0.45, 0.3, 0.2]
    probs = [_ranked(True), _ranked(False), _ranked(False)]
    # from 0.42 up: one right of one; lower, one right of two, then one of three
    assert _related_threshold([], probs, confidence, 0.5) == 0.22
    assert _related_threshold([], [_ranked(False)] * 3, confidence, 0.5) == 0.5


def _rows(sizes: dict[str, int]) -> list[Row]:
    return [Row("s", f"{g}{i}", f"{g}{i}?", True, g, 1) for g, n in sizes.items() for i in range(n)]


def test_every_split_keeps_a_documents_questions_together_and_balances_the_folds():
    rows = _rows({f"doc{k}": 1 + k % 4 for k in range(20)})
    splits = [folds_of(rows, 5, seed) for seed in range(4)]
    for fold in splits:
        loads = [sum(1 for r in rows if fold[r.group] == k) for k in range(5)]
        assert max(loads) - min(loads) <= 4  # a group is never split, so balance is up to a group's size
        assert set(fold) == {r.group for r in rows}
    assert splits[0] == folds_of(rows, 5, 0)  # seed 0 is deterministic
    assert len({tuple(sorted(f.items())) for f in splits}) == 4  # other seeds split the documents otherwise
