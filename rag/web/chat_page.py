"""The chat tab: questions, streamed cited answers, clickable sources, feedback, copy."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.errors import CongvanError
from rag.assistant import QuestionTooLong, check_question
from rag.models import Answer
from rag.web import render
from rag.web.catalog import ALL, scope_choices, scope_filters
from rag.web.feedback import FeedbackRejected
from rag.web.limits import OutOfTime, preview, within
from rag.web.services import Services

log = logging.getLogger(__name__)

EXAMPLES = [
    "Đơn vị nào phải báo cáo trước ngày 10/11?",
    "Sở LĐTBXH phải làm gì trong tháng 11/2024?",
    "Ai ký Công văn 3452/UBND-VX?",
]
SEARCHING = "Đang tìm trong các văn bản…"
FAILED = "Đã có lỗi khi xử lý câu hỏi này. Vui lòng thử lại hoặc đặt câu hỏi khác."

# A source card reports which citation was clicked; the listener sits on the container, so
# it keeps working when the cards are replaced by the next answer's.
SOURCES_JS = """
element.addEventListener('click', (event) => {
  const card = event.target.closest('[data-cite]');
  if (card) { trigger('click', {cite: card.dataset.cite}); }
});
"""
# After a document is shown, bring the highlighted passage into view.
DOCUMENT_JS = """
watch('value', () => {
  const hit = element.querySelector('mark');
  if (hit) { hit.scrollIntoView({block: 'center'}); }
});
"""


class ChatPage:
    """One tab; ``turns`` (a session's questions and answers) lives in a ``gr.State``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.build()
        self.register_events()

    # UI ---------------------------------------------------------------------------------

    def build(self) -> None:
        docs = self.services.documents()
        limits = self.services.settings
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                self.chatbot = gr.Chatbot(
                    label="Hỏi đáp về văn bản chỉ đạo", elem_id="cv-chat", height=540,
                    buttons=["copy", "copy_all"], examples=[{"text": q} for q in EXAMPLES],
                    placeholder="**Hỏi về các công văn, kế hoạch, chỉ thị đã nạp.** Mỗi câu trả lời kèm "
                                "số văn bản, mục và câu trích dẫn. Chọn một câu hỏi mẫu để bắt đầu:",
                    # Messages are escaped by ``render`` (no tags, links or images survive); these
                    # make Gradio drop any markup that would still get through.
                    sanitize_html=True, allow_tags=False,
                )
                with gr.Row():
                    self.question = gr.Textbox(
                        show_label=False, placeholder="Nhập câu hỏi, ví dụ: Ai ký Công văn 3452/UBND-VX?",
                        scale=5, elem_id="cv-question", max_length=limits.max_question_chars, autofocus=True,
                    )
                    self.send = gr.Button("Gửi", variant="primary", scale=1, min_width=80, elem_id="cv-send")
                with gr.Row():
                    self.scope = gr.Dropdown(
                        label="Phạm vi câu hỏi", choices=scope_choices(docs), value=ALL, scale=4,
                        elem_id="cv-scope", info="Chỉ hỏi trong một văn bản hoặc văn bản của một cơ quan.",
                    )
                    self.new_chat = gr.Button("Cuộc trò chuyện mới", scale=1, min_width=120, elem_id="cv-new")
                with gr.Accordion("Đánh giá câu trả lời đang chọn", open=True), gr.Row():
                    self.comment = gr.Textbox(
                        show_label=False, placeholder="Góp ý (không bắt buộc): câu trả lời đúng/sai ở đâu?",
                        scale=4, elem_id="cv-comment", max_length=limits.max_feedback_chars,
                    )
                    self.up = gr.Button("✓ Hữu ích", scale=1, min_width=100, elem_id="cv-up")
                    self.down = gr.Button("✗ Chưa đúng", scale=1, min_width=100, elem_id="cv-down")
                with gr.Accordion("Sao chép câu trả lời kèm nguồn (văn bản thuần)", open=False):
                    self.copy_text = gr.Textbox(
                        show_label=False, lines=8, max_lines=20, interactive=False, buttons=["copy"],
                        elem_id="cv-copy",
                    )
            with gr.Column(scale=2, min_width=360):
                gr.Markdown("### Nguồn trích dẫn")
                self.sources = gr.HTML(render.sources_html(None), js_on_load=SOURCES_JS, elem_id="cv-sources")
                self.document = gr.HTML(render.empty_document_html(), js_on_load=DOCUMENT_JS,
                                        elem_id="cv-document")
        self.turns = gr.State([])
        self.selected = gr.State(-1)

    def register_events(self) -> None:
        limit = self.services.settings.chat_concurrency
        ask = {"fn": self.respond, "inputs": [self.question, self.turns, self.scope],
               "outputs": [self.chatbot, self.question, self.turns, self.selected, self.sources, self.copy_text],
               "concurrency_limit": limit, "concurrency_id": "chat", "show_progress": "minimal"}
        self.question.submit(api_visibility="private", **ask)
        self.send.click(api_visibility="private", **ask)
        self.chatbot.example_select(self.take_example, outputs=[self.question], api_visibility="private").then(
            api_visibility="private", **ask)
        self.chatbot.select(self.select_turn, inputs=[self.turns],
                            outputs=[self.selected, self.sources, self.copy_text], api_visibility="private")
        self.sources.click(self.open_source, inputs=[self.turns, self.selected], outputs=[self.document],
                           api_visibility="private")
        self.up.click(self.vote_up, inputs=[self.turns, self.selected, self.comment], outputs=[self.comment],
                      api_visibility="private")
        self.down.click(self.vote_down, inputs=[self.turns, self.selected, self.comment], outputs=[self.comment],
                        api_visibility="private")
        self.new_chat.click(self.reset, outputs=[self.chatbot, self.turns, self.selected, self.sources,
                                                 self.copy_text, self.document], api_visibility="private")

    # Logic ------------------------------------------------------------------------------

    def respond(self, question: str, turns: list[dict], scope: str):
        """Stream one answer; any failure becomes a Vietnamese message in the chat.

        Limits are checked here, before any work, because the HTTP API skips the browser's:
        an over-long question is refused in microseconds, and answering stops after
        ``request_time_budget_s`` so no request holds a chat slot indefinitely.
        """
        question = (question or "").strip()
        if not question:
            gr.Warning("Hãy nhập câu hỏi.", title="Cảnh báo")
            yield (gr.skip(),) * 6
            return
        settings = self.services.settings
        # Refused turns are shown but are no part of the conversation a follow-up builds on.
        history = [t["question"] for t in turns if not t.get("refused")]
        try:
            check_question(question, history, settings.max_question_chars)
        except QuestionTooLong as exc:
            gr.Warning(str(exc), title="Cảnh báo")
            turns = [*turns, {"question": preview(question), "refused": True, "filters": {}, "history": [],
                              "answer": None, "error": str(exc), "pending": None}]
            yield messages(turns), gr.skip(), turns, len(turns) - 1, render.sources_html(None), ""
            return
        filters = scope_filters(scope)
        turn: dict[str, Any] = {"question": question, "filters": filters, "history": history,
                                "answer": None, "error": None, "pending": SEARCHING}
        turns = [*turns, turn]
        yield messages(turns), "", turns, gr.skip(), gr.skip(), gr.skip()
        try:
            text, answer = "", None
            pieces = self.services.stream(question, history=history, filters=filters)
            for piece in within(pieces, settings.request_time_budget_s):
                if isinstance(piece, Answer):
                    answer = piece
                elif piece:
                    text += piece
                    turn["pending"] = text
                    yield messages(turns), "", turns, gr.skip(), gr.skip(), gr.skip()
            if answer is None:
                raise RuntimeError("the assistant finished without an answer")
        except OutOfTime as exc:
            log.warning("question %r ran past %g s", preview(question), exc.seconds)
            turn.update(pending=None, error=str(exc))
        except CongvanError as exc:
            log.warning("question %r failed: %s", preview(question), exc)
            turn.update(pending=None, error=f"Không trả lời được câu hỏi này: {exc}")
        except Exception:
            log.exception("question %r failed", preview(question))
            turn.update(pending=None, error=FAILED)
        else:
            turn.update(pending=None, answer=answer.model_dump())
        if turn["error"]:
            gr.Warning(turn["error"], title="Cảnh báo")
            yield messages(turns), "", turns, len(turns) - 1, render.sources_html(None), ""
            return
        yield (messages(turns), "", turns, len(turns) - 1, render.sources_html(answer),
               render.answer_plaintext(answer))

    @staticmethod
    def take_example(evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    @staticmethod
    def select_turn(turns: list[dict], evt: gr.SelectData):
        """Clicking a message shows that answer's sources and makes it the one to rate."""
        index = evt.index if isinstance(evt.index, int) else (evt.index[0] if evt.index else 0)
        n = min(max(index // 2, 0), len(turns) - 1) if turns else -1
        answer = _answer(turns, n)
        return n, render.sources_html(answer), render.answer_plaintext(answer) if answer else ""

    def open_source(self, turns: list[dict], selected: int, evt: gr.EventData) -> str:
        answer = _answer(turns, selected)
        try:
            n = int(getattr(evt, "cite", 0) or evt._data.get("cite", 0))
        except (TypeError, ValueError, AttributeError):
            n = 0
        citation = next((c for c in answer.citations if c.n == n), None) if answer else None
        if citation is None:
            return render.empty_document_html("Không tìm thấy nguồn này; hãy hỏi lại.")
        try:
            doc = self.services.document(citation.doc_id)
            if doc is None:
                return render.empty_document_html("Văn bản này không còn trong kho.")
            source = self.services.index.path_of(doc.file)
            return _scan(doc, citation.start, citation.end, source) + render.document_html(
                doc, self.services.chunks(doc.doc_id), highlight=(citation.start, citation.end),
                quote=citation.quote, compact=True)
        except Exception:
            log.exception("opening %s failed", citation.doc_id)
            return render.empty_document_html("Không mở được văn bản. Vui lòng thử lại.")

    def vote_up(self, turns: list[dict], selected: int, comment: str) -> str:
        return self._vote("up", turns, selected, comment)

    def vote_down(self, turns: list[dict], selected: int, comment: str) -> str:
        return self._vote("down", turns, selected, comment)

    def _vote(self, vote: str, turns: list[dict], selected: int, comment: str):
        answer = _answer(turns, selected)
        if answer is None:
            gr.Warning("Chưa có câu trả lời để đánh giá.", title="Cảnh báo")
            return gr.skip()
        turn = turns[selected]
        try:
            self.services.feedback.record(vote=vote, answer=answer, comment=comment, filters=turn.get("filters"),
                                          history=turn.get("history"))
        except FeedbackRejected as exc:
            gr.Warning(str(exc), title="Cảnh báo")
            return gr.skip()
        except OSError:
            log.exception("storing feedback failed")
            gr.Warning("Không lưu được đánh giá. Vui lòng thử lại.", title="Cảnh báo")
            return gr.skip()
        gr.Info("Đã ghi nhận đánh giá. Cảm ơn anh/chị!", title="Thông báo")
        return ""

    @staticmethod
    def reset():
        return [], [], -1, render.sources_html(None), "", render.empty_document_html()

    def reload_scope(self):
        """Fresh scope choices (after an upload, or when a page is opened)."""
        return gr.update(choices=scope_choices(self.services.documents()))


def messages(turns: list[dict]) -> list[dict[str, str]]:
    """The chat as Gradio messages, rebuilt from the session's turns."""
    out = []
    for turn in turns:
        out.append({"role": "user", "content": render.escape_user(turn["question"])})
        if turn.get("error"):
            content = render.error_markdown(turn["error"])
        elif turn.get("answer"):
            content = render.answer_markdown(Answer.model_validate(turn["answer"]))
        else:
            content = render.escape_user(turn.get("pending") or SEARCHING)
        out.append({"role": "assistant", "content": content})
    return out


def _answer(turns: list[dict], n: int) -> Answer | None:
    if not turns or n is None or not 0 <= n < len(turns) or not turns[n].get("answer"):
        return None
    return Answer.model_validate(turns[n]["answer"])


def _scan(doc, start: int, end: int, source: Path) -> str:
    """The scanned page of an OCR'd citation with its words outlined, rendered on demand from
    ``source`` (the file on disk); empty for text documents, or when the file is gone."""
    from ingest.ocr import page_image, words_in_span

    boxes = words_in_span(doc, start, end)
    if not boxes:
        return ""
    page = boxes[0][0]
    try:
        image = page_image(source, page, dpi=100)
    except Exception:  # the file moved or cannot be rendered: the text view still works
        log.warning("cannot render page %s of %s", page, doc.file)
        return ""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return render.scan_html(buffer.getvalue(), page, [box for p, box in boxes if p == page])
