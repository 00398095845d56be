"""The index: an opened store plus the embedding model it was built with.

Opening takes the data directory's lock (one writer at a time, also for ``--rebuild``), and
checks the manifest point so that a query is never embedded by a different model than the
passages it is compared with. The manifest also records the folder that file names are
relative to, so a file has one name whichever directory a command runs from.

A rebuild writes a *staging* index beside the live one and swaps it in only on success
(``swap_in_staging``): until then the live index is untouched.

Every point is read and written through ``ingest.schema`` (typed models ↔ payloads); this
module adds the store operations around them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from ingest.embeddings import Embedder, load_embedder
from ingest.errors import CongvanError, IndexLockedError, IndexMismatchError
from ingest.loaders import real_path
from ingest.models import Chunk, Document
from ingest.schema import (
    CHUNK_TEXT_FIELD,
    MANIFEST_KEY,
    SCHEMA_VERSION,
    TERM_STATS_KEY,
    TERM_STATS_PENDING,
    TERM_STATS_VERSION,
    ChunkPoint,
    DocumentPoint,
    DocumentSummary,
    FileRecord,
    FilterFields,
    Manifest,
    RetrievedChunk,
    SchemaPoint,
    StatePoint,
    SummaryPoint,
    TermStatsPoint,
    chunk_text_of,
    document_key,
    point_id,
    retrieved_from_payload,
    state_key,
)
from ingest.settings import Settings
from ingest.sparse import SparseVector, tokenize
from ingest.store import Condition, Fusion, PointRecord, SearchMode, Store, open_store, store_location

_MANIFEST_ID = point_id(MANIFEST_KEY)
_TERM_STATS_ID = point_id(TERM_STATS_KEY)
_PENDING_ID = point_id(state_key(TERM_STATS_PENDING))
_KNOWN_FILES = "known-files.json"

Location = Literal["live", "staging"]


class DataDirLock:
    """An exclusive lock on a data directory, held while an index in it is open.

    The embedded engine locks its own shard too, but only while the shard is open; this lock
    also covers a rebuild's staging index and its swap, so no other process can open, delete
    or replace the index in between.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / ".congvan.lock"
        self._fd: int | None = None

    def acquire(self) -> "DataDirLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise IndexLockedError(
                f"the index in {self.path.parent} is open in another process (is `python app.py` running?). "
                "Stop that process and try again, or set CONGVAN_QDRANT_URL to share a Qdrant server."
            ) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "DataDirLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class TermCounts:
    """Document frequencies of terms over chunk texts: ``df[term]`` chunks of ``n`` hold it.

    What the answerer's IDF weights are made of; counted with ``ingest.sparse.tokenize``.
    """

    def __init__(self, n: int = 0, df: dict[str, int] | None = None) -> None:
        self.n = n
        self.df: Counter[str] = Counter(df or {})

    def add(self, texts: Iterable[str]) -> None:
        """Count the chunks ``texts`` in."""
        for text in texts:
            self.n += 1
            self.df.update(set(tokenize(text)))

    def remove(self, texts: Iterable[str]) -> None:
        """Count the chunks ``texts`` out (they were counted in before)."""
        touched: set[str] = set()
        for text in texts:
            self.n -= 1
            terms = set(tokenize(text))
            self.df.subtract(terms)
            touched |= terms
        # Only the terms counted out can have reached zero: looking at those alone keeps a
        # file's replacement (every new file begins with one) from costing a pass over the
        # whole vocabulary, which made an ingest slow down as the archive grew.
        for term in touched:
            if self.df[term] <= 0:
                del self.df[term]


