"""Weighted distribution-based score fusion (ingest.fusion): Qdrant's DBSF with a weight per ranking."""

from dataclasses import dataclass

import pytest

from ingest.fusion import dbsf, normalised


@dataclass
class H:
    id: str
    score: float


@pytest.mark.parametrize("scores, expected", [
    ([], []),
    ([3.0], [0.5]),                 # one hit: no spread, the middle
    ([2.0, 2.0], [0.5, 0.5]),       # ties only
    ([1.0, 0.0], [4 / 6, 2 / 6]),   # mean 0.5, σ 0.5: [-1, 2] maps to [0, 1]
])
def test_scores_are_normalised_by_their_own_spread(scores, expected):
    assert normalised(scores) == pytest.approx(expected)


DENSE = [H("a", 0.90), H("b", 0.80), H("c", 0.10)]
SPARSE = [H("c", 12.0), H("d", 11.0), H("a", 1.0)]


@pytest.mark.parametrize("weights, expected", [
    ((1.0, 1.0), ["a", "c", "d", "b"]),  # a and c are found by both
    ((0.2, 1.0), ["c", "d", "a", "b"]),  # dense weighs little: sparse's order leads
    ((1.0, 0.0), ["a", "b", "c", "d"]),  # sparse weighs nothing: dense's order
])
def test_the_weights_decide_which_ranking_leads(weights, expected):
    assert [h.id for h, _ in dbsf([DENSE, SPARSE], weights, limit=4)] == expected


def test_limit_and_the_hit_kept_is_the_first_seen():
    fused = dbsf([DENSE, SPARSE], (1.0, 1.0), limit=2)
    assert len(fused) == 2
    assert fused[0][0] is DENSE[0]  # the dense hit (its payload), not sparse's copy
    assert fused[0][1] > fused[1][1]


def test_weights_must_match_the_rankings():
    with pytest.raises(ValueError):
        dbsf([DENSE, SPARSE], (1.0,), limit=3)
