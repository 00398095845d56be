"""Pure rendering: answers, sources and documents as escaped HTML, Markdown or plain text.

Nothing here imports Gradio, so every function is tested as plain input → string. All text
that comes from documents or users is HTML-escaped before it is placed in markup.
"""

from __future__ import annotations

import base64
import re
from html import escape

from ingest.models import Chunk, Document
# type_label, number_label and format_date are re-exported: the pages name them through render.
from ingest.text.labels import document_line, format_date, number_label, type_label
from rag.models import Answer, Citation

NOT_FOUND = "Không tìm thấy trong các văn bản đã nạp."
HIT_ID = "cv-hit"

# Quotes keep the source's Markdown emphasis (**...**, *...*); shown as bold/italic.
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", re.DOTALL)


def citation_label(c: Citation) -> str:
    """'Công văn 3452/UBND-VX · Ủy ban nhân dân tỉnh Sóc Trăng · 23/10/2024'."""
    return document_line(c.doc_type, c.number, c.issuer, c.date)


def citation_where(c: Citation) -> str:
    """Section path and page, as shown under a source: 'Mục: VI. CHẾ ĐỘ BÁO CÁO · trang 3'."""
    parts = [f"Mục: {c.section}" if c.section else "", f"trang {c.page}" if c.page else ""]
    return " · ".join(p for p in parts if p)


def document_label(doc: Document) -> str:
    """One line naming a document in lists and drop-downs."""
    m = doc.metadata
    return document_line(m.doc_type, m.number, m.issuer, m.date)


def quote_html(quote: str) -> str:
    """A quoted sentence, escaped, with the source's Markdown emphasis rendered."""
    text = escape(quote)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return text.replace("\n", " ")


def plain_quote(quote: str) -> str:
    """A quoted sentence without Markdown emphasis, on one line."""
    return _ITALIC.sub(r"\1", _BOLD.sub(r"\1", quote)).replace("\n", " ")


# --------------------------------------------------------------------------- chat answers


def answer_text(answer: Answer) -> str:
    """The answer body: the abstention sentence when nothing was found, the "no certain answer"
    sentence when passages that may be related are offered."""
    if answer.abstained:
        return answer.answer if answer.related else NOT_FOUND
    return answer.answer


UNDERSTOOD = "Hiểu là"


def understood_line(answer: Answer) -> str:
    """'Hiểu là: …': how a follow-up was read against the conversation ('' for a question that stood alone)."""
    q = (answer.standalone_question or "").strip()
    return f"{UNDERSTOOD}: {q}" if q and q != answer.question.strip() else ""


def answer_markdown(answer: Answer) -> str:
    """The chat message: how a follow-up was understood, the answer with [n] markers, and notes.

    The sources themselves are listed once, as cards beside (on a phone: under) the chat.
    """
    understood = understood_line(answer)
    lines = [f"*{markdown_text(understood)}*\n"] if understood else []
    body = markdown_text(answer_text(answer))
    lines.append(body if answer.abstained else cite_previews(body, answer.citations))
    for note in answer.notes:
        lines.append(f"\n> Lưu ý: {markdown_text(note)}")
    if answer.abstained and answer.related:
        lines.append("\n**Có thể liên quan** (chưa chắc đã trả lời câu hỏi):")
        for c in answer.related:
            lines.append(f"- {markdown_text(citation_label(c))}: “{markdown_text(plain_quote(c.quote))}”")
    return "\n".join(lines)


# A citation marker in text already made safe by ``markdown_text`` (which may have escaped its "]").
_MARKER = re.compile(r"(?<!\\)\[(\d{1,3})\\?\]")
# Characters Markdown could read inside a title, written as entities (the browser decodes them).
_TITLE_ENTITIES = {ord(ch): f"&#{ord(ch)};" for ch in "\n*_`\\[]~$|"}


def cite_preview(c: Citation) -> str:
    """The hover text of a [n] marker: the cited document, its section and the quoted sentence."""
    where = citation_where(c)
    parts = [citation_label(c), where, f"“{plain_quote(c.quote)}”"]
    return "\n".join(p for p in parts if p)


