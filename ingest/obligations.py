"""Directive intelligence: who must do what by when, numeric targets, and how documents relate.

Pure functions over a ``Document`` (and its chunks, for section paths):

* ``extract_obligations``: requirement sentences that carry a deadline ("trước ngày 10/11",
  "trong tháng 11/2024", "định kỳ 6 tháng (trước ngày 15/5)"), with the acting units, the units
  they coordinate with, what must be done, to whom the result goes, and the deadline as data.
* ``extract_targets``: percentages stated as targets (a MỤC TIÊU section, "phấn đấu") or as
  baselines ("Đến nay ...", "đã đạt năm 2023").
* ``extract_references`` / ``extract_relations``: which documents a document implements
  ("Thực hiện Chương trình số 61-CTr/TU ..."), is based on ("Căn cứ ..."), encloses ("Kèm
  theo ...") or merely cites, by number.

Precision comes before recall: a wrong unit or date in a register is a defect, a missing one is
a gap that passage retrieval still covers. So a date counts as a deadline only after a deadline
word ("trước", "chậm nhất", "trong tháng"), never on its own ("ngày 25/12/2023 của Bộ Chính trị"
is a document's date), and a percentage counts only with a target or baseline signal.

Matching runs on ``_view``: an accent-folded copy with exactly one character per character of
the display text, so every offset found in it is an offset into ``doc.text`` (OCR text included),
and quotes are always the source as written.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import itertools
import logging
import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from ingest.models import Chunk, Document
from ingest.text.normalize import fold, match_text, repair_ocr_codes
from ingest.store import PointRecord, point_id
from ingest.text.actors import UNIT_HEAD, coordinating_units, is_unit_name, resolve_actors, split_units, tidy_unit
from ingest.text.sentences import sentence_spans

log = logging.getLogger(__name__)

REGISTER_VERSION = 1
"""Bump when extraction changes: it is part of the ingest fingerprint, so every file is redone."""

REGISTER_KINDS = ("obligation", "target", "relation")
"""``kind`` of the payload-only points that hold the register in the index."""


# --- models -------------------------------------------------------------------------------------


class SourceRef(BaseModel):
    """Where an item was read: the quoted sentence with offsets into ``Document.text``.

    Carries the same fields as an answer's citation, so a register item can be cited as is.
    """

    doc_id: str
    file: str
    number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    date: str | None = Field(None, description="The document's own date (ISO, partial allowed).")
    subject: str | None = None
    section: str = Field("", description="Heading path: 'VI. CHẾ ĐỘ BÁO CÁO'.")
    quote: str = Field(description="Exactly ``document.text[start:end]``.")
    start: int
    end: int
    page: int | None = None
    references: list[str] = Field(default_factory=list, description="Numbers the document cites, for matching questions.")


class Deadline(BaseModel):
    """A deadline as data, plus the words that state it.

    ``kind``: 'date' (``date``, ISO), 'month' (``month``, '2024-11': due by its last day) or
    'recurring' (``recurrence`` 'yearly' / 'semiannual' on ``month_day`` '11-10', or 'monthly'
    on ``day``). A date written without a year ("trước ngày 25/5" in a 2024 plan) takes the year
    of the plan and says so in ``year_inferred``.
    """

    kind: Literal["date", "month", "recurring"]
    date: str | None = None
    month: str | None = None
    recurrence: Literal["yearly", "semiannual", "monthly"] | None = None
    month_day: str | None = Field(None, description="'MM-DD' of a yearly or semiannual deadline.")
    day: int | None = Field(None, description="Day of the month of a monthly deadline.")
    year_inferred: bool = False
    due: str | None = Field(None, description="First due date on or after the document's date (ISO).")
    text: str = Field(description="As written: 'hằng năm trước ngày 10/11', 'trong tháng 11/2024'.")
    start: int
    end: int


class Obligation(BaseModel):
    """Who must do what by when, read from one sentence of a directive."""

    id: str
    units: list[str] = Field(default_factory=list, description="Acting units, as written.")
    units_from: str | None = Field(
        None, description="Where the units were found: 'sentence', 'heading', 'lead-in', 'addressees' "
                          "or 'collecting' (the unit that aggregates the reports)."
    )
    coordinating: list[str] = Field(default_factory=list, description="Units named after 'phối hợp với'.")
    action: str
    recipients: list[str] = Field(default_factory=list, description="Who receives the result ('trình', 'gửi về').")
    via: str | None = Field(None, description="The unit reports pass through: 'qua Phòng ...'.")
    deadline: Deadline
    source: SourceRef


class Target(BaseModel):
    """A percentage a document sets as a target or reports as a baseline."""

    id: str
    kind: Literal["target", "baseline"]
    subject: str
    value: float
    unit: str = "%"
    comparator: Literal["=", "<", ">", "<=", ">="] = "="
    value_text: str = Field(description="As written: 'giảm còn dưới 6%', 'đạt 97,2%'.")
    fraction: str | None = Field(None, description="A count given with the figure: '77/108'.")
    year: int | None = None
    source: SourceRef


class Relation(BaseModel):
    """One document referring to another by number."""

    id: str
    kind: Literal["implements", "based_on", "encloses", "cites"]
    source_doc_id: str
    source_number: str | None = None
    target_number: str
    target_key: str = Field(description="Accent-folded number used to match documents: '61-ctr/tu'.")
    target_doc_id: str | None = Field(None, description="The indexed document with that number, resolved at read time.")
    source: SourceRef


# --- the aligned matching view ------------------------------------------------------------------

# One character each, so offsets survive: markup and line breaks become spaces, dashes one dash,
# and OCR's "¢" (read for ơ/ô in "Sở") an o.
_VIEW_EXTRA = {"*": " ", "\n": " ", "\t": " ", "\u00a0": " ", "–": "-", "—": "-", "‐": "-", "−": "-", "¢": "o"}


@functools.lru_cache(maxsize=4096)
def _view_char(ch: str) -> str:
    extra = _VIEW_EXTRA.get(ch)
    if extra is not None:
        return extra
    folded = fold(ch)
    return folded[0] if folded else ch


def _view(text: str) -> str:
    """Accent-folded, lower-case copy of ``text`` with exactly one character per input character."""
    return "".join(map(_view_char, text))


def _tidy(text: str) -> str:
    """Display form of a slice: markup gone, whitespace collapsed, edge punctuation trimmed."""
    return re.sub(r"\s+", " ", text.replace("*", "")).strip(" ,;:-–\n")


# --- deadlines ----------------------------------------------------------------------------------

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
# A deadline sentence asks for something to be done.
_OBLIGATION_VERB = re.compile(
    r"\b(?:bao cao|gui|trinh|hoan thanh|hoan thien|xay dung|to chuc|trien khai|thuc hien|nop|tham muu|"
    r"de xuat|cap nhat|tong hop|ban hanh|ra soat|chuan bi|du thao|phe duyet|ket thuc|bao ceo)\b"
)
_RECURRING = re.compile(r"\b(?:dinh ky|hang nam|moi nam|hang nua nam|thuong nien|hang quy|moi quy|hang thang|moi thang)\b")
_PERIOD = re.compile(
    r"\b(?:dinh ky\s+)?(?:bao cao\s+)?(?:"
    r"(?P<semiannual>6 thang(?:\s+(?:dau|cuoi)\s+nam)?|sau thang|nua nam|hang nua nam)"
    r"|(?P<yearly>hang nam|moi nam|thuong nien|ca nam|(?<=bao cao )nam)"
    r"|(?P<quarterly>hang quy|moi quy|quy)"
    r"|(?P<monthly>hang thang|moi thang))\b(?!\s*\d)"
)
_FOR_WHICH = re.compile(r"\s*\(\s*doi voi\b[^()]{0,60}\)")


class _Found:
    """A deadline phrase found in the view, before it becomes a ``Deadline``."""

    def __init__(self, start: int, end: int, deadline: Deadline | None) -> None:
        self.start, self.end, self.deadline = start, end, deadline


def _plan_year(doc: Document) -> int | None:
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
    year = _plan_year(doc)
    candidate = _valid(year, month, day) if year else None
    if candidate is None:
        return None
    floor = _doc_floor(doc)
    if floor and len((doc.metadata.date or "").split("-")) >= 2 and candidate < floor:
        return _on_or_after(month, day, floor)
    return candidate


def _infer_month_year(doc: Document, month: int) -> int | None:
    """A year for "trong tháng 11": the plan's, or the next one if that month precedes the document."""
    year = _plan_year(doc)
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
    return start, end, _tidy(doc.text[start:end])


