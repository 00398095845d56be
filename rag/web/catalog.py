"""The library: searching and filtering indexed documents, and the chat scopes they offer."""

from __future__ import annotations

from html import escape

from ingest.models import Document
from ingest.text.normalize import fold, match_text
from ingest.text.labels import format_date, number_label, type_label
from rag.web.render import document_label

ALL = "__all__"
"""Drop-down value meaning 'no filter'."""

COLUMNS = ["Số, ký hiệu", "Loại", "Cơ quan ban hành", "Ngày", "Trích yếu", "Người ký", "Kính gửi"]


def search_text(doc: Document) -> str:
    """Everything a library search matches, accent-folded: number, type, issuer, subject, people."""
    m = doc.metadata
    fields = [m.number, m.doc_type, m.issuer, m.parent_issuer, m.place, m.date, format_date(m.date), m.subject,
              m.signer_name, m.signer_title, *m.addressees, doc.file]
    return fold(match_text(" ".join(f for f in fields if f)))


def matches(doc: Document, query: str) -> bool:
    """Every word of ``query`` occurs in the document's metadata, ignoring accents and case."""
    words = fold(match_text(query or "")).split()
    haystack = search_text(doc)
    return all(w in haystack for w in words)


def filter_documents(docs: list[Document], query: str = "", doc_type: str | None = None,
                     issuer: str | None = None) -> list[Document]:
    """The documents matching a search text, a type and an issuer (``ALL``/None = any)."""
    return [
        d for d in docs
        if matches(d, query)
        and (not doc_type or doc_type == ALL or (d.metadata.doc_type or "") == doc_type)
        and (not issuer or issuer == ALL or (d.metadata.issuer or "") == issuer)
    ]


def rows(docs: list[Document]) -> list[list[str]]:
    """Table rows for the library, in ``COLUMNS`` order."""
    out = []
    for d in docs:
        m = d.metadata
        signer = ", ".join(p for p in (m.signer_title, m.signer_name) if p)
        out.append([number_label(m.number), type_label(m.doc_type), m.issuer or "", format_date(m.date),
                    m.subject or "", signer, short_list(m.addressees)])
    return out


def short_list(items: list[str], keep: int = 2) -> str:
    """'A; B (+3)': the first entries of a long list, for a table cell."""
    shown = "; ".join(items[:keep])
    return f"{shown} (+{len(items) - keep})" if len(items) > keep else shown


def type_choices(docs: list[Document]) -> list[tuple[str, str]]:
    types = sorted({d.metadata.doc_type for d in docs if d.metadata.doc_type})
    return [("Tất cả loại", ALL)] + [(type_label(t), t) for t in types]


def issuer_choices(docs: list[Document]) -> list[tuple[str, str]]:
    issuers = sorted({d.metadata.issuer for d in docs if d.metadata.issuer})
    return [("Tất cả cơ quan", ALL)] + [(i, i) for i in issuers]


def scope_choices(docs: list[Document]) -> list[tuple[str, str]]:
    """What a chat question can be limited to: everything, one document, or one issuer."""
    choices = [("Tất cả văn bản đã nạp", ALL)]
    choices += [(f"Văn bản: {document_label(d)}", f"doc:{d.doc_id}") for d in docs]
    issuers = sorted({d.metadata.issuer for d in docs if d.metadata.issuer})
    choices += [(f"Cơ quan: {i}", f"issuer:{i}") for i in issuers]
    return choices


def scope_filters(scope: str | None) -> dict[str, str]:
    """A scope value → the ``filters`` argument of ``Assistant.ask``."""
    if not scope or scope == ALL:
        return {}
    kind, _, value = scope.partition(":")
    if kind == "doc" and value:
        return {"doc_id": value}
    if kind == "issuer" and value:
        return {"issuer": value}
    return {}


def scope_documents(scope: str | None, docs: list[Document]) -> list[Document]:
    """The documents a scope value limits the chat to (all of them for ``ALL``)."""
    filters = scope_filters(scope)
    if "doc_id" in filters:
        return [d for d in docs if d.doc_id == filters["doc_id"]]
    if "issuer" in filters:
        return [d for d in docs if (d.metadata.issuer or "") == filters["issuer"]]
    return list(docs)


def scope_note(scope: str | None, docs: list[Document]) -> str:
    """HTML shown next to the chat input while questions are limited: 'Đang hỏi trong: 1 văn bản
    (Kế hoạch 12/KH-UBND …)'; '' when the chat is not limited. Document text is escaped."""
    filters = scope_filters(scope)
    if not filters:
        return ""
    chosen = scope_documents(scope, docs)
    if "doc_id" in filters:
        what = f"1 văn bản ({document_label(chosen[0])})" if chosen else "1 văn bản (không còn trong kho)"
    else:
        what = f"{len(chosen)} văn bản của {filters['issuer']}"
    return (f'<div class="cv-scope-note" title="Câu hỏi chỉ được trả lời từ các văn bản này">'
            f"Đang hỏi trong: <strong>{escape(what)}</strong></div>")
