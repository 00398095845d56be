"""Evaluation metrics: pure functions, no I/O.

Matching text
    Passages, quotes, facts and answers are compared after ``match_form``: ``fold_match`` (NFC,
    canonical tone marks, unified dashes/quotes, repaired OCR number codes, no diacritics, lower
    case, Markdown emphasis dropped) with every run of whitespace collapsed to one space. A
    needle is *contained* in a text when it occurs there on word boundaries ("15/5" is not found
    in "115/5").

Relevant passage
    A passage (retrieved chunk or cited quote) *matches* a gold quote when it contains the quote,
    or when the longest run of consecutive words the two share covers at least half of the
    quote's words (and at least ``MIN_RUN_WORDS`` words). The second rule catches a quote cut in
    two by a chunk boundary (one of the two chunks holds at least half of it) and a citation
    that quotes only the key sentence of a longer gold passage. A gold quote that names a file
    only matches passages of that file.

Retrieval metrics (Q&A sets)
    The gold quotes of a question are its relevant items. Rank ``i`` is relevant when its chunk
    matches a gold quote that no higher-ranked chunk matched (so repeats of one quote do not
    count twice). hit@k: some chunk in the top k is relevant. MRR@k: 1/rank of the first relevant
    chunk (0 past k). recall@k: share of gold quotes matched in the top k. nDCG@k: binary gains
    of the relevant ranks, divided by the DCG of all gold quotes at the top ranks.

Answer metrics
    fact recall: share of a question's facts contained in the answer text. citation precision:
    share of an answer's citations whose quote matches a gold quote. abstention accuracy: share
    of unanswerable questions the assistant declined to answer; false abstention rate: share of
    answerable questions it declined. related hit: among the answerable questions it declined,
    the share whose related passages (offered as "có thể liên quan") match a gold quote, so an
    uncertain answer that points at the right passage is told apart from a bare "not found".
    Latency percentiles interpolate linearly between ranks.

Aggregates are means over the questions each metric applies to (macro averages); a metric that
applies to no question is ``None``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import PurePosixPath

from ingest.text.normalize import fold_match

MIN_RUN_WORDS = 3
"""The shortest shared run of words that counts as an overlap."""
MIN_OVERLAP = 0.5
"""Share of a gold quote's words a shared run must cover to count as an overlap."""
RETRIEVAL_KS = (1, 3, 5, 10)

_WORD = re.compile(r"\w+")


# Text matching ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def match_form(text: str) -> str:
    """The form every comparison uses: ``fold_match`` with whitespace collapsed."""
    return " ".join(fold_match(text).split())


def contains(text: str, needle: str) -> bool:
    """True when ``needle`` occurs in ``text`` on word boundaries, after ``match_form``."""
    hay, pin = match_form(text), match_form(needle)
    if not pin:
        return False
    return re.search(rf"(?<!\w){re.escape(pin)}(?!\w)", hay) is not None


def longest_shared_run(text: str, quote: str) -> int:
    """The length, in words, of the longest run of consecutive words both texts hold."""
    a, b = _WORD.findall(match_form(text)), _WORD.findall(match_form(quote))
    if not a or not b:
        return 0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.find_longest_match(0, len(a), 0, len(b)).size


def passage_matches(passage: str, quote: str, *, min_overlap: float = MIN_OVERLAP) -> bool:
    """True when ``passage`` contains ``quote`` or shares a run of at least half its words."""
    if contains(passage, quote):
        return True
    words = len(_WORD.findall(match_form(quote)))
    need = max(MIN_RUN_WORDS, math.ceil(min_overlap * words))
    if words < MIN_RUN_WORDS:
        return False
    return longest_shared_run(passage, quote) >= need


def same_file(passage_file: str | None, quote_file: str | None) -> bool:
    """True when the quote names no file, or both name the same file (compared by file name)."""
    if not quote_file:
        return True
    if not passage_file:
        return False
    return PurePosixPath(passage_file.replace("\\", "/")).name == PurePosixPath(quote_file.replace("\\", "/")).name


