"""The directive register: obligations, targets and relations read from the seed documents,
stored with the index, listed, exported to iCalendar and offered as answer evidence."""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from ingest.loaders import load_file
from ingest.models import Document, DocumentMetadata
from ingest.text.normalize import fold
from ingest.pipeline import parse_file
from ingest.text.actors import is_unit_name
from ingest.register import (
    Register,
    build_graph,
    extract_obligations,
    extract_references,
    extract_relations,
    extract_targets,
    list_obligations,
    list_targets,
    next_due,
    obligation_row,
    register_evidence,
    relation_graph,
    to_ics,
    unit_key,
)
from ingest.settings import Settings
from rag.query import analyze
from tests.conftest import CORPUS, SEED_FILES

STAMP = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def seeds() -> dict[str, tuple[list[Document], list]]:
    """Each seed file parsed as ingestion parses it: seed number → (documents, chunks)."""
    settings = Settings()
    out = {}
    for seed, name in SEED_FILES.items():
        loaded = load_file(CORPUS / name, key=f"corpus/{name}", max_bytes=10**8)
        out[seed] = parse_file(loaded, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)
    return out


def _doc(seeds, seed: str, part: int = 0) -> tuple[Document, list]:
    docs, chunks = seeds[seed]
    return docs[part], chunks


def _obligations(seeds, seed: str, part: int = 0):
    doc, chunks = _doc(seeds, seed, part)
    return doc, extract_obligations(doc, chunks)


def _synthetic(text: str, **meta) -> Document:
    return Document(doc_id="x-0", file="x.txt", file_sha256="0", kind="txt", text=text,
                    metadata=DocumentMetadata(**meta))


def _folded(units: list[str]) -> str:
    return " | ".join(fold(u) for u in units)


# --- obligations on the seeds --------------------------------------------------------------------


def _deadline_signature(o) -> tuple:
    d = o.deadline
    return (d.kind, d.recurrence, d.date or d.month or d.month_day or d.day)


@pytest.mark.parametrize("seed, part, expected", [
    ("000", 0, []),
    ("001", 0, [("recurring", "yearly", "11-10")]),
    ("002", 0, [("month", None, "2024-11")]),
    ("002", 1, []),
    ("003", 0, [("recurring", "semiannual", "05-15"), ("recurring", "yearly", "11-10"),
                ("date", None, "2024-05-25"), ("date", None, "2024-11-20")]),
    ("004", 0, []),
])
def test_each_seed_yields_exactly_its_hand_checked_deadlines(seeds, seed, part, expected):
    # Precision: document dates ("28-CT/TW, ngày 25/12/2023"), reference dates ("59/KH-SLĐT BXH,
    # ngày 22/3/2024") and planned dates ("dự kiến tổ chức trong tháng 10/2024") are not deadlines.
    found = _obligations(seeds, seed, part)[1]
    assert [_deadline_signature(o) for o in found] == expected


def test_every_obligation_quotes_its_source_and_deadline_exactly(seeds):
    for seed in SEED_FILES:
        docs, chunks = seeds[seed]
        for doc in docs:
            for o in extract_obligations(doc, chunks):
                s, d = o.source, o.deadline
                assert s.quote == doc.text[s.start:s.end]
                assert s.start <= d.start < d.end <= s.end
                assert fold(d.text.replace(" ", "")) in fold(doc.text[d.start:d.end].replace("*", "").replace(" ", ""))
                assert o.units, o  # every seed deadline has its acting units resolved


def test_kien_giang_ocr_annual_report_goes_to_the_labour_department(seeds):
    [o] = _obligations(seeds, "001")[1]
    assert o.deadline.kind == "recurring" and o.deadline.recurrence == "yearly"
    assert o.deadline.month_day == "11-10" and o.deadline.date is None
    assert "hang nam" in fold(o.deadline.text) and "10/11" in o.deadline.text
    # The sentence names nobody; the acting units are the addressees (Kính gửi), as OCR wrote them.
    assert o.units_from == "addressees"
    assert "cap tinh" in fold(o.units[0]) and "chu tich ubnd cac huyen" in fold(o.units[1])
    assert len(o.recipients) == 1 and "lao dong - thuong binh va xa hoi" in fold(o.recipients[0])
    assert fold(o.recipients[0]).startswith("so ")
    assert o.source.number == "2577/UBND-KGVX"
    assert o.deadline.due == "2025-11-10"  # the document is dated 20/11/2024


