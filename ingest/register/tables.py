"""Tables of tasks (unit | task | coordinating | deadline), one obligation per row.

Three layouts reach the register as text:

* Markdown pipe rows, one row a line: ``| 1 | Task | Sở X | Các sở | Quý II/2026 |``;
* pipe tables converted with every cell on its own lines, a line holding only ``|`` between
  cells and an empty cell (two ``|`` lines in a row) between rows;
* Word tables as the loader writes them: one line per cell paragraph, no separators, each row
  opened by its number (``1``, ``2.1``) under a header opened by ``TT`` / ``STT``.

A table counts only when its header names a time column ("Thời gian", "Thời hạn", "Tiến độ")
and a unit column ("chủ trì", "thực hiện", "Đơn vị", "Cơ quan"). Rows are aligned on the cell
that holds the deadline: the header says how far the unit, coordinating and task columns lie from
it, so a dropped empty cell on either side of a row does not shift the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.models import Document
from ingest.text.normalize import fold

Span = tuple[int, int]

_TIME_HEAD = re.compile(r"\b(?:thoi gian|thoi han|tien do|han hoan thanh)\b")
_COORD_HEAD = re.compile(r"\bphoi hop\b")
_UNIT_HEAD = re.compile(r"\b(?:chu tri|thuc hien|don vi|co quan|trach nhiem|phan cong|so, nganh)\b")
_TASK_HEAD = re.compile(r"\b(?:noi dung|nhiem vu|cong viec|hoat dong|giai phap|ten)\b")
_ROW_NUMBER = re.compile(r"^\s*\**\s*(?:\d{1,3}(?:\.\d{1,3})*\.?|[IVX]{1,5}\.?|[a-zđ]\))\s*\**\s*$")
_NUMBERING_CELL = re.compile(r"^\s*\(\s*\d{1,2}\s*\)\s*$")
_TT = re.compile(r"^\s*\**\s*s?tt\s*\**\s*$", re.IGNORECASE)
_MAX_DEADLINE_WORDS = 16


@dataclass
class Header:
    """Column roles of a table header: indexes into its cells (None when absent)."""

    size: int
    time: int
    unit: int
    coord: int | None
    task: int | None


@dataclass
class TableRow:
    """One data row: its cells as spans of ``Document.text`` (whitespace and markup trimmed)."""

    cells: list[Span]
    header: Header


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start] in " \t\r\n*|":
        start += 1
    while end > start and text[end - 1] in " \t\r\n*|":
        end -= 1
    return start, end


def _header(texts: list[str]) -> Header | None:
    folded = [fold(" ".join(t.split())).replace("*", "") for t in texts]
    time = next((i for i, f in enumerate(folded) if _TIME_HEAD.search(f)), None)
    if time is None:
        return None
    coord = next((i for i, f in enumerate(folded) if _COORD_HEAD.search(f) and i != time), None)
    unit = next((i for i, f in enumerate(folded)
                 if _UNIT_HEAD.search(f) and i not in (time, coord) and not _COORD_HEAD.search(f)), None)
    if unit is None:
        return None
    task = next((i for i, f in enumerate(folded) if _TASK_HEAD.search(f) and i not in (time, coord, unit)), None)
    return Header(size=len(texts), time=time, unit=unit, coord=coord, task=task)


def _lines(text: str) -> list[Span]:
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def table_rows(doc: Document) -> list[TableRow]:
    """Every data row of every task table in ``doc``, in text order."""
    text = doc.text
    lines = _lines(text)
    rows = _pipe_rows(text, lines) + _word_rows(text, lines)
    return sorted(rows, key=lambda r: r.cells[0][0])


def _pipe_rows(text: str, lines: list[Span]) -> list[TableRow]:
    """Rows of Markdown pipe tables, one row a line or one cell a line."""
    raw_rows: list[list[Span]] = []
    cells: list[Span] = []
    cell_start: int | None = None
    for a, b in lines:
        line = text[a:b].strip()
        if line == "|":
            # A separator line: closes the open cell; an empty cell ends a row.
            if cell_start is not None:
                span = _trim(text, cell_start, a)
                if span[0] < span[1]:
                    cells.append(span)
                elif cells:
                    raw_rows.append(cells)
                    cells = []
            cell_start = b
            continue
        if line.startswith("|") and line.count("|") >= 3:
            if cells:
                raw_rows.append(cells)
                cells = []
            cell_start = None
            bars = [a + i for i, ch in enumerate(text[a:b]) if ch == "|"]
            row = [_trim(text, x + 1, y) for x, y in zip(bars, bars[1:])]
            if not all(re.fullmatch(r"\s*:?-{2,}:?\s*", text[s:e]) or s == e for s, e in row):
                raw_rows.append(row)
            continue
        if not line and cell_start is not None and cells:
            raw_rows.append(cells)
            cells, cell_start = [], None
        elif not line:
            cell_start = None
    if cells:
        raw_rows.append(cells)
    return _with_headers(text, raw_rows)


def _word_rows(text: str, lines: list[Span]) -> list[TableRow]:
    """Rows of Word tables written one cell paragraph a line, opened by a "TT" header cell."""
    out: list[TableRow] = []
    i = 0
    while i < len(lines):
        if not _TT.match(text[lines[i][0]:lines[i][1]]):
            i += 1
            continue
        j = i + 1
        head: list[Span] = [lines[i]]
        while j < len(lines) and len(head) < 12:
            line = text[lines[j][0]:lines[j][1]]
            if _ROW_NUMBER.match(line) or _NUMBERING_CELL.match(line) or not line.strip():
                break
            head.append(lines[j])
            j += 1
        header = _header([text[a:b] for a, b in head])
        if header is None:
            i = j
            continue
        while j < len(lines) and _NUMBERING_CELL.match(text[lines[j][0]:lines[j][1]]):
            j += 1
        row: list[Span] = []
        while j < len(lines):
            line = text[lines[j][0]:lines[j][1]]
            if not line.strip():
                break
            if _ROW_NUMBER.match(line):
                if row:
                    out.append(TableRow(row, header))
                row = [_trim(text, *lines[j])]
            elif row:
                row.append(_trim(text, *lines[j]))
            j += 1
        if row:
            out.append(TableRow(row, header))
        i = j
    return out


def _with_headers(text: str, raw_rows: list[list[Span]]) -> list[TableRow]:
    out: list[TableRow] = []
    header: Header | None = None
    for cells in raw_rows:
        found = _header([text[a:b] for a, b in cells])
        if found is not None:
            header = found
            continue
        if header is not None and len(cells) >= 3:
            out.append(TableRow(cells, header))
    return out


def row_roles(doc: Document, view: str, row: TableRow, deadline_of) -> tuple[int, dict[str, Span | None]] | None:
    """The row's deadline cell index and its unit / coord / task cells, aligned on the deadline.

    ``deadline_of(start, end)`` reads a cell's deadline (None when it states none). The
    deadline cell is the one at the header's time column, counted from the left or from the
    right; failing both, the last short cell that states a deadline.
    """
    h = row.header
    n = len(row.cells)
    candidates = [h.time, n - (h.size - h.time)]
    short = [i for i, (a, b) in enumerate(row.cells) if len(view[a:b].split()) <= _MAX_DEADLINE_WORDS]
    chosen = None
    for i in candidates:
        if 0 <= i < n and i in short and deadline_of(*row.cells[i]) is not None:
            chosen = i
            break
    if chosen is None:
        return None
    offset = chosen - h.time

    def cell(col: int | None) -> Span | None:
        if col is None:
            return None
        k = col + offset
        return row.cells[k] if 0 <= k < n and k != chosen else None

    return chosen, {"unit": cell(h.unit), "coord": cell(h.coord), "task": cell(h.task)}
