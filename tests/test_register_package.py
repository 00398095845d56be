"""The register package, one concern module at a time, on synthetic inputs (no index, no model).

The seed documents are tested end to end in tests/test_register.py; here each rule of a module is
one table row, so a change to the deadline grammar or an export shows which wording it moved.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from icalendar import Calendar

from ingest.models import Document, DocumentMetadata
from ingest.register import (
    OBLIGATION_COLUMNS,
    OBLIGATION_HEADERS,
    REGISTER_KINDS,
    Deadline,
    Obligation,
    Register,
    SourceRef,
    Target,
    build_graph,
    csv_cell,
    deadline_label,
    deadlines_in,
    extract_register,
    extract_relations,
    extract_references,
    extract_targets,
    list_obligations,
    load_register,
    next_due,
    number_key,
    obligation_line,
    register_evidence,
    register_points,
    target_line,
    to_csv,
    to_ics,
    unit_key,
)
from ingest.register.spans import matching_view
from rag.query import analyze

STAMP = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _doc(text: str, doc_id: str = "x-0", **meta) -> Document:
    return Document(doc_id=doc_id, file=f"{doc_id}.txt", file_sha256="0", kind="txt", text=text,
                    metadata=DocumentMetadata(**meta))


def _source(doc_id: str = "d-0", **fields) -> SourceRef:
    return SourceRef(**({"doc_id": doc_id, "file": f"{doc_id}.txt", "quote": "x", "start": 0, "end": 1} | fields))


def _obligation(i: int, deadline: Deadline, units: list[str] | None = None, action: str = "báo cáo kết quả",
                **source) -> Obligation:
    return Obligation(id=f"d-{i}:o0", units=units or ["Sở Y tế"], action=action, deadline=deadline,
                      source=_source(f"d-{i}", **source))


def _deadline(kind: str, text: str = "trước ngày 10/11", **fields) -> Deadline:
    return Deadline(kind=kind, text=text, start=0, end=len(text), **fields)


# --- deadlines.py: the grammar ------------------------------------------------------------------

PLAN_2024 = {"subject": "Kế hoạch công tác trẻ em năm 2024", "date": "2024-03-01"}


@pytest.mark.parametrize("sentence, meta, expected", [
    # (kind, recurrence, date / month / month_day / day, due, year_inferred, text as written)
    ("Báo cáo trước ngày 15/12/2024.", {},
     ("date", None, "2024-12-15", "2024-12-15", False, "trước ngày 15/12/2024")),
    ("Hoàn thành chậm nhất là ngày 05 tháng 6 năm 2025.", {},
     ("date", None, "2025-06-05", "2025-06-05", False, "chậm nhất là ngày 05 tháng 6 năm 2025")),
    ("Nộp hồ sơ trước 17 giờ ngày 30/9/2024.", {},
     ("date", None, "2024-09-30", "2024-09-30", False, "trước 17 giờ ngày 30/9/2024")),
    ("Báo cáo trudc ngày 10/11/2024.", {},  # OCR of "trước"
     ("date", None, "2024-11-10", "2024-11-10", False, "trudc ngày 10/11/2024")),
    ("Báo cáo trước ngày 25/5.", PLAN_2024,  # the plan's year
     ("date", None, "2024-05-25", "2024-05-25", True, "trước ngày 25/5")),
    ("Báo cáo trước ngày 15/1.", {"date": "2024-10-02"},  # before the document: the next year
     ("date", None, "2025-01-15", "2025-01-15", True, "trước ngày 15/1")),
    ("Báo cáo trước ngày 25/5.", {},  # no year to infer: kept, without a date
     ("date", None, None, None, True, "trước ngày 25/5")),
    ("Báo cáo trước ngày 10/11 (đối với báo cáo năm).", {"date": "2024-01-05"},
     ("date", None, "2024-11-10", "2024-11-10", True, "trước ngày 10/11 (đối với báo cáo năm)")),
    ("Trình UBND tỉnh trong tháng 11/2024.", {},
     ("month", None, "2024-11", "2024-11-30", False, "trong tháng 11/2024")),
    ("Trình UBND tỉnh trong tháng 11 năm 2024.", {},
     ("month", None, "2024-11", "2024-11-30", False, "trong tháng 11 năm 2024")),
    ("Trình UBND tỉnh trong tháng 3.", {"date": "2024-10-02"},
     ("month", None, "2025-03", "2025-03-31", True, "trong tháng 3")),
    ("Gửi báo cáo trước ngày 20 hằng tháng.", {},
     ("recurring", "monthly", 20, None, False, "trước ngày 20 hằng tháng")),
    ("Hằng năm báo cáo trước ngày 10/11.", {"date": "2024-11-20"},
     ("recurring", "yearly", "11-10", "2025-11-10", False, "Hằng năm báo cáo trước ngày 10/11")),
    ("Hằng năm báo cáo trước ngày 29/2.", {"date": "2023-03-01"},  # the next leap year
     ("recurring", "yearly", "02-29", "2024-02-29", False, "Hằng năm báo cáo trước ngày 29/2")),
    ("Định kỳ báo cáo 6 tháng (trước ngày 15/5).", {"date": "2024-03-01"},
     ("recurring", "semiannual", "05-15", "2024-05-15", False, "Định kỳ báo cáo 6 tháng (trước ngày 15/5)")),
])
def test_deadline_grammar(sentence, meta, expected):
    doc = _doc(sentence, **meta)
    [found] = deadlines_in(doc, matching_view(sentence), (0, len(sentence)))
    d = found.deadline
    value = d.date if d.kind == "date" else d.month if d.kind == "month" else d.month_day or d.day
    assert (d.kind, d.recurrence, value, d.due, d.year_inferred, d.text) == expected
    assert sentence[d.start:d.end].replace("*", "") == d.text  # offsets are offsets into the text


@pytest.mark.parametrize("sentence, meta", [
    ("Tổ chức Diễn đàn dự kiến trong tháng 10/2024.", {}),  # planned, not due
    ("Hồ sơ đã tiếp nhận trước ngày 01/7/2024.", {}),  # already happened
    ("Cán bộ trực ngày 01/01/2025.", {}),  # "trực" (on duty) is not "trước"
    ("Ngày 25/12/2023 Bộ Chính trị ban hành Chỉ thị.", {}),  # a document's date
    ("Báo cáo trước ngày 31/2/2024.", {}),  # no such day
    ("Báo cáo hằng quý trước ngày 15/3.", {"date": "2024-03-01"}),  # a day and month cannot recur quarterly
    ("Báo cáo trong tháng 11.", {}),  # no year to infer a month from
])
def test_dates_the_grammar_refuses(sentence, meta):
    assert deadlines_in(_doc(sentence, **meta), matching_view(sentence), (0, len(sentence))) == []


# --- queries.py ---------------------------------------------------------------------------------


@pytest.mark.parametrize("deadline, today, expected", [
    (_deadline("date", date="2024-11-10"), date(2025, 1, 1), date(2024, 11, 10)),  # past: overdue, kept
    (_deadline("date"), date(2025, 1, 1), None),  # year never inferred
    (_deadline("month", month="2024-02"), date(2024, 1, 1), date(2024, 2, 29)),
    (_deadline("recurring", recurrence="monthly", day=31), date(2024, 2, 10), date(2024, 2, 29)),  # clamped
    (_deadline("recurring", recurrence="monthly", day=20), date(2024, 12, 25), date(2025, 1, 20)),
    (_deadline("recurring", recurrence="monthly", day=5), date(2024, 3, 5), date(2024, 3, 5)),  # today counts
    (_deadline("recurring", recurrence="yearly", month_day="11-10"), date(2024, 11, 11), date(2025, 11, 10)),
    (_deadline("recurring", recurrence="yearly", month_day="02-29"), date(2025, 3, 1), date(2028, 2, 29)),
    (_deadline("recurring", recurrence="semiannual", month_day="05-15"), date(2024, 5, 15), date(2024, 5, 15)),
])
def test_next_due(deadline, today, expected):
    assert next_due(deadline, today) == expected


@pytest.mark.parametrize("a, b", [
    ("Sở LĐ-TB&XH", "Sở Lao động - Thương binh và Xã hội"),
    ("Sở LĐTBXH", "sở lao động thương binh xã hội"),
    ("UBND huyện", "Ủy ban nhân dân huyện"),
    ("Sở GD&ĐT", "Sở Giáo dục và Đào tạo"),
    ("UBMTTQ tỉnh", "Ủy ban Mặt trận Tổ quốc tỉnh"),
])
def test_unit_key_meets_abbreviations(a, b):
    assert unit_key(a) == unit_key(b)


SMALL = Register(obligations=[
    _obligation(1, _deadline("date", date="2024-11-10"), ["Sở Lao động - Thương binh và Xã hội"]),
    _obligation(2, _deadline("month", month="2024-05"), ["UBND các xã"]),
    _obligation(3, _deadline("recurring", recurrence="yearly", month_day="03-01"), ["Phòng Tư pháp"]),
    _obligation(4, _deadline("date"), ["Ủy ban nhân dân các xã, thị trấn"]),
])


@pytest.mark.parametrize("unit, before, doc_id, expected", [
    (None, None, None, ["d-3", "d-2", "d-1", "d-4"]),  # soonest first, unknown dates last
    ("Sở LĐTBXH", None, None, ["d-1"]),
    ("ubnd cac xa", None, None, ["d-2", "d-4"]),
    (None, "2024-06-30", None, ["d-3", "d-2"]),  # no date is never "before"
    (None, date(2024, 2, 1), None, []),
    (None, None, "d-4", ["d-4"]),
])
def test_list_obligations_filters(unit, before, doc_id, expected):
    found = list_obligations(SMALL, unit=unit, before=before, doc_id=doc_id, today=date(2024, 1, 1))
    assert [o.source.doc_id for o in found] == expected


# --- exports.py ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+84 912", "'+84 912"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=cmd|' /C calc'!A0", "'\r=cmd|' /C calc'!A0"),
    ("Sở Y tế", "Sở Y tế"),
    ("a=b", "a=b"),  # only a formula's start is dangerous
    ("", ""),
    (42, 42),  # numbers stay numbers
])
def test_csv_cell_neutralises_formula_starts(value, expected):
    assert csv_cell(value) == expected


def test_csv_has_a_bom_the_row_columns_and_no_formula():
    obligations = [_obligation(1, _deadline("date", date="2024-11-10"), ["+1"], action="=1+1", number="-2",
                               issuer="@x", section="\t=1")]
    data = to_csv(obligations, date(2024, 1, 1))
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Vietnamese only with the BOM
    header, values = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == [OBLIGATION_HEADERS[k] for k in OBLIGATION_COLUMNS]  # Vietnamese labels, in key order
    row = dict(zip(OBLIGATION_COLUMNS, values, strict=True))
    assert (row["action"], row["units"], row["number"], row["issuer"], row["section"]) == ("'=1+1", "'+1", "'-2", "'@x", "'\t=1")
    assert (row["due"], row["start"], row["kind"]) == ("2024-11-10", "0", "ngày")


@pytest.mark.parametrize("deadline, label", [
    (_deadline("date", "trước ngày 25/5", date="2024-05-25", year_inferred=True),
     "trước ngày 25/5 (năm 2024, suy ra từ văn bản)"),
    (_deadline("date", "trước ngày 25/5/2024", date="2024-05-25"), "trước ngày 25/5/2024"),
    (_deadline("recurring", "trước ngày 10/11", recurrence="yearly", month_day="11-10"), "trước ngày 10/11, hằng năm"),
    (_deadline("recurring", "hằng năm trước ngày 10/11", recurrence="yearly", month_day="11-10"),
     "hằng năm trước ngày 10/11"),
    (_deadline("recurring", "trước ngày 15/5", recurrence="semiannual", month_day="05-15"),
     "trước ngày 15/5, định kỳ 6 tháng"),
    (_deadline("recurring", "trước ngày 20", recurrence="monthly", day=20), "trước ngày 20, hằng tháng"),
])
def test_deadline_label_says_what_the_text_leaves_implicit(deadline, label):
    assert deadline_label(deadline) == label


@pytest.mark.parametrize("deadline, start, rule", [
    (_deadline("date", date="2024-11-10"), date(2024, 11, 10), None),
    (_deadline("month", month="2024-11"), date(2024, 11, 30), None),
    (_deadline("recurring", recurrence="yearly", month_day="11-10", due="2025-11-10"), date(2025, 11, 10),
     {"FREQ": ["YEARLY"], "BYMONTH": [11], "BYMONTHDAY": [10]}),
    # A semiannual report is one report a year on the date written.
    (_deadline("recurring", recurrence="semiannual", month_day="05-15", due="2024-05-15"), date(2024, 5, 15),
     {"FREQ": ["YEARLY"], "BYMONTH": [5], "BYMONTHDAY": [15]}),
    (_deadline("recurring", recurrence="monthly", day=20), date(2024, 1, 20), {"FREQ": ["MONTHLY"], "BYMONTHDAY": [20]}),
])
def test_ics_event_per_deadline_kind(deadline, start, rule):
    o = _obligation(1, deadline, action="*Báo cáo* kết quả " + "rất dài " * 30, number="12/KH-UBND")
    calendar = Calendar.from_ical(to_ics([o], stamp=STAMP, today=date(2024, 1, 1)))
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "d-1:o0@congvan"
    assert event.decoded("DTSTART") == start and event.decoded("DTEND") == date.fromordinal(start.toordinal() + 1)
    assert ({k: list(v) for k, v in event["RRULE"].items() if k != "UNTIL"} if "RRULE" in event else None) == rule
    if rule:  # no plan period in the source: repeats end after the default horizon
        assert event["RRULE"]["UNTIL"] == [date(start.year + 4, 12, 31)]
    summary = str(event["SUMMARY"])
    assert summary.startswith("Sở Y tế: Báo cáo kết quả") and summary.endswith(" …") and len(summary) <= 162
    assert "12/KH-UBND" in str(event["DESCRIPTION"])


def test_ics_leaves_out_deadlines_without_a_date():
    calendar = Calendar.from_ical(to_ics([_obligation(1, _deadline("date"))], stamp=STAMP))
    assert list(calendar.walk("VEVENT")) == [] and str(calendar["VERSION"]) == "2.0"


# --- targets.py ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence, expected", [
    ("Phấn đấu đến năm 2025 tỷ lệ hộ nghèo giảm còn dưới 3%.",
     [("target", 3.0, "<", "giảm còn dưới 3%", None, 2025, "tỷ lệ hộ nghèo")]),
    ("Phấn đấu tỷ lệ trẻ em được tiêm chủng đạt ít nhất 95%.",
     [("target", 95.0, ">=", "đạt ít nhất 95%", None, None, "tỷ lệ trẻ em được tiêm chủng")]),
    ("Đến nay, toàn tỉnh có 77/108 xã đạt 71,3%.",
     [("baseline", 71.3, "=", "đạt 71,3%", "77/108", None, "77/108 xã")]),
    ("Năm nay doanh thu tăng 10%.", []),  # a change, not a level
    ("Bảo đảm 100% đảng viên được quán triệt.", []),  # no target or baseline signal
])
def test_targets_and_baselines(sentence, expected):
    found = extract_targets(_doc(sentence, date="2024-01-01"), [])
    assert [(t.kind, t.value, t.comparator, t.value_text, t.fraction, t.year, t.subject) for t in found] == expected


# --- relations.py and graph.py ------------------------------------------------------------------


@pytest.mark.parametrize("number, key", [
    ("61-CTr/TU", "61-ctr/tu"),
    ("3452/UBND-VX", "3452/ubnd-vx"),
    ("56/2017/NĐ-CP", "56/2017/nd-cp"),
    ("12 / KH-UBND", "12/kh-ubnd"),
])
def test_number_key(number, key):
    assert number_key(number) == key


@pytest.mark.parametrize("text, expected", [
    ("Thực hiện Kế hoạch số 5/KH-UBND về triển khai Nghị quyết số 7/NQ-HĐND.",
     [("5/KH-UBND", "implements"), ("7/NQ-HĐND", "cites")]),  # a nested number is only cited
    ("Thực hiện Chỉ thị số 28-CT/TW; Kế hoạch số 12/KH-UBND của UBND tỉnh.",
     [("12/KH-UBND", "implements"), ("28-CT/TW", "implements")]),  # ";"-items share the verb
    ("Căn cứ Nghị định số 56/2017/NĐ-CP.", [("56/2017/NĐ-CP", "based_on")]),
    ("Gửi kèm theo Quyết định số 1183/QD-TTg.", [("1183/QĐ-TTg", "encloses")]),  # OCR's QD repaired
    ("Công văn này thay Công văn số 99/UBND-VX.", []),  # the document's own number
])
def test_reference_kinds(text, expected):
    found = extract_references(_doc(text, number="99/UBND-VX"), [])
    assert [(r.target_number, r.kind) for r in found] == expected


def test_graph_resolves_numbers_and_walks_chains():
    docs = [_doc("Thực hiện Chương trình số 2-CTr/TU của Tỉnh ủy.", "a-0", number="1/KH-UBND"),
            _doc("Thực hiện Chỉ thị số 3-CT/TW của Ban Bí thư.", "b-0", number="2-CTr/TU",
                 doc_type="chương trình", issuer="Tỉnh ủy"),
            _doc("Triển khai thực hiện Kế hoạch số 1/KH-UBND.", "c-0", number="/SNV-VP")]  # a blank number
    relations = extract_relations(docs, [])
    assert [(r.source_doc_id, r.target_doc_id) for r in relations] == [("a-0", "b-0"), ("b-0", None), ("c-0", "a-0")]
    graph = build_graph(docs, relations)
    assert graph.upstream("doc:c-0") == ["1/kh-ubnd", "2-ctr/tu", "3-ct/tw"]
    assert graph.downstream("3-ct/tw") == ["2-ctr/tu", "1/kh-ubnd", "doc:c-0"]
    assert graph.node("3-ct/tw").in_corpus is False and graph.node("2-ctr/tu").label == "Chương trình 2-CTr/TU (Tỉnh ủy)"


# --- extract.py and storage.py ------------------------------------------------------------------


def test_points_round_trip_through_the_store_payloads():
    docs = [_doc("Giao Sở Y tế chủ trì, báo cáo UBND tỉnh trước ngày 15/12/2024.", "a-0"),
            _doc("Thực hiện Kế hoạch số 5/KH-UBND. Phấn đấu tỷ lệ hộ nghèo giảm còn dưới 3%.", "b-0", date="2024-01-01")]
    register = extract_register(docs, [])
    assert (len(register.obligations), len(register.targets), len(register.relations)) == (1, 1, 1)
    points = register_points(register)
    assert len({p.id for p in points}) == 3
    for p in points:
        kind = p.payload["kind"]
        assert kind in REGISTER_KINDS and p.dense is None
        assert p.payload["file"] == p.payload[kind]["source"]["file"] and p.payload["doc_id"] == p.payload[kind]["source"]["doc_id"]
    asked = []

    def scroll(conditions, fields=None):
        asked.append(conditions)
        return [p.payload for p in reversed(points)]

    index = SimpleNamespace(store=SimpleNamespace(scroll=scroll))
    assert load_register(index) == register
    [[condition]] = asked
    assert condition.key == "kind" and tuple(condition.any_of) == REGISTER_KINDS


def test_a_failing_extractor_costs_only_its_document(monkeypatch):
    import ingest.register.extract as extract

    real = extract.extract_targets

    def flaky(doc, chunks):
        if doc.doc_id == "a-0":
            raise RuntimeError("extractor bug")
        return real(doc, chunks)

    monkeypatch.setattr(extract, "extract_targets", flaky)
    docs = [_doc("Báo cáo UBND tỉnh trước ngày 15/12/2024.", "a-0"), _doc("Báo cáo UBND tỉnh trước ngày 16/12/2024.", "b-0")]
    register = extract_register(docs, [])
    assert [o.source.doc_id for o in register.obligations] == ["b-0"]


# --- evidence.py --------------------------------------------------------------------------------

EVIDENCE = Register(
    obligations=[_obligation(1, _deadline("date", "trước ngày 15/12/2024", date="2024-12-15"), ["Sở Y tế"],
                             action="báo cáo kết quả tiêm chủng mở rộng", issuer="UBND tỉnh Hà Giang")],
    targets=[Target(id="d-2:t0", kind="target", subject="Tỷ lệ trẻ em được tiêm chủng đầy đủ", value=95.0,
                    value_text="đạt 95%", year=2025, source=_source("d-2", issuer="UBND tỉnh Hà Giang"))],
)


@pytest.mark.parametrize("question, kind", [
    ("Sở Y tế phải báo cáo kết quả tiêm chủng mở rộng trước ngày nào?", "obligation"),
    ("han bao cao ket qua tiem chung mo rong", "obligation"),
    ("Mục tiêu tỷ lệ trẻ em được tiêm chủng đầy đủ là bao nhiêu?", "target"),
    ("Ai ký văn bản về tiêm chủng?", None),  # a signer question: not the register's
    ("Văn bản nói gì về tiêm chủng?", None),  # neither a deadline nor a figure
    ("Cao Bằng phải báo cáo kết quả tiêm chủng trước ngày nào?", None),  # a place no item names
])
def test_register_evidence(question, kind):
    found = register_evidence(analyze(question), EVIDENCE)
    assert (found[0].kind if found else None) == kind


@pytest.mark.parametrize("item, line", [
    (EVIDENCE.obligations[0], "Sở Y tế: báo cáo kết quả tiêm chủng mở rộng — thời hạn: trước ngày 15/12/2024"),
    (EVIDENCE.obligations[0].model_copy(update={"units": [], "coordinating": ["Sở Tài chính"],
                                                "recipients": ["UBND tỉnh"], "via": "Văn phòng"}),
     "Đơn vị thực hiện không ghi rõ: báo cáo kết quả tiêm chủng mở rộng — thời hạn: trước ngày 15/12/2024; "
     "phối hợp: Sở Tài chính; gửi/trình: UBND tỉnh (qua Văn phòng)"),
    (EVIDENCE.targets[0], "Mục tiêu: Tỷ lệ trẻ em được tiêm chủng đầy đủ đạt 95% (năm 2025)"),
    (EVIDENCE.targets[0].model_copy(update={"kind": "baseline", "year": None}),
     "Hiện trạng: Tỷ lệ trẻ em được tiêm chủng đầy đủ đạt 95%"),
])
def test_evidence_lines(item, line):
    assert (obligation_line(item) if isinstance(item, Obligation) else target_line(item)) == line
