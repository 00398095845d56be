"""Completing a sparse-first ingest: dense vectors for the chunks that were written without.

``ingest_paths(..., sparse_first=True)`` (``congvan ingest --sparse-first``, and every upload
in the web app) writes a file's chunks with their sparse vectors only and one
``DenseBacklogPoint`` listing them. ``embed_backlog`` (``congvan embed``) works through those
points file by file: it reads the file's chunk payloads, embeds ``dense_text`` of each chunk,
writes every chunk point again with the same payload, the same sparse vector and its dense
vector (the point a plain ingest writes), and deletes the file's backlog point last.

Resumable: an interruption anywhere leaves the file in progress in the backlog (it is done
again, which rewrites the same points), and every file finished before is not touched again.
Chunk texts do not change, so the term statistics stay as they are (nothing to recount), and
the file records and fingerprints are unchanged. A re-ingest or prune of a file deletes its
backlog point together with its other points (it carries the file's key in ``file``).

On a shared Qdrant server, run it while no other process ingests the same files: a file
re-ingested between the read and the write of its chunks would get its old chunks back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from ingest.index import Index
from ingest.pipeline import Progress, chunk_sparse_vector, dense_text
from ingest.schema import ChunkPoint, DenseBacklogPoint, point_id
from ingest.store import Condition, PointRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacklogSize:
    """How much waits for dense vectors: files and their chunks."""

    files: int = 0
    chunks: int = 0


@dataclass
class BackfillSummary:
    """What one ``embed_backlog`` call did, and what still waits after it."""

    files: int = 0
    chunks: int = 0
    missing: int = 0  # chunks a backlog point listed that the index no longer had
    remaining: BacklogSize = BacklogSize()
    seconds: float = 0.0


def dense_backlog(index: Index) -> list[DenseBacklogPoint]:
    """Every file waiting for dense vectors, by file key."""
    points = (DenseBacklogPoint.from_payload(p)
              for p in index.store.scroll([Condition("kind", DenseBacklogPoint.KIND)]))
    return sorted(points, key=lambda p: p.file)


def backlog_size(index: Index) -> BacklogSize:
    """Files and chunks waiting for dense vectors (one scroll of the backlog points)."""
    points = dense_backlog(index)
    return BacklogSize(files=len(points), chunks=sum(len(p.chunk_ids) for p in points))


def embed_backlog(index: Index, progress: Progress | None = None, limit: int | None = None) -> BackfillSummary:
    """Give every chunk of the dense backlog its dense vector, file by file (at most ``limit``
    files this call), and remove each file from the backlog when it is done.

    ``progress(done_chunks, total_chunks, current_file)`` is called after each embedded batch;
    the total is the whole backlog's (or the ``limit`` files'). Errors of the embedder or the
    store propagate: the file in progress stays in the backlog for the next call.
    """
    began = time.perf_counter()
    summary = BackfillSummary()
    todo = dense_backlog(index)
    if limit is not None:
        todo = todo[:max(0, limit)]
    total = sum(len(p.chunk_ids) for p in todo)
    batch = max(1, index.settings.embed_batch_size)
    done = 0
    for item in todo:
        payloads = index.store.retrieve([point_id(f"chunk:{cid}") for cid in item.chunk_ids])
        chunk_points = {}
        for payload in payloads:
            point = ChunkPoint.from_payload(payload)
            if point.file == item.file:
                chunk_points[point.chunk.chunk_id] = (point, payload)
        # In the order ingest wrote them; a listed chunk that is gone (damaged storage) is
        # skipped: the file's record check (``_PointCounts.missing`` in ``ingest.pipeline``)
        # redoes such a file at the next ingest anyway.
        ordered = [chunk_points[cid] for cid in item.chunk_ids if cid in chunk_points]
        summary.missing += len(item.chunk_ids) - len(ordered)
        for i in range(0, len(ordered), batch):
            group = ordered[i:i + batch]
            vectors = index.embedder.embed_passages([dense_text(point.chunk) for point, _ in group])
            index.store.upsert([
                PointRecord(point.point_id, payload, vector.tolist(), chunk_sparse_vector(index, point.chunk))
                for (point, payload), vector in zip(group, vectors)
            ])
            if progress:
                progress(done + i + len(group), total, item.file)
        # Last: while this point exists the file is redone, so an interruption loses nothing.
        index.store.delete([Condition("kind", DenseBacklogPoint.KIND), Condition("file", item.file)])
        done += len(item.chunk_ids)
        summary.files += 1
        summary.chunks += len(ordered)
        if progress:
            progress(done, total, item.file)
    if summary.files:
        index.store.optimize()
    summary.remaining = backlog_size(index)
    summary.seconds = time.perf_counter() - began
    log.info("embedded %d chunk(s) of %d file(s) in %.1f s", summary.chunks, summary.files, summary.seconds)
    return summary
