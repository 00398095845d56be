"""The whole app: a header and one tab per page, plus the events that cross pages."""

from __future__ import annotations

import gradio as gr

from rag.web.api import AnswerApi
from rag.web.chat_page import ChatPage
from rag.web.eval_page import EvalPage
from rag.web.library_page import LibraryPage
from rag.web.services import Services
from rag.web.tasks_page import TasksPage
from rag.web.training_page import TrainingPage
from rag.web.upload_page import UploadPage

TITLE = "Hỏi đáp văn bản chỉ đạo"
CACHE_LIFETIME_S = 3600
"""Gradio's copies of uploaded files (and of exports) are deleted this long after they were made,
checked as often; the upload page also deletes each upload's copy as soon as it is handled."""

THEME = gr.themes.Soft(primary_hue="red", secondary_hue="amber")  # bundled fonts only: works offline

CSS = """
.cv-header h1 { margin-bottom: 0; }
.cv-sources { display: flex; flex-direction: column; gap: 8px; }
.cv-hint { font-size: 0.85em; opacity: 0.7; }
.cv-empty { opacity: 0.75; font-style: italic; padding: 8px 0; }
.cv-source { text-align: left; display: flex; flex-direction: column; gap: 2px; padding: 8px 10px;
  border: 1px solid var(--border-color-primary); border-radius: 8px; background: var(--background-fill-secondary);
  cursor: pointer; font: inherit; color: inherit; }
.cv-source:hover { border-color: var(--color-accent); }
.cv-head { font-weight: 600; }
.cv-n { font-weight: 700; color: var(--color-accent); }
.cv-where { font-size: 0.85em; opacity: 0.8; }
.cv-quote { font-size: 0.9em; font-style: italic; }
.cv-doc h3 { margin: 8px 0; }
.cv-meta-box, .cv-outline { font-size: 0.9em; margin: 6px 0; }
.cv-meta-box summary, .cv-outline summary { cursor: pointer; font-weight: 600; }
table.cv-meta { border-collapse: collapse; margin: 4px 0 8px; width: 100%; border: none; }
table.cv-meta th, table.cv-meta td { border: none; border-bottom: 1px solid var(--border-color-primary);
  padding: 3px 10px 3px 0; vertical-align: top; text-align: left; background: none; }
table.cv-meta th { white-space: nowrap; width: 1%; }
.cv-outline ol { margin: 4px 0 4px 18px; max-height: 160px; overflow-y: auto; }
.cv-found { font-size: 0.85em; opacity: 0.8; margin: 4px 0; }
.cv-text { white-space: pre-wrap; font-size: 0.92em; line-height: 1.5; max-height: 480px; overflow-y: auto;
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px; }
.cv-text mark { background: #ffe066; color: #000; padding: 1px 0; border-radius: 2px; }
.cv-upload-results { list-style: none; padding-left: 0; }
.cv-upload-results li { margin: 4px 0; }
#cv-lib-table table, #cv-lib-table td, #cv-lib-table th, #cv-lib-table span {
  font-family: var(--font) !important; }
.cv-scan-page { position: relative; display: inline-block; max-width: 100%; }
.cv-scan-page img { max-width: 100%; display: block; border: 1px solid var(--border-color-primary); }
.cv-box { position: absolute; border: 2px solid #e03131; background: rgba(255, 224, 102, 0.35); }
.cv-bad { color: var(--error-text-color, #b91c1c); }
.cv-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 10px; }
.cv-card, .cv-source-box, .cv-quiz-source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 12px; background: var(--background-fill-secondary); margin: 6px 0; }
.cv-card h4 { margin: 0 0 4px; }
.cv-card ul, .cv-graph ul { margin: 2px 0 8px 18px; font-size: 0.92em; }
.cv-card-h { font-weight: 600; margin-top: 6px; }
.cv-node { font-weight: 600; }
.cv-ext { font-weight: 400; opacity: 0.75; font-style: italic; }
.cv-arrow { color: var(--color-accent); }
.cv-quiz-ok { color: #2b8a3e; font-weight: 600; }
.cv-quiz-bad { font-weight: 600; }
.cv-quiz-score { margin: 6px 0; font-size: 0.95em; }
/* Tables: the theme's monospace font breaks Vietnamese accents ("Hạn kế´tiếp"). */
#cv-lib-table, #cv-task-table, #cv-lib-table *, #cv-task-table *, .cv-eval-table, .cv-eval-table * {
  font-family: var(--font) !important; }
/* The chat: example questions that look clickable; the answer starts below any toolbar. */
.cv-examples { gap: 8px; flex-wrap: wrap; }
.cv-examples button.cv-example { border: 1px solid var(--color-accent) !important; color: var(--color-accent);
  border-radius: 999px; font-weight: 500; white-space: normal; }
.cv-examples button.cv-example:hover { background: var(--color-accent-soft); }
#cv-chat .bubble-wrap { padding-top: 30px; }
#cv-chats label { width: 100%; }
/* [n] in an answer previews its source on hover; the scope note sits by the question box. */
abbr.cv-cite { text-decoration: underline dotted; cursor: help; color: var(--color-accent); font-weight: 600; }
#cv-answer-tools { justify-content: flex-end; }
#cv-scope-note-row { align-items: center; }
.cv-scope-note { padding: 4px 10px; border-radius: 6px; background: var(--color-accent-soft); font-size: 0.92em; }
#cv-history .form { border: none; }
/* Toast titles: Gradio writes the toast's type ("Warning", "Error", "Info") whatever title it is given. */
.toast-title.warning, .toast-title.error, .toast-title.info, .toast-title.success { font-size: 0 !important; }
.toast-title .toast-count { font-size: var(--text-sm); }
.toast-title.warning::before { content: "Cảnh báo"; font-size: var(--text-md); }
.toast-title.error::before { content: "Lỗi"; font-size: var(--text-md); }
.toast-title.info::before { content: "Thông báo"; font-size: var(--text-md); }
.toast-title.success::before { content: "Thành công"; font-size: var(--text-md); }
/* Cards that replace the library and tasks tables on a phone. */
.cv-row-cards { display: none; }
.cv-row-card { display: block; width: 100%; text-align: left; font: inherit; color: inherit; cursor: pointer;
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 6px 0;
  background: var(--background-fill-secondary); }
.cv-row-card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 8px; margin: 0; }
.cv-row-card dt { font-weight: 600; opacity: 0.8; font-size: 0.85em; }
.cv-row-card dd { margin: 0; font-size: 0.92em; overflow-wrap: anywhere; }
.cv-row-card .cv-card-title { font-weight: 600; margin-bottom: 4px; }

@media (max-width: 640px) {
  /* Every tab in one tap: Gradio moves tabs that do not fit into a "…" menu, measuring them in a
     hidden copy of the bar; tiny copies all fit, and the real bar wraps onto a grid. */
  .tab-wrapper .tab-container.visually-hidden button { font-size: 1px !important; padding: 0 !important;
    margin: 0 !important; min-width: 0 !important; }
  .tab-wrapper .overflow-menu { display: none !important; }
  .tab-wrapper { height: auto !important; padding-bottom: 4px; }
  .tab-wrapper [role=tablist] { display: grid !important; grid-template-columns: repeat(3, 1fr); gap: 4px;
    width: 100%; height: auto !important; overflow: visible !important; }
  .tab-wrapper [role=tablist] button { white-space: normal !important; padding: 6px 4px !important; margin: 0 !important;
    border: 1px solid var(--border-color-primary) !important; border-radius: 6px; font-size: 0.85em !important;
    line-height: 1.2; height: auto !important; }
  .tab-wrapper [role=tablist] button.selected { border-color: var(--color-accent) !important;
    background: var(--color-accent-soft); }
  /* The chat: answer, then its sources, then the question box; the list of conversations last. */
  #cv-chat-col, #cv-sources-col { display: contents; }
  #cv-chat-row > *, #cv-chat-col > *, #cv-sources-col > * { flex: 1 1 100% !important; min-width: 100% !important; }
  #cv-chat { order: 1; height: auto !important; max-height: 70vh; }
  #cv-sources-title { order: 2; } #cv-sources { order: 3; } #cv-document { order: 4; }
  #cv-answer-tools { order: 4; } #cv-scope-note-row { order: 6; }
  #cv-examples { order: 5; } #cv-ask-row { order: 6; } #cv-scope-row { order: 7; } #cv-rate { order: 8; }
  #cv-copy-box { order: 9; } #cv-history { order: 10; }
  .cv-examples button.cv-example { flex: 1 1 100% !important; }
  /* Tables become cards. */
  #cv-lib-table, #cv-task-table { display: none !important; }
  .cv-row-cards { display: block; }
}
"""