def _date_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[_Found]:
    """Dated deadlines in one clause, in order."""
    c_start, c_end = clause
    found: list[_Found] = []
    previous_end = c_start
    for m in _DEADLINE_DATE.finditer(view, c_start, c_end):
        day, month = int(m["d1"] or m["d2"]), int(m["m1"] or m["m2"])
        year = m["y1"] or m["y2"]
        segment = (previous_end, m.start())
        previous_end = m.end()
        if _skip_deadline(view, c_start, m.start()):
            found.append(_Found(m.start(), m.end(), None))
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
        found.append(_Found(m.start(), m.end(), deadline))
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
    if floor is None and _plan_year(doc):
        floor = date(_plan_year(doc), 1, 1)
    due = _on_or_after(month, day, floor) if floor else None
    start, end, text = _deadline_text(doc, view, start, m.end())
    return Deadline(kind="recurring", recurrence=recurrence, month_day=f"{month:02d}-{day:02d}",
                    due=due.isoformat() if due else None, text=text, start=start, end=end)


def _month_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[_Found]:
    c_start, c_end = clause
    found = []
    for m in _DEADLINE_MONTH.finditer(view, c_start, c_end):
        month = int(m["m"])
        if not 1 <= month <= 12:
            continue
        if _skip_deadline(view, c_start, m.start()) or _RECURRING.search(view, c_start, m.start()):
            found.append(_Found(m.start(), m.end(), None))
            continue
        year = m["y1"] or m["y2"]
        inferred = year is None
        year_num = int(year) if year else _infer_month_year(doc, month)
        if year_num is None:
            continue
        start, end, text = _deadline_text(doc, view, m.start(), m.end())
        found.append(_Found(m.start(), m.end(), Deadline(
            kind="month", month=f"{year_num:04d}-{month:02d}", due=_last_day(year_num, month).isoformat(),
            year_inferred=inferred, text=text, start=start, end=end)))
    return found


