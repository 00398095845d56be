"""The deadline grammar: which words make a date a deadline, and the deadline as data.

Precision comes before recall: a date counts as a deadline only after a deadline word
("trước", "chậm nhất", "trong tháng"), never on its own ("ngày 25/12/2023 của Bộ Chính trị" is a
document's date); a planned date ("dự kiến ...") and a date something already happened before
("đã tiếp nhận trước ngày ...") are not deadlines either.

Everything here reads the aligned matching view (``spans.matching_view``) of a document's text,
so the offsets of a ``Deadline`` are offsets into ``Document.text``.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from ingest.models import Document
from ingest.register.models import Deadline
from ingest.register.spans import tidy
from ingest.text.normalize import fold

# "trước ngày", OCR "trudc"/"truéc" ngày, "chậm nhất (là/vào) ngày", "hạn chót ngày". At least
# one letter between "tru" and "c": "trực ngày 1/1" (on duty that day) is no deadline.
_BEFORE = r"(?:tru\w{1,2}c|(?:cham nhat|han chot|han cuoi)(?:\s+(?:la|vao|truoc))*)"
_CLOCK = r"(?:\d{1,2}\s*(?:gio|h)(?:\s*\d{1,2}(?:\s*phut)?)?\s*,?\s*)?"
_DEADLINE_DATE = re.compile(
    rf"\b{_BEFORE}\s+{_CLOCK}ngay\s+"
    r"(?:(?P<d1>\d{1,2})\s*/\s*(?P<m1>\d{1,2})(?:\s*/\s*(?P<y1>\d{4}))?"
    r"|(?P<d2>\d{1,2})\s+thang\s+(?P<m2>\d{1,2})(?:\s+nam\s+(?P<y2>\d{4}))?)(?![\d/])"
)
# "trước ngày 20 hằng tháng"
_DEADLINE_MONTHLY = re.compile(rf"\b{_BEFORE}\s+ngay\s+(?P<day>\d{{1,2}})\s+(?:cua\s+)?(?:hang|moi)\s+thang\b")
# "trong tháng 11/2024", "trong tháng 11 năm 2024", "trong tháng 11"
_DEADLINE_MONTH = re.compile(
    r"\btrong\s+thang\s+(?P<m>\d{1,2})(?:\s*/\s*(?P<y1>\d{4})|\s+nam\s+(?P<y2>\d{4}))?(?![\d/])"
)
# A planned date is not a deadline: "dự kiến tổ chức trong tháng 10/2024".
_PLANNED = re.compile(r"\bdu kien\b")
# A date something already happened before is not a deadline: "hồ sơ đã tiếp nhận trước ngày ...".
_PAST_BEFORE = re.compile(r"\b(?:da|duoc)(?:\s+[a-z]+){0,2}\s*$")
_RECURRING = re.compile(r"\b(?:dinh ky|hang nam|moi nam|hang nua nam|thuong nien|hang quy|moi quy|hang thang|moi thang)\b")
_PERIOD = re.compile(
    r"\b(?:dinh ky\s+)?(?:bao cao\s+)?(?:"
    r"(?P<semiannual>6 thang(?:\s+(?:dau|cuoi)\s+nam)?|sau thang|nua nam|hang nua nam)"
    r"|(?P<yearly>hang nam|moi nam|thuong nien|ca nam|(?<=bao cao )nam)"
    r"|(?P<quarterly>hang quy|moi quy|quy)"
    r"|(?P<monthly>hang thang|moi thang))\b(?!\s*\d)"
)
_FOR_WHICH = re.compile(r"\s*\(\s*doi voi\b[^()]{0,60}\)")


class Found:
    """A deadline phrase found in the view, before it becomes a ``Deadline``.

    ``deadline`` is None for a phrase that looks like a deadline but is not one (a planned date,
    a past one): its offsets still keep a shorter pattern from reading the same words again.
    """

    def __init__(self, start: int, end: int, deadline: Deadline | None) -> None:
        self.start, self.end, self.deadline = start, end, deadline


def plan_year(doc: Document) -> int | None:
    """The year a plan is for: the one year its subject names ("... năm 2024"), else its date's."""
    years = set(re.findall(r"\bnam\s+((?:19|20)\d{2})\b", fold(doc.metadata.subject or "")))
    if len(years) == 1:
        return int(years.pop())
    if doc.metadata.date:
        return int(doc.metadata.date[:4])
    return None


def _doc_floor(doc: Document) -> date | None:
    """The earliest day the document's (possibly partial) date allows."""
    if not doc.metadata.date:
        return None
    parts = [int(p) for p in doc.metadata.date.split("-")] + [1, 1]
    try:
        return date(parts[0], parts[1], parts[2])
    except ValueError:
        return None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _on_or_after(month: int, day: int, floor: date) -> date | None:
    """The first (month, day) on or after ``floor``."""
    for year in (floor.year, floor.year + 1, floor.year + 2, floor.year + 3, floor.year + 4):
        candidate = _valid(year, month, day)
        if candidate and candidate >= floor:
            return candidate
    return None


def _infer_date(doc: Document, month: int, day: int) -> date | None:
    """A year for "trước ngày 25/5": the plan's year, moved on a year if that falls before the document."""
    year = plan_year(doc)
    candidate = _valid(year, month, day) if year else None
    if candidate is None:
        return None
    floor = _doc_floor(doc)
    if floor and len((doc.metadata.date or "").split("-")) >= 2 and candidate < floor:
        return _on_or_after(month, day, floor)
    return candidate