def build_app(services: Services) -> gr.Blocks:
    """Build the Blocks; ``server.launch`` adds the theme, CSS and queue."""
    with gr.Blocks(title=TITLE, analytics_enabled=False,
                   delete_cache=(CACHE_LIFETIME_S, CACHE_LIFETIME_S)) as demo:
        gr.Markdown(f"# {TITLE}\nTrả lời câu hỏi về công văn, kế hoạch, chương trình, chỉ thị đã nạp, "
                    "kèm số văn bản, mục và câu trích dẫn.", elem_classes=["cv-header"])
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Hỏi đáp", id="chat", elem_id="cv-tab-chat"):
                chat = ChatPage(services)
            with gr.Tab("Thư viện văn bản", id="library", elem_id="cv-tab-library"):
                library = LibraryPage(services)
            with gr.Tab("Nhiệm vụ & hạn", id="tasks", elem_id="cv-tab-tasks"):
                tasks = TasksPage(services)
            with gr.Tab("Đào tạo", id="training", elem_id="cv-tab-training"):
                training = TrainingPage(services)
            with gr.Tab("Tải văn bản lên", id="upload", elem_id="cv-tab-upload"):
                upload = UploadPage(services)
            with gr.Tab("Đánh giá", id="eval", elem_id="cv-tab-eval"):
                EvalPage(services)
        # The one public endpoint, for programs (README: "API for programs"); every UI event is private.
        AnswerApi(services).register()

        # A document chosen in the library scopes the chat.
        library.ask_here.click(
            lambda doc_id: (gr.update(value=f"doc:{doc_id}") if doc_id else gr.skip(), gr.Tabs(selected="chat")),
            inputs=[library.selected_doc], outputs=[chat.scope, tabs], api_visibility="private",
        )
        # New documents appear in the library and the chat's scopes.
        if upload.enabled:
            upload.event.then(library.reload, inputs=library.reload_inputs, outputs=library.reload_outputs,
                              api_visibility="private").then(
                chat.reload_scope, outputs=[chat.scope], api_visibility="private")
        # A page opened later sees documents added since the app started.
        demo.load(library.reload, inputs=library.reload_inputs, outputs=library.reload_outputs,
                  api_visibility="private")
        demo.load(chat.reload_scope, outputs=[chat.scope], api_visibility="private")
        chat.register_load(demo)  # this browser's conversations, kept across reloads
        # The register pages read what is indexed now (page load, and after an upload).
        for register_page in (tasks, training):
            demo.load(register_page.reload, inputs=register_page.reload_inputs,
                      outputs=register_page.reload_outputs, api_visibility="private")
            if upload.enabled:
                upload.event.then(register_page.reload, inputs=register_page.reload_inputs,
                                  outputs=register_page.reload_outputs, api_visibility="private")
    return demo
