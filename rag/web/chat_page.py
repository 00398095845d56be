"""The chat tab: questions, streamed cited answers, clickable sources, feedback, copy."""

from __future__ import annotations

import io
import logging
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.errors import CongvanError
from rag.assistant import QuestionTooLong, check_question
from rag.models import Answer
from rag.web import export, render
from rag.web.catalog import ALL, scope_choices, scope_filters, scope_note
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
NEW_CHAT = "Cuộc trò chuyện mới"
MAX_CHATS = 30
"""Conversations kept per browser (oldest dropped first); each keeps its last ``MAX_TURNS`` turns."""
MAX_TURNS = 40
TITLE_CHARS = 60
STORAGE_KEY = "congvan-chats"
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
        with gr.Row(equal_height=False, elem_id="cv-chat-row"):
            with gr.Column(scale=1, min_width=200, elem_id="cv-history"):
                self.new_chat = gr.Button(NEW_CHAT, variant="secondary", size="sm", elem_id="cv-new")
                self.chats = gr.Radio(label="Các cuộc trò chuyện", choices=[], value=None, elem_id="cv-chats",
                                      info="Lưu trong trình duyệt này.")
                with gr.Accordion("Đổi tên, xóa", open=False, elem_id="cv-chat-manage"):
                    self.title = gr.Textbox(label="Tên cuộc trò chuyện", show_label=False, placeholder="Tên cuộc trò chuyện", max_lines=1,
                                            max_length=TITLE_CHARS * 2, elem_id="cv-chat-title")
                    with gr.Row():
                        self.rename = gr.Button("Đổi tên", size="sm", min_width=60, elem_id="cv-rename")
                        self.delete = gr.Button("Xóa", size="sm", variant="stop", min_width=60, elem_id="cv-delete")
            with gr.Column(scale=3, min_width=420, elem_id="cv-chat-col"):
                self.chatbot = gr.Chatbot(
                    label="Hỏi đáp", show_label=False, elem_id="cv-chat", height=540,
                    buttons=["copy", "copy_all"], feedback_options=("Like", "Dislike"),
                    placeholder="**Hỏi về các công văn, kế hoạch, chỉ thị đã nạp.** Mỗi câu trả lời kèm "
                                "số văn bản, mục và câu trích dẫn. Chọn một câu hỏi mẫu bên dưới để bắt đầu.",
                    # Messages are escaped by ``render`` (no tags, links or images survive); these
                    # make Gradio drop any markup that would still get through.
                    sanitize_html=True, allow_tags=False,
                    # A question can be edited and asked again; an answer regenerated (the retry icon).
                    editable="user",
                )
                with gr.Row(elem_id="cv-answer-tools"):
                    # The answer being rated/shown, as a Word file built from the stored Answer.
                    self.download = gr.DownloadButton("Tải .docx", value=None, visible=False, size="sm",
                                                      variant="secondary", elem_id="cv-docx", scale=0,
                                                      min_width=120)
                with gr.Row(elem_id="cv-examples", elem_classes=["cv-examples"]):
                    self.examples = [gr.Button(q, size="sm", variant="secondary", elem_classes=["cv-example"],
                                               min_width=160) for q in EXAMPLES]
                with gr.Row(elem_id="cv-scope-note-row", equal_height=True):
                    # Shown while questions are limited to some documents (the scope below, or the library).
                    self.scope_note = gr.HTML("", visible=False, elem_id="cv-scope-note")
                    self.scope_clear = gr.Button("Bỏ giới hạn", size="sm", visible=False, scale=0, min_width=110,
                                                 elem_id="cv-scope-clear")
                with gr.Row(elem_id="cv-ask-row"):
                    self.question = gr.Textbox(
                        label="Câu hỏi", show_label=False, placeholder="Nhập câu hỏi, ví dụ: Ai ký Công văn 3452/UBND-VX?",
                        scale=5, elem_id="cv-question", max_length=limits.max_question_chars, autofocus=True,
                    )
                    self.send = gr.Button("Gửi", variant="primary", scale=1, min_width=80, elem_id="cv-send")
                with gr.Row(elem_id="cv-scope-row"):
                    self.scope = gr.Dropdown(
                        label="Phạm vi câu hỏi", choices=scope_choices(docs), value=ALL, scale=4,
                        elem_id="cv-scope", info="Chỉ hỏi trong một văn bản hoặc văn bản của một cơ quan.",
                    )
                with gr.Accordion("Đánh giá câu trả lời đang chọn", open=True, elem_id="cv-rate"), gr.Row():
                    self.comment = gr.Textbox(
                        label="Góp ý", show_label=False, placeholder="Góp ý (không bắt buộc): câu trả lời đúng/sai ở đâu?",
                        scale=4, elem_id="cv-comment", max_length=limits.max_feedback_chars,
                    )
                    self.up = gr.Button("✓ Hữu ích", scale=1, min_width=100, elem_id="cv-up")
                    self.down = gr.Button("✗ Chưa đúng", scale=1, min_width=100, elem_id="cv-down")
                with gr.Accordion("Sao chép câu trả lời kèm nguồn (văn bản thuần)", open=False, elem_id="cv-copy-box"):
                    self.copy_text = gr.Textbox(
                        label="Câu trả lời kèm nguồn", show_label=False, lines=8, max_lines=20, interactive=False, buttons=["copy"],
                        elem_id="cv-copy",
                    )
            with gr.Column(scale=2, min_width=360, elem_id="cv-sources-col"):
                gr.Markdown("### Nguồn trích dẫn", elem_id="cv-sources-title")
                self.sources = gr.HTML(render.sources_html(None), js_on_load=SOURCES_JS, elem_id="cv-sources")
                self.document = gr.HTML(render.empty_document_html(), js_on_load=DOCUMENT_JS,
                                        elem_id="cv-document")
        self.turns = gr.State([])
        self.selected = gr.State(-1)
        # The conversations of this browser: {"current": id or None, "chats": [{id, title, turns, at}]},
        # newest first, in the browser's localStorage (encrypted with a key kept in the data dir,
        # so they survive a reload and a restart of the app).
        self.store = gr.BrowserState({"current": None, "chats": []}, storage_key=STORAGE_KEY,
                                     secret=_browser_secret(self.services))

    def register_events(self) -> None:
        limit = self.services.settings.chat_concurrency
        # Everything a conversation shows; what ``show`` returns, in this order.
        self.view = [self.chatbot, self.turns, self.selected, self.sources, self.copy_text, self.document,
                     self.chats, self.title]
        ask = {"fn": self.respond, "inputs": [self.question, self.turns, self.scope, self.store],
               "outputs": [self.chatbot, self.question, self.turns, self.selected, self.sources, self.copy_text,
                           self.store, self.chats, self.title],
               "concurrency_limit": limit, "concurrency_id": "chat", "show_progress": "minimal"}
        offer_docx = {"fn": self.export_selected, "inputs": [self.turns, self.selected], "outputs": [self.download],
                  "api_visibility": "private", "show_progress": "hidden"}
        self.question.submit(api_visibility="private", **ask).then(**offer_docx)
        self.send.click(api_visibility="private", **ask).then(**offer_docx)
        for button in self.examples:
            button.click(lambda q: q, inputs=[button], outputs=[self.question], api_visibility="private",
                         show_progress="hidden").then(api_visibility="private", **ask).then(**offer_docx)
        self.chatbot.select(self.select_turn, inputs=[self.turns],
                            outputs=[self.selected, self.sources, self.copy_text], api_visibility="private"
                            ).then(**offer_docx)
        again = {"inputs": [self.turns], "outputs": [self.question, self.turns, self.chatbot],
                 "api_visibility": "private", "show_progress": "hidden"}
        self.chatbot.retry(self.retry_turn, **again).then(api_visibility="private", **ask).then(**offer_docx)
        self.chatbot.edit(self.edit_turn, **again).then(api_visibility="private", **ask).then(**offer_docx)
        self.chatbot.like(self.vote_message, inputs=[self.turns], outputs=[self.selected, self.comment],
                          api_visibility="private").then(**offer_docx)
        self.scope.change(self.show_scope, inputs=[self.scope], outputs=[self.scope_note, self.scope_clear],
                          api_visibility="private", show_progress="hidden")
        self.scope_clear.click(lambda: ALL, outputs=[self.scope], api_visibility="private", show_progress="hidden")
        self.sources.click(self.open_source, inputs=[self.turns, self.selected], outputs=[self.document],
                           api_visibility="private")
        self.up.click(self.vote_up, inputs=[self.turns, self.selected, self.comment], outputs=[self.comment],
                      api_visibility="private")
        self.down.click(self.vote_down, inputs=[self.turns, self.selected, self.comment], outputs=[self.comment],
                        api_visibility="private")
        # "Cuộc trò chuyện mới" keeps the conversation in the list and starts an empty one; the
        # chat's trash icon and "Xóa" delete the conversation shown. Both clear its sources.
        self.new_chat.click(self.start_new, inputs=[self.store], outputs=[self.store, *self.view],
                            api_visibility="private").then(**offer_docx)
        self.chatbot.clear(self.delete_current, inputs=[self.store], outputs=[self.store, *self.view],
                           api_visibility="private").then(**offer_docx)
        self.delete.click(self.delete_current, inputs=[self.store], outputs=[self.store, *self.view],
                          api_visibility="private").then(**offer_docx)
        self.chats.input(self.open_chat, inputs=[self.chats, self.store], outputs=[self.store, *self.view],
                         api_visibility="private").then(**offer_docx)
        self.rename.click(self.rename_current, inputs=[self.title, self.store], outputs=[self.store, self.chats],
                          api_visibility="private")
        self.title.submit(self.rename_current, inputs=[self.title, self.store], outputs=[self.store, self.chats],
                          api_visibility="private")

    def register_load(self, demo: gr.Blocks) -> None:
        """Show this browser's current conversation when the page opens (or is reloaded)."""
        demo.load(self.restore, inputs=[self.store], outputs=self.view, api_visibility="private").then(
            self.export_selected, inputs=[self.turns, self.selected], outputs=[self.download],
            api_visibility="private", show_progress="hidden")

    # Conversations ----------------------------------------------------------------------

    def show(self, store: dict, turns: list[dict] | None = None):
        """The ``view`` outputs for the current conversation of ``store`` (or ``turns``)."""
        store = _clean_store(store)
        chat = _current(store)
        turns = turns if turns is not None else (chat["turns"] if chat else [])
        last = len(turns) - 1
        answer = _answer(turns, last)
        return (messages(turns), turns, last, render.sources_html(answer),
                render.answer_plaintext(answer) if answer else "", render.empty_document_html(),
                gr.update(choices=chat_choices(store), value=chat["id"] if chat else None),
                chat["title"] if chat else "")

    def restore(self, store: dict):
        return self.show(store)

    def start_new(self, store: dict):
        store = {**_clean_store(store), "current": None}
        return store, *self.show(store)

    def delete_current(self, store: dict):
        store = _clean_store(store)
        store = {"current": None, "chats": [c for c in store["chats"] if c["id"] != store["current"]]}
        return store, *self.show(store)

    def open_chat(self, chat_id: str, store: dict):
        store = _clean_store(store)
        if not any(c["id"] == chat_id for c in store["chats"]):
            return (gr.skip(),) * (1 + len(self.view))
        store = {**store, "current": chat_id}
        return store, *self.show(store)

    @staticmethod
    def rename_current(title: str, store: dict):
        store = _clean_store(store)
        title = " ".join((title or "").split())[:TITLE_CHARS * 2]
        chat = _current(store)
        if chat is None or not title:
            gr.Warning("Hãy chọn một cuộc trò chuyện và nhập tên mới.", title="Cảnh báo")
            return gr.skip(), gr.skip()
        chat["title"] = title
        return store, gr.update(choices=chat_choices(store), value=chat["id"])

    # Logic ------------------------------------------------------------------------------

    def respond(self, question: str, turns: list[dict], scope: str, store: dict | None = None):
        """Stream one answer; any failure becomes a Vietnamese message in the chat.

        Limits are checked here, before any work, because the HTTP API skips the browser's:
        an over-long question is refused in microseconds, and answering stops after
        ``request_time_budget_s`` so no request holds a chat slot indefinitely.
        """
        question = (question or "").strip()
        if not question:
            gr.Warning("Hãy nhập câu hỏi.", title="Cảnh báo")
            yield (gr.skip(),) * 9
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
            yield (messages(turns), gr.skip(), turns, len(turns) - 1, render.sources_html(None), "",
                   *self.saved(store, turns))
            return
        filters = scope_filters(scope)
        turn: dict[str, Any] = {"question": question, "filters": filters, "history": history,
                                "answer": None, "error": None, "pending": SEARCHING}
        turns = [*turns, turn]
        wait = (gr.skip(),) * 3
        yield messages(turns), "", turns, gr.skip(), render.sources_html(None), "", *wait
        try:
            text, held, answer = "", "", None
            pieces = self.services.stream(question, history=history, filters=filters)
            for piece in within(pieces, settings.request_time_budget_s):
                if isinstance(piece, Answer):
                    answer = piece
                    continue
                # Text is drawn one piece late: an answer that arrives whole (no LLM) is then
                # drawn once, finished, instead of flashing as plain text before its final form.
                if held:
                    text += held
                    turn["pending"] = text
                    yield messages(turns), "", turns, gr.skip(), gr.skip(), gr.skip(), *wait
                held = piece or ""
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
            yield (messages(turns), "", turns, len(turns) - 1, render.sources_html(None), "",
                   *self.saved(store, turns))
            return
        yield (messages(turns), "", turns, len(turns) - 1, render.sources_html(answer),
               render.answer_plaintext(answer), *self.saved(store, turns))

    @staticmethod
    def saved(store: dict | None, turns: list[dict]):
        """(store, chats, title) outputs with ``turns`` saved as the current conversation."""
        store = save_turns(store, turns)
        chat = _current(store)
        return store, gr.update(choices=chat_choices(store), value=chat["id"] if chat else None), (
            chat["title"] if chat else "")

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

    def retry_turn(self, turns: list[dict], data: gr.RetryData):
        """Regenerate: the retried turn and those after it leave the conversation, and its question
        goes back to the box, which the chained ask answers again."""
        question, kept = rewind(turns, data.index, None)
        return question, kept, messages(kept)

    def edit_turn(self, turns: list[dict], data: gr.EditData):
        """Edit a question: the turns from it on leave the conversation, and the edited text is asked."""
        question, kept = rewind(turns, data.index, data.value if isinstance(data.value, str) else None)
        return question, kept, messages(kept)

    def vote_message(self, turns: list[dict], data: gr.LikeData):
        """A thumb on a message: that answer becomes the one rated, and the vote is stored."""
        index = data.index if isinstance(data.index, int) else (data.index[0] if data.index else 0)
        n = index // 2
        if data.liked is None or _answer(turns, n) is None:  # un-liking, or not an answer
            return gr.skip(), gr.skip()
        self._vote("up" if data.liked else "down", turns, n, "")
        return n, gr.skip()

    @staticmethod
    def export_selected(turns: list[dict], selected: int):
        """The "Tải .docx" button for the selected answer (hidden when there is none)."""
        answer = _answer(turns, selected)
        if answer is None:
            return gr.update(value=None, visible=False)
        try:
            return gr.update(value=str(export.write_docx(answer)), visible=True)
        except Exception:
            log.exception("exporting an answer failed")
            return gr.update(value=None, visible=False)

    def show_scope(self, scope: str | None):
        """The "Đang hỏi trong: …" note and its clear button, shown only while the chat is limited."""
        try:
            docs = self.services.documents()
        except Exception:
            log.exception("listing documents failed")
            docs = []
        note = scope_note(scope, docs)
        return gr.update(value=note, visible=bool(note)), gr.update(visible=bool(note))

    def reload_scope(self):
        """Fresh scope choices (after an upload, or when a page is opened)."""
        return gr.update(choices=scope_choices(self.services.documents()))


