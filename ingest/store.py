"""One small vector-store interface over embedded Qdrant Edge and a Qdrant server.

Both backends hold one collection with a named dense vector (``dense``) and two named sparse
vectors with the IDF modifier: ``sparse`` for chunks and ``register`` for register items, apart
so that neither changes the other's statistics (the IDF of a term counts the points carrying the
vector). Documents, file records and the index manifest are
stored as payload-only points in the same collection (``kind`` tells them apart), so a server
deployment needs nothing beside Qdrant, and a file record written last marks a file as done.

The store moves payload dicts to and from the engine without reading them; what a payload
holds, and each point's id, is ``ingest.schema``'s business.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ingest.errors import CongvanError, IndexDamagedError, IndexLockedError
from ingest.fusion import dbsf
from ingest.schema import INTEGER_FIELDS, KEYWORD_FIELDS, point_id  # noqa: F401  (point_id re-exported)
from ingest.sparse import SparseVector
from ingest.settings import Settings

log = logging.getLogger(__name__)

DENSE = "dense"
SPARSE = "sparse"
REGISTER = "register"
SPARSE_NAMES = (SPARSE, REGISTER)
SearchMode = Literal["hybrid", "dense", "sparse"]
Fusion = Literal["rrf", "dbsf"]

# Points read per scroll request: each request filters again from its offset, so a read of a few
# thousand points (a question's candidate register items) is faster in fewer, larger pages.
_SCROLL_PAGE = 1024
_WRITE_BATCH = 1024  # points per request in a bulk rewrite


@dataclass(frozen=True)
class Condition:
    """A payload condition: equality (``value``), membership (``any_of``; with ``at_least``, the
    field holds at least that many of the values) or a numeric range."""

    key: str
    value: str | int | bool | None = None
    any_of: tuple[str, ...] | None = None
    at_least: int | None = None
    gte: float | None = None
    lte: float | None = None


@dataclass
class PointRecord:
    """A point to write: payload always; vectors for chunks (``dense``, and ``sparse`` under
    ``sparse_name``) and for the register items questions rank (``sparse`` under ``REGISTER``)."""

    id: str
    payload: dict[str, Any]
    dense: list[float] | None = None
    sparse: SparseVector | None = None
    sparse_name: str = SPARSE


@dataclass
class Hit:
    """A scored search result."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class Store(ABC):
    """The operations ingestion and retrieval need, independent of where Qdrant runs."""

    @abstractmethod
    def upsert(self, points: list[PointRecord]) -> None: ...

    def upsert_in_batches(self, points: list[PointRecord]) -> None:
        """``upsert`` a bulk rewrite (a one-time upgrade of every item or document) a request of
        ``_WRITE_BATCH`` points at a time, so no request carries the whole archive."""
        for start in range(0, len(points), _WRITE_BATCH):
            self.upsert(points[start:start + _WRITE_BATCH])

    @abstractmethod
    def delete(self, conditions: list[Condition]) -> None:
        """Delete every point matching all ``conditions``."""

    @abstractmethod
    def search(
        self,
        *,
        dense: list[float] | None,
        sparse: SparseVector | None,
        mode: SearchMode = "hybrid",
        limit: int = 10,
        conditions: list[Condition] | None = None,
        prefetch_limit: int = 50,
        rrf_k: int = 60,
        weights: tuple[float, float] = (1.0, 1.0),
        fusion: Fusion = "rrf",
        fields: Sequence[str] | None = None,
        sparse_name: str = SPARSE,
    ) -> list[Hit]:
        """Top points by dense, sparse, or both fused (weights: dense, sparse): weighted
        reciprocal-rank fusion, or distribution-based score fusion, which sums the two scores
        after normalising each by its own spread (``ingest.fusion.dbsf``). Hits carry only the payload
        keys ``fields`` when given, as ``scroll`` does; ``sparse_name`` names the sparse vector
        searched (``REGISTER`` for register items)."""

    @abstractmethod
    def scroll(self, conditions: list[Condition], fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Payloads of every point matching ``conditions``; only the top-level keys ``fields``
        when given (reading ids need not carry every document's full text out of the engine)."""

    @abstractmethod
    def retrieve(self, ids: list[str]) -> list[dict[str, Any]]:
        """Payloads of the given point ids that exist, in no particular order."""

    @abstractmethod
    def count(self, conditions: list[Condition] | None = None) -> int: ...

    @abstractmethod
    def count_by(self, key: str, conditions: list[Condition] | None = None, *, limit: int) -> dict[str, int]:
        """How many points matching ``conditions`` hold each value of the keyword field ``key``
        (at most ``limit`` values, most frequent first): one exact facet request instead of a
        count per value."""

    def optimize(self) -> None:
        """Merge segments and build indexes after a bulk write (a no-op where the server does it)."""

    def upgrade_layout(self, announce: Callable[[int], None] | None = None) -> int:
        """Rebuild the payload indexes an older version laid out differently, after telling
        ``announce`` how many there are; returns how many (0 where the server decides its own
        layout)."""
        return 0

    @abstractmethod
    def add_missing_vectors(self) -> list[str]:
        """Add the named sparse vectors a collection created by an older version lacks (empty, so
        nothing is rewritten); returns their names."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EdgeStore(Store):
    """Qdrant's engine in-process (``qdrant-edge-py``): one shard folder under the data dir."""

    def __init__(self, path: Path, dim: int, *, segment_max_mb: int = 128, segment_count: int = 8) -> None:
        import qdrant_edge as qe

        self._qe = qe
        path = Path(path)
        self._path = path
        self._dim = dim
        self._segment_max_mb = segment_max_mb
        self._segment_count = segment_count
        # Whether anything was written since the shard opened: closing flushes only then (a
        # flush of a 250k-chunk shard costs 0.7 s, which an unchanged re-ingest need not pay).
        self._written = False
        # Vector bytes written since the last seal (see ``_seal``).
        self._unsealed_bytes = 0
        # The web app asks questions while an upload is written: a seal swaps the shard only
        # when no engine call is running, and calls wait while it does.
        self._swap = _SwapLock()
        try:
            if path.exists() and any(path.iterdir()):
                self._shard = qe.EdgeShard.load(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._shard = qe.EdgeShard.create(str(path), self._config(dim))
                self._create_indexes()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the engine reports damaged files as Rust panics (BaseException)
            if "WouldBlock" in str(exc) or "lock" in str(exc).lower():
                raise IndexLockedError(
                    f"the index in {path} is open in another process (is `python app.py` running?). "
                    "Stop that process and try again, or set CONGVAN_QDRANT_URL to share a Qdrant server."
                ) from exc
            raise IndexDamagedError(
                f"the index in {path} is damaged and cannot be opened ({_first_line(exc)}). "
                "Run `congvan ingest --repair` to rebuild it from the source files; the damaged copy "
                "is replaced only when the new index is complete."
            ) from exc

    def _engine(self) -> "_Guarded":
        """The shard, with engine errors (damaged files) turned into ``IndexDamagedError``."""
        return _Guarded(self, self._path)

    # The shard stays on disk and is read through the page cache as queries touch it
    # (``Memory.Cold``) instead of being loaded whole when it opens: opening it was most of a
    # cold start and of an unchanged re-ingest, mostly building in-RAM maps of the keyword
    # indexes (``doc_id``, ``file`` and ``terms`` hold a value per document or term). Measured on
    # the 100k-chunk scale archive (evals/bench_scale.py, alternating runs): first answer 1.8-2.3 s
    # from start against 3.4-3.8 s, serving RSS 845 against 1,017 MiB, warm retrieval and answer
    # times within noise. One payload index stays in RAM (``_field_memory``).
    def _config(self, dim: int) -> Any:
        qe = self._qe
        cold = qe.Memory.Cold
        return qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine, memory=cold)},
            sparse_vectors={name: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf, memory=cold)
                            for name in SPARSE_NAMES},
            # The engine's defaults, with the graph on disk like the rest.
            hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000, memory=cold),
            payload_memory=cold,
            # Segments stay bounded (see ``_seal``); the engine merges only segments smaller than
            # that, and only while there are more than ``segment_count``. Kept in the shard's
            # own configuration file, so every later load honours them.
            optimizers=qe.EdgeOptimizersConfig(max_segment_size=self._segment_max_mb * 1024,
                                               default_segment_number=self._segment_count),
        )

    def _field_memory(self, name: str) -> Any:
        """Where a payload index lives. ``terms`` stays in RAM: every question filters register
        items by it (a few thousand items at 258k chunks), and read from disk that filter made
        the bench's answer p95 at 258k 1,536 ms against 928 ms in RAM (page cache dropped first),
        for 0.65 s more to open the shard."""
        return self._qe.Memory.Pinned if name == "terms" else self._qe.Memory.Cold

    def _field_params(self, name: str) -> Any:
        qe = self._qe
        if name in INTEGER_FIELDS:
            return qe.IntegerIndexParams(lookup=True, range=True, memory=self._field_memory(name))
        return qe.KeywordIndexParams(memory=self._field_memory(name))

    def _create_indexes(self) -> None:
        self._written = True
        for name in (*KEYWORD_FIELDS, *INTEGER_FIELDS):
            self._engine().update(self._qe.UpdateOperation.create_field_index(name, self._field_params(name)))

    def upgrade_layout(self, announce: Callable[[int], None] | None = None) -> int:
        """Payload indexes an older version placed otherwise (all in RAM, built whole each time
        the shard opened) are rebuilt where ``_field_memory`` puts them, one field at a time;
        the vectors keep the layout they were written with. Seconds per field at 100k chunks,
        once per index."""
        qe = self._qe
        schema = self._engine().info().payload_schema
        stale = [name for name in (*KEYWORD_FIELDS, *INTEGER_FIELDS) if name not in schema
                 or schema[name].params is None or schema[name].params.memory != self._field_memory(name)]
        if stale and announce:
            announce(len(stale))
        for name in stale:
            self._written = True
            if name in schema:
                self._engine().update(qe.UpdateOperation.delete_field_index(name))
            self._engine().update(qe.UpdateOperation.create_field_index(name, self._field_params(name)))
        return len(stale)

    def add_missing_vectors(self) -> list[str]:
        qe = self._qe
        missing = []
        for name in SPARSE_NAMES:
            try:  # the engine tells no vector names; a query on an absent one fails with this error
                self._shard.query(qe.QueryRequest(limit=1, query=qe.Query.Nearest(qe.SparseVector([0], [1.0]), using=name)))
            except BaseException as exc:  # engine errors are Rust panics (BaseException)
                if "Not existing vector name" not in str(exc):
                    raise
                missing.append(name)
        for name in missing:
            # Only an absent name is created: creating a present one again is not refused.
            self._written = True
            self._engine().update(qe.UpdateOperation.create_sparse_vector(name, qe.Modifier.Idf))
        if missing:
            # The new vector is written with the engine's default memory settings (in RAM, and
            # so is the whole segment an optimize merges it into): the shard is opened again with
            # this version's configuration, which the engine checks and writes over its own.
            self._shard.flush()
            self._shard.close()
            self._shard = qe.EdgeShard.load(str(self._path), self._config(self._dim))
        return missing

    def _filter(self, conditions: list[Condition] | None) -> Any:
        if not conditions:
            return None
        qe = self._qe
        must, min_should = [], None
        for c in conditions:
            if c.any_of is not None and c.at_least is not None:
                min_should = qe.MinShould([qe.FieldCondition(key=c.key, match=qe.MatchValue(v)) for v in c.any_of],
                                          c.at_least)
            elif c.any_of is not None:
                must.append(qe.FieldCondition(key=c.key, match=qe.MatchAny(list(c.any_of))))
            elif c.gte is not None or c.lte is not None:
                must.append(qe.FieldCondition(key=c.key, range=qe.RangeFloat(gte=c.gte, lte=c.lte)))
            else:
                must.append(qe.FieldCondition(key=c.key, match=qe.MatchValue(c.value)))
        return qe.Filter(must=must, min_should=min_should)

    def upsert(self, points: list[PointRecord]) -> None:
        qe = self._qe
        converted = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense is not None:
                vector[DENSE] = [float(x) for x in p.dense]
            if p.sparse is not None and p.sparse.indices:
                vector[p.sparse_name] = qe.SparseVector(p.sparse.indices, p.sparse.values)
            converted.append(qe.Point(p.id, vector, p.payload))
        if converted:
            self._written = True
            self._engine().update(qe.UpdateOperation.upsert_points(converted))
            self._unsealed_bytes += sum(4 * len(p.dense) if p.dense is not None else 0 for p in points)
            self._unsealed_bytes += sum(8 * len(p.sparse.indices) if p.sparse is not None else 0 for p in points)
            if self._unsealed_bytes >= self._segment_max_mb * 2**20:
                self._seal()

    def delete(self, conditions: list[Condition]) -> None:
        self._written = True
        self._engine().update(self._qe.UpdateOperation.delete_points_by_filter(self._filter(conditions)))

    def search(self, *, dense, sparse, mode="hybrid", limit=10, conditions=None, prefetch_limit=50,
               rrf_k=60, weights=(1.0, 1.0), fusion="rrf", fields=None, sparse_name=SPARSE) -> list[Hit]:
        qe = self._qe
        flt = self._filter(conditions)
        payload = list(fields) if fields is not None else True
        dense_q = qe.Query.Nearest([float(x) for x in dense], using=DENSE) if dense is not None else None
        sparse_q = (
            qe.Query.Nearest(qe.SparseVector(sparse.indices, sparse.values), using=sparse_name)
            if sparse is not None and sparse.indices else None
        )
        if mode == "dense" or (mode == "hybrid" and sparse_q is None):
            request = qe.QueryRequest(limit=limit, query=dense_q, filter=flt, with_payload=payload)
        elif mode == "sparse" or dense_q is None:
            if sparse_q is None:
                return []
            request = qe.QueryRequest(limit=limit, query=sparse_q, filter=flt, with_payload=payload)
        elif fusion == "dbsf":
            # Both rankings in one batch, fused here: Qdrant's DBSF takes no weights (ingest.fusion).
            batch = qe.QueryBatchRequest([
                qe.QueryRequest(limit=prefetch_limit, query=q, filter=flt, with_payload=payload)
                for q in (dense_q, sparse_q)])
            rankings = [[Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]
                        for points in self._engine().query_batch(batch)]
            return [Hit(h.id, score, h.payload) for h, score in dbsf(rankings, weights, limit)]
        else:
            request = qe.QueryRequest(
                limit=limit,
                prefetches=[
                    qe.Prefetch(limit=prefetch_limit, query=dense_q, filter=flt),
                    qe.Prefetch(limit=prefetch_limit, query=sparse_q, filter=flt),
                ],
                query=qe.Fusion.Rrf(k=rrf_k, weights=list(weights)),
                filter=flt,
                with_payload=payload,
            )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in self._engine().query(request)]

    def scroll(self, conditions: list[Condition], fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        qe = self._qe
        out: list[dict[str, Any]] = []
        offset = None
        with_payload = list(fields) if fields is not None else True
        while True:
            records, offset = self._engine().scroll(
                qe.ScrollRequest(offset=offset, limit=_SCROLL_PAGE, filter=self._filter(conditions), with_payload=with_payload)
            )
            out.extend(dict(r.payload or {}) for r in records)
            if offset is None:
                return out

    def retrieve(self, ids: list[str]) -> list[dict[str, Any]]:
        return [dict(r.payload or {}) for r in self._engine().retrieve(list(ids), with_payload=True, with_vector=False)]

    def count(self, conditions: list[Condition] | None = None) -> int:
        return self._engine().count(self._qe.CountRequest(exact=True, filter=self._filter(conditions)))

    def count_by(self, key: str, conditions: list[Condition] | None = None, *, limit: int) -> dict[str, int]:
        request = self._qe.FacetRequest(key, limit=max(1, limit), exact=True, filter=self._filter(conditions))
        return {hit.value: hit.count for hit in self._engine().facet(request).hits}

    def optimize(self) -> None:
        self._written = True
        self._engine().optimize()

    # Why an ingest seals its writes: the engine keeps what is written in one growing segment
    # until an optimize rebuilds it into an indexed one, and that rebuild maps the whole segment
    # (vectors, graph, sparse index, payload) at once. A fresh 100k-chunk ingest peaked at
    # 3.4 GB in its final optimize, and the peak grew with the archive. Optimizing each time a
    # segment's worth is written, then reopening the shard (which unmaps the pages the rebuild
    # touched) and handing freed heap back, bounds the peak by one segment's rebuild.
    def _seal(self) -> None:
        """Rebuild what was written into indexed segments and reopen the shard."""
        log.info("sealing %.0f MB of written vectors into a segment", self._unsealed_bytes / 2**20)
        self._engine().optimize()
        with self._swap.swap():
            self._shard.flush()
            self._shard.close()
            self._shard = self._qe.EdgeShard.load(str(self._path))
        self._unsealed_bytes = 0
        _release_free_heap()

    def close(self) -> None:
        shard, self._shard = getattr(self, "_shard", None), None
        if shard is not None:
            try:
                if self._written:
                    shard.flush()
            finally:
                shard.close()


class _Guarded:
    """Forwards calls to the engine, naming a damaged index instead of a raw engine error.

    Truncated or deleted storage files are often only noticed when a page is read, long after
    the shard opened; the engine then raises a bare ``Exception`` (or a Rust panic).
    """

    def __init__(self, store: "EdgeStore", path: Path) -> None:
        self._store = store
        self._path = path

    def __getattr__(self, name: str) -> Any:
        store = self._store

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                with store._swap.call():  # the shard of the moment, not one a seal closed
                    return getattr(store._shard, name)(*args, **kwargs)
            except (KeyboardInterrupt, SystemExit, CongvanError):
                raise
            except BaseException as exc:
                raise IndexDamagedError(
                    f"the index in {self._path} is damaged: reading it failed ({_first_line(exc)}). "
                    "Run `congvan ingest --repair` to rebuild it from the source files."
                ) from exc

        return call


class ServerStore(Store):
    """A Qdrant server or cluster through qdrant-client (its local mode serves the tests)."""

    def __init__(self, client: Any, collection: str, dim: int) -> None:
        from qdrant_client import models

        self._m = models
        self._client = client
        self._collection = collection
        try:
            exists = client.collection_exists(collection)
        except Exception as exc:
            raise CongvanError(f"cannot reach the Qdrant server: {exc}") from exc
        if not exists:
            client.create_collection(
                collection,
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={name: models.SparseVectorParams(modifier=models.Modifier.IDF)
                                       for name in SPARSE_NAMES},
            )
            with warnings.catch_warnings():
                # qdrant-client's local mode (tests) warns that it ignores payload indexes.
                warnings.filterwarnings("ignore", message="Payload indexes have no effect")
                for name in KEYWORD_FIELDS:
                    client.create_payload_index(collection, name, models.PayloadSchemaType.KEYWORD)
                for name in INTEGER_FIELDS:
                    client.create_payload_index(collection, name, models.PayloadSchemaType.INTEGER)

    def add_missing_vectors(self) -> list[str]:
        m = self._m
        present = self._client.get_collection(self._collection).config.params.sparse_vectors or {}
        missing = [name for name in SPARSE_NAMES if name not in present]
        for name in missing:
            self._client.create_vector_name(self._collection, name, m.SparseVectorNameConfig(
                sparse=m.SparseVectorConfig(modifier=m.Modifier.IDF)))
        return missing

    @classmethod
    def connect(cls, url: str, api_key: str | None, collection: str, dim: int) -> "ServerStore":
        from qdrant_client import QdrantClient

        return cls(QdrantClient(url=url, api_key=api_key, timeout=30), collection, dim)

    def _filter(self, conditions: list[Condition] | None) -> Any:
        if not conditions:
            return None
        m = self._m
        must, min_should = [], None
        for c in conditions:
            if c.any_of is not None and c.at_least is not None:
                min_should = m.MinShould(conditions=[m.FieldCondition(key=c.key, match=m.MatchValue(value=v))
                                                     for v in c.any_of], min_count=c.at_least)
            elif c.any_of is not None:
                must.append(m.FieldCondition(key=c.key, match=m.MatchAny(any=list(c.any_of))))
            elif c.gte is not None or c.lte is not None:
                must.append(m.FieldCondition(key=c.key, range=m.Range(gte=c.gte, lte=c.lte)))
            else:
                must.append(m.FieldCondition(key=c.key, match=m.MatchValue(value=c.value)))
        return m.Filter(must=must, min_should=min_should)

    def upsert(self, points: list[PointRecord]) -> None:
        m = self._m
        converted = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense is not None:
                vector[DENSE] = [float(x) for x in p.dense]
            if p.sparse is not None and p.sparse.indices:
                vector[p.sparse_name] = m.SparseVector(indices=p.sparse.indices, values=p.sparse.values)
            converted.append(m.PointStruct(id=p.id, vector=vector, payload=p.payload))
        if converted:
            self._client.upsert(self._collection, points=converted, wait=True)

    def delete(self, conditions: list[Condition]) -> None:
        self._client.delete(
            self._collection, points_selector=self._m.FilterSelector(filter=self._filter(conditions)), wait=True
        )

    def search(self, *, dense, sparse, mode="hybrid", limit=10, conditions=None, prefetch_limit=50,
               rrf_k=60, weights=(1.0, 1.0), fusion="rrf", fields=None, sparse_name=SPARSE) -> list[Hit]:
        m = self._m
        flt = self._filter(conditions)
        dense_q = [float(x) for x in dense] if dense is not None else None
        sparse_q = (
            m.SparseVector(indices=sparse.indices, values=sparse.values)
            if sparse is not None and sparse.indices else None
        )
        common = dict(limit=limit, query_filter=flt, with_payload=list(fields) if fields is not None else True)
        if mode == "dense" or (mode == "hybrid" and sparse_q is None):
            result = self._client.query_points(self._collection, query=dense_q, using=DENSE, **common)
        elif mode == "sparse" or dense_q is None:
            if sparse_q is None:
                return []
            result = self._client.query_points(self._collection, query=sparse_q, using=sparse_name, **common)
        elif fusion == "dbsf":
            # Both rankings in one request, fused here: Qdrant's DBSF takes no weights (ingest.fusion).
            found = self._client.query_batch_points(self._collection, requests=[
                m.QueryRequest(query=q, using=name, limit=prefetch_limit, filter=flt, with_payload=common["with_payload"])
                for q, name in ((dense_q, DENSE), (sparse_q, sparse_name))])
            rankings = [[Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in r.points] for r in found]
            return [Hit(h.id, score, h.payload) for h, score in dbsf(rankings, weights, limit)]
        else:
            result = self._client.query_points(
                self._collection,
                prefetch=[
                    m.Prefetch(query=dense_q, using=DENSE, limit=prefetch_limit, filter=flt),
                    m.Prefetch(query=sparse_q, using=sparse_name, limit=prefetch_limit, filter=flt),
                ],
                query=m.RrfQuery(rrf=m.Rrf(k=rrf_k, weights=list(weights))),
                **common,
            )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    def scroll(self, conditions: list[Condition], fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = None
        with_payload = list(fields) if fields is not None else True
        while True:
            records, offset = self._client.scroll(
                self._collection, scroll_filter=self._filter(conditions), limit=_SCROLL_PAGE, offset=offset,
                with_payload=with_payload, with_vectors=False,
            )
            out.extend(dict(r.payload or {}) for r in records)
            if offset is None:
                return out

    def retrieve(self, ids: list[str]) -> list[dict[str, Any]]:
        records = self._client.retrieve(self._collection, ids=list(ids), with_payload=True, with_vectors=False)
        return [dict(r.payload or {}) for r in records]

    def count(self, conditions: list[Condition] | None = None) -> int:
        return self._client.count(self._collection, count_filter=self._filter(conditions), exact=True).count

    def count_by(self, key: str, conditions: list[Condition] | None = None, *, limit: int) -> dict[str, int]:
        found = self._client.facet(self._collection, key, facet_filter=self._filter(conditions),
                                   limit=max(1, limit), exact=True)
        return {hit.value: hit.count for hit in found.hits}

    def close(self) -> None:
        self._client.close()



def open_store(settings: Settings, dim: int, *, location: Literal["live", "staging"] = "live") -> Store:
    """The store the settings name: a Qdrant server when ``qdrant_url`` is set, else embedded Edge.

    ``location="staging"`` opens the empty index a rebuild fills beside the live one.
    """
    if settings.qdrant_url:
        return ServerStore.connect(settings.qdrant_url, _api_key(settings), store_location(settings, location), dim)
    return EdgeStore(store_location(settings, location), dim,
                     segment_max_mb=settings.segment_max_mb, segment_count=settings.segment_count)


def store_location(settings: Settings, location: Literal["live", "staging"]) -> Any:
    """Where an index lives: the shard folder (embedded) or the collection name (server).

    On a server the live name is an alias (or, for collections made before rebuilds swapped,
    a real collection); a rebuild writes to whichever of ``<name>-a`` / ``<name>-b`` the alias
    does not point at, then moves the alias in one request.
    """
    if not settings.qdrant_url:
        folder = Path(settings.data_dir) / "qdrant"
        return folder / (settings.collection if location == "live" else f"{settings.collection}.rebuild")
    if location == "live":
        return settings.collection
    with _client(settings) as client:
        current = _alias_target(client, settings.collection)
    return f"{settings.collection}-b" if current == f"{settings.collection}-a" else f"{settings.collection}-a"


def drop_server_collection(settings: Settings, name: str) -> None:
    """Delete one collection on the server if it exists (a stale staging collection)."""
    with _client(settings) as client:
        if name != _alias_target(client, settings.collection) and client.collection_exists(name):
            client.delete_collection(name)


def swap_server_collection(settings: Settings) -> None:
    """Point the live alias at the finished staging collection, then drop the old collection."""
    from qdrant_client import models

    alias = settings.collection
    staging = store_location(settings, "staging")
    with _client(settings) as client:
        previous = _alias_target(client, alias)
        operations: list[Any] = []
        if previous is not None:
            operations.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
        elif client.collection_exists(alias):
            # A collection made before aliases were used holds the live name itself; it must go
            # before the alias can take that name (the one moment a reader can find no index).
            client.delete_collection(alias)
        operations.append(models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=staging, alias_name=alias)))
        client.update_collection_aliases(change_aliases_operations=operations)
        if previous is not None and previous != staging:
            client.delete_collection(previous)


