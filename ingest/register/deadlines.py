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
_BEFORE = r"(?:tru\w{1,2}c|(?:cham nhat|han chot|han cuoi)(?:\s+(?:la|vao|truoc|den het|den))*)"
_CLOCK = r"(?:\d{1,2}\s*(?:gio|h)(?:\s*\d{1,2}(?:\s*phut)?)?\s*,?\s*)?"
_DEADLINE_DATE = re.compile(
    rf"\b{_BEFORE}\s+{_CLOCK}(?:ngay\s+)?"
    r"(?:(?P<d1>\d{1,2})\s*/\s*(?P<m1>\d{1,2})(?:\s*/\s*(?P<y1>\d{4}))?"
    r"|(?<=ngay )(?P<d2>\d{1,2})\s+thang\s+(?P<m2>\d{1,2})(?:\s+nam\s+(?P<y2>\d{4}))?)(?![\d/])"
)
# "trước ngày 20 hằng tháng"
_DEADLINE_MONTHLY = re.compile(rf"\b{_BEFORE}\s+ngay\s+(?P<day>\d{{1,2}})\s+(?:cua\s+)?(?:hang|moi)\s+thang\b")
# "trong tháng 11/2024", "trong tháng 11 năm 2024", "trong tháng 11"
_DEADLINE_MONTH = re.compile(
    r"\b(?:trong|het|cuoi)\s+thang\s+(?P<m>\d{1,2})(?:\s*/\s*(?P<y1>\d{4})|\s+nam\s+(?P<y2>\d{4}))?(?![\d/])"
)
# A planned date is not a deadline: "dự kiến tổ chức trong tháng 10/2024".
_PLANNED = re.compile(r"\bdu kien\b")
# A date something already happened before is not a deadline: "hồ sơ đã tiếp nhận trước ngày ...".
# A passive duty ("được bàn giao trước ngày ...") is still a deadline; only "đã" marks the past.
_PAST_BEFORE = re.compile(r"\bda(?:\s+[a-z]+){0,3}\s*$")
_RECURRING = re.compile(r"\b(?:dinh ky|hang nam|moi nam|hang nua nam|thuong nien|hang quy|moi quy|hang thang|moi thang)\b")
_PERIOD = re.compile(
    r"\b(?:dinh ky\s+)?(?:bao cao\s+)?(?:"
    r"(?P<semiannual>6 thang(?:\s+(?:dau|cuoi)\s+nam)?|sau thang|nua nam|hang nua nam)"
    r"|(?P<yearly>hang nam|moi nam|thuong nien|ca nam|(?<=bao cao )nam)"
    r"|(?P<quarterly>hang quy|moi quy|quy)"
    r"|(?P<monthly>hang thang|moi thang))\b(?!\s*\d)"
)
# "trước ngày 25/12 hằng năm", "trước ngày 15 tháng 02 của năm liền kề (sau năm báo cáo)".
_YEARLY_AFTER = re.compile(r"\s*[,(]?\s*(?:(?:hang|moi)\s+nam|(?:cua\s+)?nam\s+(?:lien ke|sau|tiep theo)(?:\s+sau\s+nam\s+bao\s+cao)?)\b")
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
        elif _RECURRING.search(view, c_start, m.start()) or _YEARLY_AFTER.match(view, m.end()):
            deadline = _recurring(doc, view, segment, m, month, day)
            after = _YEARLY_AFTER.match(view, m.end())
            if deadline is not None and after and deadline.end < after.end():
                # "trước ngày 25/12 hằng năm": the period written after the date is part of it.
                start, end, text = _deadline_text(doc, view, deadline.start, after.end())
                deadline = deadline.model_copy(update={"end": end, "text": text})
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
    found = _range_deadlines(doc, view, clause)
    for finder in (_date_deadlines, _month_deadlines, _quarter_deadlines, _year_deadlines,
                   _effective_deadlines, _monthly_deadlines, _day_only_deadlines):
        taken = [(f.start, f.end) for f in found]
        found += [f for f in finder(doc, view, clause)
                  if not any(a <= f.start < b or f.start <= a < f.end for a, b in taken)]
    return sorted((f for f in found if f.deadline is not None), key=lambda f: f.start)


# --- quarters, years, ranges, effective dates, recurring days --------------------------------------