def cite_previews(markdown: str, citations: list[Citation]) -> str:
    """``markdown`` (already escaped) with each [n] that names a citation wrapped in an ``<abbr>``
    whose title previews the source on hover. The title is HTML-escaped (quotes included) and
    holds no Markdown or tag that could be interpreted; markers with no citation stay as they are."""
    by_n = {c.n: c for c in citations}

    def wrap(m: re.Match) -> str:
        c = by_n.get(int(m.group(1)))
        if c is None:
            return m.group(0)
        title = escape(cite_preview(c), quote=True).translate(_TITLE_ENTITIES)
        return f'<abbr class="cv-cite" title="{title}">[{c.n}]</abbr>'

    return _MARKER.sub(wrap, markdown)


def answer_plaintext(answer: Answer) -> str:
    """The answer and its sources as plain text, for copying into a report or an e-mail."""
    understood = understood_line(answer)
    lines = [f"Câu hỏi: {answer.question}", *([understood] if understood else []), "", answer_text(answer)]
    if answer.citations and not answer.abstained:
        lines += ["", "Nguồn:"]
        for c in answer.citations:
            lines.append(f"[{c.n}] {citation_label(c)}")
            if c.section:
                lines.append(f"    Mục: {c.section}")
            lines.append(f"    Trích: “{plain_quote(c.quote)}”")
    return "\n".join(lines)


def sources_html(answer: Answer | None) -> str:
    """The source cards beside an answer; each card opens its document (``data-cite`` = n)."""
    if answer is None:
        return '<div class="cv-sources cv-empty">Nguồn của câu trả lời sẽ hiện ở đây.</div>'
    if answer.abstained and answer.related:
        cards = [
            f'<div class="cv-source cv-related"><span class="cv-head">{escape(citation_label(c))}</span>'
            + (f'<span class="cv-where">{escape(citation_where(c))}</span>' if citation_where(c) else "")
            + f'<span class="cv-quote">“{quote_html(c.quote)}”</span></div>'
            for c in answer.related
        ]
        return ('<div class="cv-sources"><div class="cv-hint">Có thể liên quan (chưa chắc đã trả lời câu hỏi):'
                "</div>" + "".join(cards) + "</div>")
    if answer.abstained or not answer.citations:
        return ('<div class="cv-sources cv-empty">Không có nguồn: câu trả lời không dựa trên văn bản nào '
                "đã nạp.</div>")
    cards = []
    for c in answer.citations:
        where = citation_where(c)
        cards.append(
            f'<button type="button" class="cv-source" data-cite="{c.n}" title="Mở văn bản và tô sáng đoạn trích">'
            f'<span class="cv-head"><span class="cv-n">[{c.n}]</span> {escape(citation_label(c))}</span>'
            + (f'<span class="cv-where">{escape(where)}</span>' if where else "")
            + f'<span class="cv-quote">“{quote_html(c.quote)}”</span></button>'
        )
    return ('<div class="cv-sources"><div class="cv-hint">Bấm vào một nguồn để mở văn bản.</div>'
            + "".join(cards) + "</div>")


def escape_user(text: str) -> str:
    """A question or partial answer shown in the chat, kept literal."""
    return markdown_text(text)


def error_markdown(message: str) -> str:
    """A failed request, shown in the chat in place of an answer."""
    return f"**Lỗi:** {markdown_text(message)}"


# --------------------------------------------------------------------------- documents


def metadata_rows(doc: Document) -> list[tuple[str, str]]:
    """Labelled metadata fields that are known, in ND30 order."""
    m = doc.metadata
    signer = ", ".join(p for p in (m.signing_authority, m.signer_title, m.signer_name) if p)
    rows = [
        ("Loại văn bản", type_label(m.doc_type)),
        ("Số, ký hiệu", number_label(m.number)),
        ("Cơ quan ban hành", m.issuer or ""),
        ("Ngày ban hành", format_date(m.date)),
        ("Trích yếu", m.subject or ""),
        ("Kính gửi", "; ".join(m.addressees)),
        ("Người ký", signer),
        ("Nơi nhận", "; ".join(m.recipients)),
        ("Tệp", doc.file),
    ]
    return [(k, v) for k, v in rows if v]


