"""The register in the app: the "Nhiệm vụ & hạn" and "Đào tạo" tabs.

Unit tests of the pure helpers run on the real corpus (the session's ``corpus_index``); the
browser test reuses the app fixtures of ``tests/test_web.py`` (three seeds, headless Chromium).
"""

from __future__ import annotations

from datetime import date

import pytest

from ingest.register import Deadline, Obligation, Register, SourceRef, build_graph, load_register
from ingest.register.exports import to_csv
from rag.web import tasks_page, training
from tests.test_web import _open_tab, app_url, browser, page, web_services  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

TODAY = date(2024, 6, 1)


@pytest.fixture(scope="module")
def register(corpus_index) -> Register:
    return load_register(corpus_index)


# --------------------------------------------------------------------------- quiz


def _check_question(q: training.QuizQuestion) -> None:
    right = q.options[q.answer]
    assert q.options.count(right) == 1
    assert len(q.options) == len(set(q.options)) and 3 <= len(q.options) <= 4
    assert q.source.quote and q.source.doc_id and q.prompt.startswith("Theo ")
    html = training.check_html(q, right)
    assert "Đúng" in html and "Nguồn:" in html
    wrong = next(o for i, o in enumerate(q.options) if i != q.answer)
    html = training.check_html(q, wrong)
    assert "Chưa đúng" in html and "Nguồn:" in html


@pytest.mark.slow
def test_quiz_on_the_corpus_is_deterministic_and_well_formed(register):
    quiz = training.make_quiz(register, seed=7, count=6)
    assert len(quiz) == 6
    assert {q.kind for q in quiz} == {"unit", "deadline", "target"}
    for q in quiz:
        _check_question(q)
        assert training.QuizQuestion.from_dict(q.to_dict()) == q
    assert [q.to_dict() for q in training.make_quiz(register, seed=7, count=6)] == [q.to_dict() for q in quiz]
    assert [q.prompt for q in training.make_quiz(register, seed=8, count=6)] != [q.prompt for q in quiz] or \
        [q.options for q in training.make_quiz(register, seed=8, count=6)] != [q.options for q in quiz]


@pytest.mark.slow
def test_quiz_deadline_questions_hide_the_answer_and_use_register_distractors(register):
    quiz = training.make_quiz(register, seed=3, count=30, options=4)
    deadlines = [q for q in quiz if q.kind == "deadline"]
    assert deadlines
    known = {training.deadline_option(o.deadline) for o in register.obligations}
    for q in deadlines:
        right = q.options[q.answer]
        date_part = right.replace("ngày ", "").replace("trong tháng ", "").split(" ")[0]
        assert date_part not in q.prompt  # the action's dates are masked
        assert all(o in known for o in q.options if o != right) or len(known) < 4
        # Never a deadline stated in the same sentence (it would also be right).
        same = {training.deadline_option(o.deadline) for o in register.obligations
                if o.source.doc_id == q.source.doc_id and o.source.start == q.source.start}
        assert not (same - {right}) & set(q.options)


def test_quiz_with_three_options_and_synthetic_register():
    def ob(i: int, unit: str, day: str) -> Obligation:
        src = SourceRef(doc_id=f"d{i}", file="f.txt", number=f"{i}/UBND-VX", doc_type="công văn",
                        section="II. NHIỆM VỤ", quote=f"{unit} báo cáo trước ngày {day}.", start=0, end=10)
        dd, mm = day.split("/")
        deadline = Deadline(kind="date", date=f"2024-{int(mm):02d}-{int(dd):02d}", text=f"trước ngày {day}",
                            start=0, end=5)
        return Obligation(id=f"o{i}", units=[unit], action=f"báo cáo kết quả trước ngày {day}", deadline=deadline,
                          source=src)

    reg = Register(obligations=[ob(1, "Sở Y tế", "10/11"), ob(2, "Sở Tư pháp", "15/5"),
                                ob(3, "Công an tỉnh", "20/12"), ob(4, "Sở Nội vụ", "01/3")])
    quiz = training.make_quiz(reg, seed=1, count=8, options=3)
    assert quiz and all(len(q.options) == 3 for q in quiz)
    for q in quiz:
        _check_question(q)
        if q.kind == "unit":
            own = next(o for o in reg.obligations if o.source.doc_id == q.source.doc_id)
            assert q.options[q.answer] == own.units[0]
            assert "10/11" not in q.prompt or own.units[0] == "Sở Y tế"


# --------------------------------------------------------------------------- summary cards


