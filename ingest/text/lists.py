"""Numbered lists a document titles "Danh sách …", and how many entries each holds.

Letters and plans attach lists of the bodies they concern ("Danh sách các đơn vị đề nghị báo
cáo lần 2", then "1. Công ty …" to "12. Công ty …", or a table whose first column is the STT).
"Có bao nhiêu đơn vị trong danh sách …?" is answered by counting the entries: no sentence of the
document states the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ingest.text.normalize import fold

# "Danh sách …", "Phụ lục 1: Danh sách …", folded.
_TITLE = re.compile(r"^\W*(?:phu luc\s*[\w.]*\s*[:.\-–]?\s*)?danh sach\b")
# "1. Công ty …", "2) …", or a table row whose first cell is the number: "| 3 | Công ty … |".
_ENTRY = re.compile(r"^\s*(?:\|\s*)?(\d{1,3})\s*(?:[.)]|\|)\s*\S")
# Lines that may stand between a title and its first entry: "(Kèm theo …)", a table's header row.
_BEFORE_ENTRIES = 3


@dataclass(frozen=True)
class TitledList:
    """A titled numbered list: its title line, how many entries it holds, its last entry, and
    where it stands in the text (``start``, the title, to ``end``, the last entry)."""

    title: str
    count: int
    last: str
    start: int
    end: int


def titled_lists(text: str) -> Iterator[TitledList]:
    """Each "Danh sách …" title of ``text`` followed by entries numbered 1, 2, 3, … (at least
    two), counted up to the first number out of sequence or the first line that is not an entry."""
    lines, starts, at = text.split("\n"), [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    for i, line in enumerate(lines):
        if not _TITLE.match(fold(line).lower()):
            continue
        expected, last, waited = 1, None, 0
        for j in range(i + 1, len(lines)):
            entry = _ENTRY.match(lines[j])
            if entry and int(entry.group(1)) == expected:
                expected, last = expected + 1, j
            elif not lines[j].strip() and expected == 1:
                continue
            elif expected == 1 and waited < _BEFORE_ENTRIES and not entry:
                waited += 1
            else:
                break
        if last is not None and expected > 2:
            yield TitledList(title=line.strip(), count=expected - 1, last=lines[last].strip(), start=starts[i],
                             end=starts[last] + len(lines[last].rstrip()))