@pytest.mark.parametrize("month_day_or_date, units, units_from, recipients, via, text", [
    ("05-15", ["cac co quan, ban, nganh, don vi lien quan", "ubnd cac xa, thi tran"], "sentence",
     ["ubnd huyen"], "phong lao dong, thuong binh, xa hoi - dan toc", "dinh ky bao cao 6 thang (truoc ngay 15/5)"),
    ("11-10", ["cac co quan, ban, nganh, don vi lien quan", "ubnd cac xa, thi tran"], "sentence",
     ["ubnd huyen"], "phong lao dong, thuong binh, xa hoi - dan toc", "bao cao nam (truoc ngay 10/11)"),
    ("2024-05-25", ["phong lao dong, thuong binh, xa hoi - dan toc"], "collecting",
     ["ubnd tinh", "so lao dong- thuong binh va xa hoi"], None, "truoc ngay 25/5 (doi voi bao cao 6 thang)"),
    ("2024-11-20", ["phong lao dong, thuong binh, xa hoi - dan toc"], "collecting",
     ["ubnd tinh", "so lao dong- thuong binh va xa hoi"], None, "truoc ngay 20/11 (doi voi bao cao nam)"),
])
def test_bac_son_reporting_duties(seeds, month_day_or_date, units, units_from, recipients, via, text):
    found = _obligations(seeds, "003")[1]
    [o] = [o for o in found if month_day_or_date in (o.deadline.month_day, o.deadline.date)]
    assert [fold(u).replace("–", "-") for u in o.units] == units
    assert o.units_from == units_from
    assert [fold(r) for r in o.recipients] == recipients
    assert (fold(o.via).replace("–", "-") if o.via else None) == via
    assert fold(o.deadline.text) == text
    assert o.source.section == "VI. CHẾ ĐỘ BÁO CÁO"
    # "trước ngày 25/5" in a plan for 2024 takes the plan's year and says it was inferred.
    assert o.deadline.year_inferred == (o.deadline.kind == "date")


def test_soc_trang_labour_department_drafts_the_plan_in_november_2024(seeds):
    doc, [o] = _obligations(seeds, "002")
    assert o.units == ["Sở Lao động - Thương binh và Xã hội"] and o.units_from == "sentence"
    assert o.coordinating == ["các cơ quan có liên quan", "Ủy ban nhân dân các huyện, thị xã, thành phố"]
    assert o.recipients == ["Ủy ban nhân dân tỉnh"]
    assert o.action.startswith("tham mưu dự thảo kế hoạch thực hiện Chương trình")
    d = o.deadline
    assert (d.kind, d.month, d.due, d.text, d.year_inferred) == ("month", "2024-11", "2024-11-30", "trong tháng 11/2024", False)
    assert doc.text[d.start:d.end] == "trong tháng 11/2024"


@pytest.mark.parametrize("text, meta", [
    ("Thực hiện Chỉ thị số 28-CT/TW, ngày 25/12/2023 của Bộ Chính trị về tăng cường công tác trẻ em.", {}),
    ("Thực hiện Kế hoạch số 59/KH-SLĐT BXH, ngày 22/3/2024 của Sở Lao động - Thương binh và Xã hội.", {}),
    ("Tổ chức Diễn đàn trẻ em cấp huyện năm 2024 dự kiến tổ chức trong tháng 10/2024.", {"date": "2024-03"}),
    ("Các hồ sơ đã tiếp nhận trước ngày 01/7/2024 thì tiếp tục thực hiện theo quy định cũ.", {}),
    ("Báo cáo kết quả thực hiện năm 2023 đã gửi ngày 10/11/2023.", {}),
    ("Phân công cán bộ thường trực ngày 01/01/2025 để tổ chức tiếp dân.", {}),
])
def test_dates_that_are_not_deadlines_yield_nothing(text, meta):
    assert extract_obligations(_synthetic(text, **meta), []) == []


