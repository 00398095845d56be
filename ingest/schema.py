"""The point schema of the congvan collection: what every point holds, and its id.

This module owns the payload format of every point except the register's items (obligations,
targets, relations; see ``ingest.register``):

- chunk points (``ChunkPoint``): a ``Chunk``, its section path and the document's filter fields,
  with the dense and sparse vectors;
- document points (``DocumentPoint``): a ``Document`` (full text), filter fields, chunk count;
- summary points (``SummaryPoint``): the same document without its text (``DocumentSummary``),
  written with it, what the catalogue reads;
- file records (``FileRecord``), written last for a file, which mark it as completely indexed;
- the manifest (``Manifest``): embedding model, vector size, schema version, files root;
- state points (``StatePoint``): small values the application records in the index;
- the term statistics (``TermStatsPoint``): document frequencies of the chunks' terms, kept
  up to date by ingest so the answerer reads them in one point instead of scrolling every chunk;
- dense backlog points (``DenseBacklogPoint``): a file whose chunks were written with their
  sparse vectors only (``congvan ingest --sparse-first``), waiting for ``congvan embed``.

It is the one place that turns a model into a payload dict and a point id (``point_id``,
``to_payload``) and a payload dict back into a model (``from_payload``), so no other module
reads or writes payload keys; the store (``ingest.store``) only moves dicts to and from the
engine. It also declares the payload fields filters match on (``KEYWORD_FIELDS``,
``INTEGER_FIELDS``), which the store indexes.

The payloads are those every index so far was written with (same keys, nesting and key
order; ``tests/test_schema.py`` pins them), so existing indexes are read as they are. Change a
payload here only together with ``SCHEMA_VERSION``, which makes older indexes ask for a rebuild.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal, Self, Union

from pydantic import BaseModel, Field

from ingest.models import Chunk, Document, DocumentMetadata

SCHEMA_VERSION = 1
"""Version of the payload format; an index written with another version must be rebuilt."""

# Payload fields filtered on; both store backends index them when a collection is created.
KEYWORD_FIELDS = ("kind", "file", "doc_id", "doc_type", "number", "issuer", "terms")
INTEGER_FIELDS = ("date_key", "terms_version")

_ID_NAMESPACE = uuid.UUID("5b0c3f9e-6a43-4d3e-9d7c-2f1c0e8a7b11")


def point_id(key: str) -> str:
    """Qdrant ids must be UUIDs or integers: a uuid5 of a stable key (``chunk:<chunk_id>``, ...)."""
    return str(uuid.uuid5(_ID_NAMESPACE, key))


def date_key(iso: str | None) -> int | None:
    """Sortable integer of an ISO partial date: '2024-10-23' → 20241023, '2024-10' → 20241000.

    Stored on chunk and document points so a date range is one indexed integer condition.
    """
    if not iso:
        return None
    parts = [int(p) for p in iso.split("-")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


class _Point(BaseModel):
    """A point the schema writes; subclasses declare ``kind`` and how their id is keyed."""

    KIND: ClassVar[str]

    @property
    def point_id(self) -> str:
        """The point's id in the collection (a uuid5 of its stable key)."""
        return point_id(self.key)

    @property
    def key(self) -> str:
        """The stable key the id is made from ('chunk:<chunk_id>', 'doc:<doc_id>', ...)."""
        raise NotImplementedError

    def to_payload(self) -> dict[str, Any]:
        """The payload written to the store (field order is the on-disk key order)."""
        return self.model_dump()

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Self:
        """The model of a payload read from the store; ``ValueError`` when it is not one."""
        return cls.model_validate(payload)


class FilterFields(_Point):
    """Flat copies of a document's identity and metadata that store filters match on.

    Chunk and document points both carry them, so a filter (issuer, type, number, file, dates)
    is one indexed condition on either kind of point. Read alone (``from_payload``) from
    either, when only a point's document matters.
    """

    file: str
    doc_id: str
    doc_type: str | None = None
    number: str | None = None
    issuer: str | None = None
    date: str | None = None
    date_key: int | None = None


def filter_fields(doc: Document) -> dict[str, Any]:
    """The ``FilterFields`` of ``doc``, as keyword arguments for the points that carry them."""
    meta = doc.metadata
    return {"file": doc.file, "doc_id": doc.doc_id, "doc_type": meta.doc_type, "number": meta.number,
            "issuer": meta.issuer, "date": meta.date, "date_key": date_key(meta.date)}


class RetrievedChunk(BaseModel):
    """A chunk returned by retrieval, with enough document context to show and cite it."""

    doc_id: str
    chunk_id: str
    file: str
    number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    date: str | None = None
    section: str = ""
    text: str
    start: int
    end: int
    score: float


