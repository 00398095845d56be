"""How documents, dates, passages and pages are named for people: one definition for the answer,
the LLM prompt, the web app, the register and the evaluation reports.

Several labels exist because their readers differ, not by accident; each says where it is used:

* :func:`document_name` — "Công văn 3452/UBND-VX": lists, tables, drop-downs, the register.
* :func:`document_line` — "Công văn 3452/UBND-VX · UBND tỉnh Sóc Trăng · 23/10/2024": a source
  under an answer, a document in a list.
* :func:`document_title` — "Công văn số 3452/UBND-VX (UBND tỉnh Sóc Trăng, 23/10/2024)": the
  sentence-like heading above an answer's quotes ("Theo Công văn số …:").
* :func:`document_short` — "Công văn 3452/UBND-VX (UBND tỉnh Sóc Trăng)": a document named in
  the relation graph, where a blank number ("/KH-UBND") says nothing and is left out.

Pure functions of strings; nothing here reads settings or the index (foundation layer).
"""

from __future__ import annotations

import re

from ingest.models import DocumentMetadata

# A document without a number still needs a visible slot where the number would be.
UNNUMBERED = "(không số)"
# What a document of unknown type is called.
UNKNOWN_TYPE = "văn bản"
# Marks text cut by :func:`shorten`; the space keeps it from reading as part of the last word.
ELLIPSIS = " …"

_WHITESPACE = re.compile(r"\s+")


def format_date(iso: str | None) -> str:
    """An ISO date, possibly partial, as Vietnamese write it.

    '2024-10-23' → '23/10/2024', '2024-10' → '10/2024', '2024' → '2024', None or '' → ''.
    Anything that is not dash-separated digits is returned unchanged, so a malformed date is
    shown as found instead of being scrambled.
    """
    if not iso:
        return ""
    parts = iso.split("-")
    if not all(p.isdigit() for p in parts):
        return iso
    return "/".join(reversed(parts))


def type_label(doc_type: str | None) -> str:
    """The document type as a label start: 'công văn' → 'Công văn'; unknown → 'Văn bản'."""
    return doc_type[:1].upper() + doc_type[1:] if doc_type else UNKNOWN_TYPE.capitalize()


def number_label(number: str | None) -> str:
    """The number as shown: '3452/UBND-VX' as is; a blank number ('/KH-UBND', digits left empty
    on the form) gets '…' where the digits are missing; no number at all gives '(không số)'."""
    if not number:
        return UNNUMBERED
    return f"…{number}" if number.startswith("/") else number


def document_name(doc_type: str | None, number: str | None) -> str:
    """'Công văn 3452/UBND-VX', 'Kế hoạch …/KH-UBND', 'Văn bản (không số)'."""
    return f"{type_label(doc_type)} {number_label(number)}"


def document_line(doc_type: str | None, number: str | None, issuer: str | None, date: str | None) -> str:
    """'Công văn 3452/UBND-VX · Ủy ban nhân dân tỉnh Sóc Trăng · 23/10/2024'; missing parts left out."""
    parts = [document_name(doc_type, number), issuer or "", format_date(date)]
    return " · ".join(p for p in parts if p)


def document_title(meta: DocumentMetadata, *, with_issuer: bool = False) -> str:
    """The document as named in an answer's prose.

    With ``with_issuer``: 'Công văn số 3452/UBND-VX (UBND tỉnh Sóc Trăng, 23/10/2024)' (the
    parenthesis dropped when both are unknown); an attachment without a number of its own:
    'Kế hoạch kèm theo Quyết định số 1627/QĐ-UBND ngày 21/11/2025 (UBND tỉnh Quảng Ngãi,
    21/11/2025)'. Without: 'Công văn số 3452/UBND-VX <subject>', the words a question naming the
    document would use. A blank number ('/KH-UBND') is left out:
    "Kế hoạch số /KH-UBND" would read as a typo.
    """
    kind = (meta.doc_type or UNKNOWN_TYPE).capitalize()
    number = f" số {meta.number}" if meta.number and not meta.number.startswith("/") else ""
    label = f"{kind}{number}"
    if with_issuer and not number and meta.attached_to:
        # An attachment without a number of its own is known by the document it is issued with.
        label += f" kèm theo {meta.attached_to}"
    if with_issuer:
        extra = ", ".join(p for p in (meta.issuer, format_date(meta.date)) if p)
        label += f" ({extra})" if extra else ""
    elif meta.subject:
        label += f" {meta.subject}"
    return label