def _monthly_deadlines(doc: Document, view: str, clause: tuple[int, int]) -> list[_Found]:
    c_start, c_end = clause
    found = []
    for m in _DEADLINE_MONTHLY.finditer(view, c_start, c_end):
        day = int(m["day"])
        if not 1 <= day <= 31 or _skip_deadline(view, c_start, m.start()):
            continue
        start, end, text = _deadline_text(doc, view, m.start(), m.end())
        found.append(_Found(m.start(), m.end(), Deadline(
            kind="recurring", recurrence="monthly", day=day, text=text, start=start, end=end)))
    return found


def _skip_deadline(view: str, clause_start: int, at: int) -> bool:
    """A planned date ("dự kiến ...") or something already done before a date is no deadline."""
    before = view[max(clause_start, at - 60):at]
    return bool(_PLANNED.search(before) or _PAST_BEFORE.search(view[max(clause_start, at - 30):at]))


def _deadlines_in(doc: Document, view: str, clause: tuple[int, int]) -> list[_Found]:
    found = _date_deadlines(doc, view, clause) + _month_deadlines(doc, view, clause)
    taken = [(f.start, f.end) for f in found]
    found += [f for f in _monthly_deadlines(doc, view, clause)
              if not any(a <= f.start < b for a, b in taken)]
    return sorted((f for f in found if f.deadline is not None), key=lambda f: f.start)


# --- recipients and collecting units ------------------------------------------------------------

_UNIT_BODY = r"[^;()]{0,120}?"
_UNIT_STOP = (
    r"(?=\s*(?:[;.,(:]|$)|\s+(?:tru\w{1,2}c|cham nhat|trong|de|theo|xem xet|phe duyet|dong thoi|"
    r"truoc khi|va (?:bao cao|gui|de xuat|dong gui))\b)"
)
# "... về Sở X (thông qua Phòng Y) để tổng hợp": the unit that collects the reports.
_COLLECT = re.compile(
    rf"\b(?:ve|den|cho)\s+(?P<to>{UNIT_HEAD}{_UNIT_BODY})\s*"
    rf"(?:\(?\s*(?:thong\s+)?qua\s*\(?\s*(?P<via>{UNIT_HEAD}{_UNIT_BODY})\s*\)?\s*)?\(?\s*de\s+(?P<collect>tong\s+hop)\b"
)
# "... để tổng hợp(,) báo cáo UBND tỉnh và Sở ...": where the collected reports go next.
_ONWARD = re.compile(rf"\s*,?\s*(?:va\s+)?(?:bao cao|gui)\s+(?:ve\s+)?(?P<to>{UNIT_HEAD}{_UNIT_BODY}){_UNIT_STOP}")
# "trình UBND tỉnh", "gửi báo cáo kết quả ... về Sở X", "báo cáo Ủy ban nhân dân tỉnh".
_SUBMIT = re.compile(
    rf"\b(?:trinh|gui|bao cao|nop)\b(?:[^;.()]{{0,80}}?\s(?:ve|den|cho|len)|(?:\s+(?:ve|den|cho|len))?)\s+"
    rf"(?P<to>{UNIT_HEAD}{_UNIT_BODY}){_UNIT_STOP}"
    rf"(?:\s*\(?\s*(?:thong\s+)?qua\s*\(?\s*(?P<via>{UNIT_HEAD}{_UNIT_BODY})\s*\)?)?"
)
# Used with .match(text, pos), which anchors at pos (a "^" would not match there).
_SEMICOLON = re.compile(";")
_LEADING_ITEM = re.compile(r"[\s\-+•]*(?:\(?\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ]\))?\s*")