_QUARTER_NUM = r"(?P<q>iv|iii|ii|i|[1-4])\b"
# "trong quý II năm 2026", "xong trong Quý II/2026", "hết quý 3".
_DEADLINE_QUARTER = re.compile(
    rf"\b(?:trong|het|cuoi)\s+quy\s+{_QUARTER_NUM}(?:\s*/\s*(?P<y1>\d{{4}})|\s+nam\s+(?P<y2>\d{{4}}))?(?![\d/])"
)
# "trong năm 2026" counts only after a verb that completes something ("hoàn thành", "bàn giao").
_DEADLINE_YEAR = re.compile(r"\btrong\s+nam\s+(?P<y>(?:19|20)\d{2})\b(?![\d/-])")
# "trong năm 2025 và giai đoạn 2026 - 2030", "trong năm 2025 - 2026": a period, not a deadline.
_YEAR_PERIOD_AFTER = re.compile(r"\s*(?:-|va\s+(?:giai doan|cac nam|nhung nam|nam)|den\s+nam)")
_COMPLETES = re.compile(
    r"\b(?:hoan thanh|xong|ban giao|hoan tat|ket thuc|dut diem|ban hanh|nop|dua vao su dung|phe duyet)\b"
)
# "có hiệu lực (thi hành) (kể) từ (ngày) 01/7/2026": the day a duty starts to apply.
_EFFECTIVE = re.compile(
    r"\bco hieu luc(?:\s+thi hanh)?\s+(?:ke\s+)?tu\s+(?:ngay\s+)?"
    r"(?:(?P<d1>\d{1,2})\s*/\s*(?P<m1>\d{1,2})\s*/\s*(?P<y1>\d{4})"
    r"|(?P<d2>\d{1,2})\s+thang\s+(?P<m2>\d{1,2})\s+nam\s+(?P<y2>\d{4}))(?![\d/])"
)
# "từ ngày 29/6/2026 đến (hết) ngày 09/7/2026", "từ tháng 11/2025 đến quý I/2026": the end is due.
_RANGE = re.compile(r"\btu\s+(?:ngay|thang|quy|\d)[^;()]{0,40}?\s(?:den(?:\s+het)?|-)\s+(?=(?:ngay|thang|quy|\d))")
# A range is a duty's time only after a verb that asks for work.
_RANGE_DUTY = re.compile(
    r"\b(?:thuc hien|trien khai|to chuc|hoan thanh|xong|tiep nhan|dang ky|nop|bao cao|cap nhat|kiem ke|"
    r"ra soat|kiem tra|thu thap|dieu tra)\b"
)
# A period counted, not a duty: "số liệu từ ngày ... đến ngày ...", "kỳ báo cáo từ ...".
_COUNTED_PERIOD = re.compile(r"\b(?:so lieu|ky bao cao|tinh tu|giai doan|thoi ky|trong thoi gian)\s*$")
# "hằng tháng, trước ngày 25": a day without a month, made periodic by the words before it.
_DEADLINE_DAY = re.compile(rf"\b{_BEFORE}\s+ngay\s+(?P<day>\d{{1,2}})\b(?!\s*/|\s+thang)")
_MONTHLY_WORD = re.compile(r"\b(?:hang|moi)\s+thang\b")
_QUARTERLY_WORD = re.compile(r"\b(?:hang|moi)\s+quy\b")


def _quarter(value: str) -> int:
    return {"i": 1, "ii": 2, "iii": 3, "iv": 4}.get(value) or int(value)


def _quarter_end(year: int, quarter: int) -> date:
    return _last_day(year, quarter * 3)


def _doc_year(doc: Document) -> int | None:
    return int(doc.metadata.date[:4]) if doc.metadata.date else None


def _quarter_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    c_start, c_end = clause
    found = []
    for m in _DEADLINE_QUARTER.finditer(view, c_start, c_end):
        if _skip_deadline(view, c_start, m.start()) or _RECURRING.search(view, max(c_start, m.start() - 30), m.start()):
            found.append(Found(m.start(), m.end(), None))
            continue
        year = m["y1"] or m["y2"]
        year_num = int(year) if year else plan_year(doc)
        if year_num is None:
            continue
        found.append(Found(m.start(), m.end(), quarter_deadline(doc, view, m.start(), m.end(), year_num,
                                                                _quarter(m["q"]), inferred=year is None)))
    return found


def quarter_deadline(doc: Document, view: str, start: int, end: int, year: int, quarter: int, *,
                     inferred: bool = False) -> Deadline:
    start, end, text = _deadline_text(doc, view, start, end)
    return Deadline(kind="quarter", year=year, quarter=quarter, due=_quarter_end(year, quarter).isoformat(),
                    year_inferred=inferred, text=text, start=start, end=end)


def year_deadline(doc: Document, view: str, start: int, end: int, year: int) -> Deadline:
    start, end, text = _deadline_text(doc, view, start, end)
    return Deadline(kind="year", year=year, due=date(year, 12, 31).isoformat(), text=text, start=start, end=end)


