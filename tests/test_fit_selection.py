"""The thresholds evals/fit_selection.py fits, on small hand-made rankings."""

from __future__ import annotations

from evals.fit_selection import _related_threshold


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
