"""Hybrid retrieval: the query normalised like the documents, dense + sparse searched in Qdrant
and fused by weight (``ingest.fusion``).

On directive documents the dense ranking is the weaker one (``dense_weight`` 0.1 against
sparse's 1, chosen by ``evals/fit_fusion.py``), and dense models fail on text typed without
diacritics (R@5 0.38 against 0.88 for folded BM25 on the seed questions), so an unaccented
query has its own weight (``unaccented_dense_weight``).

Memory does not grow with the archive's texts: the retriever keeps the catalogue (every
document's metadata, no text) and reads full documents on demand through a bounded LRU cache
(``document_cache_size``); a question reads only the documents of its passages, those it names
by number, and those a sparse search finds writing a number it looks for.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from ingest.index import Index
from ingest.models import Document
from ingest.text.normalize import canonical_tones, clean_spacing, display_text, fold, fold_match
from ingest.schema import DocumentSummary, RetrievedChunk, date_key, retrieved_chunk
from ingest.sparse import encode_query
from ingest.store import Condition, SearchMode
from rag.errors import FilterError
from rag.query import Question

FILTER_KEYS = ("issuer", "doc_type", "number", "file", "doc_id", "date_from", "date_to")
_LOOSE_KEYS = ("issuer", "doc_type", "number", "file")


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


class DocumentCache:
    """Full documents by id, at most ``size`` of them, the least recently used dropped first.

    Thread-safe (web requests share one); a miss is read from the index, several in one request.
    """

    def __init__(self, index: Index, size: int) -> None:
        self.index = index
        self.size = max(1, size)
        self._docs: OrderedDict[str, Document] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by ``clear``: a read begun before it is not kept

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def get_many(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """The documents of ``doc_ids`` that exist, in the order asked. All are returned even
        when they are more than the cache keeps."""
        wanted = list(dict.fromkeys(doc_ids))
        found: dict[str, Document] = {}
        with self._lock:
            generation = self._generation
            for doc_id in wanted:
                if doc_id in self._docs:
                    self._docs.move_to_end(doc_id)
                    found[doc_id] = self._docs[doc_id]
        missing = [i for i in wanted if i not in found]
        if missing:
            read = self.index.documents_by_id(missing)
            found.update(read)
            with self._lock:
                for doc_id in missing if generation == self._generation else ():
                    if doc_id in read:
                        self._docs[doc_id] = read[doc_id]
                        self._docs.move_to_end(doc_id)
                while len(self._docs) > self.size:
                    self._docs.popitem(last=False)
        return {i: found[i] for i in wanted if i in found}

    def clear(self) -> None:
        """Forget every cached document (after an ingest changed them)."""
        with self._lock:
            self._docs.clear()
            self._generation += 1


class Retriever:
    """Searches one index. Cheap to keep: the catalogue (documents without their texts) is
    cached until ``refresh()``, full documents in a bounded cache (``document_cache_size``)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.settings = index.settings
        self.cache = DocumentCache(index, self.settings.document_cache_size)

    @cached_property
    def _catalogue(self) -> dict[str, DocumentSummary]:
        return {d.doc_id: d for d in self.index.catalogue()}

    @cached_property
    def _numbers(self) -> dict[str, list[DocumentSummary]]:
        """Catalogue entries by their number as a question's codes are written (``fold_match``)."""
        by_number: dict[str, list[DocumentSummary]] = {}
        for d in self._catalogue.values():
            if d.metadata.number:
                by_number.setdefault(fold_match(d.metadata.number), []).append(d)
        return by_number

    @cached_property
    def _filter_ids(self) -> dict[tuple, tuple[str, ...]]:
        return {}

    @cached_property
    def _folded_fields(self) -> dict[str, dict[str, str]]:
        """The loosely matched filter fields of every catalogue entry, folded once."""
        return {d.doc_id: {key: fold(_field(d, key)) for key in _LOOSE_KEYS} for d in self._catalogue.values()}

    def _forget_catalogue(self) -> None:
        for name in ("_catalogue", "_numbers", "_folded_fields", "_filter_ids"):
            self.__dict__.pop(name, None)

    def refresh(self, files: Iterable[str] | None = None) -> None:
        """After an ingest: forget the cached documents and the catalogue, or, given the
        ``files`` whose points the ingest changed (``IngestSummary.changed_files``), read the
        catalogue entries of those files only, so adding a file to a large archive does not
        re-read every document's summary."""
        catalogue = self.__dict__.get("_catalogue")
        self._forget_catalogue()
        self.cache.clear()
        if files is None or catalogue is None:
            return
        files = set(files)
        kept = [d for d in catalogue.values() if d.file not in files]
        fresh = self.index.catalogue([Condition("file", any_of=tuple(sorted(files)))]) if files else []
        merged = sorted(kept + fresh, key=lambda d: (d.file, d.part))
        self.__dict__["_catalogue"] = {d.doc_id: d for d in merged}

    def documents(self) -> list[DocumentSummary]:
        """Every indexed document without its text, in file order (see ``document`` for one
        with its text)."""
        return list(self._catalogue.values())

    def document(self, doc_id: str) -> Document | None:
        """One full document, through the cache, or None."""
        return self.cache.get_many([doc_id]).get(doc_id)

    def full_documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """The full documents of ``doc_ids`` that exist, by id, through the cache."""
        return self.cache.get_many(doc_ids)

    def named(self, q: Question) -> list[DocumentSummary]:
        """Indexed documents whose own number the question names ("Công văn 3452/UBND-VX"),
        in file order: ``rag.answer.named_documents`` over the catalogue, by a lookup."""
        if not any(_has_letter(code) for code in q.codes):
            # A document's number carries its type ("3452/UBND-VX"); "10/11" is a date. Most
            # questions name none, and need not wait for the catalogue to be read.
            return []
        found = [d for code in dict.fromkeys(q.codes) for d in self._numbers.get(code, [])]
        return sorted({d.doc_id: d for d in found}.values(), key=lambda d: (d.file, d.part))

    def mentioning(self, doc: Document | DocumentSummary, limit: int | None = None) -> Iterator[Document]:
        """Full documents that may write ``doc``'s number, in the order to look in them: the
        documents of its file (a cover letter and its attachment, by a payload filter), then,
        only when asked for more, those holding a passage that a sparse search for the number
        finds (``limit`` passages, default ``prefetch_limit``), by file. Read instead of every
        document's text when an attachment is dated by its cover letter."""
        own = self.full_documents(sorted(self.index.document_ids([Condition("file", doc.file)])))
        yield from sorted(own.values(), key=lambda d: d.part)
        number = doc.metadata.number
        if not number:
            return
        text = clean_spacing(canonical_tones(display_text(number)))
        hits = self.index.search(dense=None, sparse=encode_query(text), mode="sparse",
                                 limit=limit or self.settings.prefetch_limit)
        others = self.full_documents(h.doc_id for h in hits if h.doc_id not in own)
        yield from sorted(others.values(), key=lambda d: (d.file, d.part))

    def with_documents(self, retrieval: Retrieval, docs: Iterable[Document | DocumentSummary]) -> Retrieval:
        """``retrieval`` plus every passage of ``docs`` it lacks (after its own, unscored), as a
        new ``Retrieval`` whose ``documents`` hold them in full: a question that names a document
        by number is answered from all of that document, even passages that ranked below
        documents merely citing the number."""
        docs = list(docs)
        if not docs:
            return retrieval
        full = self.full_documents(d.doc_id for d in docs if not isinstance(d, Document))
        present = {c.chunk_id for c in retrieval.chunks}
        chunks = list(retrieval.chunks)
        documents = dict(retrieval.documents)
        for given in docs:
            doc = given if isinstance(given, Document) else full.get(given.doc_id)
            if doc is None:  # deleted since the catalogue was read
                continue
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
        began = time.perf_counter()
        docs = self.full_documents(c.doc_id for c in chunks)
        known = self.__dict__.get("_catalogue")  # not read for this: a first question need not wait for it
        if known is not None and any(c.doc_id not in known for c in chunks):
            # ingested by another process since the catalogue was read: read it again when next needed
            self._forget_catalogue()
        timings["documents"] = _ms(began)
        return Retrieval(chunks, docs, timings)

    def _matching_ids(self, loose: dict[str, str], doc_id: str | None) -> tuple[str, ...]:
        """Ids of the catalogue's documents whose folded fields hold every ``loose`` value (and
        that are ``doc_id`` when given); remembered per filter (a chat scope asks the same one
        question after question) until the catalogue is read again."""
        key = (tuple(sorted(loose.items())), doc_id)
        memo = self._filter_ids
        if key not in memo:
            folded = self._folded_fields
            candidates = [doc_id] if doc_id else folded
            ids = tuple(i for i in candidates if i in folded and all(v in folded[i][k] for k, v in loose.items()))
            if len(memo) >= 64:
                memo.pop(next(iter(memo)))
            memo[key] = ids or ("-none-",)
        return memo[key]

    def conditions(self, filters: dict[str, str]) -> list[Condition]:
        """Turn user filters into store conditions.

        Issuer, type, number and file match loosely (accent-folded substring), as users type
        them, so they are resolved against the document list into a set of document ids.
        """
        unknown = set(filters) - set(FILTER_KEYS)
        if unknown:
            raise FilterError(f"unknown filter {', '.join(sorted(unknown))}; use one of: {', '.join(FILTER_KEYS)}")
        conditions: list[Condition] = []
        loose = {k: fold(v).strip() for k, v in filters.items() if k in _LOOSE_KEYS and v}
        if loose or filters.get("doc_id"):
            conditions.append(Condition("doc_id", any_of=self._matching_ids(loose, filters.get("doc_id"))))
        if filters.get("date_from") or filters.get("date_to"):
            try:
                low = date_key(filters.get("date_from")) if filters.get("date_from") else None
                high = _end_of(filters["date_to"]) if filters.get("date_to") else None
            except ValueError as exc:
                raise FilterError("dates must look like 2024-10-23, 2024-10 or 2024") from exc
            conditions.append(Condition("date_key", gte=low, lte=high))
        return conditions


def _field(doc: DocumentSummary, key: str) -> str:
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


def _has_letter(code: str) -> bool:
    return any(ch.isalpha() for ch in code)