def _units(doc: Document, start: int, end: int) -> list[str]:
    """The bodies named in ``doc.text[start:end]``, split on "và" and checked."""
    phrase = doc.text[start:end]
    return [_display_unit(u) for u in split_units(tidy_unit(phrase)) if is_unit_name(u)]


def _display_unit(unit: str) -> str:
    # Units are labels, not quotes: the light OCR repairs of number codes ("S¢" → "Sở") apply.
    return repair_ocr_codes(tidy_unit(unit))


# --- obligations --------------------------------------------------------------------------------


def extract_obligations(doc: Document, chunks: list[Chunk]) -> list[Obligation]:
    """Requirements with a deadline in ``doc``, in text order.

    The acting units come from the sentence ("Giao Sở ... chủ trì", "Đề nghị UBND các xã ..."),
    the section heading that names a unit, a lead-in ("... thực hiện một số nội dung như sau:"),
    or Kính gửi, in that order. A deadline that follows "về X (qua Y) để tổng hợp báo cáo Z"
    belongs to the collecting unit (Y, else X), whose result goes to Z.
    """
    view = _view(doc.text)
    out: list[Obligation] = []
    seen: set[int] = set()
    for chunk, sentences in _chunk_sentences(doc, chunks):
        if chunk.section and fold(chunk.section[0]).startswith("noi nhan"):
            continue
        for i, (s_start, s_end) in enumerate(sentences):
            if not _OBLIGATION_VERB.search(view, s_start, s_end):
                continue
            following = sentences[i + 1] if i + 1 < len(sentences) else None
            for clause in _clauses(view, s_start, s_end):
                for found in _deadlines_in(doc, view, clause):
                    if found.start in seen:
                        continue
                    seen.add(found.start)
                    ob = _obligation(doc, view, chunk, (s_start, s_end), clause, found.deadline, following,
                                     f"{doc.doc_id}:o{len(out)}")
                    out.append(ob)
    return out


def _obligation(doc: Document, view: str, chunk: Chunk, sentence: tuple[int, int], clause: tuple[int, int],
                deadline: Deadline, following: tuple[int, int] | None, ob_id: str) -> Obligation:
    s_start, s_end = sentence
    actors = resolve_actors(doc, sentence, chunk.section, strict=True)
    units = [_display_unit(u) for u in actors.units] if actors else []
    units_from = actors.source if actors else None
    action_start = _action_start(doc, view, clause, units if units_from == "sentence" else [])
    recipients: list[str] = []
    via: str | None = None

    collect = _COLLECT.search(view, s_start, s_end)
    onward = _ONWARD.match(view, collect.end()) if collect else None
    collector = _units(doc, *collect.span("via" if collect["via"] else "to")) if collect else []
    if collect and onward and deadline.start >= onward.end() and collector:
        # "... về UBND huyện qua Phòng X để tổng hợp báo cáo UBND tỉnh ... trước ngày 25/5": the
        # date is the collecting unit's, for its own report onward.
        units, units_from = collector, "collecting"
        recipients = _units(doc, *onward.span("to"))
        action_start = collect.start("collect")
    elif collect and deadline.start < collect.start():
        # "Báo cáo ... trước ngày 10/11; ... về Sở X để tổng hợp": the reports go to Sở X.
        recipients, via = _to_and_via(doc, collect)
    if not recipients and units_from != "collecting":
        recipients, via = _submitted_to(doc, view, clause, deadline)
    if not recipients and following and view.startswith("gui", following[0]):
        # "Đề nghị ... định kỳ báo cáo ... (trước ngày 15/5). Gửi báo cáo ... về UBND huyện qua ..."
        nxt = _COLLECT.search(view, *following) or _SUBMIT.search(view, *following)
        if nxt:
            recipients, via = _to_and_via(doc, nxt)

    coordinating = [_display_unit(u) for u in coordinating_units(doc.text, s_start, s_end)]
    return Obligation(
        id=ob_id,
        units=list(dict.fromkeys(units)),
        units_from=units_from,
        coordinating=[u for u in dict.fromkeys(coordinating) if u not in units],
        action=_tidy(doc.text[action_start:clause[1]]).rstrip("./ ") or _tidy(doc.text[clause[0]:clause[1]]),
        recipients=list(dict.fromkeys(r for r in recipients if r not in units)),
        via=via,
        deadline=deadline,
        source=_source(doc, chunk, s_start, s_end),
    )


