"""The evaluation tab: its pure helpers, and one browser run of a small test set."""

from __future__ import annotations

import json

import pytest

from evals.format import RowError
from evals.runner import EvalResult, QuestionRecord
from rag.web.eval_page import (
    TestSetRejected,
    failures_html,
    metrics_rows,
    read_test_set,
    reason_vi,
    row_errors_html,
    save_report,
    tag_rows,
)
from tests.test_web import _open_tab, app_url, browser, page, web_services  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

BAC_SON = "corpus/003_ubnd_bac_son_ke_hoach_tre_em_2024.txt"
QUOTE = "định kỳ báo cáo 6 tháng (*trước ngày 15/5*) và báo cáo năm (*trước ngày 10/11*)"
# The plan names two annual deadlines (10/11 for the units' reports, 20/11 for the report sent on
# to the district); on three seeds the answer quotes the second, which its "Thời hạn" line states.
# This test is about the eval tab, so the question that passes is one the answer is sure to hold.
ANNUAL_QUOTE = "trước ngày 25/5 (đối với báo cáo 6 tháng) và trước ngày 20/11 (đối với báo cáo năm)"


def _test_set_lines() -> list[str]:
    good = {"id": "q-dung", "question": "Theo Kế hoạch công tác trẻ em năm 2024 của huyện Bắc Sơn, báo cáo năm "
                                        "phải gửi trước ngày nào?",
            "facts": ["20/11"], "sources": [{"quote": ANNUAL_QUOTE, "file": BAC_SON}], "tags": ["hạn"]}
    wrong = {"id": "q-sai", "question": "Hạn gửi báo cáo 6 tháng về công tác trẻ em ở huyện Bắc Sơn là ngày nào?",
             "facts": ["31/12/2099"], "sources": [{"quote": QUOTE, "file": BAC_SON}], "tags": ["hạn"]}
    outside = {"id": "q-ngoai", "question": "Giá vàng hôm nay là bao nhiêu?", "answerable": False,
               "tags": ["ngoài phạm vi"]}
    return [json.dumps(good, ensure_ascii=False), json.dumps(wrong, ensure_ascii=False),
            '{"id": "q-hong", "question": ', json.dumps(outside, ensure_ascii=False)]


# --------------------------------------------------------------------------- unit tests


def test_reasons_are_told_in_vietnamese():
    assert reason_vi("missing facts: 10/11; 15/5") == "thiếu dữ kiện: 10/11; 15/5"
    assert "5 đoạn" in reason_vi("no gold passage in the top 5 retrieved chunks")
    assert reason_vi("abstained on an answerable question").startswith("từ chối")
    assert reason_vi("error: RuntimeError: boom") == "lỗi khi xử lý câu hỏi"
    assert reason_vi("something new") == "something new"


def test_read_test_set_reports_bad_rows_and_rejects_unusable_files(tmp_path):
    good = tmp_path / "bo.jsonl"
    good.write_text("\n".join(_test_set_lines()) + "\n", encoding="utf-8")
    loaded = read_test_set(good, max_mb=1)
    assert [i.id for i in loaded.items] == ["q-dung", "q-sai", "q-ngoai"]
    assert [e.line for e in loaded.errors] == [3]
    assert "Dòng 3: invalid JSON" in row_errors_html(loaded.errors)

    for name, content, message in [("a.txt", "x", "không phải .jsonl hoặc .csv"), ("b.jsonl", "", "rỗng"),
                                   ("c.csv", "id,cau\n1,x\n", "question"), ("d.jsonl", "x" * 2048, "vượt giới hạn")]:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(TestSetRejected, match=message):
            read_test_set(path, max_mb=0.001)
    latin = tmp_path / "e.csv"
    latin.write_bytes("question\nC\xe2u h\xe1i\n".encode("latin-1"))
    with pytest.raises(TestSetRejected, match="UTF-8"):
        read_test_set(latin, max_mb=1)


def test_tables_failures_and_report_files(tmp_path):
    failed = QuestionRecord(id="q1", question="Hạn <b>?", tags=["hạn"], answerable=True, answer="Không rõ",
                            failures=["missing facts: 10/11"])
    passed = QuestionRecord(id="q2", question="Ai ký?", tags=["hạn", "ký"], answerable=True, answer="Ông A")
    result = EvalResult(config_label="t", timestamp="2024-01-01T00:00:00+00:00",
                        metrics={"hit@1": 0.5, "hit@5": 1.0, "mrr@10": 0.75, "latency_p50_ms": 12.34,
                                 "abstention_accuracy": None},
                        by_tag={"hạn": {"questions": 2, "hit@5": 1.0}, "ký": {"questions": 1, "hit@5": 1.0}},
                        records=[failed, passed], failures=["q1"])
    rows = dict(metrics_rows(result.metrics))
    assert rows["MRR@10"] == "0.750" and rows["Thời gian trả lời p50 (ms)"] == "12"
    assert rows["Từ chối đúng câu ngoài văn bản (abstention accuracy)"] == "–"
    assert tag_rows(result) == [["hạn", "2", "1.000", "–", "–", "–", "–", "1"], ["ký", "1", "1.000", "–", "–", "–", "–", "0"]]
    text = failures_html(result)
    assert "thiếu dữ kiện: 10/11" in text and "Hạn &lt;b&gt;?" in text and "Không rõ" in text and "q2" not in text
    page_, data = save_report(result, tmp_path / "run")
    assert page_.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert json.loads(data.read_text(encoding="utf-8"))["failures"] == ["q1"]
    assert str(RowError("f", 2, "x")) == "f:2: x"


# --------------------------------------------------------------------------- in the browser


@pytest.mark.slow
def test_eval_tab_runs_a_test_set_and_offers_the_report(page, tmp_path):  # noqa: F811 - fixture
    test_set = tmp_path / "bo_cau_hoi.jsonl"
    test_set.write_text("\n".join(_test_set_lines()) + "\n", encoding="utf-8")
    _open_tab(page, "Đánh giá")
    page.locator("#cv-eval-file input[type=file]").set_input_files(str(test_set))
    page.locator("#cv-eval-run").click()
    page.locator("#cv-eval-metrics-table").wait_for(timeout=120_000)

    status = page.locator("#cv-eval-status").inner_text()
    assert "Đã chạy 3 câu hỏi" in status and "1 dòng lỗi" in status
    assert "Dòng 3: invalid JSON" in status
    metrics = page.locator("#cv-eval-metrics-table").inner_text()
    for label in ("hit@1", "hit@5", "MRR@10", "fact recall", "citation precision", "abstention accuracy", "p95"):
        assert label in metrics
    assert "ngoài phạm vi" in page.locator("#cv-eval-tags-table").inner_text()
    failures = page.locator("#cv-eval-failures").inner_text()
    assert "q-sai" in failures and "thiếu dữ kiện: 31/12/2099" in failures and "q-dung" not in failures
    links = page.locator("#cv-eval-download a")
    links.first.wait_for()
    shown = "".join(page.locator("#cv-eval-download").inner_text().split())  # the UI splits stem and suffix
    hrefs = " ".join(a.get_attribute("href") or "" for a in links.all())
    assert "report.html" in shown and "result.json" in shown
    assert "report.html" in hrefs and "result.json" in hrefs
