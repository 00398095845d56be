"""The library tab: every indexed document, searchable and filterable, opened with its outline."""

from __future__ import annotations

import logging

import gradio as gr

from rag.web import catalog, render
from rag.web.services import Services

log = logging.getLogger(__name__)


class LibraryPage:
    """The table shows ``shown`` (a ``gr.State`` of doc ids in row order); a row opens one."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.build()
        self.register_events()

    def build(self) -> None:
        docs = self.services.documents()
        with gr.Row():
            self.search = gr.Textbox(
                label="Tìm kiếm", placeholder="Số hiệu, trích yếu, cơ quan, người ký… (gõ không dấu cũng được)",
                scale=3, elem_id="cv-lib-search",
            )
            self.doc_type = gr.Dropdown(label="Loại văn bản", choices=catalog.type_choices(docs), value=catalog.ALL,
                                        scale=1, elem_id="cv-lib-type")
            self.issuer = gr.Dropdown(label="Cơ quan ban hành", choices=catalog.issuer_choices(docs),
                                      value=catalog.ALL, scale=2, elem_id="cv-lib-issuer")
        self.count = gr.Markdown(_count_text(len(docs), len(docs)), elem_id="cv-lib-count")
        self.table = gr.Dataframe(
            value=catalog.rows(docs), headers=catalog.COLUMNS, datatype="str", interactive=False, wrap=True,
            max_height=420, elem_id="cv-lib-table", column_widths=["13%", "9%", "16%", "8%", "28%", "12%", "14%"],
        )
        # On a phone the table is hidden and its rows are shown as cards (CSS in ``layout``).
        self.cards = gr.HTML(render.row_cards_html(catalog.COLUMNS, catalog.rows(docs)), js_on_load=render.CARDS_JS,
                             elem_id="cv-lib-cards")
        self.shown = gr.State([d.doc_id for d in docs])
        self.selected_doc = gr.State("")
        with gr.Row():
            self.ask_here = gr.Button("Chỉ hỏi trong văn bản đã chọn", interactive=False, elem_id="cv-lib-ask")
        self.document = gr.HTML(render.empty_document_html("Bấm vào một dòng để xem toàn văn và mục lục."),
                                elem_id="cv-lib-document")

    def register_events(self) -> None:
        filters = [self.search, self.doc_type, self.issuer]
        for control in filters:
            control.change(self.filter, inputs=filters, outputs=[self.table, self.shown, self.count, self.cards],
                           show_progress="hidden", api_visibility="private", trigger_mode="always_last")
        self.table.select(self.open, inputs=[self.shown], outputs=[self.document, self.selected_doc, self.ask_here],
                          api_visibility="private")
        self.cards.click(self.open_card, inputs=[self.shown], outputs=[self.document, self.selected_doc, self.ask_here],
                         api_visibility="private")

    def filter(self, query: str, doc_type: str, issuer: str):
        docs = self.services.documents()
        found = catalog.filter_documents(docs, query, doc_type, issuer)
        rows = catalog.rows(found)
        return (rows, [d.doc_id for d in found], _count_text(len(found), len(docs)),
                render.row_cards_html(catalog.COLUMNS, rows, empty="Không có văn bản nào khớp điều kiện lọc."))

    def open(self, shown: list[str], evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return self.open_row(shown, row)

    def open_card(self, shown: list[str], evt: gr.EventData):
        return self.open_row(shown, render.row_of(evt))

    def open_row(self, shown: list[str], row):
        if not isinstance(row, int) or not 0 <= row < len(shown):
            return gr.skip(), gr.skip(), gr.skip()
        doc_id = shown[row]
        try:
            doc = self.services.document(doc_id)
            if doc is None:
                return render.empty_document_html("Văn bản này không còn trong kho."), "", gr.update(interactive=False)
            html = render.document_html(doc, self.services.chunks(doc_id))
        except Exception:
            log.exception("opening %s failed", doc_id)
            return render.empty_document_html("Không mở được văn bản. Vui lòng thử lại."), "", gr.update(
                interactive=False)
        return html, doc_id, gr.update(interactive=True)

    def reload(self, query: str = "", doc_type: str = catalog.ALL, issuer: str = catalog.ALL):
        """Fresh choices and rows (after an upload, or when a page is opened)."""
        docs = self.services.documents()
        types, issuers = catalog.type_choices(docs), catalog.issuer_choices(docs)
        doc_type = doc_type if doc_type in {v for _, v in types} else catalog.ALL
        issuer = issuer if issuer in {v for _, v in issuers} else catalog.ALL
        rows, shown, count, cards = self.filter(query, doc_type, issuer)
        return (gr.update(choices=types, value=doc_type), gr.update(choices=issuers, value=issuer),
                rows, shown, count, cards)

    @property
    def reload_outputs(self) -> list:
        return [self.doc_type, self.issuer, self.table, self.shown, self.count, self.cards]

    @property
    def reload_inputs(self) -> list:
        return [self.search, self.doc_type, self.issuer]


def _count_text(shown: int, total: int) -> str:
    if shown == total:
        return f"**{total}** văn bản trong kho. Bấm vào một dòng để xem toàn văn."
    return f"**{shown}** / {total} văn bản khớp điều kiện lọc."