def _submitted_to(doc: Document, view: str, clause: tuple[int, int], deadline: Deadline) -> tuple[list[str], str | None]:
    """The unit the clause sends its result to: the last one named before the deadline, else the first after."""
    matches = list(_SUBMIT.finditer(view, clause[0], clause[1]))
    before = [m for m in matches if m.start() < deadline.start]
    chosen = before[-1] if before else (matches[0] if matches else None)
    return _to_and_via(doc, chosen) if chosen else ([], None)


def _to_and_via(doc: Document, m: re.Match[str]) -> tuple[list[str], str | None]:
    via = _units(doc, *m.span("via")) if m["via"] else []
    return _units(doc, *m.span("to")), (via[0] if via else None)


def _action_start(doc: Document, view: str, clause: tuple[int, int], sentence_units: list[str]) -> int:
    """Where the action begins: after an item number and after "Giao/Đề nghị <units>"."""
    start = _LEADING_ITEM.match(view, clause[0], clause[1]).end()
    if sentence_units:
        last = fold(sentence_units[-1])
        at = view.find(last, start, clause[1])
        if at >= 0 and at - start < 0.6 * (clause[1] - start):
            start = at + len(last)
    while start < clause[1] and view[start] in " ,:;-*":
        start += 1
    return start


def _clauses(view: str, start: int, end: int) -> list[tuple[int, int]]:
    """The ";"-separated clauses of a sentence (semicolons inside parentheses do not split)."""
    clauses, cursor = [], start
    for m in _SEMICOLON.finditer(view, start, end):
        i = m.start()
        if view.count("(", start, i) > view.count(")", start, i):
            continue
        clauses.append((cursor, i))
        cursor = i + 1
    clauses.append((cursor, end))
    return [(a, b) for a, b in clauses if view[a:b].strip()]


def _chunk_sentences(doc: Document, chunks: list[Chunk]) -> list[tuple[Chunk, list[tuple[int, int]]]]:
    """Each chunk of ``doc`` with the sentences that start in it (one chunk for the whole text if
    none given). Sentences are cut from the whole text: a long paragraph can span two chunks, and
    a sentence cut at a chunk boundary loses its "Thực hiện ..." or its deadline."""
    own = sorted((c for c in chunks if c.doc_id == doc.doc_id), key=lambda c: c.start)
    if not own:
        own = [Chunk(chunk_id=f"{doc.doc_id}:all", doc_id=doc.doc_id, ordinal=0, text=doc.text,
                     start=0, end=len(doc.text))]
    starts = [c.start for c in own]
    groups: list[list[tuple[int, int]]] = [[] for _ in own]
    for span in sentence_spans(doc.text):
        groups[max(0, bisect.bisect_right(starts, span[0]) - 1)].append(span)
    return [(chunk, spans) for chunk, spans in zip(own, groups) if spans]


def _source(doc: Document, chunk: Chunk | None, start: int, end: int) -> SourceRef:
    m = doc.metadata
    page = None
    if doc.page_starts:
        page = sum(1 for p in doc.page_starts if p <= start) or 1
    return SourceRef(
        doc_id=doc.doc_id, file=doc.file, number=m.number, doc_type=m.doc_type, issuer=m.issuer, date=m.date,
        subject=m.subject, section=chunk.section_path if chunk else "", quote=doc.text[start:end],
        start=start, end=end, page=page, references=list(m.references),
    )


# --- targets ------------------------------------------------------------------------------------

_PERCENT = re.compile(r"(?<![\d,.])(?P<num>\d{1,3}(?:[.,]\d{1,3})?)\s*%")
# Words right before a figure that say how it compares; "giảm còn dưới 6%" → "<".
_COMPARATOR = re.compile(
    r"(?:\b(?:giam|tang|ha)\s+(?:con|len|xuong)\s+|\b(?:dat|con|la|o muc|muc)\s+)?"
    r"(?:(?P<op>duoi|tren|hon|it nhat|toi thieu|toi da|khong qua|khong vuot qua|khong duoi|tu)\s+)?$"
)
# "tăng 10%", "giảm 5% so với": a change, not a level.
_CHANGE = re.compile(r"\b(?:tang|giam)\s+(?:them\s+)?$")
_VERSUS = re.compile(r"^\s*(?:so voi|tro len so)")
_OPS = {"duoi": "<", "tren": ">", "hon": ">", "it nhat": ">=", "toi thieu": ">=", "khong duoi": ">=",
        "tu": ">=", "toi da": "<=", "khong qua": "<=", "khong vuot qua": "<="}
