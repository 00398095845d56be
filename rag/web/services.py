"""What the web pages call: one shared index and assistant, serialised ingestion, feedback.

The embedded Qdrant index accepts one process, so the app opens it once and every request
shares this object. Chat requests run concurrently (reads); ingestion runs one job at a time
through an ``IngestQueue`` (small files first, none starved, each waiting job able to say
what it waits for), and the assistant is refreshed after each one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.backfill import BackfillSummary, backlog_size, embed_backlog
from ingest.index import Index
from ingest.models import Chunk, Document, IngestSummary
from ingest.pipeline import Progress, ingest_paths
from ingest.schema import DocumentSummary
from rag.assistant import Assistant
from rag.models import Answer
from ingest.settings import Settings
from rag.web import uploads
from rag.web.feedback import FeedbackStore
from rag.web.ingest_queue import IngestQueue, Ticket

log = logging.getLogger(__name__)


@dataclass
class UploadResult:
    """What happened to one uploaded file, told in Vietnamese."""

    name: str
    ok: bool
    message: str
    documents: int = 0


@dataclass
class UploadSearchable:
    """An upload is indexed by keywords and answerable now; its dense vectors are being added
    in the same ingest job (progress goes to the upload's ``progress`` callback)."""

    name: str
    message: str
    chunks: int = 0


@dataclass
class UploadWaiting:
    """Where an upload stands in the ingest queue, in Vietnamese; empty once its turn has come."""

    message: str


class Services:
    """The app's state: built once per process around an opened ``Index``."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.settings: Settings = index.settings
        self.assistant = Assistant(index)
        self.feedback = FeedbackStore.in_data_dir(self.settings.data_dir,
                                                  max_comment_chars=self.settings.max_feedback_chars)
        self.uploads_dir = Path(self.settings.data_dir) / "uploads"
        self.ingest_queue = IngestQueue()

    # Questions --------------------------------------------------------------------------

    def stream(self, question: str, *, history: list[str], filters: dict[str, str]) -> Iterator[str | Answer]:
        """Answer text as it is produced, then the finished ``Answer``."""
        return self.assistant.stream(question, history=history, filters=filters)

    def ask(self, question: str, *, history: list[str] | None = None, filters: dict[str, str] | None = None) -> Answer:
        return self.assistant.ask(question, history=history or [], filters=filters or {})

    # Documents --------------------------------------------------------------------------

    def documents(self) -> list[DocumentSummary]:
        """Every indexed document's metadata, without its text (the retriever's catalogue)."""
        return self.assistant.retriever.documents()

    def document(self, doc_id: str) -> Document | None:
        """One document with its text, read on demand through the retriever's bounded cache."""
        return self.assistant.retriever.document(doc_id)

    def chunks(self, doc_id: str) -> list[Chunk]:
        return self.index.chunks(doc_id)

    # Ingestion --------------------------------------------------------------------------

    def ingest(self, paths: list[Path], *, progress: Progress | None = None, name: str | None = None,
               size: int = 0) -> IngestSummary:
        """Ingest files or folders as one job of the ingest queue, then let the assistant see
        the result. ``name`` and ``size`` (bytes) place the job in the queue and name it to
        the jobs waiting behind it."""
        label = name or ", ".join(Path(p).name for p in paths)
        with self.ingest_queue.turn(label, size) as ticket:
            return self._run_ingest(paths, ticket, progress)

    def _run_ingest(self, paths: list[Path], ticket: Ticket, progress: Progress | None, *,
                    sparse_first: bool = False) -> IngestSummary:
        try:
            summary = ingest_paths(self.index, paths, progress=_reporting(ticket, progress), sparse_first=sparse_first)
        except BaseException:
            self.assistant.refresh()  # what changed before the failure is unknown: read it all again
            raise
        self.assistant.refresh(summary.changed_files)
        return summary

    def _complete_dense(self, ticket: Ticket, progress: Progress | None) -> BackfillSummary | None:
        """Add the dense vectors the index still lacks (this upload's, and any an earlier job
        left when the app stopped), then refresh the assistant. None when it failed: the files
        stay answerable by keywords, and the next upload or `congvan embed` completes them."""
        if not backlog_size(self.index).files:
            return BackfillSummary()
        try:
            return embed_backlog(self.index, progress=_reporting(ticket, progress))
        except Exception:
            log.exception("adding dense vectors failed; they are added by the next upload or `congvan embed`")
            return None
        finally:
            # Dense vectors only: no document, passage text or term count changed.
            self.assistant.refresh(files=())

    def complete_dense_in_background(self) -> threading.Thread | None:
        """Add, as one job of the ingest queue in a background thread, the dense vectors an
        earlier run left out (the app stopped while adding an upload's); None when none are
        missing. The app serves meanwhile: those files are answerable by keywords already."""
        if not backlog_size(self.index).files:
            return None

        def run() -> None:
            with self.ingest_queue.turn("bổ sung vector ngữ nghĩa còn thiếu") as ticket:
                self._complete_dense(ticket, None)

        thread = threading.Thread(target=run, name="congvan-dense-backlog", daemon=True)
        thread.start()
        return thread

    def add_upload(self, temp_path: Path, original_name: str, *,
                   progress: Callable[[int, int, str], None] | None = None) -> UploadResult:
        """Validate, store and ingest one uploaded file. Never raises for a bad file."""
        *_, result = self.upload_steps(temp_path, original_name, progress=progress)
        return result  # type: ignore[return-value]

    def upload_steps(self, temp_path: Path, original_name: str, *,
                     progress: Callable[[int, int, str], None] | None = None,
                     poll_s: float = 1.0) -> Iterator[UploadWaiting | UploadSearchable | UploadResult]:
        """``add_upload`` step by step: while the file waits in the ingest queue, an
        ``UploadWaiting`` saying what it waits for (every ``poll_s`` seconds) and an empty one
        when its turn comes, then its ``UploadResult``.

        The file is ingested sparse-first (no embedding) and the assistant refreshed, so it is
        answerable at once; an ``UploadSearchable`` says so, and its dense vectors are then
        added in the same ingest job (``progress`` counts them) before the ``UploadResult``.
        The job holds the ingest queue until they are done.

        Closing the generator while it waits gives up the file's place in the queue.
        """
        shown = uploads.safe_filename(original_name)
        if not self.settings.uploads_enabled:
            yield UploadResult(shown, False, "Chức năng tải văn bản lên đang tắt.")
            return
        try:
            size = Path(temp_path).stat().st_size
            uploads.validate(original_name, size, max_mb=self.settings.max_file_mb)
            stored = uploads.store(Path(temp_path), original_name, self.uploads_dir)
        except uploads.UploadRejected as exc:
            yield UploadResult(shown, False, f"Không nạp được “{shown}”: {exc}")
            return
        except OSError as exc:
            log.exception("storing upload %s failed", original_name)
            yield UploadResult(shown, False, f"Không lưu được “{shown}” vào máy chủ ({exc.strerror or exc}).")
            return

        key = self.index.file_key(stored.path)
        ticket = self.ingest_queue.enqueue(stored.path.name, size)
        try:
            waited = False
            while not self.ingest_queue.wait_turn(ticket, timeout=poll_s if waited else 0.0):
                waited = True
                try:
                    yield UploadWaiting(ticket.waiting_message())
                except GeneratorExit:  # the user gave up while waiting: keep nothing of theirs
                    if stored.created:
                        stored.path.unlink(missing_ok=True)
                    raise
            if waited:
                yield UploadWaiting("")
            summary = self._run_ingest([stored.path], ticket, progress, sparse_first=True)
            outcome = next((o for o in summary.outcomes if o.file == key), None)
            if outcome is not None and outcome.status == "ingested":
                yield UploadSearchable(stored.path.name, f"“{stored.path.name}” đã tìm được bằng từ khoá; "
                                       "đang bổ sung vector ngữ nghĩa…", outcome.chunks)
            dense = self._complete_dense(ticket, progress)
        finally:
            self.ingest_queue.finish(ticket)
        if outcome is None or outcome.status == "failed":
            if stored.created:
                stored.path.unlink(missing_ok=True)
            reason = uploads.explain(outcome.reason, outcome.code) if outcome else uploads.explain(None)
            yield UploadResult(shown, False, f"Không nạp được “{shown}”: {reason}")
            return
        name = stored.path.name
        if outcome.status == "unchanged":
            yield UploadResult(name, True, f"“{name}” đã có trong kho ({outcome.documents} văn bản), "
                                           "không cần nạp lại.", outcome.documents)
            return
        later = "" if dense is not None else " Đã tìm được bằng từ khoá; vector ngữ nghĩa sẽ được bổ sung sau."
        yield UploadResult(name, True, f"Đã nạp “{name}”: {outcome.documents} văn bản, {outcome.chunks} đoạn.{later}",
                           outcome.documents)

    def close(self) -> None:
        self.index.close()


def _reporting(ticket: Ticket, progress: Progress | None) -> Progress:
    """A progress callback that also tells the jobs waiting behind ``ticket`` how far it is."""
    def report(done: int, total: int, current: str) -> None:
        ticket.report(done, total)
        if progress is not None:
            progress(done, total, current)

    return report
