"""``congvan ingest --rebuild`` / ``--repair``: a fresh index built beside the live one.

Nothing is deleted before the new index is complete:

1. the inputs are checked first (a typo in a path stops the run before anything changes);
2. the data directory's lock is taken, so a running web app (or another command) stops the
   rebuild instead of losing its index under it;
3. the list of files to index is every file the live index knew (uploads included) plus the
   given paths; a damaged index that cannot be opened is read from the list written beside it;
4. everything is ingested into a staging index; only when no previously indexed file was lost
   (failed to load, or gone from disk without ``--prune``) is the staging index swapped in.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.embeddings import Embedder, load_embedder
from ingest.errors import CongvanError
from ingest.index import DataDirLock, Index, discard_staging, known_files, save_known_files, swap_in_staging
from ingest.models import FileOutcome, IngestSummary
from ingest.ocr import OcrProgress
from ingest.pipeline import Progress, ingest_paths
from ingest.settings import Settings

log = logging.getLogger(__name__)


class RebuildAborted(CongvanError):
    """The new index would lose files the old one had; the old index is kept as it was."""

    def __init__(self, message: str, summary: IngestSummary) -> None:
        super().__init__(message)
        self.summary = summary


def rebuild_index(
    settings: Settings,
    paths: list[Path],
    *,
    embedder: Embedder | None = None,
    prune: bool = False,
    progress: Progress | None = None,
    ocr_progress: OcrProgress | None = None,
    max_chunks: int | None = None,
    sparse_first: bool = False,
) -> IngestSummary:
    """Re-index every known file plus ``paths`` into a new index and swap it in on success.

    With ``sparse_first`` the new index is written without dense vectors (see
    ``ingest.pipeline``); ``congvan embed`` completes it after the swap.

    Raises ``CongvanError`` before touching anything when a path does not exist or the index
    is locked, and ``RebuildAborted`` (old index kept) when a file indexed before would be lost.
    """
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise CongvanError(
            "nothing was changed: " + ", ".join(f"{p} does not exist" for p in missing))
    embedder = embedder or load_embedder(settings)
    lock = None if settings.qdrant_url else DataDirLock(settings.data_dir).acquire()
    try:
        root, old_keys = _previous_files(settings, embedder, lock)
        old_paths = {key: _path_of(root, key) for key in old_keys}
        gone = sorted(key for key, path in old_paths.items() if not path.exists())
        targets = [path for key, path in old_paths.items() if key not in gone] + [Path(p) for p in paths]

        discard_staging(settings)
        # The new index keeps the old one's file names, so citations and feedback still match.
        with Index.open(settings, embedder=embedder, location="staging", lock=lock, files_root=root) as staging:
            summary = ingest_paths(staging, targets, progress=progress, ocr_progress=ocr_progress,
                                   max_chunks=max_chunks, sparse_first=sparse_first) if targets else IngestSummary()
            new_keys = sorted(staging.file_records())
        lost = sorted({o.file for o in summary.outcomes if o.status == "failed" and o.file in old_paths})
        if gone and not prune:
            lost = sorted({*lost, *gone})
        if lost:
            discard_staging(settings)
            for key in gone:
                summary.outcomes.append(FileOutcome(file=key, status="failed", reason="gone from disk"))
            raise RebuildAborted(
                f"rebuild stopped, the old index is kept: {len(lost)} indexed file(s) would be lost "
                f"({', '.join(lost[:5])}{'…' if len(lost) > 5 else ''}). Fix or restore them, or add --prune "
                "to drop files that are gone from disk.", summary)
        swap_in_staging(settings)
        save_known_files(settings, root, new_keys)
        summary.outcomes.extend(FileOutcome(file=key, status="pruned") for key in gone)
        return summary
    finally:
        if lock is not None:
            lock.release()


def _previous_files(settings: Settings, embedder: Embedder, lock: DataDirLock | None) -> tuple[Path, list[str]]:
    """The live index's files root and file names; from the list beside it if it is damaged."""
    live_exists = settings.qdrant_url or (Path(settings.data_dir) / "qdrant" / settings.collection).exists()
    if live_exists:
        try:
            with Index.open(settings, embedder=embedder, lock=lock, check_manifest=False) as live:
                return live.files_root, sorted(live.file_records())
        except CongvanError as exc:
            log.warning("reading the old index failed (%s); using its saved file list", exc)
    saved = known_files(settings)
    if saved is not None:
        return saved
    if live_exists:
        log.warning("no saved file list: only the given paths are indexed")
    from ingest.index import default_files_root

    return default_files_root(settings), []


def _path_of(root: Path, key: str) -> Path:
    path = Path(key)
    return path if path.is_absolute() else root / path

