"""The API for programs: one documented Gradio endpoint, ``/answer``.

``answer(question, history, filters)`` returns the JSON object ``congvan ask --json`` prints
(``rag.models.Answer``: answer, abstained, citations with quote/offsets/number/section,
retrieved chunks, timings, standalone_question). It is stateless: the caller sends the
conversation (its earlier questions, oldest first) with every call, and nothing of a call is
kept for the next one. The chat's limits apply here too (question length, time budget, the
chat's concurrency slots), checked before any work because this path skips the browser.

Refusals are raised as ``gr.Error`` with a Vietnamese message followed by an English one, so a
``gradio_client`` caller gets ``AppError`` with a readable reason and the server keeps running.
``check_request`` (no Gradio) does the validation and is tested as plain input → output.

No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's schema from the
real type hints of ``AnswerApi.answer``.
"""

import logging
import re
from typing import Any

from ingest.errors import CongvanError
from rag.assistant import QuestionTooLong, check_question
from rag.models import Answer
from rag.retrieve import FILTER_KEYS
from rag.web.limits import OutOfTime, preview, within

log = logging.getLogger(__name__)

API_NAME = "answer"
MAX_HISTORY = 50
"""Most earlier questions one call may send (only the last few shape a follow-up)."""

_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
FAILED = ("Đã có lỗi khi xử lý câu hỏi này. Vui lòng thử lại hoặc đặt câu hỏi khác. "
          "(The question could not be answered because of a server error; please try again.)")


class ApiRejected(ValueError):
    """A request the endpoint refuses; the message (Vietnamese, then English) goes to the caller."""


def _both(vietnamese: str, english: str) -> str:
    return f"{vietnamese} ({english})"


def check_request(question: Any, history: Any, filters: Any, *,
                  max_chars: int) -> tuple[str, list[str], dict[str, str]]:
    """The request, cleaned: stripped question, non-empty history entries, filters without
    empty values. Raises ``ApiRejected`` for anything else; costs a few ``len`` calls, so it
    runs before any work."""
    if not isinstance(question, str):
        raise ApiRejected(_both("Câu hỏi phải là một chuỗi văn bản.", "question must be a string."))
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise ApiRejected(_both("history phải là danh sách các câu hỏi trước (chuỗi), cũ nhất trước.",
                                "history must be a list of the earlier questions as strings, oldest first."))
    if len(history) > MAX_HISTORY:
        raise ApiRejected(_both(f"history có {len(history)} câu hỏi, vượt giới hạn {MAX_HISTORY}.",
                                f"history holds {len(history)} questions, over the limit of {MAX_HISTORY}."))
    try:
        check_question(question, history, max_chars)
    except QuestionTooLong as exc:
        what = "the question" if len(question) > max_chars else "an earlier question in history"
        raise ApiRejected(_both(str(exc), f"{what} is {exc.length} characters long, over the limit of "
                                          f"{exc.limit}.")) from exc
    question = question.strip()
    if not question:
        raise ApiRejected(_both("Hãy nhập câu hỏi.", "the question is empty."))
    history = [h.strip() for h in history if h.strip()]
    return question, history, check_filters(filters)


def check_filters(filters: Any) -> dict[str, str]:
    """Filters as ``Assistant.ask`` takes them: known keys only, string values, valid dates."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise ApiRejected(_both("filters phải là một đối tượng (dict), ví dụ {\"doc_id\": \"...\"}.",
                                "filters must be an object (dict), e.g. {\"doc_id\": \"...\"}."))
    supported = ", ".join(FILTER_KEYS)
    unknown = sorted(str(k) for k in filters if k not in FILTER_KEYS)
    if unknown:
        names = ", ".join(preview(k, 40) for k in unknown[:5])
        raise ApiRejected(_both(f"Bộ lọc không được hỗ trợ: {names}. Các bộ lọc hỗ trợ: {supported}.",
                                f"unknown filter key(s): {names}; supported: {supported}."))
    out: dict[str, str] = {}
    for key, value in filters.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ApiRejected(_both(f"Giá trị của bộ lọc {key} phải là chuỗi.", f"filter {key} must be a string."))
        value = value.strip()
        if key in ("date_from", "date_to") and value and not _DATE.fullmatch(value):
            raise ApiRejected(_both(f"Bộ lọc {key} phải có dạng 2024-10-23, 2024-10 hoặc 2024.",
                                    f"filter {key} must look like 2024-10-23, 2024-10 or 2024."))
        if value:
            out[key] = value
    return out


class AnswerApi:
    """The ``/answer`` endpoint over the app's shared services (nothing per caller is kept)."""

    def __init__(self, services) -> None:
        self.services = services

    def register(self) -> None:
        """Add the endpoint to the Blocks being built; it shares the chat's concurrency slots."""
        import gradio as gr

        gr.api(self.answer, api_name=API_NAME, concurrency_limit=self.services.settings.chat_concurrency,
               concurrency_id="chat", api_description=ENDPOINT_DESCRIPTION)

    def answer(self, question: str, history: list[str], filters: dict[str, str]) -> dict:
        """Answer ``question`` (a follow-up of ``history``) within ``filters``; see the module."""
        import gradio as gr

        settings = self.services.settings
        try:
            question, history, filters = check_request(question, history, filters,
                                                       max_chars=settings.max_question_chars)
        except ApiRejected as exc:
            raise gr.Error(str(exc), title="Yêu cầu không hợp lệ", print_exception=False) from None
        try:
            answer = respond(self.services, question, history, filters, settings.request_time_budget_s)
        except OutOfTime as exc:
            log.warning("API question %r ran past %g s", preview(question), exc.seconds)
            raise gr.Error(_both(str(exc), f"the answer took over {exc.seconds:g} s and was stopped."),
                           title="Hết thời gian", print_exception=False) from None
        except CongvanError as exc:
            log.warning("API question %r failed: %s", preview(question), exc)
            raise gr.Error(f"Không trả lời được câu hỏi này: {exc}", title="Lỗi", print_exception=False) from None
        except Exception:
            log.exception("API question %r failed", preview(question))
            raise gr.Error(FAILED, title="Lỗi", print_exception=False) from None
        return answer.model_dump(mode="json")


def respond(services, question: str, history: list[str], filters: dict[str, str], budget_s: float) -> Answer:
    """The finished ``Answer``, within ``budget_s`` seconds (``OutOfTime`` past it)."""
    answer = None
    for piece in within(services.stream(question, history=history, filters=filters), budget_s):
        if isinstance(piece, Answer):
            answer = piece
    if answer is None:
        raise RuntimeError("the assistant finished without an answer")
    return answer


ENDPOINT_DESCRIPTION = (
    "Answer a question from the indexed documents, with citations. question: the question "
    "(Vietnamese); history: the conversation's earlier questions, oldest first ([] for none); "
    f"filters: {{}} or any of {', '.join(FILTER_KEYS)} (strings; dates as 2024-10-23, 2024-10 or 2024). "
    "Returns the JSON object of `congvan ask --json`. Stateless: send the history with each call."
)
