"""What reads the register: the .ics export (unit in the title, reminders, repeats ending with the
plan), overdue marks in the tasks tab, Vietnamese CSV headers, and the quiz's confidence filter.

Every obligation here is synthetic.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from ingest.register import (
    OBLIGATION_COLUMNS,
    OBLIGATION_HEADERS,
    Deadline,
    Obligation,
    Register,
    SourceRef,
    Target,
    obligation_confidence,
    plan_period_end,
    target_confidence,
    to_csv,
    to_ics,
)
from ingest.register.exports import DEFAULT_RECURRENCE_YEARS, DEFAULT_REMINDER_DAYS, event_title
from ingest.settings import Settings
from rag.web import tasks_page, training

STAMP = datetime(2031, 1, 1, tzinfo=timezone.utc)
TODAY = date(2031, 6, 1)


def _deadline(kind: str = "date", text: str = "trước ngày 10/11", **fields) -> Deadline:
    return Deadline(kind=kind, text=text, start=0, end=len(text), **fields)


def _ob(i: int, deadline: Deadline, units: list[str] | None = None, *, units_from: str | None = "sentence",
        action: str = "báo cáo kết quả thực hiện nhiệm vụ", subject: str | None = None,
        number: str = "7/KH-UBND") -> Obligation:
    src = SourceRef(doc_id=f"d{i}", file=f"d{i}.txt", number=number, doc_type="kế hoạch", subject=subject,
                    quote=f"Câu trích số {i} trong văn bản.", start=0, end=10)
    return Obligation(id=f"d{i}:o0", units=["Sở Y tế"] if units is None else units, units_from=units_from,
                      action=action, deadline=deadline, source=src)


def _events(obligations: list[Obligation], **kw) -> list:
    return list(Calendar.from_ical(to_ics(obligations, stamp=STAMP, today=TODAY, **kw)).walk("VEVENT"))


# --------------------------------------------------------------------------- .ics


def test_ics_titles_name_the_unit_and_events_carry_a_reminder():
    o = _ob(1, _deadline(date="2031-11-10"), ["Sở Nội vụ", "Sở Tư pháp", "Ban Dân tộc"])
    [event] = _events([o])
    assert str(event["SUMMARY"]).startswith("Sở Nội vụ; Sở Tư pháp …: báo cáo kết quả")
    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY" and alarm.decoded("TRIGGER") == timedelta(days=-DEFAULT_REMINDER_DAYS)
    assert "Sở Nội vụ" in str(alarm["DESCRIPTION"])


@pytest.mark.parametrize("days, alarms", [(0, 0), (7, 1)])
def test_ics_reminder_days_is_a_setting(days, alarms):
    [event] = _events([_ob(1, _deadline(date="2031-11-10"))], reminder_days=days)
    found = event.walk("VALARM")
    assert len(found) == alarms
    if alarms:
        assert found[0].decoded("TRIGGER") == timedelta(days=-days)


def test_ics_defaults_are_the_settings_defaults(monkeypatch):
    fields = Settings.model_fields
    assert fields["ics_reminder_days"].default == DEFAULT_REMINDER_DAYS
    assert fields["ics_recurrence_years"].default == DEFAULT_RECURRENCE_YEARS
    monkeypatch.setenv("CONGVAN_ICS_REMINDER_DAYS", "5")
    [event] = Calendar.from_ical(tasks_page.ics_bytes([_ob(1, _deadline(date="2031-11-10"))])).walk("VEVENT")
    assert event.walk("VALARM")[0].decoded("TRIGGER") == timedelta(days=-5)


def test_a_title_without_units_is_the_action():
    assert event_title(_ob(1, _deadline(date="2031-11-10"), [])) == "báo cáo kết quả thực hiện nhiệm vụ"


@pytest.mark.parametrize("subject, end", [
    ("Kế hoạch thực hiện công tác dân số năm 2031", date(2031, 12, 31)),
    ("Kế hoạch phát triển giao thông giai đoạn 2031 - 2035", date(2035, 12, 31)),
    ("Chương trình hành động 2031-2033", date(2033, 12, 31)),
    ("Kế hoạch thực hiện Chỉ thị số 5-CT/TU ngày 12 tháng 3 năm 2029", None),  # a cited date is no period
    ("Kế hoạch chuyển đổi số năm 2031 và những năm tiếp theo", None),
    ("Về việc tăng cường quản lý chợ", None),
    (None, None),
])
def test_plan_period_end(subject, end):
    assert plan_period_end(subject) == end


@pytest.mark.parametrize("deadline, subject, first, until", [
    # a yearly duty in a plan for one year: its repeats end at 31/12 of that year
    (_deadline("recurring", recurrence="yearly", month_day="11-10", due="2031-11-10"),
     "Kế hoạch công tác năm 2031", date(2031, 11, 10), date(2031, 12, 31)),
    # monthly, in a period plan: to the period's last year
    (_deadline("recurring", "trước ngày 20 hằng tháng", recurrence="monthly", day=20),
     "Kế hoạch giai đoạn 2031 - 2032", date(2031, 6, 20), date(2032, 12, 31)),
    # semiannual (a yearly event on the date written), no period named: the default horizon
    (_deadline("recurring", recurrence="semiannual", month_day="05-15", due="2032-05-15"),
     "Về việc báo cáo định kỳ", date(2032, 5, 15), date(2032 + DEFAULT_RECURRENCE_YEARS - 1, 12, 31)),
])
def test_recurrences_end_where_the_plan_ends(deadline, subject, first, until):
    [event] = _events([_ob(1, deadline, subject=subject)])
    assert event.decoded("DTSTART") == first
    assert event["RRULE"]["UNTIL"] == [until]
    assert f"Lặp lại đến: {until.strftime('%d/%m/%Y')}" in str(event["DESCRIPTION"])
    assert event.walk("VALARM")


def test_a_period_over_before_the_first_occurrence_gives_one_event():
    deadline = _deadline("recurring", recurrence="yearly", month_day="02-15", due="2032-02-15")
    [event] = _events([_ob(1, deadline, subject="Kế hoạch năm 2031")])
    assert "RRULE" not in event and event.decoded("DTSTART") == date(2032, 2, 15)


def test_no_end_when_the_horizon_is_zero():
    deadline = _deadline("recurring", recurrence="yearly", month_day="11-10", due="2031-11-10")
    [event] = _events([_ob(1, deadline)], recurrence_years=0)
    assert "UNTIL" not in event["RRULE"]


# --------------------------------------------------------------------------- tasks tab and CSV


@pytest.mark.parametrize("deadline, overdue", [
    (_deadline(date="2031-05-31"), True),
    (_deadline(date="2031-06-01"), False),  # due today is not late yet
    (_deadline("month", month="2031-05"), True),
    (_deadline("quarter", year=2031, quarter=2), False),
    (_deadline("year", year=2030), True),
    (_deadline("recurring", recurrence="yearly", month_day="02-15", due="2029-02-15"), False),  # next one ahead
    (_deadline(), False),  # no usable date
])
def test_overdue_is_a_next_due_date_before_today(deadline, overdue):
    o = _ob(1, deadline)
    assert tasks_page.is_overdue(o, TODAY) is overdue
    [row] = tasks_page.table_rows([o], TODAY)
    assert row[tasks_page.COLUMNS.index("Hạn kế tiếp")].endswith("· quá hạn") is overdue
    assert ("quá hạn" in tasks_page.source_html(o, TODAY)) is overdue


def test_count_text_says_how_many_are_overdue():
    assert "**2** nhiệm vụ đã quá hạn" in tasks_page.count_text(5, 5, 2)
    assert "quá hạn" not in tasks_page.count_text(5, 5, 0)


def test_csv_and_table_headers_are_vietnamese():
    data = to_csv([_ob(1, _deadline("recurring", recurrence="monthly", day=20))], TODAY)
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:5] == ["Hạn kế tiếp", "Thời hạn (theo văn bản)", "Loại thời hạn", "Đơn vị thực hiện", "Nhiệm vụ"]
    assert set(OBLIGATION_HEADERS) == set(OBLIGATION_COLUMNS) and len(header) == len(OBLIGATION_COLUMNS)
    assert dict(zip(OBLIGATION_COLUMNS, row, strict=True))["kind"] == "hằng tháng"
    assert all(label in OBLIGATION_HEADERS.values() for label in tasks_page.COLUMNS)


# --------------------------------------------------------------------------- confidence and the quiz


@pytest.mark.parametrize("units, units_from, deadline, expected", [
    (["Sở Y tế"], "sentence", _deadline(date="2031-11-10"), 1.0),
    (["Sở Y tế"], "heading", _deadline(date="2031-11-10"), 0.9),
    (["Sở Y tế"], "heading", _deadline(date="2031-11-10", year_inferred=True), 0.675),
    (["Sở Y tế"], "addressees", _deadline(date="2031-11-10"), 0.5),
    ([], None, _deadline(date="2031-11-10"), 0.4),
    (["Sở Y tế"], "sentence", _deadline(), 0.0),  # no usable date
])
def test_obligation_confidence(units, units_from, deadline, expected):
    assert obligation_confidence(_ob(1, deadline, units, units_from=units_from)) == pytest.approx(expected)


def test_target_confidence():
    src = SourceRef(doc_id="t", file="t.txt", quote="x", start=0, end=1)
    make = lambda subject: Target(id="t:0", kind="target", subject=subject, value=90, value_text="90%",  # noqa: E731
                                  source=src)
    assert target_confidence(make("tỷ lệ hộ dân dùng nước sạch")) == 1.0
    assert target_confidence(make("tỷ lệ")) == 0.5
    assert target_confidence(make("tỷ lệ hộ dân …")) < 1.0


def _quiz_register() -> Register:
    units = ["Sở Y tế", "Sở Nội vụ", "Sở Tư pháp", "Ban Dân tộc", "Hội Nông dân tỉnh", "Đoàn Thanh niên tỉnh"]
    sure = [_ob(i, _deadline(date=f"2031-{i + 1:02d}-1{i}"), [u], number=f"{i}/KH-UBND")
            for i, u in enumerate(units)]
    unsure = [
        _ob(10, _deadline(date="2031-12-20"), ["Các sở, ban, ngành"], units_from="addressees", number="10/CV-UBND"),
        _ob(11, _deadline(date="2031-12-21", year_inferred=True), ["Sở Tài chính"], units_from="lead-in",
            number="11/CV-UBND", action="rà soát"),
        _ob(12, _deadline(date="2031-12-22"), [], units_from=None, number="12/CV-UBND"),
    ]
    return Register(obligations=[*sure, *unsure])


def test_the_quiz_asks_only_about_sure_items():
    register = _quiz_register()
    unsure_docs = {"d10", "d11", "d12"}
    everything = {q.source.doc_id for seed in range(6)
                  for q in training.make_quiz(register, seed=seed, count=20, options=3)}
    assert everything & unsure_docs  # without a threshold they are asked about
    for seed in range(6):
        quiz = training.make_quiz(register, seed=seed, count=20, options=3, min_confidence=0.6)
        assert quiz and not {q.source.doc_id for q in quiz} & unsure_docs
    obligations, _ = training.quiz_items(register, Settings().quiz_min_confidence)
    assert {o.source.doc_id for o in obligations} == {f"d{i}" for i in range(6)}


def test_each_question_shows_its_source():
    [q] = training.make_quiz(_quiz_register(), seed=2, count=1, options=3, min_confidence=0.6)
    text = training.question_markdown(q, 1, 1)
    assert "Nguồn:" in text and q.source.number.split("/")[0] in text
    html = training.check_html(q, q.options[q.answer])
    assert q.source.number in html and q.source.quote in html
