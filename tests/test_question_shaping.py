"""Questions shaped before answering: long messages reduced to their content, English questions
detected (and told to ask in Vietnamese), follow-ups resolved from the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rag.query import ENGLISH_HINT, Question, is_english, reduce_question

# A synthetic 110-word message: greeting, the asker's situation, the question, thanks.
LONG = (
    "Xin chào anh chị, em là cán bộ mới về công tác ở địa phương được vài tháng nay. "
    "Em chưa quen với việc theo dõi các văn bản chỉ đạo của cấp trên nên nhiều lúc còn lúng túng, "
    "không biết bắt đầu từ đâu và phải hỏi ai cho đúng việc, đúng người, đúng thẩm quyền. "
    "Trưởng phòng của em đang đi công tác dài ngày nên em không hỏi trực tiếp được. "
    "Theo Kế hoạch số 45/KH-UBND, xã Tân Lập phải nộp báo cáo kết quả rà soát hộ nghèo trước ngày nào? "
    "Em xin cảm ơn anh chị rất nhiều vì đã dành thời gian đọc và giúp đỡ em trong công việc này."
)


def test_the_long_message_is_over_a_hundred_words():
    assert 100 <= len(LONG.split()) <= 120


@pytest.mark.parametrize(
    "text, expected",
    [
        # greeting, background and thanks dropped; the question (document, place, date words) kept
        (LONG, "Theo Kế hoạch số 45/KH-UBND, xã Tân Lập phải nộp báo cáo kết quả rà soát hộ nghèo trước ngày nào?"),
        # a context sentence with a figure or a named place stays, in order, before the question
        ("Chào anh. " + "Tôi đọc nhiều văn bản nhưng vẫn chưa hiểu rõ lắm về cách làm việc ở đây. " * 3
         + "Huyện Cao Lộc năm 2024 có 12 xã thuộc diện khó khăn. "
         + "Cho tôi biết chỉ tiêu giảm tỷ lệ hộ nghèo của huyện", 
         "Huyện Cao Lộc năm 2024 có 12 xã thuộc diện khó khăn. Cho tôi biết chỉ tiêu giảm tỷ lệ hộ nghèo của huyện"),
        # short questions are never touched, even with several sentences
        ("Xin chào. Ai ký Kế hoạch 45/KH-UBND?", "Xin chào. Ai ký Kế hoạch 45/KH-UBND?"),
        # a long text where no sentence asks is left as typed
        ("Tôi là cán bộ xã. " + "Công việc rất nhiều và tôi luôn cố gắng hoàn thành tốt. " * 6,
         "Tôi là cán bộ xã. " + "Công việc rất nhiều và tôi luôn cố gắng hoàn thành tốt. " * 6),
    ],
)
def test_reduce_question(text, expected):
    assert reduce_question(text) == expected


def test_a_long_question_is_answered_from_its_content_and_keeps_what_was_typed():
    q = Question.parse(LONG)
    assert q.asked == LONG
    assert q.standalone == reduce_question(LONG) and q.rewritten
    assert "45/kh-ubnd" in q.codes and q.wants("when")
    assert "cam" not in q.terms and "lung" not in q.terms  # the thanks and the background are gone


@pytest.mark.parametrize(
    "text, english",
    [
        ("Who signed this document?", True),
        ("What is the deadline for the quarterly report?", True),
        ("Which unit must report to the province by 10 November?", True),
        ("Ai ký văn bản này?", False),
        # Vietnamese typed without diacritics shares "to", "do", "an", "the" with English
        ("to chuc nao phai lam gi", False),
        ("the con huyen Bac Son thi sao", False),
        ("do ai ky van ban nay", False),
        ("han nop bao cao la khi nao", False),
        ("An Binh commune report", False),  # no function words: cannot tell
        ("Deadline?", False),
        ("", False),
    ],
)
def test_is_english(text, english):
    assert is_english(text) is english


def test_an_english_question_is_flagged_and_a_vietnamese_one_is_not():
    assert Question.parse("Who must submit the report?").english
    assert not Question.parse("Ai phải nộp báo cáo?").english


# --- the command line, on a small synthetic index -------------------------------------------

PLAN = """ỦY BAN NHÂN DÂN XÃ TÂN LẬP
Số: 45/KH-UBND
KẾ HOẠCH
Về việc rà soát hộ nghèo năm 2026
Giao Văn phòng xã tổng hợp kết quả rà soát hộ nghèo, gửi Ủy ban nhân dân huyện trước ngày 15/12/2026.
Giao Công an xã bảo đảm an ninh trật tự trong thời gian rà soát.
CHỦ TỊCH
Nguyễn Văn Bình
"""


@pytest.fixture
def plan_index(settings, tmp_path, embedder):
    """A data dir holding one synthetic plan, ingested."""
    from ingest.index import Index
    from ingest.pipeline import ingest_paths

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plan.txt").write_text(PLAN, encoding="utf-8")
    with Index.open(settings, embedder=embedder) as index:
        assert not ingest_paths(index, [folder]).failed
    return settings.data_dir


@pytest.mark.slow
def test_ask_resolves_a_follow_up_given_with_history_and_prints_the_reading(plan_index):
    from rag.cli import cli

    result = CliRunner().invoke(cli, ["ask", "hạn là khi nào?", "--data-dir", str(plan_index),
                                      "--history", "Ai ký Kế hoạch 45/KH-UBND?",
                                      "--history", "Đơn vị nào phải tổng hợp kết quả rà soát hộ nghèo?"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first == "Hiểu là: Thời hạn phải tổng hợp kết quả rà soát hộ nghèo là khi nào?"
    assert "15/12/2026" in result.output

    result = CliRunner().invoke(cli, ["ask", "hạn là khi nào?", "--json", "--data-dir", str(plan_index),
                                      "--history", "Đơn vị nào phải tổng hợp kết quả rà soát hộ nghèo?"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["question"] == "hạn là khi nào?"
    assert answer["standalone_question"] == "Thời hạn phải tổng hợp kết quả rà soát hộ nghèo là khi nào?"


@pytest.mark.slow
def test_ask_without_history_prints_no_reading(plan_index):
    from rag.cli import cli

    result = CliRunner().invoke(cli, ["ask", "Ai ký Kế hoạch 45/KH-UBND?", "--data-dir", str(plan_index)])
    assert result.exit_code == 0, result.output
    assert "Hiểu là" not in result.output and "Nguyễn Văn Bình" in result.output


@pytest.mark.slow
def test_an_english_question_that_finds_nothing_gets_the_vietnamese_hint(plan_index):
    from rag.cli import cli

    result = CliRunner().invoke(cli, ["ask", "What is the budget for the new hospital in Hanoi?", "--json",
                                      "--data-dir", str(plan_index)])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["abstained"]
    assert ENGLISH_HINT in answer["answer"]