@pytest.mark.parametrize("text, meta, signature, units, recipients", [
    ("Giao Sở Y tế chủ trì, báo cáo UBND tỉnh trước ngày 15/12/2024.", {},
     ("date", None, "2024-12-15"), ["Sở Y tế"], ["UBND tỉnh"]),
    ("Đề nghị UBND các xã gửi báo cáo về Phòng Tư pháp trước ngày 20 hằng tháng.", {},
     ("recurring", "monthly", 20), ["UBND các xã"], ["Phòng Tư pháp"]),
    ("Đề nghị Phòng Nội vụ hoàn thành rà soát, báo cáo chậm nhất ngày 05 tháng 6 năm 2025.", {},
     ("date", None, "2025-06-05"), ["Phòng Nội vụ"], []),
    ("Đề nghị Công an huyện báo cáo UBND huyện trước ngày 15/1.", {"date": "2024-10-02"},
     ("date", None, "2025-01-15"), ["Công an huyện"], ["UBND huyện"]),
])
def test_synthetic_deadlines(text, meta, signature, units, recipients):
    [o] = extract_obligations(_synthetic(text, **meta), [])
    assert _deadline_signature(o) == signature
    assert o.units == units and o.recipients == recipients


@pytest.mark.parametrize("phrase, is_unit", [
    ("Phòng Lao động, Thương binh, Xã hội – Dân tộc", True),
    ("UBND các xã, thị trấn", True),
    ("Ban chỉ đạo bảo vệ trẻ em", True),
    ("S¢ Lao dong - Thuong binh va Xa hoi", True),
    ("Phòng, chống đuối nước trẻ em", False),
    ("Tổ chức Diễn đàn trẻ em năm 2024", False),
    ("Bố trí nguồn lực", False),
    ("Hội nghị sơ kết", False),
])
def test_unit_names_are_told_from_activities(phrase, is_unit):
    assert is_unit_name(phrase) is is_unit


# --- targets --------------------------------------------------------------------------------------


def test_soc_trang_programme_targets(seeds):
    doc, chunks = _doc(seeds, "002", 1)
    targets = [t for t in extract_targets(doc, chunks) if t.kind == "target"]
    assert [(t.value, t.comparator) for t in targets] == [
        (97.2, "="), (6.0, "<"), (12.0, "<"), (99.3, "="), (99.0, "="), (0.1, "<"), (93.0, "="),
        (0.05, "<"), (0.5, "<"), (97.0, "="),
    ]
    first = targets[0]
    assert first.subject == "Tỷ lệ xã, phường, thị trấn đạt tiêu chuẩn phù hợp với trẻ em"
    assert first.value_text == "đạt 97,2%" and first.unit == "%"
    assert targets[1].value_text == "giảm còn dưới 6%"
    assert "thể cân nặng theo tuổi" in targets[1].subject and "chiều cao" in targets[2].subject
    assert all("MỤC TIÊU" in t.source.section for t in targets)
    assert all(t.source.quote == doc.text[t.source.start:t.source.end] for t in targets)


def test_soc_trang_baselines(seeds):
    doc, chunks = _doc(seeds, "002", 1)
    baselines = [t for t in extract_targets(doc, chunks) if t.kind == "baseline"]
    first = baselines[0]
    assert (first.value, first.fraction, first.value_text) == (71.3, "77/108", "đạt 71,3%")
    assert "xã, phường, thị trấn đạt tiêu chuẩn phù hợp với trẻ em" in first.subject
    assert [t.value for t in baselines] == [71.3, 9.8, 19.6, 99.0, 99.88, 0.45, 98.7, 1.82, 1.11, 93.4]
    assert all(t.source.section == "I- ĐẶC ĐIỂM, TÌNH HÌNH" for t in baselines)


def test_bac_son_separates_the_2023_level_from_the_2024_target(seeds):
    doc, chunks = _doc(seeds, "003")
    found = [t for t in extract_targets(doc, chunks) if "phù hợp với trẻ em" in t.subject]
    assert [(t.kind, t.value, t.year) for t in found] == [("baseline", 18.0, 2023), ("target", 100.0, 2024)]


def test_figures_without_a_target_or_baseline_signal_are_left_out():
    text = "IV- NHIỆM VỤ\n\nBảo đảm 100% đảng viên được quán triệt. Năm nay doanh thu tăng 10%."
    assert extract_targets(_synthetic(text), []) == []