def outline(chunks: list[Chunk]) -> list[tuple[str, int]]:
    """Distinct section paths in reading order, each with the offset where it begins."""
    seen: set[str] = set()
    found = []
    for chunk in chunks:
        path = chunk.section_path
        if path and path not in seen:
            seen.add(path)
            found.append((path, chunk.start))
    return found


def document_html(doc: Document, chunks: list[Chunk], *, highlight: tuple[int, int] | None = None,
                  quote: str | None = None, compact: bool = False) -> str:
    """A document's metadata, section outline and full text, with one passage in ``<mark>``.

    ``highlight`` is a (start, end) range of ``doc.text`` (a citation's offsets). When the
    text there is not the quoted sentence (an index built by another version), the quote
    is searched for instead; when neither is found nothing is highlighted. ``compact``
    folds the metadata and outline away so the passage is what one sees first.
    """
    text = doc.text
    span = _highlight_span(text, highlight, quote)
    sections = outline(chunks)
    marks: list[tuple[int, int, str]] = []  # (offset, order, html): order puts closings first
    for i, (_path, start) in enumerate(sections):
        marks.append((start, 1, f'<span class="cv-anchor" id="cv-sec-{i}"></span>'))
    if span:
        marks.append((span[0], 2, f'<mark id="{HIT_ID}">'))
        marks.append((span[1], 0, "</mark>"))
    marks.sort(key=lambda m: (m[0], m[1]))
    body, pos = [], 0
    for offset, _order, html in marks:
        offset = max(0, min(offset, len(text)))
        body.append(_text_html(text[pos:offset]))
        body.append(html)
        pos = offset
    body.append(_text_html(text[pos:]))

    meta = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in metadata_rows(doc))
    if sections:
        items = "".join(
            f'<li><a href="#cv-sec-{i}" onclick="event.preventDefault();document.getElementById(\'cv-sec-{i}\')'
            f'.scrollIntoView({{block:\'start\',behavior:\'smooth\'}})">{escape(path)}</a></li>'
            for i, (path, _start) in enumerate(sections)
        )
        toc = (f'<details class="cv-outline"{"" if compact else " open"}><summary>Mục lục ({len(sections)} mục)'
               f"</summary><ol>{items}</ol></details>")
    else:
        toc = '<div class="cv-outline cv-empty">Văn bản không có đề mục.</div>'
    found = ('<div class="cv-found">Đoạn được trích dẫn được tô vàng.</div>' if span
             else "")
    return (
        f'<div class="cv-doc" data-doc-id="{escape(doc.doc_id)}">'
        f"<h3>{escape(document_label(doc))}</h3>"
        f'<details class="cv-meta-box"{"" if compact else " open"}><summary>Thông tin văn bản</summary>'
        f'<table class="cv-meta">{meta}</table></details>{toc}{found}'
        f'<div class="cv-text">{"".join(body)}</div></div>'
    )


def _text_html(text: str) -> str:
    """A stretch of a document's text, escaped, its Markdown bold shown as bold (no raw ``**``)."""
    return _BOLD.sub(r"<strong>\1</strong>", escape(text)).replace("**", "")


def scan_html(image_png: bytes, page: int, boxes: list[tuple[float, float, float, float]]) -> str:
    """A scanned page with the cited words outlined; boxes are fractions of the page size."""
    marks = "".join(
        f'<div class="cv-box" style="left:{x0 * 100:.2f}%;top:{y0 * 100:.2f}%;'
        f'width:{(x1 - x0) * 100:.2f}%;height:{(y1 - y0) * 100:.2f}%"></div>'
        for x0, y0, x1, y1 in boxes
    )
    data = base64.b64encode(image_png).decode("ascii")
    return (f'<details class="cv-scan" open><summary>Bản quét, trang {page} (từ được trích dẫn đóng khung)</summary>'
            f'<div class="cv-scan-page"><img alt="Trang {page}" src="data:image/png;base64,{data}">{marks}</div>'
            "</details>")


