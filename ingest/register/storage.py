"""Register items as index points and back: the one place that knows their payload keys.

Each item is a payload-only point (``kind`` 'obligation', 'target' or 'relation') carrying
``file`` and ``doc_id``, so re-ingesting or pruning a file replaces its register with its chunks.
The item itself sits under the key named by its kind: ``{"kind": "target", "target": {...}}``.
Obligations and targets also carry ``terms`` (``ingest.register.terms``), a keyword-indexed
list that lets a question find its candidate items without reading the register, and ``match``
(``MatchTerms``), what scoring them reads, so that a candidate is scored from a few lists and
only the items that match are read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ingest.index import Index
from ingest.register.models import Obligation, Register, Relation, Target
from ingest.register.terms import TERMS_VERSION, MatchTerms
from ingest.schema import point_id
from ingest.store import Condition, PointRecord

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
    return [PointRecord(point_id(f"{kind}:{item.id}"), _payload(kind, item)) for kind, item in items]


SEARCHED_KINDS = ("obligation", "target")
"""The item kinds register evidence looks for, which carry ``terms``."""


def _payload(kind: str, item: Obligation | Target | Relation) -> dict:
    # ``file`` and ``doc_id`` are the flat fields a file's deletion and a document's filter match on.
    payload = {"kind": kind, "file": item.source.file, "doc_id": item.source.doc_id, kind: item.model_dump()}
    if kind in SEARCHED_KINDS:
        match = MatchTerms.of(item)
        payload |= {"terms": match.terms(), "match": match.to_payload(), "terms_version": TERMS_VERSION}
    return payload


def _with_terms(kind: str, any_of: list[str], at_least: int, all_of: Iterable[str]) -> list[Condition]:
    return [Condition("kind", kind), Condition("terms", any_of=tuple(any_of), at_least=at_least),
            *(Condition("terms", term) for term in sorted(set(all_of)))]


def match_terms_with_terms(index: Index, kind: str, any_of: list[str], at_least: int = 1,
                           all_of: Iterable[str] = ()) -> dict[str, MatchTerms]:
    """``MatchTerms`` by item id of the items of ``kind`` ('obligation' or 'target') whose ``terms``
    hold at least ``at_least`` of ``any_of`` and every one of ``all_of``, found through the index's
    keyword index rather than a scan of the register, and without reading the items themselves
    (``items_by_id`` reads those that match)."""
    payloads = index.store.scroll(_with_terms(kind, any_of, at_least, all_of), fields=["match", f"{kind}.id"])
    return {p[kind]["id"]: MatchTerms.from_payload(p["match"]) for p in payloads}


def items_by_id(index: Index, kind: str, ids: Iterable[str]) -> Register:
    """The items of ``kind`` with the given ids, in document and text order."""
    payloads = index.store.retrieve([point_id(f"{kind}:{item_id}") for item_id in ids])
    return _register({kind: [p[kind] for p in payloads]})


def upgrade_terms(index: Index, announce: Callable[[int], None] | None = None) -> int:
    """Rewrite the payloads of obligations and targets written by an older ``TERMS_VERSION`` from
    the items they hold (nothing is parsed or embedded again); returns how many, after telling
    ``announce`` how many there are to do. Until then such an index is searched by reading its
    whole register (``terms_indexed``)."""
    if terms_indexed(index):
        return 0
    searched = Condition("kind", any_of=SEARCHED_KINDS)
    current = {(p["kind"], p[p["kind"]]["id"]) for p in index.store.scroll(
        [searched, Condition("terms_version", TERMS_VERSION)], fields=["kind", "obligation.id", "target.id"])}
    if announce:
        announce(index.store.count([searched]) - len(current))
    register = _register({kind: [p[kind] for p in index.store.scroll([Condition("kind", kind)])
                                 if (kind, p[kind]["id"]) not in current] for kind in SEARCHED_KINDS})
    points = register_points(register)
    index.store.upsert_in_batches(points)
    return len(points)


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
