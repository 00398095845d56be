"""The register in other formats: deadline labels, flat table rows, CSV and iCalendar.

Every format is built from ``obligation_row`` or the same ``deadline_label``, so a table, a CSV
line and a calendar event say the same thing about one obligation.
"""

from __future__ import annotations

import csv
import io
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
"""Columns of ``obligation_row``, in display order (a UI table, a CSV header)."""


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
    """UTF-8 with a BOM so that Excel shows Vietnamese correctly; document text never becomes a formula."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(OBLIGATION_COLUMNS))
    writer.writeheader()
    for o in obligations:
        writer.writerow({k: csv_cell(v) for k, v in obligation_row(o, today).items()})
    return out.getvalue().encode("utf-8-sig")


# --- calendar -----------------------------------------------------------------------------------


def _event_start(deadline: Deadline, today: date | None) -> date | None:
    """First day of the calendar event: the due date, the month's last day, or the first
    occurrence of a recurring deadline (on or after the document's date when known)."""
    if deadline.kind == "recurring" and deadline.due:
        return date.fromisoformat(deadline.due)
    return next_due(deadline, today)


def to_ics(obligations: list[Obligation], *, stamp: datetime | None = None, today: date | None = None) -> bytes:
    """An iCalendar file with one all-day VEVENT per deadline.

    Recurring deadlines carry an RRULE: 'hằng năm trước ngày 10/11' → FREQ=YEARLY;BYMONTH=11;
    BYMONTHDAY=10. A semiannual report ("báo cáo 6 tháng (trước ngày 15/5)") is one report a year
    due on the date written, so it is FREQ=YEARLY on that date too; the annual report the same
    documents ask for is its own obligation and its own event. 'Trong tháng 11/2024' is an event
    on 30/11/2024. Deadlines without a usable date (a year that could not be inferred) are left out.
    """
    from icalendar import Calendar, Event

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
        event.add("summary", _plain_short(o.action, 120))
        event.add("description", _event_description(o))
        event.add("categories", [o.deadline.recurrence or o.deadline.kind])
        rule = _rrule(o.deadline)
        if rule:
            event.add("rrule", rule)
        cal.add_component(event)
    return cal.to_ical()


def _rrule(deadline: Deadline) -> dict | None:
    if deadline.kind != "recurring":
        return None
    if deadline.recurrence == "monthly" and deadline.day:
        return {"freq": "monthly", "bymonthday": deadline.day}
    if deadline.month_day:
        month, day = (int(p) for p in deadline.month_day.split("-"))
        return {"freq": "yearly", "bymonth": month, "bymonthday": day}
    return None


def _event_description(o: Obligation) -> str:
    s = o.source
    lines = [f"Thời hạn: {deadline_label(o.deadline)}"]
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
