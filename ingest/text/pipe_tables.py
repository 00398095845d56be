"""A row of a pipe table read with its header: which cell stands under which column title.

Word tables reach the text as pipe rows, one row a line, under their header row:

    | TT | Nhiệm vụ thực hiện | Người thực hiện | Ghi chú |
    |  | Tổ chức chấm bài | Vũ Việt Linh |  |

"Ai lo chấm bài?" is answered by the cell of the row holding the task that stands under a
column naming who carries it out ("Người thực hiện", "Đơn vị chủ trì"), which no sentence says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text.normalize import fold

Span = tuple[int, int]

# A column naming who carries a row's task out ("Người thực hiện", "Đơn vị chủ trì", "Cơ quan
# chủ trì thực hiện", "Phụ trách"), folded; not "Nhiệm vụ thực hiện" or "Thời gian thực hiện".
_LEAD_COLUMN = re.compile(
    r"^(?:(?:nguoi|can bo|don vi|co quan|bo phan|thanh vien)(?:\s+(?:duoc giao\s+)?(?:thuc hien|chu tri|"
    r"phu trach|chiu trach nhiem)(?:\s+thuc hien)?)?|chu tri|phu trach|(?:nguoi|can bo|don vi) phu trach)$")
# A column naming who takes part: "Đơn vị phối hợp", "Cơ quan phối hợp".
_COORD_COLUMN = re.compile(r"^(?:(?:nguoi|can bo|don vi|co quan|bo phan)\s+)?phoi hop(?:\s+thuc hien)?$")


@dataclass(frozen=True)
class HeadedCell:
    """A row's cell under a column: the column's title as written and the cell's span."""

    column: str
    start: int
    end: int


def _cells(text: str, start: int, end: int) -> list[Span] | None:
    """The cells of the pipe row ``text[start:end]`` (one line), trimmed; None when it is none."""
    line = text[start:end]
    if not line.strip().startswith("|") or line.count("|") < 3:
        return None
    bars = [start + i for i, ch in enumerate(line) if ch == "|"]
    cells = []
    for a, b in zip(bars, bars[1:]):
        while a + 1 < b and text[a + 1] in " \t*":
            a += 1
        while b - 1 > a + 1 and text[b - 1] in " \t*":
            b -= 1
        cells.append((a + 1, b))
    return cells


def _line_at(text: str, pos: int) -> Span:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, end if end >= 0 else len(text)


def who_cell(text: str, pos: int, *, coordinating: bool = False) -> HeadedCell | None:
    """The cell of the pipe row holding ``pos`` that stands under the column naming who carries
    the row out (``coordinating``: who takes part), read against the table's first row, its
    header; None when ``pos`` is on no such row, the row is the header, the cell is empty or the
    row and the header do not have as many cells."""
    start, end = _line_at(text, pos)
    row = _cells(text, start, end)
    if row is None:
        return None
    header: list[Span] | None = None
    top = start
    while top > 0:  # up to the first row of the table
        above = _line_at(text, top - 1)
        cells = _cells(text, *above)
        if cells is None:
            break
        header, top = cells, above[0]
    if header is None or len(header) != len(row):
        return None
    wanted = _COORD_COLUMN if coordinating else _LEAD_COLUMN
    for (a, b), (c, d) in zip(header, row):
        title = " ".join(text[a:b].split())
        if wanted.match(fold(title).lower()) and text[c:d].strip():
            return HeadedCell(title, c, d)
    return None
