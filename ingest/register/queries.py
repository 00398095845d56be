"""Questions asked of the register: when a deadline next falls, which obligations a unit has or
what is due before a day, which targets a document sets, and the unit key those filters match on.

Every function takes an opened ``Index`` or a ``Register`` already read (the web app keeps one).
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Literal

from ingest.index import Index
from ingest.register.models import Deadline, Obligation, Register, Target
from ingest.register.storage import as_register
from ingest.text.normalize import fold_match


def next_due(deadline: Deadline, today: date | None = None) -> date | None:
    """When the deadline next falls: its date (even if past) for one-off deadlines, the month's
    last day for 'trong tháng', and the next occurrence on or after ``today`` for recurring ones."""
    today = today or date.today()
    if deadline.kind == "date":
        return date.fromisoformat(deadline.date) if deadline.date else None
    if deadline.kind == "month" and deadline.month:
        year, month = (int(p) for p in deadline.month.split("-"))
        return date(year, month, calendar.monthrange(year, month)[1])
    if deadline.kind == "quarter" and deadline.year and deadline.quarter:
        month = deadline.quarter * 3
        return date(deadline.year, month, calendar.monthrange(deadline.year, month)[1])
    if deadline.kind == "year" and deadline.year:
        return date(deadline.year, 12, 31)
    if deadline.recurrence in ("monthly", "quarterly") and deadline.day and not deadline.month_day:
        year, month = today.year, today.month
        for _ in range(2):
            day = min(deadline.day, calendar.monthrange(year, month)[1])
            if date(year, month, day) >= today:
                return date(year, month, day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None
    if deadline.month_day:
        month, day = (int(p) for p in deadline.month_day.split("-"))
        for year in range(today.year, today.year + 5):  # 29/2 needs a leap year
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    return None


def list_obligations(
    index: Index | Register,
    unit: str | None = None,
    before: date | str | None = None,
    doc_id: str | None = None,
    *,
    today: date | None = None,
) -> list[Obligation]:
    """Obligations, soonest due first.

    ``unit``: accent-insensitive, abbreviation-aware match on the acting or coordinating units
    ("Sở LĐTBXH" finds "Sở Lao động - Thương binh và Xã hội"). ``before``: due on or before that
    day (recurring ones by their next occurrence after ``today``; past one-off dates stay in,
    as overdue). ``doc_id``: one document's.
    """
    cutoff = date.fromisoformat(before) if isinstance(before, str) else before
    wanted = unit_key(unit) if unit else None
    out = []
    for o in as_register(index).obligations:
        if doc_id and o.source.doc_id != doc_id:
            continue
        if wanted and not any(wanted in unit_key(u) for u in [*o.units, *o.coordinating]):
            continue
        due = next_due(o.deadline, today)
        if cutoff and (due is None or due > cutoff):
            continue
        out.append((due or date.max, o.source.doc_id, o.deadline.start, o))
    return [o for *_, o in sorted(out, key=lambda row: row[:3])]


def list_targets(index: Index | Register, doc_id: str | None = None,
                 kind: Literal["target", "baseline"] | None = None) -> list[Target]:
    """Targets and baselines in document and text order, optionally of one document or kind."""
    return [t for t in as_register(index).targets
            if (doc_id is None or t.source.doc_id == doc_id) and (kind is None or t.kind == kind)]


# Abbreviations in unit names, spelled out so that "UBND" meets "Ủy ban nhân dân".
_UNIT_ABBREVIATIONS = [
    (re.compile(r"\bs(?:o\s*)?ld\s*[-,]?\s*tb\s*(?:&|va)?\s*xh\b"), "so lao dong thuong binh xa hoi"),
    (re.compile(r"\bsldtbxh\b"), "so lao dong thuong binh xa hoi"),
    (re.compile(r"\bld\s*[-,]?\s*tb\s*(?:&|va)?\s*xh\b|\bldtbxh\b"), "lao dong thuong binh xa hoi"),
    (re.compile(r"\bubnd\b"), "uy ban nhan dan"),
    (re.compile(r"\bhdnd\b"), "hoi dong nhan dan"),
    (re.compile(r"\bubmttq(?:vn)?\b"), "uy ban mat tran to quoc"),
    (re.compile(r"\bmttq(?:vn)?\b"), "mat tran to quoc"),
    (re.compile(r"\bgd\s*&\s*dt\b|\bgddt\b"), "giao duc dao tao"),
]
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def unit_key(unit: str) -> str:
    """A unit name reduced for matching: folded, abbreviations spelled out, punctuation and "và" gone."""
    text = fold_match(unit)
    for pattern, spelled in _UNIT_ABBREVIATIONS:
        text = pattern.sub(spelled, text)
    words = [w for w in _NOT_WORD.split(text) if w and w != "va"]
    return " ".join(words)
