"""The words a register item is found by: the texts evidence matching reads of an obligation or
a target, and the single-syllable terms and codes of them that its point stores (``terms``).

Register evidence (``ingest.register.evidence``) scores an item by the share of the question's
words found in the item's own fields and, at a lower credit, its sentence and document label. A
question's candidates are then the items holding enough of its words to reach the threshold,
which a keyword-indexed ``terms`` field finds without reading the register (``candidate_terms``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ingest.register.models import Obligation, SourceRef, Target
from ingest.sparse import tokenize

# The engine estimates how many points a "hold at least k of these n terms" filter selects from
# every choice of k of the n conditions (it lists them all), so a filter asks for as many of the
# question's rarest words as keeps that count at or under this: 12 words when any 6 may be
# missing (924 choices). More words make a tighter filter: at 258k chunks a question with many
# common words found 10,828 candidate items with 8 words (2.8 s to answer), and was answered in
# 0.5-0.9 s with 12-16; letting it ask for up to 64 words, the engine's estimate for one of the
# bench's 207 questions grew to 23 GB and the process was killed.
MAX_FILTER_CHOICES = 1000
"""At most this many of a question's words are asked for "at least k of them": Qdrant's
``min_should`` grows combinatorially with them (measured: 8 terms 5 ms, 20 terms 3 s, 26 terms
exhausted 24 GB). The rarest are kept; an item still holds all but ``missing`` of them."""

TERMS_VERSION = 2
"""Stored on every item point with its ``terms`` and ``match``; an index whose items carry an older
version is scanned instead, until an ingest brings their payloads up to date
(``ingest.register.storage.upgrade_terms``). 2: ``match`` added."""


def obligation_own(o: Obligation) -> list[str]:
    """What an obligation itself says: units, partners, recipients, channel, action, deadline."""
    return [*o.units, *o.coordinating, *o.recipients, o.via or "", o.action, o.deadline.text]


def target_own(t: Target) -> list[str]:
    """What a target itself says: its subject and its value."""
    return [t.subject, t.value_text]


def item_context(s: SourceRef, with_references: bool = True) -> list[str]:
    """An item's sentence and document label (type, number, issuer, subject).

    The numbers a document cites can count as context: "kế hoạch thực hiện Chương trình
    61-CTr/TU" is asked of the letter that carries the programme out, whose task sentence only
    says "Chương trình nêu trên".
    """
    refs = s.references if with_references else []
    return [s.quote, s.section, s.doc_type or "", s.number or "", s.issuer or "", s.subject or "", *refs]


def item_terms(item: Obligation | Target) -> list[str]:
    """The terms stored with an item, keyword-indexed: every single-syllable term and code of its
    own fields and its context (references included), which are all a question's words can match.
    The union of its ``MatchTerms``, so the filter never misses an item scoring could keep."""
    return MatchTerms.of(item).terms()


@dataclass(frozen=True)
class MatchTerms:
    """The single-syllable terms and codes evidence matching compares a question's words with: of
    the item's own fields, of its sentence and document label, and of the document numbers its
    document cites (context for deadline questions only). Computed once, at ingest, and stored
    with the item (``match``): folding and cutting an item's texts took about 1.7 ms, paid by
    every item a question's words reach. Bigrams are left out (they would double the payload):
    whether a name's syllables stand together is checked on the few items read whole.

    Each field is kept as its terms a line each (a term never holds a line break), as stored:
    a question asks about a dozen terms of thousands of candidates, which a substring test
    answers without building a set per candidate."""

    own: str
    context: str
    references: str

    @classmethod
    def of(cls, item: Obligation | Target) -> MatchTerms:
        own = obligation_own(item) if isinstance(item, Obligation) else target_own(item)
        return cls(_lines(" ".join(own)), _lines(" ".join(item_context(item.source, with_references=False))),
                   _lines(" ".join(item.source.references)))

    def to_payload(self) -> dict[str, str]:
        return {"own": self.own.strip("\n"), "context": self.context.strip("\n"),
                "references": self.references.strip("\n")}

    @classmethod
    def from_payload(cls, data: dict[str, str]) -> MatchTerms:
        return cls(*(f"\n{data[key]}\n" for key in ("own", "context", "references")))

    def terms(self) -> list[str]:
        """Every term of the three fields, sorted (what ``item_terms`` stores)."""
        return sorted(set(f"{self.own}{self.context}{self.references}".split("\n")) - {""})

    def in_own(self, term: str) -> bool:
        return f"\n{term}\n" in self.own

    def holds(self, term: str, *, references: bool) -> bool:
        """``term`` is in the item's own fields or context (or, with ``references``, the numbers
        its document cites)."""
        line = f"\n{term}\n"
        return line in self.own or line in self.context or (references and line in self.references)


def _lines(text: str) -> str:
    return "\n" + "\n".join(sorted({t for t in tokenize(text) if " " not in t})) + "\n"


def candidate_terms(words: list[str], codes: list[str], names: Iterable[str], threshold: float,
                    df: Callable[[str], int]) -> tuple[list[str], int] | None:
    """``(terms, at_least)``: every item the question can match holds at least ``at_least`` of
    ``terms``; None when no item can match (nothing to look for).

    * With codes: an item must hold one of them.
    * With words: an item at ``threshold`` coverage of the ``n`` words (repeats counted) misses
      at most ``missing = floor((1 - threshold) * n)`` of them, so of the rarest distinct words
      (``df``: a term's document frequency), as many as ``MAX_FILTER_CHOICES`` allows, it holds
      all but ``missing``;
      when that leaves none, it holds one of any ``missing + 1``.
    * With only names: the rarest syllable of the first name (an item must contain the name).
    """
    if codes:
        return sorted(set(codes)), 1
    distinct = sorted(set(words), key=lambda w: (df(w), w))
    if distinct:
        missing = math.floor((1 - threshold) * len(words) + 1e-9)
        size = len(distinct)
        while size > missing and math.comb(size, missing) > MAX_FILTER_CHOICES:
            size -= 1
        if size > missing:
            return distinct[:size], size - missing
        return distinct[:missing + 1], 1  # any missing + 1 words hold one the item has
    for name in names:
        syllables = [t for t in tokenize(name) if " " not in t]
        if syllables:
            return [min(syllables, key=lambda w: (df(w), w))], 1
    return None
