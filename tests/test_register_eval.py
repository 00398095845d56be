"""``evals.register_eval``: scoring an extracted register against a gold one (synthetic items)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from evals.register_eval import (
    GoldInputError,
    GoldObligation,
    extracted_deadline_key,
    format_score,
    gold_deadline_key,
    load_gold,
    quote_overlap,
    same_document,
    score_register,
    units_equal,
)
from ingest.register.models import Deadline, Obligation, SourceRef


def gold(quote: str, deadline: dict, *, file: str = "a.txt", units: tuple[str, ...] = ("Sở A",),
         text: str = "trước ngày x") -> GoldObligation:
    return GoldObligation(file=file, units=units, deadline=deadline, deadline_text=text, quote=quote)


def extracted(quote: str, *, file: str = "docs/a.pdf", units: list[str] | None = None, id: str = "o1",
              **deadline) -> Obligation:
    deadline.setdefault("kind", "date")
    return Obligation(
        id=id, units=["Sở A"] if units is None else units, action="làm",
        deadline=Deadline(text=deadline.pop("text", "trước ngày x"), start=0, end=1, **deadline),
        source=SourceRef(doc_id="d", file=file, quote=quote, start=0, end=len(quote)),
    )


@pytest.mark.parametrize("gold_file, key, expected", [
    ("a.txt", "docs/a.pdf", True),
    ("a.txt", "a.docx", True),
    ("a.txt", "x/y/docs/a.md", True),
    ("docs/a.txt", "root/docs/a.pdf", True),
    ("a.txt", "docs/ba.pdf", False),
    ("a.txt", "docs/b.pdf", False),
    ("other/a.txt", "docs/a.pdf", False),
    ("", "docs/a.pdf", False),
])
def test_same_document_by_path_suffix(gold_file, key, expected):
    assert same_document(gold_file, key) is expected


@pytest.mark.parametrize("g, e, same", [
    ({"kind": "date", "date": "2030-01-02"}, {"kind": "date", "date": "2030-01-02"}, True),
    ({"kind": "date", "date": "2030-01-02", "year_inferred": True}, {"kind": "date", "date": "2030-01-02"}, True),
    ({"kind": "date", "date": "2030-01-02"}, {"kind": "date", "date": "2030-01-03"}, False),
    ({"kind": "month", "month": "2030-05"}, {"kind": "month", "month": "2030-05"}, True),
    ({"kind": "month", "month": "2030-05"}, {"kind": "date", "date": "2030-05-31"}, False),
    ({"kind": "recurring", "every": "yearly", "day": "12-10"},
     {"kind": "recurring", "recurrence": "yearly", "month_day": "12-10"}, True),
    ({"kind": "recurring", "every": "yearly", "day": "12-10"},
     {"kind": "recurring", "recurrence": "semiannual", "month_day": "12-10"}, False),
    ({"kind": "recurring", "every": "semiannual", "day": "01-15"},
     {"kind": "recurring", "recurrence": "semiannual", "month_day": "07-15"}, True),
    ({"kind": "recurring", "every": "monthly", "day": "05"},
     {"kind": "recurring", "recurrence": "monthly", "day": 5}, True),
    ({"kind": "recurring", "every": "monthly", "day": "05"},
     {"kind": "recurring", "recurrence": "monthly", "day": 6}, False),
])
def test_deadline_mapping(g, e, same):
    ek = extracted_deadline_key(Deadline(text="t", start=0, end=1, **e))
    gk = gold_deadline_key(g)
    assert gk is not None and ek is not None
    assert (gk == ek) is same


@pytest.mark.parametrize("g, e, same", [
    ({"kind": "quarter", "year": 2030, "quarter": 2}, {"kind": "quarter", "year": 2030, "quarter": 2}, True),
    ({"kind": "quarter", "year": 2030, "quarter": 2}, {"kind": "quarter", "year": 2030, "quarter": 3}, False),
    ({"kind": "year", "year": 2030}, {"kind": "year", "year": 2030}, True),
    ({"kind": "year", "year": 2030}, {"kind": "quarter", "year": 2030, "quarter": 4}, False),
    ({"kind": "recurring", "every": "quarterly", "day": "10"},
     {"kind": "recurring", "recurrence": "quarterly", "day": 10}, True),
    ({"kind": "recurring", "every": "quarterly", "day": "06-15"},
     {"kind": "recurring", "recurrence": "quarterly", "month_day": "03-15"}, True),
])
def test_quarter_year_and_quarterly_mapping(g, e, same):
    ek = extracted_deadline_key(Deadline(text="t", start=0, end=1, **e))
    gk = gold_deadline_key(g)
    assert gk is not None and ek is not None
    assert (gk == ek) is same


@pytest.mark.parametrize("g", [
    {"kind": "week"},
    {"kind": "quarter", "year": 2030},
    {"kind": "recurring", "every": "weekly", "day": "10"},
    {},
])
def test_gold_kinds_without_an_extracted_form_never_match(g):
    assert gold_deadline_key(g) is None
    score = score_register([gold("chung một câu dài đủ để so khớp", g)],
                           [extracted("chung một câu dài đủ để so khớp", date="2030-06-30")])
    assert score.matched == 0


@pytest.mark.parametrize("a, b, expected", [
    ("Sở A báo cáo trước ngày 10", "Sở A báo cáo trước ngày 10", 1.0),
    ("So A bao cao truoc ngay 10", "Sở **A** báo   cáo | trước ngày 10.", 1.0),
    ("bao cao truoc ngay 10", "Giao Sở A báo cáo trước ngày 10 tháng 11 năm 2030", 1.0),
    ("một hai ba bốn", "một hai năm sáu", 0.5),
    ("một hai ba bốn", "năm sáu bảy tám", 0.0),
    ("", "một hai", 0.0),
])
def test_quote_overlap_folds_and_collapses(a, b, expected):
    assert quote_overlap(a, b) == pytest.approx(expected)


@pytest.mark.parametrize("g, e, expected", [
    (("Sở Tài chính",), ["sở tài chính"], True),
    (("Sở Tài chính", "Công an tỉnh"), ["Cong an tinh.", " Sở  Tài chính "], True),
    (("Sở Tài chính",), ["Sở Tài chính", "Công an tỉnh"], False),
    (("Sở Tài chính",), ["Sở Xây dựng"], False),
])
def test_units_equal_as_folded_sets(g, e, expected):
    assert units_equal(g, e) is expected


Q1 = "Sở A tổng hợp báo cáo gửi Ủy ban trước ngày 10 tháng 11"
Q2 = "các xã hoàn thành kiểm tra và báo cáo kết quả trong tháng 12"
Q3 = "Công an tỉnh rà soát các cơ sở thuộc diện quản lý hằng năm"


@pytest.mark.parametrize("golds, extras, matched, precision, recall, unit_acc", [
    # a perfect match
    ([gold(Q1, {"kind": "date", "date": "2030-11-10"})],
     [extracted(Q1, date="2030-11-10")], 1, 1.0, 1.0, 1.0),
    # wrong document
    ([gold(Q1, {"kind": "date", "date": "2030-11-10"})],
     [extracted(Q1, file="docs/b.pdf", date="2030-11-10")], 0, 0.0, 0.0, None),
    # wrong deadline
    ([gold(Q1, {"kind": "date", "date": "2030-11-10"})],
     [extracted(Q1, date="2030-11-11")], 0, 0.0, 0.0, None),
    # quotes do not overlap enough
    ([gold(Q1, {"kind": "date", "date": "2030-11-10"})],
     [extracted(Q3, date="2030-11-10")], 0, 0.0, 0.0, None),
    # matched with the wrong units: counts for precision/recall, not unit accuracy
    ([gold(Q1, {"kind": "date", "date": "2030-11-10"}), gold(Q2, {"kind": "month", "month": "2030-12"}, units=("các xã",))],
     [extracted(Q1, date="2030-11-10", id="o1"), extracted(Q2, kind="month", month="2030-12", units=["Sở B"], id="o2")],
     2, 1.0, 1.0, 0.5),
    # one gold, two extracted candidates: one-to-one, the other is an extra
    ([gold(Q1, {"kind": "date", "date": "2030-11-10"})],
     [extracted(Q1, date="2030-11-10", id="o1"), extracted(Q1, date="2030-11-10", id="o2")], 1, 0.5, 1.0, 1.0),
    # nothing extracted
    ([gold(Q1, {"kind": "date", "date": "2030-11-10"})], [], 0, None, 0.0, None),
    # nothing in gold
    ([], [extracted(Q1, date="2030-11-10")], 0, 0.0, None, None),
])
def test_score_register(golds, extras, matched, precision, recall, unit_acc):
    score = score_register(golds, extras)
    assert score.matched == matched
    assert score.precision == (pytest.approx(precision) if precision is not None else None)
    assert score.recall == (pytest.approx(recall) if recall is not None else None)
    assert score.unit_accuracy == (pytest.approx(unit_acc) if unit_acc is not None else None)
    assert len(score.misses) == len(golds) - matched
    assert len(score.extras) == len(extras) - matched


def test_greedy_assignment_takes_the_best_overlap_first():
    long = "Sở A tổng hợp báo cáo gửi Ủy ban trước ngày 10 tháng 11 năm nay"
    g1 = gold(long, {"kind": "date", "date": "2030-11-10"})
    g2 = gold("Sở A tổng hợp báo cáo gửi Ủy ban", {"kind": "date", "date": "2030-11-10"})
    e_full = extracted(long, date="2030-11-10", id="full")
    e_half = extracted("Sở A tổng hợp báo cáo gửi Ủy ban về việc khác hẳn nội dung", date="2030-11-10", id="half")
    score = score_register([g1, g2], [e_half, e_full])
    assert score.matched == 2
    assert {(p.gold.quote, p.extracted.id) for p in score.pairs} == {(long, "full"), (g2.quote, "half")}


def test_report_lists_misses_and_extras_by_file():
    score = score_register(
        [gold(Q1, {"kind": "date", "date": "2030-11-10"}, text="trước ngày 10 tháng 11"),
         gold(Q2, {"kind": "quarter", "year": 2030, "quarter": 4}, file="b.txt", text="trong quý IV")],
        [extracted(Q3, kind="month", month="2030-12", text="trong tháng 12", file="docs/c.docx")],
    )
    text = format_score(score)
    assert "precision      0.000" in text and "recall         0.000" in text
    assert "  a.txt\n    - [date] trước ngày 10 tháng 11 | " + Q1 in text
    assert "  b.txt\n    - [quarter] trong quý IV" in text
    assert "  docs/c.docx\n    - [month] trong tháng 12 | " + Q3 in text
    data = score.to_dict()
    assert set(data["misses"]) == {"a.txt", "b.txt"} and set(data["extras"]) == {"docs/c.docx"}
    json.dumps(data, ensure_ascii=False)


def test_load_gold(tmp_path):
    path = tmp_path / "gold.jsonl"
    row = {"file": "a.txt", "units": ["Sở A"], "coordinating": [], "action": "làm", "deadline_text": "trước ngày 10",
           "deadline": {"kind": "date", "date": "2030-11-10"}, "report_to": [], "quote": Q1}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n\n", encoding="utf-8")
    [item] = load_gold(path)
    assert item.units == ("Sở A",) and item.line == 1 and item.deadline["date"] == "2030-11-10"
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(GoldInputError, match="line 1"):
        load_gold(path)


def test_cli_register_command_is_listed_and_rejects_bad_gold(tmp_path):
    from evals.cli import eval_group

    runner = CliRunner()
    result = runner.invoke(eval_group, ["--help"])
    assert "register" in result.output
    bad = tmp_path / "gold.jsonl"
    bad.write_text("[1]\n", encoding="utf-8")
    result = runner.invoke(eval_group, ["register", str(bad), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code != 0 and "line 1" in result.output
