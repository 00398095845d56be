"""Server-side bounds on one web request: how long it may run, and what a refusal says.

Nothing here imports Gradio. The browser mirrors some limits (a text box's ``max_length``),
but anything sent straight to the HTTP API skips the browser, so every limit that protects
the server's workers is enforced here, before or around the work.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

PREVIEW_CHARS = 200
"""How much of a refused, over-long text is echoed back (the whole of it would be the attack)."""


class OutOfTime(Exception):
    """A request ran past its time budget; the message is Vietnamese and shown as is."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"Câu hỏi này cần hơn {seconds:g} giây để trả lời nên đã dừng lại. "
                         "Vui lòng thử lại sau, hoặc đặt câu hỏi cụ thể hơn.")


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The first ``limit`` characters of ``text``, with '…' when cut."""
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def within(items: Iterator[T], seconds: float, *, poll_s: float = 0.25) -> Iterator[T]:
    """Yield what ``items`` yields, but raise ``OutOfTime`` once ``seconds`` have passed in all.

    ``items`` runs in a daemon thread and hands each item over a queue, so the caller
    regains control at the deadline even while ``items`` is blocked inside one step (a
    slow search, an LLM that trickles tokens: its per-chunk timeout alone does not bound
    the total). The caller's worker slot is then free at once; the thread stops at the
    producer's next item and closes it (an LLM stream closes its connection), so the
    abandoned work is bounded by one step. Closing this generator early stops it the same way.
    """
    deadline = time.monotonic() + seconds
    handoff: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    break
                handoff.put(("item", item))
            else:
                handoff.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            handoff.put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - the request is over either way
                    pass

    threading.Thread(target=produce, name="congvan-request", daemon=True).start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OutOfTime(seconds)
            try:
                kind, value = handoff.get(timeout=min(remaining, poll_s))
            except queue.Empty:
                continue
            if kind == "item":
                yield value  # type: ignore[misc]
            elif kind == "error":
                raise value  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
