"""Hybrid retrieval: the query normalised like the documents, dense + sparse fused in Qdrant.

Dense models read Vietnamese well but fail on text typed without diacritics (R@5 0.38 against
0.88 for folded BM25 on the seed questions), so an unaccented query lowers the dense weight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import cached_property

from ingest.index import Index
from ingest.models import Document
from ingest.text.normalize import canonical_tones, clean_spacing, display_text, fold
from ingest.schema import RetrievedChunk, date_key, retrieved_chunk
from ingest.sparse import encode_query
from ingest.store import Condition, SearchMode
from rag.errors import FilterError
from rag.query import Question

FILTER_KEYS = ("issuer", "doc_type", "number", "file", "doc_id", "date_from", "date_to")


@dataclass(frozen=True)
class Retrieval:
    """Chunks in rank order, the documents they belong to, and where the time went.

    A value: a step that adds passages returns a new ``Retrieval`` (``dataclasses.replace``)
    rather than changing this one, which others may hold.
    """

    chunks: list[RetrievedChunk]
    documents: dict[str, Document]
    timings_ms: dict[str, float] = field(default_factory=dict)


def is_unaccented(query: str) -> bool:
    """True when a query has letters but no Vietnamese diacritics at all."""
    letters = [ch for ch in query if ch.isalpha()]
    return bool(letters) and fold(query) == query.lower()


class Retriever:
    """Searches one index. Cheap to keep: documents are cached until ``refresh()``."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.settings = index.settings

    @cached_property
    def _documents(self) -> dict[str, Document]:
        return {d.doc_id: d for d in self.index.documents()}

    def refresh(self) -> None:
        """Forget cached documents (after an ingest)."""
        self.__dict__.pop("_documents", None)

    def documents(self) -> list[Document]:
        """Every indexed document, in file order."""
        return list(self._documents.values())

    def with_documents(self, retrieval: Retrieval, docs: list[Document]) -> Retrieval:
        """``retrieval`` plus every passage of ``docs`` it lacks (after its own, unscored), as a
        new ``Retrieval``: a question that names a document by number is answered from all of
        that document, even passages that ranked below documents merely citing the number."""
        if not docs:
            return retrieval
        present = {c.chunk_id for c in retrieval.chunks}
        chunks = list(retrieval.chunks)
        documents = dict(retrieval.documents)
        for doc in docs:
            documents[doc.doc_id] = doc
            chunks += [retrieved_chunk(chunk, doc, score=0.0) for chunk in self.index.chunks(doc.doc_id)
                       if chunk.chunk_id not in present]
        return replace(retrieval, chunks=chunks, documents=documents)

    def search(
        self,
        query: str | Question,
        *,
        top_k: int | None = None,
        filters: dict[str, str] | None = None,
        mode: SearchMode = "hybrid",
    ) -> Retrieval:
        """The ``top_k`` chunks for ``query`` within ``filters`` (see ``FILTER_KEYS``).

        A ``Question`` is searched by its ``expanded`` text (standalone, abbreviations spelled
        out); a string is searched as it is."""
        if isinstance(query, Question):
            query = query.expanded
        s = self.settings
        top_k = top_k or s.top_k
        timings: dict[str, float] = {}
        began = time.perf_counter()
        conditions = self.conditions(filters or {})
        text = clean_spacing(canonical_tones(display_text(query)))
        dense = None
        if mode != "sparse":
            dense = self.index.embedder.embed_query(text).tolist()
        sparse = encode_query(text) if mode != "dense" else None
        timings["embed"] = _ms(began)
        dense_weight = s.unaccented_dense_weight if is_unaccented(query) else s.dense_weight
        began = time.perf_counter()
        limit = max(top_k, s.rerank_candidates) if s.rerank_model else top_k
        chunks = self.index.search(
            dense=dense, sparse=sparse, mode=mode, limit=limit, conditions=conditions,
            prefetch_limit=s.prefetch_limit, rrf_k=s.rrf_k, weights=(dense_weight, s.sparse_weight),
            fusion=s.fusion,
        )
        timings["search"] = _ms(began)
        if s.rerank_model and chunks:
            began = time.perf_counter()
            chunks = _rerank(s.rerank_model, query, chunks)
            timings["rerank"] = _ms(began)
        chunks = chunks[:top_k]
        docs = {c.doc_id: self._documents[c.doc_id] for c in chunks if c.doc_id in self._documents}
        missing = {c.doc_id for c in chunks} - docs.keys()
        if missing:  # ingested by another process since we cached
            self.refresh()
            docs = {c.doc_id: self._documents[c.doc_id] for c in chunks if c.doc_id in self._documents}
        return Retrieval(chunks, docs, timings)

    def conditions(self, filters: dict[str, str]) -> list[Condition]:
        """Turn user filters into store conditions.

        Issuer, type, number and file match loosely (accent-folded substring), as users type
        them, so they are resolved against the document list into a set of document ids.
        """
        unknown = set(filters) - set(FILTER_KEYS)
        if unknown:
            raise FilterError(f"unknown filter {', '.join(sorted(unknown))}; use one of: {', '.join(FILTER_KEYS)}")
        conditions: list[Condition] = []
        loose = {k: fold(v).strip() for k, v in filters.items() if k in ("issuer", "doc_type", "number", "file") and v}
        if loose or filters.get("doc_id"):
            ids = [
                d.doc_id for d in self._documents.values()
                if all(value in fold(_field(d, key)) for key, value in loose.items())
                and (not filters.get("doc_id") or d.doc_id == filters["doc_id"])
            ]
            conditions.append(Condition("doc_id", any_of=tuple(ids) or ("-none-",)))
        if filters.get("date_from") or filters.get("date_to"):
            try:
                low = date_key(filters.get("date_from")) if filters.get("date_from") else None
                high = _end_of(filters["date_to"]) if filters.get("date_to") else None
            except ValueError as exc:
                raise FilterError("dates must look like 2024-10-23, 2024-10 or 2024") from exc
            conditions.append(Condition("date_key", gte=low, lte=high))
        return conditions


def _field(doc: Document, key: str) -> str:
    if key == "file":
        return doc.file
    return getattr(doc.metadata, key) or ""


def _end_of(iso: str) -> int:
    """Last date key inside a partial ISO date: '2024-10' → 20241099."""
    parts = iso.split("-")
    key = date_key(iso) or 0
    if len(parts) == 1:
        return key + 9999
    if len(parts) == 2:
        return key + 99
    return key


def _rerank(model: str, query: str, chunks: list[RetrievedChunk]) -> list[RetrievedChunk]:
    scores = _cross_encoder(model).predict([(query, c.text) for c in chunks])
    ranked = sorted(zip(chunks, scores), key=lambda pair: -float(pair[1]))
    return [c.model_copy(update={"score": float(s)}) for c, s in ranked]


_ENCODERS: dict = {}


def _cross_encoder(model: str):
    if model not in _ENCODERS:
        from sentence_transformers import CrossEncoder

        _ENCODERS[model] = CrossEncoder(model, device="cpu")
    return _ENCODERS[model]


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 2)
