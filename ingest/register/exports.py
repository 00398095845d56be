"""The register in other formats: deadline labels, flat table rows, CSV and iCalendar.

Every format is built from ``obligation_row`` or the same ``deadline_label``, so a table, a CSV
line and a calendar event say the same thing about one obligation.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

from ingest.register.models import Deadline, Obligation
from ingest.register.queries import next_due
from ingest.text.labels import shorten
from ingest.text.normalize import fold


def deadline_label(deadline: Deadline) -> str:
    """The deadline as written, with what the text leaves implicit (an inferred year, the period)."""
    text = deadline.text
    folded = fold(text)
    if deadline.kind == "date" and deadline.year_inferred and deadline.date:
        return f"{text} (năm {deadline.date[:4]}, suy ra từ văn bản)"
    if deadline.recurrence == "yearly" and "hang nam" not in folded:
        return f"{text}, hằng năm"
    if deadline.recurrence == "semiannual" and "6 thang" not in folded:
        return f"{text}, định kỳ 6 tháng"
    if deadline.recurrence == "monthly" and "thang" not in folded:
        return f"{text}, hằng tháng"
    return text


# --- table rows and CSV -------------------------------------------------------------------------

OBLIGATION_COLUMNS = ("due", "deadline", "kind", "units", "action", "coordinating", "recipients", "via",
                      "number", "doc_type", "issuer", "section", "file", "doc_id", "start", "end")
"""Columns of ``obligation_row``, in display order: the keys code reads rows by."""

OBLIGATION_HEADERS: dict[str, str] = {
    "due": "Hạn kế tiếp", "deadline": "Thời hạn (theo văn bản)", "kind": "Loại thời hạn",
    "units": "Đơn vị thực hiện", "action": "Nhiệm vụ", "coordinating": "Đơn vị phối hợp",
    "recipients": "Gửi/trình", "via": "Qua", "number": "Số văn bản", "doc_type": "Loại văn bản",
    "issuer": "Cơ quan ban hành", "section": "Mục", "file": "Tệp", "doc_id": "Mã văn bản",
    "start": "Vị trí đầu", "end": "Vị trí cuối",
}
"""The Vietnamese label of each column, for a CSV header and a UI table."""

KIND_LABELS: dict[str, str] = {
    "date": "ngày", "month": "tháng", "quarter": "quý", "year": "năm", "yearly": "hằng năm",
    "semiannual": "6 tháng", "quarterly": "hằng quý", "monthly": "hằng tháng",
}
"""The Vietnamese word for a deadline's kind (or recurrence), as the CSV's "Loại thời hạn" shows it."""


def obligation_row(o: Obligation, today: date | None = None) -> dict[str, str | int]:
    """One flat row per obligation: lists joined with '; ', the next due date as ISO."""
    due = next_due(o.deadline, today)
    s = o.source
    return {
        "due": due.isoformat() if due else "", "deadline": deadline_label(o.deadline),
        "kind": o.deadline.recurrence or o.deadline.kind, "units": "; ".join(o.units), "action": o.action,
        "coordinating": "; ".join(o.coordinating), "recipients": "; ".join(o.recipients), "via": o.via or "",
        "number": s.number or "", "doc_type": s.doc_type or "", "issuer": s.issuer or "", "section": s.section,
        "file": s.file, "doc_id": s.doc_id, "start": s.start, "end": s.end,
    }


# A cell starting with one of these is read as a formula by Excel and LibreOffice
# (=HYPERLINK(...) leaks data, =cmd|... runs commands); tab and CR can hide such a start.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A cell safe to open in a spreadsheet: text that would start a formula gets a leading
    single quote (OWASP's CSV-injection advice), shown as text. Numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(obligations: list[Obligation], today: date | None = None) -> bytes:
    """UTF-8 with a BOM so that Excel shows Vietnamese correctly; the header row in Vietnamese
    (``OBLIGATION_HEADERS``, in ``OBLIGATION_COLUMNS`` order); document text never becomes a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([OBLIGATION_HEADERS[k] for k in OBLIGATION_COLUMNS])
    for o in obligations:
        row = obligation_row(o, today)
        row["kind"] = KIND_LABELS.get(str(row["kind"]), row["kind"])
        writer.writerow([csv_cell(row[k]) for k in OBLIGATION_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


# --- calendar -----------------------------------------------------------------------------------


def _event_start(deadline: Deadline, today: date | None) -> date | None:
    """First day of the calendar event: the due date, the month's last day, or the first
    occurrence of a recurring deadline (on or after the document's date when known)."""
    if deadline.kind == "recurring" and deadline.due:
        return date.fromisoformat(deadline.due)
    return next_due(deadline, today)


DEFAULT_REMINDER_DAYS = 3
"""Days before a deadline its event reminds (``Settings.ics_reminder_days``)."""
DEFAULT_RECURRENCE_YEARS = 5
"""Years a recurring event repeats when its plan names no period (``Settings.ics_recurrence_years``)."""


def to_ics(obligations: list[Obligation], *, stamp: datetime | None = None, today: date | None = None,
           reminder_days: int = DEFAULT_REMINDER_DAYS, recurrence_years: int = DEFAULT_RECURRENCE_YEARS) -> bytes:
    """An iCalendar file with one all-day VEVENT per deadline.

    The title names the acting units, then the task ("Sở Y tế: Báo cáo kết quả ..."). Each event
    carries a VALARM ``reminder_days`` before its day (none when 0).

    Recurring deadlines carry an RRULE: 'hằng năm trước ngày 10/11' → FREQ=YEARLY;BYMONTH=11;
    BYMONTHDAY=10. A semiannual report ("báo cáo 6 tháng (trước ngày 15/5)") is one report a year
    due on the date written, so it is FREQ=YEARLY on that date too; the annual report the same
    documents ask for is its own obligation and its own event. The repeats end (UNTIL) with the
    plan's period (``plan_period_end``: 31/12 of "năm 2026" or of a period's last year); a plan
    naming no period repeats ``recurrence_years`` years (to 31/12 of the last; 0 = no end). A
    plan whose period ends before the first occurrence gives that one event, without repeats.
    'Trong tháng 11/2024' is an event on 30/11/2024. Deadlines without a usable date (a year that
    could not be inferred) are left out.
    """
    from icalendar import Alarm, Calendar, Event

    stamp = stamp or datetime.now(timezone.utc)
    cal = Calendar()
    cal.add("prodid", "-//congvan//so theo doi nhiem vu//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "congvan: thời hạn thực hiện")
    for o in obligations:
        start = _event_start(o.deadline, today)
        if start is None:
            continue
        event = Event()
        event.add("uid", f"{o.id}@congvan")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(days=1))
        event.add("summary", event_title(o))
        event.add("categories", [o.deadline.recurrence or o.deadline.kind])
        rule = _rrule(o.deadline)
        until = None
        if rule:
            until = recurrence_end(o, start, recurrence_years)
            if until is not None and until < start:
                rule = None  # the plan's period is over by the first occurrence: that one event only
            elif until is not None:
                rule["until"] = until
        if rule:
            event.add("rrule", rule)
        event.add("description", _event_description(o, until if rule else None))
        if reminder_days > 0:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Còn {reminder_days} ngày đến hạn: {_plain_short(event_title(o), 200)}")
            alarm.add("trigger", timedelta(days=-reminder_days))
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()


def event_title(o: Obligation, limit: int = 160) -> str:
    """"Sở Y tế: Báo cáo kết quả …": the acting units (two at most, then "…") and the task."""
    units = o.units[:2]
    who = "; ".join(units) + (" …" if len(o.units) > 2 else "")
    who = shorten(who, 80) if who else ""
    return _plain_short(f"{who}: {o.action}" if who else o.action, limit)


_PERIOD = re.compile(r"\b(?:giai doan\s+)?((?:19|20)\d{2})\s*[-–]\s*((?:19|20)\d{2})\b")
_PLAN_YEAR = re.compile(r"\bnam\s+((?:19|20)\d{2})\b")
_WRITTEN_DATE = re.compile(r"\b(?:ngay\s+\d{1,2}\s+)?thang\s+\d{1,2}\s+nam\s+(?:19|20)\d{2}\b")
_OPEN_ENDED = re.compile(r"\b(?:cac|nhung)\s+nam\s+tiep\s+theo\b")


def plan_period_end(subject: str | None) -> date | None:
    """The last day of the period a plan's subject names: "… giai đoạn 2026 - 2030" → 31/12/2030,
    "Kế hoạch … năm 2026" → 31/12/2026 (the latest year when it names several), None when it names
    none or runs on ("… năm 2026 và những năm tiếp theo"). Dates written out ("ngày 25 tháng 12
    năm 2023", a cited document's) are no period."""
    folded = fold(subject or "")
    if not folded or _OPEN_ENDED.search(folded):
        return None
    folded = _WRITTEN_DATE.sub(" ", folded)
    years = [int(m.group(2)) for m in _PERIOD.finditer(folded) if int(m.group(1)) <= int(m.group(2))]
    years += [int(y) for y in _PLAN_YEAR.findall(folded)]
    return date(max(years), 12, 31) if years else None


def recurrence_end(o: Obligation, start: date, recurrence_years: int = DEFAULT_RECURRENCE_YEARS) -> date | None:
    """When a recurring obligation's repeats end: its plan's period end, else 31/12 of the
    ``recurrence_years``-th year from the first occurrence (None: no end, when that is 0)."""
    end = plan_period_end(o.source.subject)
    if end is not None:
        return end
    return date(start.year + recurrence_years - 1, 12, 31) if recurrence_years > 0 else None


def _rrule(deadline: Deadline) -> dict | None:
    if deadline.kind != "recurring":
        return None
    if deadline.recurrence == "monthly" and deadline.day:
        return {"freq": "monthly", "bymonthday": deadline.day}
    if deadline.month_day:
        month, day = (int(p) for p in deadline.month_day.split("-"))
        return {"freq": "yearly", "bymonth": month, "bymonthday": day}
    return None


def _event_description(o: Obligation, until: date | None = None) -> str:
    s = o.source
    lines = [f"Thời hạn: {deadline_label(o.deadline)}"]
    if until is not None:
        lines.append(f"Lặp lại đến: {until.strftime('%d/%m/%Y')}")
    if o.units:
        lines.append(f"Đơn vị thực hiện: {'; '.join(o.units)}")
    if o.coordinating:
        lines.append(f"Phối hợp: {'; '.join(o.coordinating)}")
    if o.recipients:
        lines.append(f"Gửi/trình: {'; '.join(o.recipients)}" + (f" (qua {o.via})" if o.via else ""))
    lines.append(f"Nhiệm vụ: {o.action}")
    label = " ".join(p for p in ((s.doc_type or "văn bản").capitalize(), s.number or "") if p)
    lines.append(f"Nguồn: {label}" + (f" - {s.issuer}" if s.issuer else "") + (f" - {s.section}" if s.section else ""))
    lines.append(f"“{_plain_short(s.quote, 600)}”")
    lines.append(f"{s.file}:{s.start}-{s.end}")
    return "\n".join(lines)


def _plain_short(text: str, limit: int) -> str:
    # Calendar apps show text as is: the source's Markdown emphasis ("*trước ngày 15/5*") goes.
    return shorten(text.replace("*", ""), limit)