def _infer_month_year(doc: Document, month: int) -> int | None:
    """A year for "trong tháng 11": the plan's, or the next one if that month precedes the document."""
    year = plan_year(doc)
    floor = _doc_floor(doc)
    if year is None:
        return None
    if floor and len((doc.metadata.date or "").split("-")) >= 2 and (year, month) < (floor.year, floor.month):
        year += 1
    return year


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _deadline_text(doc: Document, view: str, start: int, end: int) -> tuple[int, int, str]:
    """The deadline as written, with a parenthesis it opens closed and an "(đối với ...)" kept."""
    tail = _FOR_WHICH.match(view, end)
    if tail:
        end = tail.end()
    opened = view.count("(", start, end) - view.count(")", start, end)
    if opened > 0:
        close = view.find(")", end, end + 10)
        if close >= 0:
            end = close + 1
    return start, end, tidy(doc.text[start:end])


def _date_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    """Dated deadlines in one clause, in order."""
    c_start, c_end = clause
    found: list[Found] = []
    previous_end = c_start
    for m in _DEADLINE_DATE.finditer(view, c_start, c_end):
        day, month = int(m["d1"] or m["d2"]), int(m["m1"] or m["m2"])
        year = m["y1"] or m["y2"]
        segment = (previous_end, m.start())
        previous_end = m.end()
        if _skip_deadline(view, c_start, m.start()):
            found.append(Found(m.start(), m.end(), None))
            continue
        if year:
            when = _valid(int(year), month, day)
            if when is None:
                continue
            start, end, text = _deadline_text(doc, view, m.start(), m.end())
            deadline = Deadline(kind="date", date=when.isoformat(), due=when.isoformat(), text=text,
                                start=start, end=end)
        elif _RECURRING.search(view, c_start, m.start()):
            deadline = _recurring(doc, view, segment, m, month, day)
        else:
            when = _infer_date(doc, month, day)
            if _valid(2000, month, day) is None:
                continue
            start, end, text = _deadline_text(doc, view, m.start(), m.end())
            iso = when.isoformat() if when else None
            deadline = Deadline(kind="date", date=iso, due=iso, year_inferred=True, text=text, start=start, end=end)
        found.append(Found(m.start(), m.end(), deadline))
    return found


def _recurring(doc: Document, view: str, segment: tuple[int, int], m: re.Match[str],
               month: int, day: int) -> Deadline | None:
    """A periodic deadline ("định kỳ báo cáo 6 tháng (trước ngày 15/5)"); the period named nearest
    before the date decides, and a yearly one is the default for a day and month."""
    if _valid(2000, month, day) is None:
        return None
    period, start = None, m.start()
    for p in _PERIOD.finditer(view, segment[0], m.start()):
        period = p
    recurrence = "yearly"
    if period is not None:
        kind = next(k for k in ("semiannual", "yearly", "quarterly", "monthly") if period[k])
        if kind in ("quarterly", "monthly"):
            return None  # a day and month cannot recur quarterly or monthly: wording not understood
        recurrence = kind
        if m.start() - period.end() <= 40:
            start = period.start()
    floor = _doc_floor(doc)
    if floor is None and plan_year(doc):
        floor = date(plan_year(doc), 1, 1)
    due = _on_or_after(month, day, floor) if floor else None
    start, end, text = _deadline_text(doc, view, start, m.end())
    return Deadline(kind="recurring", recurrence=recurrence, month_day=f"{month:02d}-{day:02d}",
                    due=due.isoformat() if due else None, text=text, start=start, end=end)


def _month_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    c_start, c_end = clause
    found = []
    for m in _DEADLINE_MONTH.finditer(view, c_start, c_end):
        month = int(m["m"])
        if not 1 <= month <= 12:
            continue
        if _skip_deadline(view, c_start, m.start()) or _RECURRING.search(view, c_start, m.start()):
            found.append(Found(m.start(), m.end(), None))
            continue
        year = m["y1"] or m["y2"]
        inferred = year is None
        year_num = int(year) if year else _infer_month_year(doc, month)
        if year_num is None:
            continue
        start, end, text = _deadline_text(doc, view, m.start(), m.end())
        found.append(Found(m.start(), m.end(), Deadline(
            kind="month", month=f"{year_num:04d}-{month:02d}", due=_last_day(year_num, month).isoformat(),
            year_inferred=inferred, text=text, start=start, end=end)))
    return found


def _monthly_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    c_start, c_end = clause
    found = []
    for m in _DEADLINE_MONTHLY.finditer(view, c_start, c_end):
        day = int(m["day"])
        if not 1 <= day <= 31 or _skip_deadline(view, c_start, m.start()):
            continue
        start, end, text = _deadline_text(doc, view, m.start(), m.end())
        found.append(Found(m.start(), m.end(), Deadline(
            kind="recurring", recurrence="monthly", day=day, text=text, start=start, end=end)))
    return found


def _skip_deadline(view: str, clause_start: int, at: int) -> bool:
    """A planned date ("dự kiến ...") or something already done before a date is no deadline."""
    before = view[max(clause_start, at - 60):at]
    return bool(_PLANNED.search(before) or _PAST_BEFORE.search(view[max(clause_start, at - 30):at]))


def deadlines_in(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    """The deadlines stated in one clause (``view[clause[0]:clause[1]]``) of ``doc``, in text order.

    ``view`` is ``matching_view(doc.text)``; ``doc``'s subject and date give a year to a date
    written without one. Every ``Found`` returned carries its ``Deadline``.
    """
    found = _date_deadlines(doc, view, clause) + _month_deadlines(doc, view, clause)
    taken = [(f.start, f.end) for f in found]
    found += [f for f in _monthly_deadlines(doc, view, clause)
              if not any(a <= f.start < b for a, b in taken)]
    return sorted((f for f in found if f.deadline is not None), key=lambda f: f.start)