def matched_quotes(passage: str, passage_file: str | None, gold: Sequence[tuple[str, str | None]]) -> set[int]:
    """Indexes of the gold ``(quote, file)`` pairs that ``passage`` matches."""
    return {i for i, (quote, file) in enumerate(gold) if same_file(passage_file, file) and passage_matches(passage, quote)}


# Ranking metrics -------------------------------------------------------------------------


def hit_at_k(gains: Sequence[float], k: int) -> float:
    """1.0 when one of the first ``k`` ranks has a positive gain, else 0.0."""
    return 1.0 if any(g > 0 for g in gains[:k]) else 0.0


def mrr_at_k(gains: Sequence[float], k: int) -> float:
    """Reciprocal rank of the first positive gain within the first ``k`` ranks (0.0 if none)."""
    for rank, gain in enumerate(gains[:k], start=1):
        if gain > 0:
            return 1.0 / rank
    return 0.0


def dcg(gains: Iterable[float]) -> float:
    """Discounted cumulative gain: sum of gain / log2(rank + 1)."""
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ndcg_at_k(gains: Sequence[float], ideal: Iterable[float], k: int) -> float:
    """DCG of the first ``k`` gains over the DCG of the ``k`` best ``ideal`` gains (0.0 if none)."""
    best = dcg(sorted((g for g in ideal if g > 0), reverse=True)[:k])
    return dcg(gains[:k]) / best if best > 0 else 0.0


def recall_at_k(matched: Sequence[Collection[Hashable]], n_relevant: int, k: int) -> float:
    """Share of the ``n_relevant`` items found in the first ``k`` ranks; ``matched[i]`` lists the
    relevant items rank ``i + 1`` holds."""
    if n_relevant <= 0:
        return 0.0
    found: set[Hashable] = set()
    for items in matched[:k]:
        found.update(items)
    return min(1.0, len(found) / n_relevant)


def novel_gains(matched: Sequence[Collection[Hashable]]) -> list[float]:
    """1.0 for a rank that holds a relevant item no earlier rank held, else 0.0."""
    seen: set[Hashable] = set()
    gains = []
    for items in matched:
        new = set(items) - seen
        gains.append(1.0 if new else 0.0)
        seen.update(new)
    return gains


def retrieval_scores(matched: Sequence[Collection[Hashable]], n_relevant: int,
                     ks: Sequence[int] = RETRIEVAL_KS) -> dict[str, float]:
    """hit@k, recall@k for every k, and MRR@10 / nDCG@10 of one ranking."""
    gains = novel_gains(matched)
    scores: dict[str, float] = {}
    for k in ks:
        scores[f"hit@{k}"] = hit_at_k(gains, k)
        scores[f"recall@{k}"] = recall_at_k(matched, n_relevant, k)
    scores["mrr@10"] = mrr_at_k(gains, 10)
    scores["ndcg@10"] = ndcg_at_k(gains, [1.0] * n_relevant, 10)
    return scores


# Answer metrics --------------------------------------------------------------------------


def facts_found(answer: str, facts: Sequence[str]) -> list[bool]:
    """For each fact, whether the answer text contains it."""
    return [contains(answer, fact) for fact in facts]


def fact_recall(answer: str, facts: Sequence[str]) -> float | None:
    """Share of ``facts`` the answer contains; None when there are no facts."""
    if not facts:
        return None
    found = facts_found(answer, facts)
    return sum(found) / len(found)


def citation_precision(cited: Sequence[tuple[str, str | None]], gold: Sequence[tuple[str, str | None]]) -> float | None:
    """Share of cited ``(quote, file)`` passages that match a gold quote; None without citations."""
    if not cited:
        return None
    good = sum(1 for quote, file in cited if matched_quotes(quote, file, gold))
    return good / len(cited)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100), interpolating linearly between ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# Per question and aggregates -------------------------------------------------------------


