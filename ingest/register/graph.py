"""The relation graph: documents as nodes (indexed ones and numbers only cited), references as
edges, and the chains of documents implementing each other.

Which indexed document a cited number belongs to can change whenever any file is ingested, so
the graph resolves references against the documents it is given, at read time.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from pydantic import BaseModel, Field

from ingest.index import Index
from ingest.models import Document
from ingest.schema import DocumentSummary
from ingest.register.models import Relation
from ingest.register.relations import number_key, resolve_relations
from ingest.register.storage import load_register
from ingest.text.labels import document_short


class GraphNode(BaseModel):
    """A document in the graph: indexed (``doc_id`` set) or only known by the number cited."""

    key: str = Field(description="Folded number ('61-ctr/tu'), or 'doc:<doc_id>' for a document without one.")
    number: str | None = None
    doc_id: str | None = None
    label: str
    in_corpus: bool


class GraphEdge(BaseModel):
    """``source`` implements / is based on / encloses / cites ``target``."""

    source: str
    target: str
    kind: Literal["implements", "based_on", "encloses", "cites"]
    relation: Relation


class RelationGraph(BaseModel):
    """Documents and the references between them."""

    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)

    def node(self, key: str) -> GraphNode | None:
        """The node with ``key``, or None."""
        return next((n for n in self.nodes if n.key == key), None)

    def upstream(self, key: str, kinds: tuple[str, ...] = ("implements",)) -> list[str]:
        """Keys reached from ``key`` along edges of ``kinds``, nearest first: for a công văn
        implementing a chương trình that implements a chỉ thị, [chương trình, chỉ thị]."""
        seen, order, queue = {key}, [], deque([key])
        while queue:
            current = queue.popleft()
            for e in self.edges:
                if e.source == current and e.kind in kinds and e.target not in seen:
                    seen.add(e.target)
                    order.append(e.target)
                    queue.append(e.target)
        return order

    def downstream(self, key: str, kinds: tuple[str, ...] = ("implements",)) -> list[str]:
        """Keys of the documents that (transitively) implement ``key``, nearest first."""
        reversed_graph = RelationGraph(nodes=self.nodes, edges=[
            e.model_copy(update={"source": e.target, "target": e.source}) for e in self.edges])
        return reversed_graph.upstream(key, kinds)


def node_key(doc: Document | DocumentSummary) -> str:
    """The graph key of an indexed document: its number, or its id when it has none."""
    number = doc.metadata.number
    return number_key(number) if number and number[:1].isdigit() else f"doc:{doc.doc_id}"


def build_graph(documents: list[Document] | list[DocumentSummary], relations: list[Relation]) -> RelationGraph:
    """The graph of ``relations`` (resolved here) over ``documents`` plus the numbers they cite."""
    resolved = resolve_relations(relations, documents)
    by_id = {d.doc_id: d for d in documents}
    nodes: dict[str, GraphNode] = {}
    for d in documents:
        key = node_key(d)
        m = d.metadata
        nodes.setdefault(key, GraphNode(key=key, number=m.number, doc_id=d.doc_id,
                                        label=document_short(m.doc_type, m.number, m.issuer), in_corpus=True))
    edges = []
    for r in resolved:
        source_doc = by_id.get(r.source_doc_id)
        if source_doc is None:
            continue
        target = node_key(by_id[r.target_doc_id]) if r.target_doc_id in by_id else r.target_key
        nodes.setdefault(target, GraphNode(key=target, number=r.target_number, label=r.target_number,
                                           in_corpus=False))
        edges.append(GraphEdge(source=node_key(source_doc), target=target, kind=r.kind, relation=r))
    return RelationGraph(nodes=list(nodes.values()), edges=edges)


def relation_graph(index: Index) -> RelationGraph:
    """The reference graph of everything indexed now (documents' metadata only, not their texts)."""
    return build_graph(index.catalogue(), load_register(index).relations)