class ChunkPoint(FilterFields):
    """A passage with its document's filter fields; the only kind of point with vectors."""

    KIND: ClassVar[str] = "chunk"
    kind: Literal["chunk"] = "chunk"
    chunk: Chunk
    section_path: str = Field(description="``chunk.section_path``, stored for display without rebuilding it.")

    @classmethod
    def of(cls, chunk: Chunk, doc: Document) -> "ChunkPoint":
        """The point of ``chunk``, a passage of ``doc``."""
        return cls(**filter_fields(doc), chunk=chunk, section_path=chunk.section_path)

    @property
    def key(self) -> str:
        return f"chunk:{self.chunk.chunk_id}"

    def retrieved(self, score: float) -> RetrievedChunk:
        """The chunk as retrieval returns it, with ``score``."""
        c = self.chunk
        return RetrievedChunk(
            doc_id=c.doc_id, chunk_id=c.chunk_id, file=self.file, number=self.number, doc_type=self.doc_type,
            issuer=self.issuer, date=self.date, section=self.section_path, text=c.text, start=c.start,
            end=c.end, score=score,
        )


def retrieved_chunk(chunk: Chunk, doc: Document, score: float) -> RetrievedChunk:
    """``chunk`` of ``doc`` as retrieval returns it: the same record a search hit becomes."""
    return ChunkPoint.of(chunk, doc).retrieved(score)


def retrieved_from_payload(payload: dict[str, Any], score: float) -> RetrievedChunk:
    """A chunk point's payload (a search hit) as a ``RetrievedChunk`` with ``score``."""
    return ChunkPoint.from_payload(payload).retrieved(score)


class DocumentPoint(FilterFields):
    """A document (metadata and full text), payload only."""

    KIND: ClassVar[str] = "document"
    kind: Literal["document"] = "document"
    document: Document
    chunks: int = Field(description="How many chunk points the document has.")

    @classmethod
    def of(cls, doc: Document, chunks: int) -> "DocumentPoint":
        """The point of ``doc``, which was cut into ``chunks`` chunks."""
        return cls(**filter_fields(doc), document=doc, chunks=chunks)

    @property
    def key(self) -> str:
        return document_key(self.doc_id)


def document_key(doc_id: str) -> str:
    """The stable key of a document point (its id is ``point_id`` of it)."""
    return f"doc:{doc_id}"


class DocumentSummary(BaseModel):
    """A document without its text (nor its pages): what document lists, filters and number
    lookups need, read from a document point with ``FIELDS`` only, so the catalogue of a large
    archive costs its metadata, not its texts. Not a point of its own: a view of
    ``DocumentPoint``; the full ``Document`` is read on demand (``Index.documents_by_id``)."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "document.doc_id", "document.file", "document.part", "document.file_sha256", "document.kind",
        "document.start", "document.metadata", "chunks")
    """The payload paths read (nested paths select inside ``document``, leaving its text out)."""

    doc_id: str
    file: str
    part: int = 0
    file_sha256: str
    kind: str
    start: int = 0
    metadata: DocumentMetadata = Field(default_factory=DocumentMetadata)
    chunks: int = Field(0, description="How many chunk points the document has.")

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "DocumentSummary":
        """The summary of a document point's payload (whole, or read with ``FIELDS`` only)."""
        doc = payload["document"]
        return cls(**{k: doc[k] for k in ("doc_id", "file", "part", "file_sha256", "kind", "start", "metadata")
                      if k in doc}, chunks=payload.get("chunks", 0))

    @classmethod
    def of(cls, doc: Document, chunks: int = 0) -> "DocumentSummary":
        """The summary of a full ``doc``."""
        return cls(doc_id=doc.doc_id, file=doc.file, part=doc.part, file_sha256=doc.file_sha256, kind=doc.kind,
                   start=doc.start, metadata=doc.metadata, chunks=chunks)


class SummaryPoint(FilterFields):
    """A document's ``DocumentSummary`` in a payload-only point of its own, written with its
    ``DocumentPoint`` (``Index.write``). The engine decodes a point's whole payload even to hand
    back a few fields, so a catalogue read from document points decoded every text (3 s for
    11,000 documents); these points cost their metadata only. An index written before them is
    read from its document points until an ingest adds them (``Index.add_missing_summaries``)."""

    KIND: ClassVar[str] = "summary"
    kind: Literal["summary"] = "summary"
    summary: DocumentSummary

    @classmethod
    def of(cls, summary: DocumentSummary) -> "SummaryPoint":
        """The point of a document's ``summary``."""
        meta = summary.metadata
        return cls(file=summary.file, doc_id=summary.doc_id, doc_type=meta.doc_type, number=meta.number,
                   issuer=meta.issuer, date=meta.date, date_key=date_key(meta.date), summary=summary)

    @property
    def key(self) -> str:
        return f"summary:{self.doc_id}"