@dataclass
class QuestionScores:
    """Everything measured for one question; ``None`` where a metric does not apply."""

    answerable: bool
    abstained: bool
    latency_ms: float | None = None
    retrieval: dict[str, float] | None = None
    fact_recall: float | None = None
    citation_precision: float | None = None
    related_hit: float | None = None
    error: bool = False
    tags: list[str] = field(default_factory=list)

    @property
    def abstention_correct(self) -> bool:
        return self.abstained == (not self.answerable)


def score_question(
    *,
    answerable: bool,
    gold: Sequence[tuple[str, str | None]],
    facts: Sequence[str],
    ranked: Sequence[tuple[str, str | None]],
    answer: str,
    abstained: bool,
    cited: Sequence[tuple[str, str | None]],
    related: Sequence[tuple[str, str | None]] = (),
    latency_ms: float | None = None,
    tags: Sequence[str] = (),
) -> QuestionScores:
    """Score one question from its gold data and what the assistant returned.

    ``gold``, ``ranked``, ``cited`` and ``related`` are ``(text, file)`` pairs: gold quotes,
    retrieved chunks in rank order, cited quotes, and the passages offered as related.
    """
    retrieval = None
    if answerable and gold:
        matched = [matched_quotes(text, file, gold) for text, file in ranked]
        retrieval = retrieval_scores(matched, len(gold))
    return QuestionScores(
        answerable=answerable,
        abstained=abstained,
        latency_ms=latency_ms,
        retrieval=retrieval,
        fact_recall=fact_recall(answer, facts) if answerable else None,
        citation_precision=citation_precision(cited, gold) if answerable and gold else None,
        related_hit=(float(any(matched_quotes(q, f, gold) for q, f in related))
                     if answerable and abstained and gold else None),
        tags=list(tags),
    )


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def aggregate(scores: Sequence[QuestionScores]) -> dict[str, float | int | None]:
    """Metrics over a set of questions (see the module docstring for definitions)."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    with_retrieval = [s.retrieval for s in scores if s.retrieval is not None]
    out: dict[str, float | int | None] = {
        "questions": len(scores),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": sum(1 for s in scores if s.error),
    }
    keys = list(with_retrieval[0]) if with_retrieval else [f"hit@{k}" for k in RETRIEVAL_KS] + ["mrr@10", "ndcg@10"]
    for key in keys:
        out[key] = _mean(r.get(key) for r in with_retrieval)
    out["fact_recall"] = _mean(s.fact_recall for s in answerable)
    out["citation_precision"] = _mean(s.citation_precision for s in answerable)
    out["abstention_accuracy"] = _mean(1.0 if s.abstained else 0.0 for s in unanswerable)
    out["false_abstention_rate"] = _mean(1.0 if s.abstained else 0.0 for s in answerable)
    out["related_hit"] = _mean(s.related_hit for s in answerable)
    latencies = [s.latency_ms for s in scores if s.latency_ms is not None]
    out["latency_p50_ms"] = percentile(latencies, 50)
    out["latency_p95_ms"] = percentile(latencies, 95)
    return out


def aggregate_by_tag(scores: Sequence[QuestionScores]) -> dict[str, dict[str, float | int | None]]:
    """``aggregate`` over the questions of each tag, tags sorted by name."""
    tags = sorted({t for s in scores for t in s.tags})
    return {tag: aggregate([s for s in scores if tag in s.tags]) for tag in tags}


def beir_scores(ranked_ids: Sequence[str], qrels: Mapping[str, int], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """R@k, MRR@10 and nDCG@10 of one BEIR query: ``qrels`` maps relevant ids to grades."""
    gains = [float(qrels.get(doc_id, 0)) for doc_id in ranked_ids]
    matched = [{doc_id} if qrels.get(doc_id, 0) > 0 else set() for doc_id in ranked_ids]
    scores = {f"recall@{k}": recall_at_k(matched, len(qrels), k) for k in ks}
    scores["mrr@10"] = mrr_at_k(gains, 10)
    scores["ndcg@10"] = ndcg_at_k(gains, qrels.values(), 10)
    return scores
