"""Register items as index points and back: the one place that knows their payload keys.

Each item is a payload-only point (``kind`` 'obligation', 'target' or 'relation') carrying
``file`` and ``doc_id``, so re-ingesting or pruning a file replaces its register with its chunks.
The item itself sits under the key named by its kind: ``{"kind": "target", "target": {...}}``.
Obligations and targets also carry ``terms`` (``ingest.register.terms``), a keyword-indexed
list that lets a question find its candidate items without reading the register, and ``match``
(``MatchTerms``), what scoring them reads, so that a candidate is scored from a few lists and
only the items that match are read whole; and a sparse vector of their terms
(``ingest.register.terms.item_vector``, the index's ``register`` vector), by which a question's
candidates are ranked, so that it reads a bounded number of them however large the archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ingest.index import Index
from ingest.register.models import Obligation, Register, Relation, Target
from ingest.register.terms import TERMS_VERSION, MatchTerms, item_vector
from ingest.schema import point_id
from ingest.sparse import SparseVector
from ingest.store import REGISTER, Condition, PointRecord

REGISTER_KINDS = ("obligation", "target", "relation")
"""``kind`` of the payload-only points that hold the register in the index."""


def register_points(register: Register) -> list[PointRecord]:
    """Payload-only points holding ``register`` (one file's items, from ``extract_register``).

    Point ids are uuid5 of '<kind>:<item id>', and item ids start with their document's id, so
    writing a file's register again overwrites the same points.
    """
    items: list[tuple[str, Obligation | Target | Relation]] = [
        *(("obligation", o) for o in register.obligations),
        *(("target", t) for t in register.targets),
        *(("relation", r) for r in register.relations),
    ]
    return [PointRecord(point_id(f"{kind}:{item.id}"), _payload(kind, item),
                        sparse=item_vector(MatchTerms.of(item)) if kind in SEARCHED_KINDS else None,
                        sparse_name=REGISTER)
            for kind, item in items]


SEARCHED_KINDS = ("obligation", "target")
"""The item kinds register evidence looks for, which carry ``terms``."""


def _payload(kind: str, item: Obligation | Target | Relation) -> dict:
    # ``file`` and ``doc_id`` are the flat fields a file's deletion and a document's filter match on.
    payload = {"kind": kind, "file": item.source.file, "doc_id": item.source.doc_id, kind: item.model_dump()}
    if kind in SEARCHED_KINDS:
        match = MatchTerms.of(item)
        payload |= {"terms": match.terms(), "match": match.to_payload(), "terms_version": TERMS_VERSION}
    return payload


def ranked_match_terms(index: Index, kind: str, query: SparseVector, limit: int, *, all_of: Iterable[str] = (),
                       any_of: Iterable[str] = ()) -> dict[str, MatchTerms]:
    """``MatchTerms`` by item id of the ``limit`` items of ``kind`` ('obligation' or 'target') that
    ``query`` (``ingest.register.terms.question_vector``) ranks first against their sparse vectors,
    best first, among those whose ``terms`` hold every one of ``all_of`` and, when given, one of
    ``any_of``: found through the index rather than a scan of the register, and without reading the
    items themselves (``items_by_id`` reads those that match). A question whose words thousands of
    items hold (a yearly plan repeated across an archive) reads a bounded number of them.

    The index ranks by IDF-weighted overlap (rarer words first); the caller scores exactly. A
    filter for "at least k of the question's words" is left out: inside a ranked search the
    engine tests it point by point (740 ms for one question at 258k chunks, 10 ms without).
    Every item of an index written by this ``TERMS_VERSION`` carries the vector; an item without
    one is never found here."""
    conditions = [Condition("kind", kind), *(Condition("terms", term) for term in sorted(set(all_of)))]
    if any_of:
        conditions.append(Condition("terms", any_of=tuple(sorted(set(any_of)))))
    hits = index.store.search(dense=None, sparse=query, mode="sparse", limit=limit, sparse_name=REGISTER,
                              conditions=conditions, fields=["match", f"{kind}.id"])
    return {h.payload[kind]["id"]: MatchTerms.from_payload(h.payload["match"]) for h in hits}


def items_by_id(index: Index, kind: str, ids: Iterable[str]) -> Register:
    """The items of ``kind`` with the given ids, in document and text order."""
    payloads = index.store.retrieve([point_id(f"{kind}:{item_id}") for item_id in ids])
    return _register({kind: [p[kind] for p in payloads]})


def upgrade_terms(index: Index, announce: Callable[[int], None] | None = None) -> int:
    """Rewrite the points of obligations and targets written by an older ``TERMS_VERSION`` from
    the items they hold (nothing is parsed or embedded again); returns how many, after telling
    ``announce`` how many there are to do. Until then such an index is searched by reading its
    whole register (``terms_indexed``).

    First adds the ``register`` vector to a collection created before it (its items are
    written with one from then on)."""
    index.store.add_missing_vectors()
    if terms_indexed(index):
        return 0
    searched = Condition("kind", any_of=SEARCHED_KINDS)
    ids = ["kind", "obligation.id", "target.id"]
    current = {(p["kind"], p[p["kind"]]["id"]) for p in index.store.scroll(
        [searched, Condition("terms_version", TERMS_VERSION)], fields=ids)}
    stale = [point_id(f"{p['kind']}:{p[p['kind']]['id']}") for p in index.store.scroll([searched], fields=ids)
             if (p["kind"], p[p["kind"]]["id"]) not in current]
    if announce:
        announce(len(stale))
    # A batch at a time: at a million chunks the register is hundreds of thousands of items.
    for start in range(0, len(stale), _UPGRADE_BATCH):
        payloads = index.store.retrieve(stale[start:start + _UPGRADE_BATCH])
        found: dict[str, list] = {kind: [] for kind in SEARCHED_KINDS}
        for payload in payloads:
            found[payload["kind"]].append(payload[payload["kind"]])
        index.store.upsert(register_points(_register(found)))
    return len(stale)


_UPGRADE_BATCH = 1024  # items read and written again at a time


def terms_indexed(index: Index) -> bool:
    """True when every obligation and target of ``index`` carries its ``terms`` (written by this
    version); an index ingested before them is searched by reading its whole register."""
    items = index.store.count([Condition("kind", any_of=SEARCHED_KINDS)])
    return items == index.store.count([Condition("kind", any_of=SEARCHED_KINDS),
                                       Condition("terms_version", TERMS_VERSION)])


def load_register(index: Index) -> Register:
    """Read the register points of ``index``, in document and text order."""
    found: dict[str, list] = {kind: [] for kind in REGISTER_KINDS}
    for payload in index.store.scroll([Condition("kind", any_of=REGISTER_KINDS)]):
        kind = payload["kind"]
        found[kind].append(payload[kind])
    return _register(found)


def _register(found: dict[str, list]) -> Register:
    """A ``Register`` of item payloads by kind, in document and text order."""

    def order(item: Obligation | Target | Relation) -> tuple:
        return item.source.file, item.source.doc_id, item.source.start, item.id

    return Register(
        obligations=sorted((Obligation.model_validate(p) for p in found.get("obligation", [])), key=order),
        targets=sorted((Target.model_validate(p) for p in found.get("target", [])), key=order),
        relations=sorted((Relation.model_validate(p) for p in found.get("relation", [])), key=order),
    )


def as_register(source: Index | Register) -> Register:
    """``source`` itself when it is a ``Register``, else the register stored in the index."""
    return source if isinstance(source, Register) else load_register(source)