class Index:
    """The collection of one congvan deployment: documents, chunks, file records, manifest."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder, *,
                 lock: DataDirLock | None = None, check_manifest: bool = True,
                 files_root: Path | None = None, location: Location = "live") -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._lock = lock
        self.location = location
        self.files_root = Path(files_root) if files_root is not None else default_files_root(settings)
        # The term counts of an ingest run in progress (``_stats_run``), and its token.
        self._stats_run: TermCounts | None = None
        self._stats_token: str | None = None
        self._stats_trusted = False
        # Files whose points changed since ``take_changed_files`` was last called: readers that
        # keep a catalogue refresh those entries only.
        self._changed_files: set[str] = set()
        self._summaries_known = False  # see _summaries_complete
        self._read_manifest(check=check_manifest)

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None, location: Location = "live",
             lock: DataDirLock | None = None, check_manifest: bool = True,
             files_root: Path | None = None) -> "Index":
        """Open (or create) the index the settings point at.

        The data directory's lock is taken for as long as the index is open, unless the caller
        passes one it already holds (a rebuild holds it across the staging index and the swap).
        ``check_manifest=False`` opens an index built with another model, to read its file list.
        ``files_root`` is recorded in a new index instead of the default (a rebuild keeps the
        old index's names).
        """
        embedder = embedder or load_embedder(settings)
        own_lock = None
        if lock is None and not settings.qdrant_url:
            own_lock = lock = DataDirLock(settings.data_dir).acquire()
        try:
            if location == "live" and not settings.qdrant_url:
                _recover_interrupted_swap(settings)
            store = open_store(settings, embedder.dim, location=location)
            try:
                return cls(settings, store, embedder, lock=own_lock, check_manifest=check_manifest,
                           files_root=files_root, location=location)
            except BaseException:
                store.close()
                raise
        except BaseException:
            if own_lock is not None:
                own_lock.release()
            raise

    def file_key(self, path: Path, dirs: dict[str, str] | None = None) -> str:
        """How ``path`` is named in this index (see ``file_key``; ``dirs``: folders already
        resolved in this run)."""
        return file_key(path, self.files_root, dirs)

    def path_of(self, key: str) -> Path:
        """The file on disk that an index key names."""
        path = Path(key)
        return path if path.is_absolute() else self.files_root / path

    def _adopt_legacy_root(self, manifest: Manifest) -> None:
        """Record the files root of an index made before roots were recorded.

        Such indexes named files relative to the working directory of the command that added
        them (usually the project folder, which is also the default root). The root under which
        the recorded relative names exist on disk is adopted once and written to the manifest;
        from then on names no longer depend on the working directory.
        """
        relative = [key for key in list(self.file_records())[:50] if not Path(key).is_absolute()]
        if relative:
            candidates = [self.files_root, Path.cwd().resolve()]
            score = {root: sum((root / key).exists() for key in relative) for root in candidates}
            self.files_root = max(candidates, key=lambda root: score[root])  # ties keep the default
        self.write([manifest.model_copy(update={"files_root": str(self.files_root)})])

    def _read_manifest(self, *, check: bool) -> None:
        found = self.store.retrieve([_MANIFEST_ID])
        if not found:
            self.write([Manifest(embed_model=self.embedder.name, dim=self.embedder.dim,
                                 schema_version=SCHEMA_VERSION, files_root=str(self.files_root))])
            return
        manifest = Manifest.from_payload(found[0])
        if manifest.files_root:
            self.files_root = Path(manifest.files_root)
        elif check:
            self._adopt_legacy_root(manifest)
        if not check:
            return
        if (manifest.embed_model, manifest.dim) != (self.embedder.name, self.embedder.dim):
            raise IndexMismatchError(
                f"the index was built with embedding model {manifest.embed_model!r} "
                f"({manifest.dim} dimensions) but the settings name {self.embedder.name!r} "
                f"({self.embedder.dim}). Run `congvan ingest --rebuild` to rebuild it, or point "
                "CONGVAN_DATA_DIR / CONGVAN_COLLECTION at another index."
            )
        if manifest.schema_version != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the index uses storage schema {manifest.schema_version} and this version of "
                f"congvan uses {SCHEMA_VERSION}. Run `congvan ingest --rebuild`."
            )

    # Writing -----------------------------------------------------------------------------

    def write(self, points: Sequence[SchemaPoint]) -> None:
        """Write payload-only points (documents, file records, manifest, state). A document's
        summary point (its catalogue entry) is written with it."""
        records = []
        for p in points:
            records.append(point_record(p))
            if isinstance(p, DocumentPoint):
                records.append(point_record(SummaryPoint.of(DocumentSummary.of(p.document, p.chunks))))
        self.store.upsert(records)

    def add_missing_summaries(self) -> int:
        """Write the summary points an index written before them lacks, from its document points
        (their texts left in the engine); returns how many. Until then the catalogue is read
        from the document points."""
        if self._summaries_complete():
            return 0
        have = {FilterFields.from_payload(p).doc_id for p in self.store.scroll(
            [Condition("kind", SummaryPoint.KIND)], fields=list(FilterFields.model_fields))}
        missing = [DocumentSummary.from_payload(p) for p in self.store.scroll(
            [Condition("kind", DocumentPoint.KIND)], fields=list(DocumentSummary.FIELDS))]
        points = [point_record(SummaryPoint.of(s)) for s in missing if s.doc_id not in have]
        self.store.upsert_in_batches(points)
        return len(points)

    def _summaries_complete(self) -> bool:
        """Every document has its summary point. Once true it stays so for this handle (``write``
        adds a summary with every document, a file's deletion removes both), so filtered
        questions do not pay two counts each; until then it is counted again, in case another
        process added them."""
        if not self._summaries_known:
            self._summaries_known = self.store.count([Condition("kind", SummaryPoint.KIND)]) == \
                self.store.count([Condition("kind", DocumentPoint.KIND)])
        return self._summaries_known

    # Reading -----------------------------------------------------------------------------

    def documents(self, conditions: list[Condition] | None = None) -> list[Document]:
        """Every indexed document (full text included), ordered by file and position. Its memory
        grows with the archive: what answers a question reads ``catalogue`` and
        ``documents_by_id`` instead."""
        payloads = self.store.scroll([Condition("kind", DocumentPoint.KIND), *(conditions or [])])
        docs = [DocumentPoint.from_payload(p).document for p in payloads]
        return sorted(docs, key=lambda d: (d.file, d.part))

    def document_ids(self, conditions: list[Condition] | None = None) -> set[str]:
        """Ids of the documents matching ``conditions`` (the retriever's filter conditions).

        The store evaluates the conditions, so a filter means the same for documents as for
        the chunks a search returns; only the filter fields are read, not the full texts.
        """
        kind = SummaryPoint.KIND if self._summaries_complete() else DocumentPoint.KIND
        payloads = self.store.scroll([Condition("kind", kind), *(conditions or [])],
                                     fields=list(FilterFields.model_fields))
        return {FilterFields.from_payload(p).doc_id for p in payloads}

    def catalogue(self, conditions: list[Condition] | None = None) -> list[DocumentSummary]:
        """Every indexed document without its text (``DocumentSummary``), ordered by file and
        position, read from the summary points (or, in an index written before them, from the
        document points with ``DocumentSummary.FIELDS`` only)."""
        if self._summaries_complete():
            payloads = self.store.scroll([Condition("kind", SummaryPoint.KIND), *(conditions or [])],
                                         fields=["summary"])
            docs = [DocumentSummary.model_validate(p["summary"]) for p in payloads]
        else:
            payloads = self.store.scroll([Condition("kind", DocumentPoint.KIND), *(conditions or [])],
                                         fields=list(DocumentSummary.FIELDS))
            docs = [DocumentSummary.from_payload(p) for p in payloads]
        return sorted(docs, key=lambda d: (d.file, d.part))

    def document(self, doc_id: str) -> Document | None:
        """One document by id, or None."""
        found = self.store.retrieve([point_id(document_key(doc_id))])
        return DocumentPoint.from_payload(found[0]).document if found else None

    def documents_by_id(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """The documents (full text included) of ``doc_ids`` that exist, by id, read in one request."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        docs = (DocumentPoint.from_payload(p).document
                for p in self.store.retrieve([point_id(document_key(i)) for i in ids]))
        return {d.doc_id: d for d in docs}

    def chunks(self, doc_id: str | None = None) -> list[Chunk]:
        """The chunks of one document in order, or with no ``doc_id`` every chunk of the index
        (by document id, then in order)."""
        conditions = [Condition("kind", ChunkPoint.KIND)]
        if doc_id is not None:
            conditions.append(Condition("doc_id", doc_id))
        chunks = (ChunkPoint.from_payload(p).chunk for p in self.store.scroll(conditions))
        return sorted(chunks, key=lambda c: (c.doc_id, c.ordinal))

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
    ) -> list[RetrievedChunk]:
        """The top chunks for query vectors within ``conditions``, best first, with their scores
        (see ``Store.search`` for the modes and fusions). Only chunk points are searched."""
        hits = self.store.search(
            dense=dense, sparse=sparse, mode=mode, limit=limit,
            conditions=[Condition("kind", ChunkPoint.KIND), *(conditions or [])],
            prefetch_limit=prefetch_limit, rrf_k=rrf_k, weights=weights, fusion=fusion,
        )
        return [retrieved_from_payload(h.payload, h.score) for h in hits]

    # Term statistics -----------------------------------------------------------------------

    def term_counts(self) -> TermCounts:
        """The term statistics of every chunk: the persisted point (one read), or, for an index
        without them (made before they were kept) or with stale ones (an interrupted run),
        counted from every chunk once and written when no other writer can be at work."""
        found = self._read_term_stats()
        if found is not None:
            return found
        counts = self.count_terms()
        pending = self.state(TERM_STATS_PENDING)
        # The data directory's lock excludes other writers; on a server only a missing point is
        # written here (a pending flag may be another process's run, which writes them itself).
        if self._stats_token is None and (not self.settings.qdrant_url or pending is None):
            self._save_term_stats(counts)
        return counts

    def _read_term_stats(self) -> TermCounts | None:
        """The persisted term statistics when present, current and not being changed; else None."""
        point, pending = None, None
        for payload in self.store.retrieve([_TERM_STATS_ID, _PENDING_ID]):
            if payload.get("kind") == TermStatsPoint.KIND:
                point = TermStatsPoint.from_payload(payload)
            elif payload.get("kind") == StatePoint.KIND:
                pending = StatePoint.from_payload(payload).value
        if point is None or pending or point.version != TERM_STATS_VERSION:
            return None
        return TermCounts(point.n, point.df())

    def count_terms(self) -> TermCounts:
        """Term statistics counted from every chunk point (a scroll of their texts only)."""
        counts = TermCounts()
        counts.add(self._chunk_texts([Condition("kind", ChunkPoint.KIND)]))
        return counts

    def _chunk_texts(self, conditions: list[Condition]) -> list[str]:
        return [chunk_text_of(p) for p in self.store.scroll(conditions, fields=[CHUNK_TEXT_FIELD])]

    def _save_term_stats(self, counts: TermCounts) -> None:
        # The statistics first, then the flag cleared: a crash in between leaves them stale.
        self.write([TermStatsPoint.of(counts.n, counts.df)])
        self.set_state(TERM_STATS_PENDING, None)

    def _stats_for_update(self) -> TermCounts | None:
        """The counts an ingest run changes (None: recounted when it ends), begun at its first
        change: the pending flag is set to the run's token before any chunk changes."""
        if self._stats_token is None:
            current = self._read_term_stats()
            if current is None and self.state(TERM_STATS_PENDING) is None \
                    and not self.store.count([Condition("kind", ChunkPoint.KIND)]):
                current = TermCounts()  # a new, empty index: nothing to recount
            self._stats_trusted = current is not None
            self._stats_run = current
            self._stats_token = uuid.uuid4().hex
            self.set_state(TERM_STATS_PENDING, self._stats_token)
        return self._stats_run

    def add_chunks(self, points: list[PointRecord], texts: list[str]) -> None:
        """Write chunk points (``texts``: their passages) and count them into the term statistics."""
        counts = self._stats_for_update()
        self.store.upsert(points)
        if counts is not None:
            counts.add(texts)

    def delete_file(self, key: str) -> None:
        """Delete every point of file ``key``, counting its chunks out of the term statistics.
        Every change to a file's points begins here (a file is replaced by deleting it first)."""
        self._changed_files.add(key)
        counts = self._stats_for_update()
        texts = [] if counts is None else self._chunk_texts(
            [Condition("kind", ChunkPoint.KIND), Condition("file", key)])
        self.store.delete([Condition("file", key)])
        if counts is not None:
            counts.remove(texts)

    def take_changed_files(self) -> set[str]:
        """The files whose points were deleted or replaced since the last call (then forgotten)."""
        changed, self._changed_files = self._changed_files, set()
        return changed

    def recount_term_stats(self) -> None:
        """Have this run recount the term statistics when it ends: points were lost without
        being counted out (damaged storage), so counting changes no longer adds up."""
        self._stats_for_update()
        self._stats_trusted = False

    def finish_term_stats(self) -> None:
        """End an ingest run's changes: write its term statistics and clear the pending flag.

        A run whose token was replaced meanwhile (another process's run on a shared server)
        marks them stale instead, for the next reader to recount. A run that began on stale or
        missing statistics recounts them now from every chunk."""
        token, counts, trusted = self._stats_token, self._stats_run, self._stats_trusted
        self._stats_token, self._stats_run, self._stats_trusted = None, None, False
        if token is None:
            return
        if self.state(TERM_STATS_PENDING) != token:
            self.set_state(TERM_STATS_PENDING, "stale")
            return
        self._save_term_stats(counts if trusted and counts is not None else self.count_terms())

    def file_records(self) -> dict[str, FileRecord]:
        """File key → its record (sha256, fingerprint, doc ids) for every completely indexed file."""
        records = (FileRecord.from_payload(p) for p in self.store.scroll([Condition("kind", FileRecord.KIND)]))
        return {r.file: r for r in records}

    def state(self, name: str) -> Any:
        """A value the application recorded in the index (``set_state``), or None."""
        found = self.store.retrieve([point_id(state_key(name))])
        return StatePoint.from_payload(found[0]).value if found else None

    def set_state(self, name: str, value: Any) -> None:
        """Record a small value in the index itself, so it travels and is rebuilt with it."""
        self.write([StatePoint(name=name, value=value)])

    def remember_files(self) -> None:
        """Write the list of indexed files beside the live index, so a damaged index can be
        rebuilt and files it silently lost are noticed (``lost_files``)."""
        if self.location == "live":
            save_known_files(self.settings, self.files_root, sorted(self.file_records()))

    def lost_files(self, records: dict[str, Any] | None = None) -> list[str]:
        """Files the saved list names that the live index no longer has a record of.

        Every change to the set of indexed files rewrites that list, so a name missing from the
        index means damaged storage lost it (a truncated id map drops points and records alike).
        """
        saved = known_files(self.settings) if self.location == "live" else None
        if saved is None or saved[0] != self.files_root:
            return []
        records = self.file_records() if records is None else records
        return [key for key in saved[1] if key not in records]

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()



def point_record(point: SchemaPoint, dense: list[float] | None = None, sparse: SparseVector | None = None) -> PointRecord:
    """The store record of a schema point: its id and payload, plus vectors for chunk points."""
    return PointRecord(point.point_id, point.to_payload(), dense, sparse)


def default_files_root(settings: Settings) -> Path:
    """The folder file names are relative to when an index is created: the setting, or the
    folder holding the data directory (the project folder with the default ``data``)."""
    root = settings.files_root if settings.files_root is not None else Path(settings.data_dir).resolve().parent
    return Path(root).resolve()


def file_key(path: Path, root: Path, dirs: dict[str, str] | None = None) -> str:
    """How a file is named in the index: relative to ``root`` when inside it, else absolute.

    Never relative to the working directory, so the same file ingested from two directories
    is one file, not two. ``dirs``: real paths of folders resolved earlier in the same run
    (``ingest.loaders.real_path``), so a run over many files resolves each folder once.
    """
    absolute = os.path.abspath(path)
    try:
        # A link itself is resolved by Path.resolve(), which refuses a loop (kept as given).
        if dirs is None or os.path.islink(absolute):
            resolved = str(Path(absolute).resolve())
        else:
            resolved = real_path(absolute, dirs)
    except (OSError, RuntimeError):
        resolved = absolute
    # String operations, not PurePath.relative_to: an unchanged re-ingest names 10,000 files.
    top = str(root)
    if resolved == top:
        return "."
    inside = top.rstrip("/") + "/"
    return resolved[len(inside):] if resolved.startswith(inside) else resolved


def save_known_files(settings: Settings, root: Path, keys: list[str]) -> None:
    """Write the live index's file list beside it (atomically): see ``Index.remember_files``."""
    target = Path(settings.data_dir) / _KNOWN_FILES
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"files_root": str(root), "files": keys}, ensure_ascii=False, indent=1),
                   encoding="utf-8")
    os.replace(tmp, target)


