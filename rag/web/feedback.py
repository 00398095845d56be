"""Thumbs up/down on answers, kept durably as one JSON line per vote under the data dir."""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rag.models import Answer

Vote = Literal["up", "down"]
FILE_NAME = "feedback.jsonl"
DEFAULT_MAX_COMMENT_CHARS = 2000


class FeedbackRejected(ValueError):
    """A vote refused before it is stored; the message is Vietnamese and shown as is."""


class FeedbackStore:
    """Appends votes to ``<data_dir>/feedback.jsonl``; each write is flushed and fsynced.

    One lock serialises writers in this process, and every record is written with a single
    ``write`` of one line, so a crash can at worst leave a last line cut short, which
    ``records()`` skips.
    """

    def __init__(self, path: Path, *, max_comment_chars: int = DEFAULT_MAX_COMMENT_CHARS) -> None:
        self.path = path
        self.max_comment_chars = max_comment_chars
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path, *, max_comment_chars: int = DEFAULT_MAX_COMMENT_CHARS) -> FeedbackStore:
        """The store of ``<data_dir>/feedback.jsonl``, refusing comments over ``max_comment_chars``."""
        return cls(Path(data_dir) / FILE_NAME, max_comment_chars=max_comment_chars)

    def record(self, *, vote: Vote, answer: Answer, comment: str = "", filters: dict[str, str] | None = None,
               history: list[str] | None = None) -> dict[str, Any]:
        """Store one vote on ``answer`` with its question, text and sources; return the record.

        Raises ``FeedbackRejected`` for a comment over ``max_comment_chars`` (checked here, not
        only in the browser: the file is read whole by ``records`` and by whoever reviews it).
        """
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        comment = (comment or "").strip()
        if len(comment) > self.max_comment_chars:
            raise FeedbackRejected(f"Góp ý dài {len(comment)} ký tự, vượt giới hạn {self.max_comment_chars} ký tự. "
                                   "Hãy rút gọn góp ý rồi gửi lại.")
        entry = {
            "id": uuid.uuid4().hex,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "vote": vote,
            "comment": comment,
            "question": answer.question,
            "standalone_question": answer.standalone_question,
            "history": list(history or []),
            "filters": dict(filters or {}),
            "answer": answer.answer,
            "abstained": answer.abstained,
            "backend": answer.backend,
            "sources": [c.model_dump() for c in answer.citations],
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        return entry

    def records(self) -> list[dict[str, Any]]:
        """Every stored vote, oldest first (a damaged line is skipped)."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out