# --- relations ------------------------------------------------------------------------------------


def _all_documents(seeds):
    docs = [d for seed in SEED_FILES for d in seeds[seed][0]]
    chunks = [c for seed in SEED_FILES for c in seeds[seed][1]]
    return docs, chunks


def test_relation_chain_from_the_directive_to_the_provincial_letters(seeds):
    docs, chunks = _all_documents(seeds)
    graph = build_graph(docs, extract_relations(docs, chunks))
    implements = {(e.source, e.target) for e in graph.edges if e.kind == "implements"}
    assert ("61-ctr/tu", "28-ct/tw") in implements
    assert ("3452/ubnd-vx", "61-ctr/tu") in implements
    letter_000 = f"doc:{seeds['000'][0][0].doc_id}"  # its number is blank: "Số: /SLĐTBXH-..."
    assert (letter_000, "3452/ubnd-vx") in implements
    upstream = graph.upstream("3452/ubnd-vx")
    assert upstream.index("61-ctr/tu") < upstream.index("28-ct/tw")
    assert letter_000 in graph.downstream("28-ct/tw")
    assert graph.node("28-ct/tw").in_corpus is False and graph.node("61-ctr/tu").in_corpus is True
    # A number nested in another's description is cited, not implemented.
    kinds = {(e.source, e.target): e.kind for e in graph.edges}
    assert kinds[("3452/ubnd-vx", "28-ct/tw")] == "cites"


def test_ocr_references_are_repaired(seeds):
    doc, chunks = _doc(seeds, "001")
    kinds = {r.target_number: r.kind for r in extract_references(doc, chunks)}
    assert kinds == {"28-CT/TW": "implements", "1183/QĐ-TTg": "implements", "211-KH/TU": "implements",
                     "234/KH-UBND": "implements"}


# --- reading from the index ---------------------------------------------------------------------


def test_the_register_is_stored_with_the_index(corpus_index):
    found = list_obligations(corpus_index)
    assert len(found) == 6
    assert {o.source.doc_id for o in found} == {o.source.doc_id for o in found if o.source.file.startswith("corpus/")}
    assert len(list_targets(corpus_index, kind="target")) >= 10
    graph = relation_graph(corpus_index)
    assert {"61-ctr/tu", "28-ct/tw"} <= set(graph.upstream("3452/ubnd-vx"))


@pytest.mark.parametrize("unit, before, expected", [
    ("Sở LĐTBXH", None, ["2024-11"]),
    ("so lao dong thuong binh va xa hoi", None, ["2024-11"]),
    ("Phòng Lao động, Thương binh, Xã hội", "2024-06-30", ["2024-05-25"]),
    ("UBND các xã", None, ["05-15", "11-10"]),
    (None, "2024-06-30", ["2024-05-15", "2024-05-25"]),
])
def test_list_obligations_filters_by_unit_and_due_date(corpus_index, unit, before, expected):
    found = list_obligations(corpus_index, unit=unit, before=before, today=date(2024, 1, 1))
    if before:
        assert [next_due(o.deadline, date(2024, 1, 1)).isoformat() for o in found] == expected
    else:
        assert [o.deadline.date or o.deadline.month or o.deadline.month_day for o in found] == expected


def test_unit_key_spells_out_abbreviations():
    assert unit_key("Sở LĐ-TB&XH") == unit_key("Sở Lao động - Thương binh và Xã hội")
    assert unit_key("UBND các xã") in unit_key("Ủy ban nhân dân các xã, thị trấn")


def test_rows_for_a_table_or_csv(corpus_index):
    row = obligation_row(list_obligations(corpus_index, unit="Sở LĐTBXH")[0])
    assert row["due"] == "2024-11-30" and row["number"] == "3452/UBND-VX"
    assert row["units"] == "Sở Lao động - Thương binh và Xã hội"


