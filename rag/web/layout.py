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
        # The register pages read what is indexed now (page load, and after an upload).
        for register_page in (tasks, training):
            demo.load(register_page.reload, inputs=register_page.reload_inputs,
                      outputs=register_page.reload_outputs, api_visibility="private")
            if upload.enabled:
                upload.event.then(register_page.reload, inputs=register_page.reload_inputs,
                                  outputs=register_page.reload_outputs, api_visibility="private")
    return demo