_BASELINE = re.compile(r"\b(?:den nay|hien nay|tinh den|da dat|dat duoc|nam qua|ket qua dat)\b")
_TARGET_WORD = re.compile(r"\b(?:phan dau|muc tieu|chi tieu)\b")
_TARGET_SECTION = re.compile(r"\b(?:muc tieu|chi tieu)\b")
_YEAR = re.compile(r"\b(?:den |trong |vao )?nam\s+((?:19|20)\d{2})\b")
_FRACTION = re.compile(r"(?<![\d/])(\d{1,5})\s*/\s*(\d{1,5})(?![\d/])")
# Lead words of a subject: item numbers, "phấn đấu", "duy trì", "đến nay, toàn tỉnh có", ...
_SUBJECT_LEAD = re.compile(
    r"(?:[\s,;:.\-+•]|\(\d{1,2}\)|\d{1,2}(?:\.\d{1,2})*[.)]\s|[a-zđ]\)\s|"
    r"(?:va|phan dau|duy tri|bao dam|dam bao|den nay|hien nay|tinh den|toan (?:tinh|huyen|xa) co|dat|"
    r"trong nam|den nam|nam|giai doan)\b|(?:19|20)\d{2}\b)+"
)
_BARE_RATE = re.compile(r"^(?:ty le|ti le)$")
_MAX_SUBJECT = 200


def extract_targets(doc: Document, chunks: list[Chunk]) -> list[Target]:
    """Percentages set as targets or reported as baselines in ``doc``, in text order.

    A figure is a target inside a MỤC TIÊU / CHỈ TIÊU section or after "phấn đấu" ("phần đầu",
    "phân đầu" as typed); a baseline after "đến nay", "hiện nay", "đã đạt", or a past year.
    Figures with neither signal, and changes ("tăng 10%"), are left out.
    """
    view = _view(doc.text)
    doc_year = _plan_year(doc)
    out: list[Target] = []
    for chunk, sentences in _chunk_sentences(doc, chunks):
        target_section = bool(_TARGET_SECTION.search(_view(chunk.section_path)))
        for s_start, s_end in sentences:
            for clause in _clauses(view, s_start, s_end):
                values = [m for m in _PERCENT.finditer(view, *clause)]
                if not values:
                    continue
                bounds = _value_bounds(view, clause, values)
                for i, m in enumerate(values):
                    target = _target(doc, view, chunk, (s_start, s_end), m, bounds[i], bounds[i + 1],
                                     target_section, doc_year, f"{doc.doc_id}:t{len(out)}")
                    if target:
                        out.append(target)
    return out


def _value_bounds(view: str, clause: tuple[int, int], values: list[re.Match[str]]) -> list[int]:
    """Where the text of each figure begins and ends inside a clause: between two figures, at the
    last "và" or else the last comma, so "giảm còn 9,8% và thể chiều cao ... 19,6%" splits."""
    bounds = [clause[0]]
    for prev, nxt in itertools.pairwise(values):
        gap = view[prev.end():nxt.start()]
        cut = gap.rfind(" va ")
        if cut < 0:
            cut = gap.rfind(",")
        bounds.append(prev.end() + max(cut, 0))
    bounds.append(clause[1])
    return bounds


def _target(doc: Document, view: str, chunk: Chunk, sentence: tuple[int, int], m: re.Match[str],
            lo: int, hi: int, target_section: bool, doc_year: int | None, target_id: str) -> Target | None:
    before = view[max(lo, m.start() - 40):m.start()]
    if _CHANGE.search(before) or _VERSUS.match(view, m.end(), hi):
        return None
    cmp = _COMPARATOR.search(before)
    cmp_start = m.start() - (len(before) - cmp.start()) if cmp and cmp.group() else m.start()
    local = view[lo:hi]
    year_match = _YEAR.search(local)
    year = int(year_match.group(1)) if year_match else None
    past_year = bool(year and doc_year and year < doc_year)
    if _BASELINE.search(local) or past_year:
        kind = "baseline"
    elif _TARGET_WORD.search(local):
        kind = "target"
    elif _BASELINE.search(view, sentence[0], m.start()):
        kind = "baseline"
    elif target_section or _TARGET_WORD.search(view, sentence[0], m.start()):
        kind = "target"
    else:
        return None
    subject = _subject(doc, view, lo, cmp_start, m.end(), hi)
    if not subject:
        return None
    op = cmp["op"] if cmp and cmp["op"] else None
    return Target(
        id=target_id, kind=kind, subject=subject, value=float(m["num"].replace(",", ".")),
        comparator=_OPS.get(op, "=") if op else "=", value_text=_tidy(doc.text[cmp_start:m.end()]),
        fraction=_fraction(view, lo, m.start()),
        year=year, source=_source(doc, chunk, *sentence),
    )


