"""What the web pages call: one shared index and assistant, serialised ingestion, feedback.

The embedded Qdrant index accepts one process, so the app opens it once and every request
shares this object. Chat requests run concurrently (reads); ingestion runs one at a time
under a lock, and the assistant is refreshed after each one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.index import Index
from ingest.models import Chunk, Document, IngestSummary
from ingest.pipeline import Progress, file_key, ingest_paths
from rag.assistant import Assistant
from rag.models import Answer
from rag.settings import Settings
from rag.web import uploads
from rag.web.feedback import FeedbackStore

log = logging.getLogger(__name__)


@dataclass
class UploadResult:
    """What happened to one uploaded file, told in Vietnamese."""

    name: str
    ok: bool
    message: str
    documents: int = 0


class Services:
    """The app's state: built once per process around an opened ``Index``."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.settings: Settings = index.settings
        self.assistant = Assistant(index)
        self.feedback = FeedbackStore.in_data_dir(self.settings.data_dir)
        self.uploads_dir = Path(self.settings.data_dir) / "uploads"
        self._ingest_lock = threading.Lock()

    # Questions --------------------------------------------------------------------------

    def stream(self, question: str, *, history: list[str], filters: dict[str, str]) -> Iterator[str | Answer]:
        """Answer text as it is produced, then the finished ``Answer``."""
        return self.assistant.stream(question, history=history, filters=filters)

    def ask(self, question: str, *, history: list[str] | None = None, filters: dict[str, str] | None = None) -> Answer:
        return self.assistant.ask(question, history=history or [], filters=filters or {})

    # Documents --------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        return self.assistant.retriever.documents()

    def document(self, doc_id: str) -> Document | None:
        for doc in self.documents():
            if doc.doc_id == doc_id:
                return doc
        return self.index.document(doc_id)

    def chunks(self, doc_id: str) -> list[Chunk]:
        return self.index.chunks(doc_id)

    # Ingestion --------------------------------------------------------------------------

    def ingest(self, paths: list[Path], *, progress: Progress | None = None) -> IngestSummary:
        """Ingest files or folders, one run at a time, then let the assistant see the result."""
        with self._ingest_lock:
            summary = ingest_paths(self.index, paths, progress=progress)
            self.assistant.refresh()
        return summary

    def add_upload(self, temp_path: Path, original_name: str, *,
                   progress: Callable[[int, int, str], None] | None = None) -> UploadResult:
        """Validate, store and ingest one uploaded file. Never raises for a bad file."""
        shown = uploads.safe_filename(original_name)
        if not self.settings.uploads_enabled:
            return UploadResult(shown, False, "Chức năng tải văn bản lên đang tắt.")
        try:
            size = Path(temp_path).stat().st_size
            uploads.validate(original_name, size, max_mb=self.settings.max_file_mb)
            stored = uploads.store(Path(temp_path), original_name, self.uploads_dir)
        except uploads.UploadRejected as exc:
            return UploadResult(shown, False, f"Không nạp được “{shown}”: {exc}")
        except OSError as exc:
            log.exception("storing upload %s failed", original_name)
            return UploadResult(shown, False, f"Không lưu được “{shown}” vào máy chủ ({exc.strerror or exc}).")

        key = file_key(stored.path)
        summary = self.ingest([stored.path], progress=progress)
        outcome = next((o for o in summary.outcomes if o.file == key), None)
        if outcome is None or outcome.status == "failed":
            if stored.created:
                stored.path.unlink(missing_ok=True)
            reason = uploads.explain(outcome.reason if outcome else None)
            return UploadResult(shown, False, f"Không nạp được “{shown}”: {reason}")
        name = stored.path.name
        if outcome.status == "unchanged":
            return UploadResult(name, True, f"“{name}” đã có trong kho ({outcome.documents} văn bản), không cần nạp lại.",
                                outcome.documents)
        return UploadResult(name, True, f"Đã nạp “{name}”: {outcome.documents} văn bản, {outcome.chunks} đoạn.",
                            outcome.documents)

    def close(self) -> None:
        self.index.close()