def _api_key(settings: Settings) -> str | None:
    return settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None


class _client:
    """A short-lived qdrant-client connection for administrative calls."""

    def __init__(self, settings: Settings) -> None:
        from qdrant_client import QdrantClient

        self.client = QdrantClient(url=settings.qdrant_url, api_key=_api_key(settings), timeout=30)

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


def _alias_target(client: Any, alias: str) -> str | None:
    for item in client.get_aliases().aliases:
        if item.alias_name == alias:
            return item.collection_name
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class _SwapLock:
    """Any number of engine calls at once, or one shard swap alone (a seal closing and reopening
    the shard): a swap waits for running calls to end, and new calls wait for the swap."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls = 0
        self._swapping = False

    @contextmanager
    def call(self) -> Iterator[None]:
        with self._cond:
            while self._swapping:
                self._cond.wait()
            self._calls += 1
        try:
            yield
        finally:
            with self._cond:
                self._calls -= 1
                self._cond.notify_all()

    @contextmanager
    def swap(self) -> Iterator[None]:
        with self._cond:
            while self._swapping:
                self._cond.wait()
            self._swapping = True
            while self._calls:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._swapping = False
                self._cond.notify_all()


def _release_free_heap() -> None:
    """Give the C heap's free pages back to the system (glibc only; elsewhere nothing).

    The engine frees a segment rebuild's buffers, but glibc keeps the pages: after three
    rebuilds of 40k points a writer held 300 MB of freed heap, 40 MB after ``malloc_trim``.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