def _fraction(view: str, lo: int, hi: int) -> str | None:
    """A count stated with the figure ("77/108 xã ... đạt 71,3%"), never a date ("ngày 10/11")."""
    m = _FRACTION.search(view, lo, hi)
    if not m or view[max(0, m.start() - 6):m.start()].strip().endswith(("ngay", "thang")):
        return None
    part, whole = int(m.group(1)), int(m.group(2))
    return f"{part}/{whole}" if 0 < part <= whole else None


def _subject(doc: Document, view: str, lo: int, cmp_start: int, value_end: int, hi: int) -> str:
    """What a figure measures: the words before it ("Tỷ lệ ... đạt 97,2%"), or after it when it
    leads ("Phấn đấu 95% cơ sở y tế ...")."""
    lead = _SUBJECT_LEAD.match(view, lo, cmp_start)
    pre_start = lead.end() if lead else lo
    pre = _tidy(doc.text[pre_start:cmp_start])
    post_end = hi
    colon = view.find(":", value_end, hi)
    if colon >= 0:
        post_end = colon
    post = _tidy(doc.text[value_end:post_end]).rstrip(".")
    if pre and not _BARE_RATE.match(fold(pre)) and len(pre.split()) >= 2:
        subject = pre
    elif pre:
        subject = f"{pre} {post}".strip()
    else:
        subject = post
    if len(subject) > _MAX_SUBJECT:
        subject = subject[:subject.rfind(" ", 0, _MAX_SUBJECT)] + " …"
    return subject


# --- relations ----------------------------------------------------------------------------------

_CODE = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
# Document numbers, as ingest.metadata reads them: 56/2017/NĐ-CP, 3452/UBND-VX, 28-CT/TW.
_NUMBER = re.compile(
    r"(?<![\w/.-])(?:"
    rf"\d{{1,5}}/(?:19|20)\d{{2}}/{_CODE}(?:-{_CODE})*"
    rf"|\d{{1,5}}/{_CODE}(?:-{_CODE})+"
    rf"|\d{{1,5}}-{_CODE}/{_CODE}(?:-{_CODE})*"
    r")(?![\w/])"
)
_TYPE_WORDS = (
    r"(?:chi thi|quyet dinh|ke hoach|chuong trinh|cong van|van ban|nghi quyet|nghi dinh|thong tu|thong tri|"
    r"thong bao|huong dan|ket luan|de an|quy dinh|bao cao|cong dien|phuong an|luat|to trinh)"
)
_OPENER = r"^[\W\d]*(?:v/v?\s*:?\s*)?"
# What precedes a number that the document carries out: "Thực hiện Chương trình số", "V/v triển
# khai thực hiện Kế hoạch số"; later ";"-items of such a sentence start with the type itself.
_IMPLEMENTS = re.compile(rf"{_OPENER}(?:thuc hien|trien khai(?:\s+thuc hien)?)\s+{_TYPE_WORDS}\s+so\s*$")
_BASED_ON = re.compile(rf"{_OPENER}can cu\s+{_TYPE_WORDS}\s+so\s*$")
_LIST_ITEM = re.compile(rf"^\W*{_TYPE_WORDS}\s+so\s*$")
_SENTENCE_VERB = re.compile(rf"{_OPENER}(?P<verb>thuc hien|trien khai|can cu)\b")
_ENCLOSES = re.compile(rf"\b(?:kem theo|dinh kem|gui kem)\s+{_TYPE_WORDS}\s+so\s*$")
_TYPE_CODE_REPAIRS = {"QD": "QĐ", "ND": "NĐ"}
# Digits then "-" or "/" (or OCR's "J" for "/"): the sentence may hold a document number.
_MAYBE_NUMBER = re.compile(r"\d\s*(?:[-/]|j[a-z])")
_STRENGTH = {"implements": 3, "based_on": 2, "encloses": 1, "cites": 0}


def number_key(number: str) -> str:
    """The form two spellings of one number share: '61-CTr/TU' and '61-ctr/tu' → '61-ctr/tu'."""
    return fold(re.sub(r"\s+", "", number))


