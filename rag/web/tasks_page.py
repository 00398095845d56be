"""The "Nhiệm vụ & hạn" tab: obligations of the register as a filterable table, exported to CSV
and iCalendar, and the chain of documents implementing each other.

The module-level functions are pure (no Gradio) and tested as such; ``TasksPage`` wires them.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from datetime import date
from html import escape
from pathlib import Path

import gradio as gr

from ingest.models import Document
from ingest.register import (
    Obligation,
    Register,
    RelationGraph,
    build_graph,
    deadline_label,
    list_obligations,
    next_due,
)
from ingest.register.exports import OBLIGATION_HEADERS, to_csv, to_ics
from ingest.settings import Settings
from rag.web import render
from rag.web.services import Services

log = logging.getLogger(__name__)

ALL = ""
# The table's columns: keys of ``obligation_row``, shown with their Vietnamese labels (as in the CSV).
TABLE_KEYS = ("units", "action", "deadline", "due", "recipients", "number", "section")
COLUMNS = [OBLIGATION_HEADERS[k] for k in TABLE_KEYS]
OVERDUE = "quá hạn"
EXPORT_DIR = Path(tempfile.gettempdir()) / "congvan-export"


# --------------------------------------------------------------------------- pure helpers


def month_of(o: Obligation, today: date | None = None) -> str:
    """'2024-11': the month the obligation is next due ('' when unknown)."""
    due = next_due(o.deadline, today)
    return due.strftime("%Y-%m") if due else ""


def month_choices(obligations: list[Obligation], today: date | None = None) -> list[tuple[str, str]]:
    months = sorted({m for o in obligations if (m := month_of(o, today))})
    return [("Tất cả các tháng", ALL)] + [(f"Tháng {m[5:]}/{m[:4]}", m) for m in months]


def doc_choices(obligations: list[Obligation]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for o in obligations:
        s = o.source
        if s.doc_id not in seen:
            label = f"{render.type_label(s.doc_type)} {render.number_label(s.number)}"
            seen[s.doc_id] = label + (f" · {s.issuer}" if s.issuer else "")
    return [("Tất cả văn bản", ALL)] + sorted(((label, doc_id) for doc_id, label in seen.items()))


def filter_obligations(register: Register, unit: str = "", month: str = ALL, doc_id: str = ALL,
                       today: date | None = None) -> list[Obligation]:
    """Soonest due first; ``unit`` accent-insensitive and abbreviation-aware (``list_obligations``)."""
    found = list_obligations(register, unit=(unit or "").strip() or None, doc_id=doc_id or None, today=today)
    if month:
        found = [o for o in found if month_of(o, today) == month]
    return found


def is_overdue(o: Obligation, today: date | None = None) -> bool:
    """Whether the obligation's next due date is before ``today`` (a one-off deadline that has
    passed; a recurring one is never overdue, its next occurrence is ahead)."""
    today = today or date.today()
    due = next_due(o.deadline, today)
    return due is not None and due < today


def due_text(o: Obligation, today: date | None = None) -> str:
    """"10/11/2024", with " · quá hạn" when that day has passed."""
    due = next_due(o.deadline, today)
    if due is None:
        return ""
    return due.strftime("%d/%m/%Y") + (f" · {OVERDUE}" if is_overdue(o, today) else "")


def table_rows(obligations: list[Obligation], today: date | None = None) -> list[list[str]]:
    rows = []
    for o in obligations:
        s = o.source
        rows.append(["; ".join(o.units) or "(không ghi rõ)", o.action, deadline_label(o.deadline),
                     due_text(o, today), "; ".join(o.recipients), render.number_label(s.number), s.section])
    return rows


def ics_bytes(obligations: list[Obligation], settings: Settings | None = None) -> bytes:
    """The calendar export with the reminder and repeat bounds of ``settings``."""
    settings = settings or Settings()
    return to_ics(obligations, reminder_days=settings.ics_reminder_days,
                  recurrence_years=settings.ics_recurrence_years)


def write_export(data: bytes, name: str) -> str:
    """Write ``data`` to a temp file named ``name`` (one folder per content, so re-exports are free)."""
    folder = EXPORT_DIR / hashlib.sha256(data).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        path.write_bytes(data)
    return str(path)


def count_text(shown: int, total: int, overdue: int = 0) -> str:
    late = f" **{overdue}** nhiệm vụ đã {OVERDUE}." if overdue else ""
    if shown == total:
        return f"**{total}** nhiệm vụ có thời hạn.{late} Bấm vào một dòng để xem câu trích trong văn bản."
    return f"**{shown}** / {total} nhiệm vụ khớp điều kiện lọc.{late}"


def _node_html(graph: RelationGraph, key: str) -> str:
    node = graph.node(key)
    if node is None:
        return escape(key)
    name = render.number_label(node.number) if node.number else node.label
    if node.in_corpus:
        return f'<span class="cv-node" title="{escape(node.label)}">{escape(name)}</span>'
    return (f'<span class="cv-node cv-ext" title="Văn bản chưa có trong kho">{escape(name)}'
            f' <small>(ngoài kho)</small></span>')


def chains(graph: RelationGraph) -> list[list[str]]:
    """Every maximal 'implements' path, from the directive down to the last document carrying it out."""
    implements = [e for e in graph.edges if e.kind == "implements"]
    parents: dict[str, list[str]] = {}
    for e in implements:
        parents.setdefault(e.source, [])
        if e.target not in parents[e.source]:
            parents[e.source].append(e.target)
    implemented = {e.target for e in implements}
    out: list[list[str]] = []

    def walk(path: list[str]) -> None:
        ups = [p for p in parents.get(path[-1], []) if p not in path]
        if not ups:
            out.append(list(reversed(path)))
        for up in ups:
            walk([*path, up])

    for leaf in parents:
        if leaf not in implemented:
            walk([leaf])
    return sorted(out, key=lambda p: (-len(p), p))


_KIND_LABELS = {"implements": "thực hiện", "based_on": "căn cứ", "encloses": "kèm theo", "cites": "dẫn chiếu"}


def graph_html(graph: RelationGraph) -> str:
    """The directive chains as arrows, then each indexed document's references by kind."""
    if not graph.edges:
        return '<div class="cv-empty">Chưa có quan hệ nào giữa các văn bản trong kho.</div>'
    arrow = ' <span class="cv-arrow">→</span> '
    chain_items = "".join(f"<li>{arrow.join(_node_html(graph, k) for k in path)}</li>" for path in chains(graph))
    per_doc = []
    for node in graph.nodes:
        if not node.in_corpus:
            continue
        out = [e for e in graph.edges if e.source == node.key]
        if not out:
            continue
        parts = []
        for kind, label in _KIND_LABELS.items():
            targets = list(dict.fromkeys(e.target for e in out if e.kind == kind))
            if targets:
                parts.append(f"{label}: " + ", ".join(_node_html(graph, t) for t in targets))
        per_doc.append(f"<li><strong>{escape(node.label)}</strong> — {'; '.join(parts)}</li>")
    return ('<div class="cv-graph"><div class="cv-card-h">Chuỗi chỉ đạo (văn bản cấp trên → văn bản thực hiện)'
            f'</div><ul class="cv-chains">{chain_items or "<li class=cv-empty>Không có</li>"}</ul>'
            '<div class="cv-card-h">Quan hệ của từng văn bản trong kho</div>'
            f'<ul class="cv-refs">{"".join(per_doc)}</ul></div>')