def rewind(turns: list[dict], message: int | tuple | list, edited: str | None) -> tuple[str, list[dict]]:
    """(the question to ask again, the turns before it) for a retry or an edit of chat message
    ``message`` (``messages`` makes two per turn: the question, then its answer). ``edited`` is the
    new text of an edited question; None asks the turn's own question again."""
    index = message[0] if isinstance(message, (tuple, list)) else message
    at = max(0, min(int(index) // 2, len(turns) - 1)) if turns else 0
    if not turns:
        return (edited or "").strip(), []
    question = (edited if edited is not None else turns[at]["question"]).strip()
    return question, turns[:at]


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


def _clean_store(store) -> dict:
    """The browser's stored conversations, made well-formed (the browser may hold anything)."""
    if not isinstance(store, dict):
        store = {}
    chats = [c for c in store.get("chats") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)
             and isinstance(c.get("turns"), list)]
    for c in chats:
        c["title"] = str(c.get("title") or NEW_CHAT)[:TITLE_CHARS * 2]
    current = store.get("current")
    if not any(c["id"] == current for c in chats):
        current = None
    return {"current": current, "chats": chats[:MAX_CHATS]}


def _current(store: dict) -> dict | None:
    return next((c for c in store["chats"] if c["id"] == store["current"]), None)


def _stored_turn(turn: dict) -> dict:
    """A turn as kept in the browser: the answer without its retrieved chunks and timings (large)."""
    answer = turn.get("answer")
    if isinstance(answer, dict):
        answer = {k: v for k, v in answer.items() if k not in ("retrieved", "timings_ms")}
    return {**turn, "answer": answer, "pending": None}


def save_turns(store: dict | None, turns: list[dict]) -> dict:
    """``store`` with ``turns`` as its current conversation (a new one, named after its first
    question, when none is current), moved to the top of the list."""
    store = _clean_store(store)
    chat = _current(store)
    if chat is None:
        first = turns[0]["question"] if turns else NEW_CHAT
        chat = {"id": uuid.uuid4().hex[:12], "title": short_title(first)}
    chat = {**chat, "turns": [_stored_turn(t) for t in turns[-MAX_TURNS:]], "at": time.time()}
    chats = [chat, *(c for c in store["chats"] if c["id"] != chat["id"])][:MAX_CHATS]
    return {"current": chat["id"], "chats": chats}


def short_title(question: str) -> str:
    """A conversation's name: its first question, cut at a word near ``TITLE_CHARS``."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text or NEW_CHAT
    cut = text[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


def chat_choices(store: dict) -> list[tuple[str, str]]:
    return [(c["title"], c["id"]) for c in store["chats"]]


def _browser_secret(services: Services) -> str:
    """The key the browser's copy of the conversations is encrypted with, kept in the data dir so
    that conversations survive a restart of the app (a fresh key each start would lose them)."""
    path = Path(services.settings.data_dir) / "browser-state.key"
    try:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 16:
            return key
    except OSError:
        pass
    key = secrets.token_urlsafe(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key, encoding="ascii")
    except OSError:
        log.warning("cannot keep the browser key in %s: conversations will not survive a restart", path)
    return key


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