def _year_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    c_start, c_end = clause
    found = []
    floor = _doc_year(doc)
    for m in _DEADLINE_YEAR.finditer(view, c_start, c_end):
        year = int(m["y"])
        before = view[max(c_start, m.start() - 40):m.start()]
        period = _YEAR_PERIOD_AFTER.match(view, m.end())
        if (not _COMPLETES.search(before) or period or (floor and year < floor)
                or _skip_deadline(view, c_start, m.start())):
            found.append(Found(m.start(), m.end(), None))
            continue
        found.append(Found(m.start(), m.end(), year_deadline(doc, view, m.start(), m.end(), year)))
    return found


def _effective_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    found = []
    for m in _EFFECTIVE.finditer(view, *clause):
        when = _valid(int(m["y1"] or m["y2"]), int(m["m1"] or m["m2"]), int(m["d1"] or m["d2"]))
        if when is None:
            continue
        start, end, text = _deadline_text(doc, view, m.start(), m.end())
        found.append(Found(m.start(), m.end(), Deadline(kind="date", date=when.isoformat(), due=when.isoformat(),
                                                        text=text, start=start, end=end)))
    return found


def _range_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    """"từ ... đến (hết) X": X read as a value; the range as a whole is the deadline's text."""
    c_start, c_end = clause
    found = []
    for m in _RANGE.finditer(view, c_start, c_end):
        if _COUNTED_PERIOD.search(view, max(c_start, m.start() - 30), m.start()) or _skip_deadline(view, c_start, m.start()):
            continue
        if not _RANGE_DUTY.search(view, c_start, m.start()) or re.search(r"\bda\b", view[m.end():c_end]):
            continue  # "Từ ngày 8 đến ngày 9/11, đoàn đã đến thăm ...": an event told, not a duty
        tail = _WHEN.match(view, m.end(), c_end)
        if tail is None:
            continue
        deadline = _when_deadline(doc, view, tail, labelled=False)
        if deadline is None:
            continue
        floor = _doc_year(doc)
        if floor and deadline.due and int(deadline.due[:4]) < floor:
            continue
        start, end, text = _deadline_text(doc, view, m.start(), tail.end())
        found.append(Found(m.start(), tail.end(), deadline.model_copy(update={"start": start, "end": end, "text": text})))
    return found


def _day_only_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[Found]:
    """"hằng tháng, trước ngày 25" (monthly) and "hằng quý, trước ngày 20" (quarterly)."""
    c_start, c_end = clause
    found = []
    for m in _DEADLINE_DAY.finditer(view, c_start, c_end):
        day = int(m["day"])
        if not 1 <= day <= 31 or _skip_deadline(view, c_start, m.start()):
            continue
        before = view[max(c_start, m.start() - 80):m.start()]
        recurrence = "quarterly" if _QUARTERLY_WORD.search(before) else "monthly" if _MONTHLY_WORD.search(before) else None
        if recurrence is None:
            continue
        start, end, text = _deadline_text(doc, view, m.start(), m.end())
        found.append(Found(m.start(), m.end(), Deadline(kind="recurring", recurrence=recurrence, day=day,
                                                        text=text, start=start, end=end)))
    return found


# --- values: a labelled time ("Thời hạn hoàn thành: Quý I/2026") or a table's deadline cell ------

_WHEN = re.compile(
    r"(?:ngay\s+)?(?P<d>\d{1,2})\s*/\s*(?P<dm>\d{1,2})(?:\s*/\s*(?P<dy>\d{4}))?(?![\d/])"
    r"|ngay\s+(?P<d2>\d{1,2})\s+thang\s+(?P<dm2>\d{1,2})(?:\s+nam\s+(?P<dy2>\d{4}))?(?![\d/])"
    r"|thang\s+(?:(?P<m0>\d{1,2})\s*-\s*)?(?P<m>\d{1,2})(?:\s*/\s*(?P<my>\d{4})|\s+nam\s+(?P<my2>\d{4}))?(?![\d/])"
    rf"|quy\s+{_QUARTER_NUM}(?:\s*/\s*(?P<qy>\d{{4}})|\s+nam\s+(?P<qy2>\d{{4}}))?(?![\d/])"
    r"|(?:nam\s+)?(?<![\d/.,])(?P<y>(?:19|20)\d{2})\b(?![/.,]\d)"
)
# "Năm 2025 và các năm tiếp theo", "hằng năm", "thường xuyên": a standing duty, no deadline.
_OPEN_ENDED = re.compile(r"\b(?:cac nam tiep theo|nhung nam tiep theo|hang nam|hang quy|hang thang|thuong xuyen|lien tuc)\b")
_UNTIL = re.compile(r"\b(?:den|toi)\b")
_YEAR_SPAN = re.compile(r"^\s*(?:-|den|toi)\s*(?:nam\s+)?(?:19|20)\d{2}\b")
# "Thời gian hoàn thành:", "Thời hạn thực hiện:", "Hạn nộp:", "Tiến độ:" before a value.
LABEL = re.compile(
    r"\b(?:thoi gian|thoi han|han|tien do)(?:\s+(?:hoan thanh|thuc hien|nop|gui|bao cao|trien khai|xong))?\s*:\s*"
)