def source_html(o: Obligation, today: date | None = None) -> str:
    s = o.source
    late = f' <strong class="cv-bad">({OVERDUE})</strong>' if is_overdue(o, today) else ""
    where = " · ".join(p for p in (f"{render.type_label(s.doc_type)} {render.number_label(s.number)}",
                                   s.issuer or "", f"Mục: {s.section}" if s.section else "") if p)
    return (f'<div class="cv-source-box"><div class="cv-head">{escape(where)}</div>'
            f'<div class="cv-where">Thời hạn: {escape(deadline_label(o.deadline))}{late}</div>'
            f'<div class="cv-quote">“{render.quote_html(s.quote)}”</div></div>')


def task_cards_html(rows: list[list[str]]) -> str:
    """The tasks as cards (phones): the action heads each card, then units, deadline, due date…"""
    return render.row_cards_html(COLUMNS, rows, title=1, empty="Không có nhiệm vụ nào khớp điều kiện lọc.")


# --------------------------------------------------------------------------- the page


class TasksPage:
    """Filters → table (rows in ``shown``, a list of obligation ids) → quote and document."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.build()
        self.register_events()

    def register(self) -> Register:
        return self.services.assistant.register

    def build(self) -> None:
        register = self.register()
        obligations = filter_obligations(register)
        with gr.Row():
            self.unit = gr.Textbox(label="Đơn vị", placeholder="Tên đơn vị (gõ không dấu, viết tắt như UBND cũng được)",
                                   scale=3, elem_id="cv-task-unit")
            self.month = gr.Dropdown(label="Tháng đến hạn", choices=month_choices(obligations), value=ALL, scale=1,
                                     elem_id="cv-task-month")
            self.doc = gr.Dropdown(label="Văn bản", choices=doc_choices(register.obligations), value=ALL, scale=2,
                                   elem_id="cv-task-doc")
        overdue = sum(is_overdue(o) for o in obligations)
        self.count = gr.Markdown(count_text(len(obligations), len(register.obligations), overdue),
                                 elem_id="cv-task-count")
        self.table = gr.Dataframe(value=table_rows(obligations), headers=COLUMNS, datatype="str", interactive=False,
                                  wrap=True, max_height=420, elem_id="cv-task-table",
                                  column_widths=["18%", "30%", "14%", "9%", "12%", "9%", "8%"])
        # On a phone the table is hidden and its rows are shown as cards (CSS in ``layout``).
        self.cards = gr.HTML(task_cards_html(table_rows(obligations)), js_on_load=render.CARDS_JS,
                             elem_id="cv-task-cards")
        self.shown = gr.State([o.id for o in obligations])
        with gr.Row():
            self.csv = gr.DownloadButton("Tải CSV", value=write_export(to_csv(obligations), "nhiem-vu.csv"),
                                         elem_id="cv-task-csv", size="sm")
            self.ics = gr.DownloadButton("Tải lịch (.ics)", value=write_export(self.ics_data(obligations), "nhiem-vu.ics"),
                                         elem_id="cv-task-ics", size="sm")
        self.source = gr.HTML(render.empty_document_html("Bấm vào một dòng để xem câu trích dẫn và văn bản gốc."),
                              elem_id="cv-task-source")
        with gr.Accordion("Quan hệ văn bản", open=True):
            self.graph = gr.HTML(self.graph_html(), elem_id="cv-task-graph")

    def register_events(self) -> None:
        filters = [self.unit, self.month, self.doc]
        for control in filters:
            control.change(self.filter, inputs=filters, outputs=self.filter_outputs, show_progress="hidden",
                           api_visibility="private", trigger_mode="always_last")
        self.table.select(self.open, inputs=[self.shown], outputs=[self.source], api_visibility="private")
        self.cards.click(self.open_card, inputs=[self.shown], outputs=[self.source], api_visibility="private")

    @property
    def filter_outputs(self) -> list:
        return [self.table, self.shown, self.count, self.csv, self.ics, self.cards]

    def graph_html(self) -> str:
        try:
            documents: list[Document] = self.services.documents()
            return graph_html(build_graph(documents, self.register().relations))
        except Exception:
            log.exception("building the relation graph failed")
            return '<div class="cv-empty cv-bad">Không dựng được sơ đồ quan hệ văn bản.</div>'

    def filter(self, unit: str, month: str, doc_id: str):
        register = self.register()
        found = filter_obligations(register, unit, month, doc_id)
        overdue = sum(is_overdue(o) for o in found)
        rows = table_rows(found)
        return (rows, [o.id for o in found], count_text(len(found), len(register.obligations), overdue),
                write_export(to_csv(found), "nhiem-vu.csv"), write_export(self.ics_data(found), "nhiem-vu.ics"),
                task_cards_html(rows))

    def ics_data(self, obligations: list[Obligation]) -> bytes:
        return ics_bytes(obligations, getattr(self.services, "settings", None))

    def open(self, shown: list[str], evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return self.open_row(shown, row)

    def open_card(self, shown: list[str], evt: gr.EventData):
        return self.open_row(shown, render.row_of(evt))

    def open_row(self, shown: list[str], row):
        if not isinstance(row, int) or not 0 <= row < len(shown):
            return gr.skip()
        o = next((o for o in self.register().obligations if o.id == shown[row]), None)
        if o is None:
            return render.empty_document_html("Nhiệm vụ này không còn trong kho.")
        html = source_html(o)
        try:
            doc = self.services.document(o.source.doc_id)
            if doc is not None:
                html += render.document_html(doc, self.services.chunks(doc.doc_id),
                                             highlight=(o.source.start, o.source.end), quote=o.source.quote,
                                             compact=True)
        except Exception:
            log.exception("opening %s failed", o.source.doc_id)
        return html

    def reload(self, unit: str = "", month: str = ALL, doc_id: str = ALL):
        """Fresh choices, rows and graph (after an upload, or when a page is opened)."""
        register = self.register()
        months, docs = month_choices(filter_obligations(register)), doc_choices(register.obligations)
        month = month if month in {v for _, v in months} else ALL
        doc_id = doc_id if doc_id in {v for _, v in docs} else ALL
        return (gr.update(choices=months, value=month), gr.update(choices=docs, value=doc_id),
                *self.filter(unit, month, doc_id), self.graph_html())

    @property
    def reload_inputs(self) -> list:
        return [self.unit, self.month, self.doc]

    @property
    def reload_outputs(self) -> list:
        return [self.month, self.doc, *self.filter_outputs, self.graph]