class FileRecord(_Point):
    """What was indexed for one file; written last, so its presence marks the file as complete."""

    KIND: ClassVar[str] = "file"
    kind: Literal["file"] = "file"
    file: str = Field(description="The file's key in the index (relative to the files root).")
    sha256: str
    fingerprint: str = Field(description="Pipeline settings the file was indexed with; a change redoes it.")
    doc_ids: list[str]
    chunks: int
    ingested_at: str = Field(description="UTC ISO time, to the second.")

    @property
    def key(self) -> str:
        return f"file:{self.file}"


MANIFEST_KEY = "congvan:manifest"
"""The stable key of the one manifest point."""


class Manifest(_Point):
    """How the index was built. Fields are optional when read: older indexes lack some."""

    KIND: ClassVar[str] = "manifest"
    kind: Literal["manifest"] = "manifest"
    embed_model: str | None = None
    dim: int | None = None
    schema_version: int | None = None
    files_root: str | None = Field(None, description="The folder file keys are relative to.")

    @property
    def key(self) -> str:
        return MANIFEST_KEY


class StatePoint(_Point):
    """A small value the application records in the index (e.g. 'corpus_ingested')."""

    KIND: ClassVar[str] = "state"
    kind: Literal["state"] = "state"
    name: str
    value: Any = None

    @property
    def key(self) -> str:
        return state_key(self.name)


def state_key(name: str) -> str:
    """The stable key of a state point."""
    return f"congvan:state:{name}"


TERM_STATS_KEY = "congvan:term-stats"
"""The stable key of the one term statistics point."""

TERM_STATS_VERSION = 1
"""Version of what the term statistics count (``ingest.sparse.tokenize`` over chunk texts);
persisted statistics of another version are recounted."""

CHUNK_TEXT_FIELD = "chunk.text"
"""The payload path of a chunk point's passage text: read alone when counting terms."""


def chunk_text_of(payload: dict[str, Any]) -> str:
    """The passage text of a chunk point's payload (whole, or read with ``CHUNK_TEXT_FIELD`` only)."""
    return str(payload["chunk"]["text"])


class TermStatsPoint(_Point):
    """Document frequencies of terms over every chunk point (``n`` of them), payload only.

    Terms and their counts are two parallel lists (terms are arbitrary strings, unsafe as
    payload keys). Ingest updates it with each run; ``term_stats_pending`` (a ``StatePoint``)
    says a run changed chunks without writing it yet, so it is not to be trusted.
    """

    KIND: ClassVar[str] = "term_stats"
    kind: Literal["term_stats"] = "term_stats"
    version: int = TERM_STATS_VERSION
    n: int = 0
    terms: list[str] = Field(default_factory=list)
    counts: list[int] = Field(default_factory=list)

    @classmethod
    def of(cls, n: int, df: dict[str, int]) -> "TermStatsPoint":
        """The point of ``n`` chunks whose terms occur in ``df[term]`` of them (zero counts dropped)."""
        items = sorted((t, c) for t, c in df.items() if c > 0)
        return cls(n=n, terms=[t for t, _ in items], counts=[c for _, c in items])

    def df(self) -> dict[str, int]:
        """Term → number of chunks it occurs in."""
        return dict(zip(self.terms, self.counts))

    @property
    def key(self) -> str:
        return TERM_STATS_KEY


TERM_STATS_PENDING = "term_stats_pending"
"""The ``StatePoint`` name an ingest run sets (to its run token) before changing chunks and
clears after writing the term statistics; any other value means they are stale."""


class DenseBacklogPoint(_Point):
    """A file whose chunk points lack their dense vectors, payload only.

    A sparse-first ingest writes a file's chunks with the sparse vector alone (searchable by
    keywords at once) and this point before the file record; ``ingest.backfill`` embeds the
    chunks, rewrites them with both vectors and deletes it. It carries the file's key in
    ``file``, so deleting a file's points (a re-ingest, a prune) removes it with them.
    """

    KIND: ClassVar[str] = "dense_backlog"
    kind: Literal["dense_backlog"] = "dense_backlog"
    file: str = Field(description="The file's key in the index.")
    chunk_ids: list[str] = Field(description="The chunks written without a dense vector, in order.")

    @property
    def key(self) -> str:
        return dense_backlog_key(self.file)


def dense_backlog_key(file: str) -> str:
    """The stable key of a file's dense backlog point."""
    return f"dense-backlog:{file}"


SchemaPoint = Union[ChunkPoint, DocumentPoint, SummaryPoint, FileRecord, Manifest, StatePoint, TermStatsPoint,
                    DenseBacklogPoint]
"""Every point type this module owns."""