def extract_references(doc: Document, chunks: list[Chunk] | None = None) -> list[Relation]:
    """The documents ``doc`` refers to by number, one relation per number, strongest kind kept:
    implements > based_on > encloses > cites. ``target_doc_id`` is left for the reader to resolve."""
    own = number_key(doc.metadata.number) if doc.metadata.number else None
    view = _view(doc.text)
    best: dict[str, Relation] = {}
    for chunk, sentences in _chunk_sentences(doc, chunks or []):
        if chunk.section and fold(chunk.section[0]).startswith("noi nhan"):
            continue
        for s_start, s_end in sentences:
            if not _MAYBE_NUMBER.search(view, s_start, s_end):
                continue  # reading a sentence's repaired copy is the slow part; most have no number
            for number, kind in _sentence_references(doc.text[s_start:s_end]):
                key = number_key(number)
                if key == own:
                    continue
                held = best.get(key)
                if held is None or _STRENGTH[kind] > _STRENGTH[held.kind]:
                    best[key] = Relation(
                        id="", kind=kind, source_doc_id=doc.doc_id, source_number=doc.metadata.number,
                        target_number=number, target_key=key, source=_source(doc, chunk, s_start, s_end),
                    )
    relations = sorted(best.values(), key=lambda r: (r.source.start, r.target_key))
    return [r.model_copy(update={"id": f"{doc.doc_id}:r{i}"}) for i, r in enumerate(relations)]


def _sentence_references(sentence: str) -> list[tuple[str, str]]:
    """(number, kind) for each number in one sentence, read on its repaired copy.

    Only the number a sentence opens with ("Thực hiện Chương trình số X"), or that opens one of
    its ";"-items ("...; Kế hoạch số Y ..."), is what the document carries out; numbers nested in
    their descriptions ("Chương trình số X ... thực hiện Chỉ thị số Z") are merely cited.
    """
    text = match_text(sentence).replace("\n", " ")
    folded = _view(text)
    verb = _SENTENCE_VERB.match(folded)
    out = []
    for m in _NUMBER.finditer(text):
        semicolon = folded.rfind(";", 0, m.start())
        head = folded[semicolon + 1:m.start()]
        first_item = semicolon < 0
        if first_item and _IMPLEMENTS.search(head):
            kind = "implements"
        elif first_item and _BASED_ON.search(head):
            kind = "based_on"
        elif not first_item and verb and _LIST_ITEM.match(head):
            kind = "based_on" if verb["verb"] == "can cu" else "implements"
        elif _ENCLOSES.search(folded, max(0, m.start() - 40), m.start()):
            kind = "encloses"
        else:
            kind = "cites"
        out.append((_unify_code(m.group()), kind))
    return out


def _unify_code(number: str) -> str:
    """Restore Đ in a type code OCR read without it: 1183/QD-TTg → 1183/QĐ-TTg."""
    return re.sub(r"(?<=[/-])(QD|ND)(?=[-/]|$)", lambda m: _TYPE_CODE_REPAIRS[m.group(1)], number)


def resolve_relations(relations: list[Relation], documents: list[Document]) -> list[Relation]:
    """Fill ``target_doc_id`` where an indexed document has the cited number."""
    by_number: dict[str, str] = {}
    for d in documents:
        if d.metadata.number and d.metadata.number[:1].isdigit():
            by_number.setdefault(number_key(d.metadata.number), d.doc_id)
    return [r.model_copy(update={"target_doc_id": by_number.get(r.target_key)}) for r in relations]


def extract_relations(documents: list[Document], chunks: list[Chunk] | None = None) -> list[Relation]:
    """References between ``documents`` (and to numbers outside them), targets resolved."""
    refs = [r for d in documents for r in extract_references(d, chunks)]
    return resolve_relations(refs, documents)


# --- storage ------------------------------------------------------------------------------------


def register_points(documents: list[Document], chunks: list[Chunk]) -> list[PointRecord]:
    """Payload-only points holding the register of one file's documents.

    Each carries ``file`` and ``doc_id``, so replacing or pruning a file removes them with its
    chunks. Relations are stored unresolved (the documents they point to may be in other files)
    and resolved when read. A document the extractors fail on loses its register entries, not
    its place in the index.
    """
    points: list[PointRecord] = []
    for doc in documents:
        try:
            items: list[tuple[str, BaseModel]] = [
                *(("obligation", o) for o in extract_obligations(doc, chunks)),
                *(("target", t) for t in extract_targets(doc, chunks)),
                *(("relation", r) for r in extract_references(doc, chunks)),
            ]
        except Exception:  # an extractor bug must not keep a file out of the index
            log.exception("register extraction failed for %s", doc.doc_id)
            continue
        for kind, item in items:
            points.append(PointRecord(point_id(f"{kind}:{item.id}"), {
                "kind": kind, "file": doc.file, "doc_id": doc.doc_id, kind: item.model_dump(),
            }))
    return points
