"""Register items as index points and back: the one place that knows their payload keys.

Each item is a payload-only point (``kind`` 'obligation', 'target' or 'relation') carrying
``file`` and ``doc_id``, so re-ingesting or pruning a file replaces its register with its chunks.
The item itself sits under the key named by its kind: ``{"kind": "target", "target": {...}}``.
"""

from __future__ import annotations

from ingest.index import Index
from ingest.register.models import Obligation, Register, Relation, Target
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


def _payload(kind: str, item: Obligation | Target | Relation) -> dict:
    # ``file`` and ``doc_id`` are the flat fields a file's deletion and a document's filter match on.
    return {"kind": kind, "file": item.source.file, "doc_id": item.source.doc_id, kind: item.model_dump()}


def load_register(index: Index) -> Register:
    """Read the register points of ``index``, in document and text order."""
    found: dict[str, list] = {kind: [] for kind in REGISTER_KINDS}
    for payload in index.store.scroll([Condition("kind", any_of=REGISTER_KINDS)]):
        kind = payload["kind"]
        found[kind].append(payload[kind])

    def order(item: Obligation | Target | Relation) -> tuple:
        return item.source.file, item.source.doc_id, item.source.start, item.id

    return Register(
        obligations=sorted((Obligation.model_validate(p) for p in found["obligation"]), key=order),
        targets=sorted((Target.model_validate(p) for p in found["target"]), key=order),
        relations=sorted((Relation.model_validate(p) for p in found["relation"]), key=order),
    )


def as_register(source: Index | Register) -> Register:
    """``source`` itself when it is a ``Register``, else the register stored in the index."""
    return source if isinstance(source, Register) else load_register(source)
