"""The words a register item is found by: the texts evidence matching reads of an obligation or
a target, and the single-syllable terms and codes of them that its point stores (``terms``).

Register evidence (``ingest.register.evidence``) scores an item by the share of the question's
words found in the item's own fields and, at a lower credit, its sentence and document label. A
question's candidates are found without reading the register: the index ranks items by a sparse
vector of their terms (``item_vector`` against ``question_vector``), among those whose
keyword-indexed ``terms`` hold every syllable of the places and bodies the question names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ingest.register.models import Obligation, SourceRef, Target
from ingest.sparse import SparseVector, as_vector, term_id, tokenize

TERMS_VERSION = 3
"""Stored on every item point with its ``terms`` and ``match``; an index whose items carry an older
version is scanned instead, until an ingest brings their points up to date
(``ingest.register.storage.upgrade_terms``). 2: ``match`` added. 3: the item's sparse vector
(``item_vector``, the index's ``register`` vector) added, so that a question ranks its
candidates."""


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


def item_vector(match: MatchTerms) -> SparseVector:
    """The sparse vector an item is ranked by: each of its terms weighs 1 for each of its own
    fields and its context (sentence, label, cited numbers) that holds it, so a word the item
    itself says ranks above one only its document mentions. The index applies IDF: among the
    items holding enough of a question's words, those holding its rarer ones come first."""
    weights: dict[int, float] = {}
    for term in match.terms():
        weights[term_id(term)] = float(match.in_own(term)) + float(
            f"\n{term}\n" in match.context or f"\n{term}\n" in match.references)
    return as_vector(weights)


def question_vector(words: Iterable[str], codes: Iterable[str], names: Iterable[str]) -> SparseVector:
    """The sparse query that ranks items for a question's ``words``, ``codes`` and the syllables of
    its ``names``: a weight of 1 per distinct term, as ``ingest.sparse.encode_query``."""
    terms = {*words, *codes, *(t for n in names for t in tokenize(n) if " " not in t)}
    return as_vector({term_id(t): 1.0 for t in terms})