def test_ics_export_parses_with_a_yearly_rule(corpus_index):
    calendar = Calendar.from_ical(to_ics(list_obligations(corpus_index), stamp=STAMP, today=date(2024, 1, 1)))
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 6
    by_uid = {str(e["UID"]): e for e in events}
    kien_giang = next(e for e in events if "2577/UBND-KGVX" in str(e["DESCRIPTION"]))
    assert kien_giang["RRULE"]["FREQ"] == ["YEARLY"]
    assert kien_giang["RRULE"]["BYMONTH"] == [11] and kien_giang["RRULE"]["BYMONTHDAY"] == [10]
    assert kien_giang.decoded("DTSTART") == date(2025, 11, 10)
    month = next(e for e in events if "trong tháng 11/2024" in str(e["DESCRIPTION"]))
    assert month.decoded("DTSTART") == date(2024, 11, 30) and "RRULE" not in month
    one_offs = [e for e in by_uid.values() if "RRULE" not in e]
    assert len(one_offs) == 3  # 11/2024 and the district's 25/5 and 20/11


def test_cli_tasks_and_export(corpus_index, monkeypatch, tmp_path):
    from rag import register_cli
    from rag.cli import cli

    monkeypatch.setattr(register_cli, "_open", lambda _data_dir: contextlib.nullcontext(corpus_index))
    runner = CliRunner()
    result = runner.invoke(cli, ["tasks", "--json", "--unit", "Sở LĐTBXH"])
    assert result.exit_code == 0, result.output
    [task] = json.loads(result.output)
    assert task["deadline"]["month"] == "2024-11" and task["next_due"] == "2024-11-30"
    result = runner.invoke(cli, ["tasks", "--before", "2024-06-30"])
    assert result.exit_code == 0 and "trước ngày 25/5" in result.output
    assert runner.invoke(cli, ["tasks", "--before", "30/6/2024"]).exit_code == 2
    out = tmp_path / "deadlines.ics"
    result = runner.invoke(cli, ["export-ics", str(out)])
    assert result.exit_code == 0, result.output
    assert len(list(Calendar.from_ical(out.read_bytes()).walk("VEVENT"))) == 6


# --- evidence for answers -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def register(seeds) -> Register:
    docs, chunks = _all_documents(seeds)
    return Register(
        obligations=[o for d in docs for o in extract_obligations(d, chunks)],
        targets=[t for d in docs for t in extract_targets(d, chunks)],
        relations=extract_relations(docs, chunks),
    )


@pytest.mark.parametrize("question, seed, expected", [
    ("Theo Công văn 2577/UBND-KGVX của UBND tỉnh Kiên Giang, báo cáo kết quả thực hiện hằng năm phải gửi trước ngày nào?",
     "001", "11-10"),
    ("han bao cao ket qua thuc hien hang nam theo cong van 2577 cua kien giang", "001", "11-10"),
    ("Sở Lao động - Thương binh và Xã hội Sóc Trăng phải trình UBND tỉnh dự thảo kế hoạch thực hiện Chương trình 61-CTr/TU khi nào?",
     "002", "2024-11"),
    ("bac son tong hop bao cao 6 thang gui tinh truoc ngay nao", "003", "2024-05-25"),
    ("Chương trình 61-CTr/TU đặt mục tiêu tỷ lệ xã, phường, thị trấn đạt tiêu chuẩn phù hợp với trẻ em là bao nhiêu?",
     "002", 97.2),
    ("muc tieu ty le tre em 5 tuoi di hoc mau giao cua soc trang la bao nhieu", "002", 99.3),
])
def test_register_evidence_answers_deadline_and_target_questions(register, seeds, question, seed, expected):
    evidence = register_evidence(analyze(question), register)
    assert evidence, question
    top = evidence[0]
    assert top.source.file.endswith(SEED_FILES[seed])
    if top.kind == "obligation":
        d = top.obligation.deadline
        assert expected in (d.month_day, d.date, d.month)
    else:
        assert top.target.value == expected and top.target.kind == "target"
    assert top.source.quote in seeds[seed][0][0].text or top.source.quote in seeds[seed][0][-1].text
    assert top.line


@pytest.mark.parametrize("question", [
    "Ai ký Công văn 3452/UBND-VX?",
    "Hà Nội yêu cầu báo cáo trước ngày nào?",
    "Văn bản nói gì về Tết Trung thu?",
])
def test_register_evidence_stays_silent_when_it_does_not_apply(register, question):
    assert register_evidence(analyze(question), register) == []