@pytest.mark.slow
def test_summary_cards_of_the_corpus(corpus_index, register):
    documents = corpus_index.documents()
    graph = build_graph(documents, register.relations)
    implements: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.kind == "implements" and graph.node(e.source).doc_id:
            implements.setdefault(graph.node(e.source).doc_id, []).append(graph.node(e.target).number or "")
    cards = {c.number: c for c in training.summary_cards(documents, register, implements)}
    assert len(cards) >= 5
    cv = cards["3452/UBND-VX"]
    assert cv.doc_type == "Công văn" and cv.issuer == "Ủy ban nhân dân tỉnh Sóc Trăng" and cv.date == "23/10/2024"
    assert "28-CT/TW" in cv.subject and "61-CTr/TU" in cv.implements
    assert any("Sở Lao động - Thương binh và Xã hội" in t and "11/2024" in t for t in cv.tasks)
    programme = cards["61-CTr/TU"]
    assert programme.doc_type == "Chương trình" and programme.targets and "28-CT/TW" in programme.implements
    plan = next(c for c in cards.values() if "Bắc Sơn" in c.issuer)
    assert any("10/11" in t for t in plan.tasks) and any("15/5" in t for t in plan.tasks)
    html = training.cards_html(list(cards.values()))
    assert html.count('class="cv-card"') == len(cards) and "3452/UBND-VX" in html and "<script" not in html


# --------------------------------------------------------------------------- tasks table


@pytest.mark.slow
def test_task_filters_exports_and_graph(corpus_index, register):
    all_rows = tasks_page.filter_obligations(register, today=TODAY)
    assert len(all_rows) == len(register.obligations) >= 5
    found = tasks_page.filter_obligations(register, unit="ubnd cac xa", today=TODAY)
    assert found and all(any("xã" in u for u in o.units) for o in found)
    rows = tasks_page.table_rows(found, TODAY)
    assert any("10/11" in row[2] for row in rows) and all(len(row) == len(tasks_page.COLUMNS) for row in rows)
    months = {v: k for k, v in tasks_page.month_choices(all_rows, TODAY)}
    assert "2024-11" in months and months["2024-11"] == "Tháng 11/2024"
    november = tasks_page.filter_obligations(register, month="2024-11", today=TODAY)
    assert november and all(tasks_page.month_of(o, TODAY) == "2024-11" for o in november)
    doc_id = next(o.source.doc_id for o in register.obligations if o.source.number == "3452/UBND-VX")
    assert {o.source.number for o in tasks_page.filter_obligations(register, doc_id=doc_id)} == {"3452/UBND-VX"}
    csv_text = to_csv(found, TODAY).decode("utf-8-sig")
    assert csv_text.startswith("Hạn kế tiếp,Thời hạn (theo văn bản)") and "10/11" in csv_text
    path = tasks_page.write_export(csv_text.encode(), "nhiem-vu.csv")
    assert path.endswith("nhiem-vu.csv")

    graph = build_graph(corpus_index.documents(), register.relations)
    numbered = [[graph.node(k).number for k in chain] for chain in tasks_page.chains(graph)]
    assert any(c[:3] == ["28-CT/TW", "61-CTr/TU", "3452/UBND-VX"] for c in numbered)
    html = tasks_page.graph_html(graph)
    assert "ngoài kho" in html and "61-CTr/TU" in html and "→" in html


# --------------------------------------------------------------------------- in the browser


@pytest.mark.slow
def test_tasks_and_training_tabs_in_the_browser(page):  # noqa: F811 (fixture)
    rows = "#cv-task-table .virtual-row"
    _open_tab(page, "Nhiệm vụ & hạn")
    page.wait_for_function(f"() => document.querySelectorAll('{rows}').length >= 3")
    page.locator("#cv-task-unit input, #cv-task-unit textarea").first.fill("ubnd cac xa")
    page.wait_for_function(
        f"() => {{ const r = [...document.querySelectorAll('{rows}')]; "
        "return r.length >= 1 && r.every(x => x.innerText.includes('xã')); }")
    texts = page.locator(rows).all_inner_texts()
    assert any("10/11" in t for t in texts)
    assert "ngoài kho" in page.locator("#cv-task-graph").inner_text()
    page.locator('#cv-task-table [data-testid="cell-0-1"]').click()
    page.wait_for_selector("#cv-task-source .cv-source-box")
    assert "VI. CHẾ ĐỘ BÁO CÁO" in page.locator("#cv-task-source").inner_text()

    _open_tab(page, "Đào tạo")
    page.wait_for_selector("#cv-train-cards .cv-card")
    page.locator("#cv-quiz-choice label").first.click()
    page.locator("#cv-quiz-check").click()
    page.wait_for_selector("#cv-quiz-result .cv-quiz-source")
    result = page.locator("#cv-quiz-result").inner_text()
    assert ("Đúng" in result or "Chưa đúng" in result) and "Nguồn:" in result
