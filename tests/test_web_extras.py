"""Issue 14's smaller chat features: an answer exported to .docx, the scope note by the question box,
a preview of [n] on hover, and the quiz score.

Unit tests run on synthetic answers; one browser test (marked slow) drives the app of
``tests/test_web.py`` through Chromium: hover title, download and scope note.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest

from ingest.models import Document
from rag.models import Answer, Citation
from rag.web import catalog, export, render, training
from tests.test_web import app_url, browser, page, wait_answer, web_services  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

HOSTILE = '=cmd|" /C calc"!A0 <script>alert(1)</script> **x** [a](http://e.vn) & "q"'


def _citation(n: int, quote: str, **kw) -> Citation:
    data = {"n": n, "doc_id": f"d-{n}", "number": "12/KH-UBND", "doc_type": "kế hoạch",
            "issuer": "UBND huyện Bắc Sơn", "date": "2024-03-01", "file": "x.txt", "section": "VI. CHẾ ĐỘ BÁO CÁO",
            "quote": quote, "start": 0, "end": len(quote)}
    return Citation(**(data | kw))


def _answer(**kw) -> Answer:
    data = {"question": "Đơn vị nào phải báo cáo trước ngày 10/11?",
            "answer": "Phòng Nội vụ báo cáo năm trước ngày 10/11 [1]; xem thêm [2].",
            "citations": [_citation(1, "báo cáo năm (trước ngày 10/11)"),
                          _citation(2, HOSTILE, number="3452/UBND-VX", doc_type="công văn", section="")]}
    return Answer(**(data | kw))


# --------------------------------------------------------------------------- .docx export


def _paragraphs(data: bytes) -> list[str]:
    from docx import Document as WordDocument

    return [p.text for p in WordDocument(io.BytesIO(data)).paragraphs]


def test_docx_holds_question_answer_and_each_citation_with_its_quote():
    answer = _answer()
    paras = _paragraphs(export.answer_docx(answer))
    text = "\n".join(paras)
    assert "Câu hỏi: Đơn vị nào phải báo cáo trước ngày 10/11?" in paras
    assert "Trả lời: Phòng Nội vụ báo cáo năm trước ngày 10/11 [1]; xem thêm [2]." in paras
    assert "Nguồn" in paras
    first = paras.index(next(p for p in paras if p.startswith("[1] ")))
    assert "Kế hoạch" in paras[first] and "12/KH-UBND" in paras[first] and "UBND huyện Bắc Sơn" in paras[first]
    assert "01/03/2024" in paras[first]
    assert paras[first + 1] == "Mục: VI. CHẾ ĐỘ BÁO CÁO"
    assert paras[first + 2] == "Trích: “báo cáo năm (trước ngày 10/11)”"
    second = paras.index(next(p for p in paras if p.startswith("[2] ")))
    assert "3452/UBND-VX" in paras[second]
    # A hostile quote is plain text: kept literally, its Markdown bold only unwrapped.
    assert paras[second + 1] == "Trích: “" + HOSTILE.replace("**x**", "x") + "”"
    assert "<script>alert(1)</script>" in text and "=cmd" in text


def test_docx_of_an_abstention_lists_the_related_passages_and_drops_bad_xml_characters():
    related = [_citation(1, "đoạn có thể liên quan\x00\x07")]
    answer = _answer(answer="Chưa có câu trả lời chắc chắn.", abstained=True, citations=[], related=related)
    paras = _paragraphs(export.answer_docx(answer))
    assert "Có thể liên quan" in paras and "Nguồn" not in paras
    assert "Trích: “đoạn có thể liên quan”" in paras


@pytest.mark.parametrize("question, name", [
    ("Ai ký Công văn 3452/UBND-VX?", "tra-loi-ai-ky-cong-van-3452-ubnd-vx.docx"),
    ("../../etc/passwd", "tra-loi-etc-passwd.docx"),
    ('<script>"Đường"</script> \\ :*?|', "tra-loi-script-duong-script.docx"),
    ("???", "tra-loi.docx"),
])
def test_docx_filename_is_sanitised(question, name):
    assert export.docx_filename(question) == name


def test_docx_filename_is_short():
    assert len(export.docx_filename("rất dài " * 50)) <= len("tra-loi-.docx") + export.NAME_CHARS


def test_write_docx_uses_a_fresh_folder_and_a_readable_name(tmp_path):
    one = export.write_docx(_answer(), tmp_path)
    two = export.write_docx(_answer(), tmp_path)
    assert one != two and one.name == two.name == "tra-loi-don-vi-nao-phai-bao-cao-truoc-ngay-10-11.docx"
    assert _paragraphs(one.read_bytes())[1].startswith("Câu hỏi:")


def test_the_chat_offers_the_docx_of_the_selected_answer_only(tmp_path, monkeypatch):
    from rag.web.chat_page import ChatPage

    monkeypatch.setattr(export, "EXPORT_DIR", tmp_path)
    turns = [{"question": "q", "answer": _answer().model_dump()}, {"question": "x", "answer": None, "error": "lỗi"}]
    shown = ChatPage.export_selected(turns, 0)
    assert shown["visible"] is True and shown["value"].endswith(".docx") and shown["value"].startswith(str(tmp_path))
    for selected in (1, -1, 5):
        assert ChatPage.export_selected(turns, selected) == {"__type__": "update", "value": None, "visible": False}


# --------------------------------------------------------------------------- [n] preview on hover


def test_markers_preview_their_source_on_hover_escaped():
    md = render.answer_markdown(_answer())
    one = re.search(r'<abbr class="cv-cite" title="([^"]*)">\[1\]</abbr>', md)
    two = re.search(r'<abbr class="cv-cite" title="([^"]*)">\[2\]</abbr>', md)
    assert one and two
    assert "12/KH-UBND" in one.group(1) and "Mục: VI. CHẾ ĐỘ BÁO CÁO" in one.group(1)
    assert "“báo cáo năm (trước ngày 10/11)”" in one.group(1)
    title = two.group(1)
    # Quotes, tags and Markdown in the document's text cannot leave the attribute or be interpreted.
    assert "<" not in title and ">" not in title and '"' not in title and "*" not in title and "[" not in title
    assert "&lt;script&gt;" in title and "&quot;" in title and "&amp;" in title
    # Outside the two previews, nothing but the escaped answer.
    assert md.count("<abbr") == 2 and md.count("</abbr>") == 2 and "<script" not in md


def test_preview_title_decodes_to_the_source():
    from html import unescape

    md = render.answer_markdown(_answer())
    title = re.search(r'title="([^"]*)">\[2\]', md).group(1)
    assert unescape(title) == render.cite_preview(_answer().citations[1])
    assert HOSTILE.replace("**x**", "x") in unescape(title)


def test_markers_without_a_citation_and_abstentions_get_no_preview():
    md = render.answer_markdown(_answer(answer="Xem [3] và <b>[1]</b>."))
    assert "[3]" in md and md.count("<abbr") == 1 and "&lt;b&gt;" in md
    abstained = _answer(answer="", abstained=True, citations=[])
    assert "<abbr" not in render.answer_markdown(abstained)
    # The plain-text copy keeps bare markers.
    assert "<abbr" not in render.answer_plaintext(_answer())


# --------------------------------------------------------------------------- scope note


def _doc(doc_id: str, issuer: str, number: str) -> Document:
    return Document.model_validate({"doc_id": doc_id, "file": f"{doc_id}.txt", "text": "x", "file_sha256": "0" * 64, "kind": "txt",
                                    "metadata": {"doc_type": "cong_van", "number": number, "issuer": issuer}})


DOCS = [_doc("a", "UBND tỉnh <Sóc Trăng>", "1/UBND"), _doc("b", "UBND tỉnh <Sóc Trăng>", "2/UBND"),
        _doc("c", "UBND huyện Bắc Sơn", "3/KH")]


def test_scope_note_names_what_the_chat_is_limited_to():
    assert catalog.scope_note(catalog.ALL, DOCS) == "" and catalog.scope_note(None, DOCS) == ""
    one = catalog.scope_note("doc:c", DOCS)
    assert "Đang hỏi trong:" in one and "1 văn bản" in one and "3/KH" in one
    two = catalog.scope_note("issuer:UBND tỉnh <Sóc Trăng>", DOCS)
    assert "2 văn bản của UBND tỉnh &lt;Sóc Trăng&gt;" in two and "<Sóc" not in two
    assert "không còn trong kho" in catalog.scope_note("doc:gone", DOCS)
    assert [d.doc_id for d in catalog.scope_documents("issuer:UBND huyện Bắc Sơn", DOCS)] == ["c"]


def test_the_chat_shows_and_hides_the_scope_note():
    from rag.web.chat_page import ChatPage

    page = SimpleNamespace(services=SimpleNamespace(documents=lambda: DOCS))
    note, clear = ChatPage.show_scope(page, "doc:a")
    assert note["visible"] is True and clear["visible"] is True and "1/UBND" in note["value"]
    note, clear = ChatPage.show_scope(page, catalog.ALL)
    assert note["visible"] is False and clear["visible"] is False


# --------------------------------------------------------------------------- quiz score


def test_quiz_score_counts_each_question_once():
    assert training.score_html({}, 0) == ""
    assert "chưa trả lời" in training.score_html({}, 5)
    score = training.record_answer({}, 0, True)
    score = training.record_answer(score, 1, False)
    score = training.record_answer(score, 1, True)  # checked again after seeing the answer: no change
    assert score == {"0": True, "1": False}
    html = training.score_html(score, 5)
    assert "<strong>1/2</strong>" in html and "2/5" in html
    full = {str(i): True for i in range(5)}
    assert "5/5" in training.score_html(full, 5) and "Tạo bộ câu hỏi" in training.score_html(full, 5)


def test_training_page_scores_checks_and_a_new_quiz_resets_it():
    from ingest.register import SourceRef
    from rag.web.training import QuizQuestion
    from rag.web.training_page import TrainingPage

    source = SourceRef(doc_id="d", file="d.txt", quote="B làm.", start=0, end=6)
    q = QuizQuestion(kind="unit", prompt="Ai?", options=["A", "B"], answer=1, source=source).to_dict()
    quiz = [q, q]
    page = SimpleNamespace(make=lambda seed: quiz, show=lambda quiz, current, step=1: TrainingPage.show(
        page, quiz, current, step))
    result, score, view = TrainingPage.verify(page, quiz, 0, "A", {})
    assert "Chưa đúng" in result and score == {"0": False} and "0/1" in view
    result, score, view = TrainingPage.verify(page, quiz, 1, "B", score)
    assert "Đúng" in result and score == {"0": False, "1": True} and "1/2" in view
    _result, same, _view = TrainingPage.verify(page, quiz, 1, None, score)  # nothing chosen: no count
    assert same == {"__type__": "update"}  # gr.skip()
    out = TrainingPage.new_quiz(page, 2)
    assert out[0] == quiz and out[-2] == {} and "chưa trả lời" in out[-1]


# --------------------------------------------------------------------------- browser


@pytest.mark.slow
def test_hover_preview_download_and_scope_note_in_the_browser(page):
    page.get_by_text("Đơn vị nào phải báo cáo trước ngày 10/11?").first.click()
    wait_answer(page, 1)
    cite = page.locator("#cv-chat .message-row.bot-row abbr.cv-cite").first
    title = cite.get_attribute("title")
    assert title and "Mục:" in title and "“" in title
    button = page.locator("#cv-docx")
    button.wait_for(state="visible")
    with page.expect_download() as info:
        button.click()
    assert info.value.suggested_filename.endswith(".docx")
    assert info.value.suggested_filename.startswith("tra-loi-don-vi-nao")
    # Limiting the chat shows the note; "Bỏ giới hạn" clears it.
    page.get_by_role("combobox", name="Phạm vi câu hỏi").click()
    page.get_by_role("option").filter(has_text="Văn bản:").first.click()
    page.locator("#cv-scope-note").wait_for(state="visible")
    assert "Đang hỏi trong: 1 văn bản" in page.locator("#cv-scope-note").inner_text()
    page.locator("#cv-scope-clear").click()
    page.locator("#cv-scope-note").wait_for(state="hidden")
    assert page.get_by_role("combobox", name="Phạm vi câu hỏi").input_value() == "Tất cả văn bản đã nạp"


@pytest.mark.parametrize("message, edited, question, kept", [
    (3, None, "Câu hai?", 1),            # regenerate the second answer: the second question again
    (2, None, "Câu hai?", 1),            # the same from its question
    (2, "Câu hai, sửa lại?", "Câu hai, sửa lại?", 1),   # an edited question replaces it
    (0, "  Câu một mới? ", "Câu một mới?", 0),          # editing the first question restarts the chat
    (9, None, "Câu hai?", 1),            # an index past the end means the last turn
])
def test_a_retry_or_an_edit_rewinds_the_conversation_to_that_question(message, edited, question, kept):
    from rag.web.chat_page import rewind

    turns = [{"question": "Câu một?", "answer": None}, {"question": "Câu hai?", "answer": None}]
    asked, rest = rewind(turns, message, edited)
    assert asked == question and rest == turns[:kept]
    assert rewind([], 0, None) == ("", [])
