"""Sentence spans of Vietnamese official text, as offsets into the text they come from.

Official letters are hard-wrapped (and OCR keeps the wraps), so a line break ends a sentence
only where the next line starts a new item (a bullet, a number, a heading) or the line before
closes a sentence. List items, heading lines and table rows ("| 1 | Task | Sở X | Quý II |",
as Markdown writes them and the loader writes a Word data table) are sentences of their own;
a table's ruling line ("|---|---|") is none.
"""

from __future__ import annotations

import re

_ITEM_START = re.compile(
    r"(?:[-+•*]\s|\(?\d{1,2}(?:\.\d{1,2})*[.)]\s|\(\d{1,2}\)\s|[a-zđ]\)\s|[IVXLC]{1,5}[.\-]\s|#|\*\*|\||Nơi nhận|Kính gửi)",
)
_CLOSES = re.compile(r"[.;:!?]\**\s*$|\./\.\s*$|\|\s*$")
# Inside a paragraph: a full stop, "?" or "!" followed by space and a capital or an opening mark.
# Semicolons separate the clauses of one requirement ("... trước ngày 10/11; báo cáo đột xuất ..."),
# so they end a sentence only at the end of a line (a list item).
_INLINE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"“(*]?[A-ZĐÀ-Ỹ0-9])")
# "TP. HCM", "PCT. UBND", "Đ/c. ": an all-caps abbreviation before the dot does not end a sentence.
_ABBREVIATION_END = re.compile(r"(?:\b[A-ZĐ]{1,5}|\b(?:Tp|ThS|Đ/c|V/v))\.$")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in ``text[start:end]``, trimmed of whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for a, b in _blocks(text, start, end):
        # A table row stays whole: its task, unit and deadline cells answer together.
        spans.extend([(a, b)] if text.startswith("|", a) else _split_inline(text, a, b))
    return [(a, b) for a, b in spans if text[a:b].strip(" *\n\t-+|:")]


def _blocks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Group hard-wrapped lines into logical paragraphs / items."""
    blocks: list[tuple[int, int]] = []
    block_start: int | None = None
    prev_end = start
    previous = ""
    pos = start
    for line in text[start:end].split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        stripped = line.strip()
        if not stripped:
            if block_start is not None:
                blocks.append((block_start, prev_end))
                block_start = None
            previous = ""
            continue
        new_item = bool(_ITEM_START.match(stripped)) or bool(_CLOSES.search(previous)) or previous.isupper()
        if block_start is not None and new_item:
            blocks.append((block_start, prev_end))
            block_start = None
        if block_start is None:
            block_start = line_start + (len(line) - len(line.lstrip()))
        prev_end = line_start + len(line.rstrip())
        previous = stripped
    if block_start is not None:
        blocks.append((block_start, prev_end))
    return blocks


def _split_inline(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cursor = start
    for m in _INLINE_BREAK.finditer(text, start, end):
        head = text[cursor:m.start()]
        if _ABBREVIATION_END.search(head) or len(head.strip()) < 12:
            continue
        spans.append((cursor, m.start()))
        cursor = m.end()
    spans.append((cursor, end))
    return [(a, b) for a, b in spans if a < b]