def known_files(settings: Settings) -> tuple[Path, list[str]] | None:
    """The file list written by ``Index.remember_files``: (files root, keys), or None."""
    target = Path(settings.data_dir) / _KNOWN_FILES
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        return Path(data["files_root"]), [str(k) for k in data["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard_staging(settings: Settings) -> None:
    """Remove what an earlier, unfinished rebuild left beside the live index."""
    if settings.qdrant_url:
        from ingest.store import drop_server_collection

        drop_server_collection(settings, store_location(settings, "staging"))
    else:
        shutil.rmtree(store_location(settings, "staging"), ignore_errors=True)


def swap_in_staging(settings: Settings) -> None:
    """Make the finished staging index the live one. Both must be closed; the lock held.

    Embedded: two renames in one folder (live → .old, staging → live), then the old one is
    deleted; a crash between the renames is undone at the next open. Server: the collection
    alias is switched in one request.
    """
    if settings.qdrant_url:
        from ingest.store import swap_server_collection

        swap_server_collection(settings)
        return
    live = Path(store_location(settings, "live"))
    staging = Path(store_location(settings, "staging"))
    old = live.with_name(live.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if live.exists():
        live.rename(old)
    staging.rename(live)
    shutil.rmtree(old, ignore_errors=True)


def _recover_interrupted_swap(settings: Settings) -> None:
    """A crash between the two renames of a swap leaves only ``.old``: put it back."""
    live = Path(store_location(settings, "live"))
    old = live.with_name(live.name + ".old")
    if not live.exists() and old.exists():
        old.rename(live)