def empty_document_html(message: str = "Chọn một nguồn hoặc một văn bản để xem toàn văn.") -> str:
    return f'<div class="cv-doc cv-empty">{escape(message)}</div>'


def _highlight_span(text: str, highlight: tuple[int, int] | None, quote: str | None) -> tuple[int, int] | None:
    if highlight:
        start, end = highlight
        if 0 <= start < end <= len(text) and (not quote or _same(text[start:end], quote)):
            return start, end
    if quote:
        plain = plain_quote(quote).strip()
        for needle in (quote.strip(), plain):
            at = text.find(needle) if needle else -1
            if at >= 0:
                return at, at + len(needle)
    if highlight:
        start, end = highlight
        if 0 <= start < end <= len(text):
            return start, end
    return None


def _same(a: str, b: str) -> bool:
    squash = lambda s: re.sub(r"[\s*]+", "", s)
    return squash(a) == squash(b)


# Markdown that can fetch or point somewhere: images ![..](..), inline and reference links
# [..](..), [..][..] and their definitions [..]: .., raw HTML and autolinks <..>, code spans;
# "&" so that typed entities read as typed; and the backslash itself, so an escape in the
# source cannot cancel ours. A lone "[1]" (a citation marker) is left as it is: with no "]("
# and no definition it is plain text.
_MARKDOWN_SPECIAL = {"\\": "\\\\", "`": "\\`", "&": "&amp;", "<": "&lt;", ">": "&gt;", "![": "!\\["}
_MARKDOWN_SPECIAL_RE = re.compile(r"\\|`|&|<|>|!\[|\](?=[(\[:])")


def markdown_text(text: str) -> str:
    """Text from a document, a user or an LLM, made safe to place in Markdown.

    No raw HTML, image, link or code span survives, so a document or a question holding
    ``![x](http://host/pixel.png)`` or ``<img src=...>`` shows those characters instead of
    making the browser fetch anything. Emphasis (``**...**``) is left alone: quotes keep the
    source's bold and italics.
    """
    return _MARKDOWN_SPECIAL_RE.sub(lambda m: _MARKDOWN_SPECIAL.get(m.group(), "\\]"), text)


CARDS_JS = """
element.addEventListener('click', (event) => {
  const card = event.target.closest('[data-row]');
  if (card) { trigger('click', {row: card.dataset.row}); }
});
"""
"""For ``row_cards_html``: a card reports its row, as a table's select would."""


def row_cards_html(headers: list[str], rows: list[list[str]], *, title: int = 0, empty: str = "Không có dòng nào.") -> str:
    """A table as one card per row (for a phone): column ``title`` heads the card, the other
    non-empty cells follow as label: value. Each card is a button carrying its row number."""
    if not rows:
        return f'<div class="cv-row-cards cv-empty">{escape(empty)}</div>'
    cards = []
    for i, row in enumerate(rows):
        fields = "".join(f"<dt>{escape(h)}</dt><dd>{escape(v)}</dd>"
                         for j, (h, v) in enumerate(zip(headers, row)) if j != title and str(v).strip())
        cards.append(f'<button type="button" class="cv-row-card" data-row="{i}">'
                     f'<div class="cv-card-title">{escape(str(row[title]))}</div><dl>{fields}</dl></button>')
    return f'<div class="cv-row-cards">{"".join(cards)}</div>'


def row_of(evt) -> int | None:
    """The row a card click reports (``None`` when absent or malformed)."""
    data = getattr(evt, "_data", None) or {}
    try:
        return int(data.get("row"))
    except (TypeError, ValueError):
        return None


def upload_results_html(results: list[tuple[bool, str]]) -> str:
    """One line per uploaded file: ✅ or ❌ and its Vietnamese message."""
    if not results:
        return ""
    items = "".join(
        f'<li class="{"cv-ok" if ok else "cv-bad"}">{"✓" if ok else "✗"} {escape(message)}</li>'
        for ok, message in results
    )
    return f'<ul class="cv-upload-results">{items}</ul>'
