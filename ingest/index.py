"""The index: an opened store plus the embedding model it was built with.

Opening checks the manifest point so that a query is never embedded by a different model than
the passages it is compared with.
"""

from __future__ import annotations

import shutil
from typing import Any

from ingest.embeddings import Embedder, load_embedder
from ingest.errors import IndexMismatchError
from ingest.models import Chunk, Document
from ingest.store import Condition, PointRecord, Store, open_store, point_id
from rag.settings import Settings

SCHEMA_VERSION = 1
_MANIFEST_ID = point_id("congvan:manifest")


class Index:
    """The collection of one congvan deployment: documents, chunks, file records, manifest."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._check_manifest()

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None) -> "Index":
        """Open (or create) the index the settings point at."""
        embedder = embedder or load_embedder(settings)
        return cls(settings, open_store(settings, embedder.dim), embedder)

    @staticmethod
    def destroy(settings: Settings) -> None:
        """Delete the whole index (``congvan ingest --rebuild``)."""
        if settings.qdrant_url:
            from qdrant_client import QdrantClient

            key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
            client = QdrantClient(url=settings.qdrant_url, api_key=key)
            if client.collection_exists(settings.collection):
                client.delete_collection(settings.collection)
            client.close()
        else:
            shutil.rmtree(settings.data_dir / "qdrant" / settings.collection, ignore_errors=True)

    def _check_manifest(self) -> None:
        found = self.store.retrieve([_MANIFEST_ID])
        wanted = {"kind": "manifest", "embed_model": self.embedder.name, "dim": self.embedder.dim,
                  "schema_version": SCHEMA_VERSION}
        if not found:
            self.store.upsert([PointRecord(_MANIFEST_ID, wanted)])
            return
        manifest = found[0]
        if (manifest.get("embed_model"), manifest.get("dim")) != (self.embedder.name, self.embedder.dim):
            raise IndexMismatchError(
                f"the index was built with embedding model {manifest.get('embed_model')!r} "
                f"({manifest.get('dim')} dimensions) but the settings name {self.embedder.name!r} "
                f"({self.embedder.dim}). Run `congvan ingest --rebuild` to rebuild it, or point "
                "CONGVAN_DATA_DIR / CONGVAN_COLLECTION at another index."
            )
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the index uses storage schema {manifest.get('schema_version')} and this version of "
                f"congvan uses {SCHEMA_VERSION}. Run `congvan ingest --rebuild`."
            )

    # Reading -----------------------------------------------------------------------------

    def documents(self, conditions: list[Condition] | None = None) -> list[Document]:
        """Every indexed document (full text included), ordered by file and position."""
        payloads = self.store.scroll([Condition("kind", "document"), *(conditions or [])])
        docs = [Document.model_validate(p["document"]) for p in payloads]
        return sorted(docs, key=lambda d: (d.file, d.part))

    def document(self, doc_id: str) -> Document | None:
        """One document by id, or None."""
        found = self.store.retrieve([point_id(f"doc:{doc_id}")])
        return Document.model_validate(found[0]["document"]) if found else None

    def chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order."""
        payloads = self.store.scroll([Condition("kind", "chunk"), Condition("doc_id", doc_id)])
        return sorted((Chunk.model_validate(p["chunk"]) for p in payloads), key=lambda c: c.ordinal)

    def file_records(self) -> dict[str, dict[str, Any]]:
        """File key → its record (sha256, fingerprint, doc ids) for every completely indexed file."""
        return {p["file"]: p for p in self.store.scroll([Condition("kind", "file")])}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