def _when_deadline(doc: Document, view: str, m: re.Match[str], *, labelled: bool) -> Deadline | None:
    """The ``Deadline`` of one ``_WHEN`` match (offsets and text are the match's)."""
    start, end = m.start(), m.end()
    if m["d"] or m["d2"]:
        day, month, year = int(m["d"] or m["d2"]), int(m["dm"] or m["dm2"]), m["dy"] or m["dy2"]
        if year:
            when = _valid(int(year), month, day)
        else:
            when = _infer_date(doc, month, day) if _valid(2000, month, day) else None
        if when is None:
            return None
        a, b, text = _deadline_text(doc, view, start, end)
        return Deadline(kind="date", date=when.isoformat(), due=when.isoformat(), year_inferred=not year,
                        text=text, start=a, end=b)
    if m["m"]:
        month, year = int(m["m"]), m["my"] or m["my2"]
        if not 1 <= month <= 12:
            return None
        year_num = int(year) if year else _infer_month_year(doc, month)
        if year_num is None:
            return None
        a, b, text = _deadline_text(doc, view, start, end)
        return Deadline(kind="month", month=f"{year_num:04d}-{month:02d}", due=_last_day(year_num, month).isoformat(),
                        year_inferred=not year, text=text, start=a, end=b)
    if m["q"]:
        year = m["qy"] or m["qy2"]
        year_num = int(year) if year else plan_year(doc)
        if year_num is None:
            return None
        return quarter_deadline(doc, view, start, end, year_num, _quarter(m["q"]), inferred=not year)
    if m["y"] and labelled:
        if _YEAR_SPAN.match(view, end):
            return None  # "2026 - 2030": a programme's period, not a deadline
        return year_deadline(doc, view, start, end, int(m["y"]))
    return None


def value_deadline(doc: Document, view: str, start: int, end: int) -> Deadline | None:
    """The deadline a time value states (a labelled value or a table's deadline cell), or None.

    Of several times the last counts ("Quý IV/2025 và Quý I/2026"); a range counts by its end
    ("Từ tháng 11/2025 đến tháng 4/2026", "Tháng 11 - 12/2025"), and an open one ("từ tháng
    11/2025 đến khi kết thúc") or a span of years ("2026 - 2030") counts not at all. A value
    that is only a period word ("Thường xuyên", "Hằng năm") has no deadline.
    """
    if _OPEN_ENDED.search(view, start, end):
        return None
    until = None
    for until in _UNTIL.finditer(view, start, end):
        pass
    lo = until.end() if until else start
    matches = list(_WHEN.finditer(view, lo, end))
    if not matches:
        return None
    last = matches[-1]
    if last["y"] and len(matches) > 1 and matches[-2]["y"] and view[matches[-2].end():last.start()].strip() in ("-", ""):
        return None  # "2026 - 2030"
    deadline = _when_deadline(doc, view, last, labelled=True)
    if deadline is None:
        return None
    a, b, text = _deadline_text(doc, view, start, end)
    return deadline.model_copy(update={"start": a, "end": b, "text": text})


def labelled_deadlines(doc: Document, view: str) -> list[Found]:
    """Deadlines given as a labelled value on their own ("- Thời gian hoàn thành: Quý I/2026;"),
    in text order. A planned value ("Dự kiến tháng 11/2025") under such a label still counts:
    the label makes it the item's deadline."""
    found = []
    for m in LABEL.finditer(view):
        end = _value_end(doc, view, m.end())
        if end - m.end() > 120:
            continue
        deadline = value_deadline(doc, view, m.end(), end)
        if deadline is not None:
            a, b, text = _deadline_text(doc, view, m.start(), end)
            found.append(Found(m.start(), b, deadline.model_copy(update={"start": a, "end": b, "text": text})))
    return found


def _value_end(doc: Document, view: str, start: int) -> int:
    """Where a labelled value ends: ";", "(", a full stop, a blank line, or a line break before
    a new item or table cell ("-", "+", "|", a number); a value wrapped onto the next line goes on."""
    text = doc.text
    i = start
    limit = min(len(text), start + 200)
    while i < limit:
        ch = text[i]
        if ch in ";(|" or (ch == "." and (i + 1 >= len(text) or text[i + 1].isspace())):
            break
        if ch == "\n":
            rest = text[i + 1:i + 40].lstrip(" \t*")
            if not rest or rest[0] in "\n-+•|–" or rest[0].isdigit():
                break
        i += 1
    return i