def document_short(doc_type: str | None, number: str | None, issuer: str | None = None) -> str:
    """'Công văn 3452/UBND-VX (UBND tỉnh Sóc Trăng)'; a number that does not start with a digit
    (blank or garbled) is left out: 'Kế hoạch (UBND tỉnh Sóc Trăng)'."""
    kind = (doc_type or UNKNOWN_TYPE).capitalize()
    shown = number if number and number[:1].isdigit() else None
    who = f" ({issuer})" if issuer else ""
    return f"{kind} {shown}{who}" if shown else f"{kind}{who}"


def shorten(text: str, limit: int, *, trim_end: str = "") -> str:
    """``text`` on one line (whitespace runs → one space), cut at the last space before ``limit``
    characters and ended with ' …' when longer (cut at ``limit`` when there is no space).

    ``trim_end``: characters stripped from the end before measuring (".;," drops the sentence
    punctuation a shortened quote would otherwise end on).
    """
    text = _WHITESPACE.sub(" ", text).strip()
    if trim_end:
        text = text.rstrip(trim_end)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + ELLIPSIS


def page_at(page_starts: list[int] | None, offset: int) -> int | None:
    """The 1-based page holding character ``offset`` of a text whose pages begin at
    ``page_starts`` (``Document.page_starts``); None for a text without pages (not a PDF).
    An offset before the first page start counts as page 1."""
    if not page_starts:
        return None
    return sum(1 for p in page_starts if p <= offset) or 1


def quote_window(text: str, keep: list[tuple[int, int]], limit: int) -> str:
    """``text`` on one line, whole when it fits in ``limit`` characters; otherwise the stretch of
    about ``limit`` characters around the spans in ``keep`` (offsets into ``text``: the words
    that answer), cut at spaces and marked ' …' / '… ' where text was left out.

    Unlike ``shorten``, the answer is never what gets cut: a deadline at the end of a long
    sentence stays. Spans that do not fit together keep the first ones; a single span longer than
    ``limit`` is kept whole.
    """
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= limit or not keep:
        return shorten(text, limit) if not keep else flat
    # Map offsets of ``text`` to ``flat``: count the characters ``flat`` kept before each offset.
    lead = len(text) - len(text.lstrip())
    mapped: list[tuple[int, int]] = []
    for start, end in sorted(keep):
        a = len(_WHITESPACE.sub(" ", text[lead:max(lead, start)]))
        b = len(_WHITESPACE.sub(" ", text[lead:max(lead, end)]))
        mapped.append((min(a, len(flat)), min(b, len(flat))))
    first, last = mapped[0][0], mapped[0][1]
    for a, b in mapped[1:]:
        if b - first > limit:
            break
        last = max(last, b)
    room = max(0, limit - (last - first))
    begin = max(0, first - room // 2)
    finish = min(len(flat), last + (room - (first - begin)))
    begin = max(0, min(begin, finish - limit)) if finish - begin < limit else begin
    if begin > 0:
        space = flat.find(" ", begin)
        begin = space + 1 if 0 <= space < first else begin
    if finish < len(flat):
        space = flat.rfind(" ", last, finish)
        finish = space if space > last else finish
    return ("… " if begin > 0 else "") + flat[begin:finish] + (ELLIPSIS if finish < len(flat) else "")
