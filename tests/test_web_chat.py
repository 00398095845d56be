"""The chat a new user expects (issue 14): conversations kept per browser, follow-ups that show how
they were understood, a phone layout, and Vietnamese wherever a user reads.

Browser tests drive Debian's Chromium through Playwright over the app of ``tests/test_web.py``
(three seeds in a temporary data dir). Screenshots of the phone layout are written to
``$CONGVAN_SCREENSHOTS`` (default: a ``screenshots`` folder in pytest's temporary directory);
``docs/phone-chat.png`` and ``docs/phone-tasks.png`` are copies of two of them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from rag.models import Answer, Citation
from rag.web import chat_page, render
from rag.web.i18n import TRANSLATIONS
from tests.test_web import app_url, ask, browser, wait_answer, web_services  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

FIRST = "Kế hoạch của huyện Bắc Sơn yêu cầu báo cáo 6 tháng trước ngày nào?"
FOLLOW_UP = "còn báo cáo năm thì sao?"
TABS = ["Hỏi đáp", "Thư viện văn bản", "Nhiệm vụ & hạn", "Đào tạo", "Tải văn bản lên", "Đánh giá"]

# English a user could meet in Gradio's own interface (and in ours, by mistake).
ENGLISH = set("""drop file files here click upload uploading copy copied message clear submit loading error errors
warning info settings built with use via api runs chatbot chat dropdown textbox retry undo like dislike download
remove search filter sort column row rows new close share and of or is found select options queue processing
label edit cancel language display theme record stop empty logo progress run back app more tabs answer question
source sources document documents report total failed yes none unknown abstained gold retrieved""".split())
# ("the" is left out: OCR'd text without accents has "doan the", đoàn thể.)
# Codes and names that are the same in Vietnamese.
ALLOWED = {"api", "csv", "ics", "pdf", "docx", "jsonl", "txt", "md", "ocr", "gradio", "mrr", "top", "hit"}


# --------------------------------------------------------------------------- units


def _answer(**kw) -> Answer:
    citation = Citation(n=1, doc_id="d-0", number="12/KH-UBND", doc_type="kế hoạch", issuer="UBND huyện Bắc Sơn",
                        date="2024-03-01", file="x.txt", section="VI. CHẾ ĐỘ BÁO CÁO",
                        quote="báo cáo năm (trước ngày 10/11)", start=0, end=30)
    data = {"question": FOLLOW_UP, "answer": "Trước ngày 10/11 [1].", "citations": [citation]}
    return Answer(**(data | kw))


def test_a_follow_up_shows_how_it_was_understood_and_sources_are_listed_once():
    answer = _answer(standalone_question="Kế hoạch của huyện Bắc Sơn yêu cầu báo cáo năm trước ngày nào?")
    md = render.answer_markdown(answer)
    assert md.startswith("*Hiểu là: Kế hoạch của huyện Bắc Sơn yêu cầu báo cáo năm trước ngày nào?*")
    shown = re.sub(r' title="[^"]*"', "", md)  # a [n]'s hover preview is no visible list
    assert "Nguồn:" not in shown and "12/KH-UBND" not in shown  # the cards beside the chat list them
    assert "Hiểu là:" in render.answer_plaintext(answer) and "Nguồn:" in render.answer_plaintext(answer)
    assert "Hiểu là" not in render.answer_markdown(_answer())  # a question that stood alone
    assert "Hiểu là" not in render.answer_markdown(_answer(standalone_question=FOLLOW_UP))


def test_conversations_are_saved_named_and_bounded():
    turn = {"question": FIRST, "answer": _answer().model_dump() | {"retrieved": [{"x": 1}]}, "pending": None}
    store = chat_page.save_turns(None, [turn])
    (chat,) = store["chats"]
    assert store["current"] == chat["id"] and chat["title"] == chat_page.short_title(FIRST)
    assert "retrieved" not in chat["turns"][0]["answer"]  # kept small in the browser
    again = chat_page.save_turns(store, [turn, turn])
    assert [c["id"] for c in again["chats"]] == [chat["id"]] and len(again["chats"][0]["turns"]) == 2
    other = chat_page.save_turns({**again, "current": None}, [turn])
    assert len(other["chats"]) == 2 and other["chats"][0]["id"] == other["current"] != chat["id"]
    many = {"current": None, "chats": []}
    for _ in range(chat_page.MAX_CHATS + 5):
        many = chat_page.save_turns({**many, "current": None}, [turn])
    assert len(many["chats"]) == chat_page.MAX_CHATS
    assert chat_page.short_title("x " * 100).endswith("…") and len(chat_page.short_title("x " * 100)) <= 61
    # Whatever the browser holds, the page gets a well-formed store.
    assert chat_page._clean_store("junk") == {"current": None, "chats": []}
    assert chat_page._clean_store({"current": "gone", "chats": [{"id": 1}]}) == {"current": None, "chats": []}


def test_cards_for_phones_escape_and_carry_their_row():
    html = render.row_cards_html(["Số", "Trích yếu"], [["1/KH", "<b>x</b>"], ["2/KH", ""]])
    assert html.count('class="cv-row-card"') == 2 and 'data-row="1"' in html
    assert "&lt;b&gt;" in html and "<b>x" not in html
    assert "<dt>Trích yếu</dt>" in html and html.count("<dt>") == 1  # empty cells are left out
    assert "cv-empty" in render.row_cards_html(["Số"], [], empty="Không có")


def test_document_viewer_shows_bold_not_stars():
    assert render._text_html("Giao **Sở Y tế** <chủ trì>") == "Giao <strong>Sở Y tế</strong> &lt;chủ trì&gt;"
    assert "**" not in render._text_html("lẻ ** dấu")


def test_gradio_strings_have_vietnamese():
    for key in ("upload_text.drop_file", "chatbot.copy_message", "chatbot.clear", "common.error",
                "errors.use_via_api", "common.built_with_gradio", "common.settings", "chatbot.like"):
        assert TRANSLATIONS[key] and not set(TRANSLATIONS[key].lower().split()) & (ENGLISH - ALLOWED), key


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("CONGVAN_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, app_url, *, phone: bool = False, context=None):  # noqa: F811 - fixtures
    if context is None:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
        context = browser.new_context(viewport=viewport, locale="vi-VN", is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url)
    page.wait_for_selector("#cv-chat")
    return context, page


def _bots(page) -> int:
    return page.locator("#cv-chat .message-row.bot-row").count()


def _chats(page) -> list[str]:
    return [t.strip() for t in page.locator("#cv-chats label").all_inner_texts()]


@pytest.mark.slow
def test_follow_up_shows_its_rewrite_and_answers_from_the_plan(browser, app_url):  # noqa: F811
    context, page = _open(browser, app_url)
    try:
        first = ask(page, FIRST, 1)
        assert "15/5" in first and "Hiểu là" not in first
        follow = ask(page, FOLLOW_UP, 2)
        assert follow.startswith("Hiểu là: ") and "Bắc Sơn" in follow.splitlines()[0]
        assert "10/11" in follow and "Không tìm thấy" not in follow
        assert "Bắc Sơn" in page.locator("#cv-sources .cv-source").first.inner_text()
        assert "Nguồn:" not in follow  # listed once, as the cards
    finally:
        context.close()


@pytest.mark.slow
def test_a_conversation_survives_a_reload_and_can_be_renamed_reopened_and_deleted(browser, app_url):  # noqa: F811
    context, page = _open(browser, app_url)
    try:
        ask(page, FIRST, 1)
        page.wait_for_function("() => document.querySelectorAll('#cv-chats label').length === 1")
        page.reload()
        page.wait_for_function("() => document.querySelectorAll('#cv-chat .message-row.bot-row').length === 1")
        assert "15/5" in wait_answer(page, 1) and "[1]" in page.locator("#cv-sources").inner_text()
        assert _chats(page) == [chat_page.short_title(FIRST)]
        # A follow-up after the reload still builds on the restored question.
        assert "10/11" in ask(page, FOLLOW_UP, 2)
        # A second conversation; the first stays listed and reopens with its answers.
        page.locator("#cv-new").click()
        page.wait_for_function("() => document.querySelectorAll('#cv-chat .message-row').length === 0")
        ask(page, "Ai ký Công văn 2577/UBND-KGVX?", 1)
        page.wait_for_function("() => document.querySelectorAll('#cv-chats label').length === 2")
        page.locator("#cv-chats label").nth(1).click()
        page.wait_for_function("() => document.querySelectorAll('#cv-chat .message-row.bot-row').length === 2")
        page.get_by_text("Đổi tên, xóa").click()
        page.locator("#cv-chat-title textarea, #cv-chat-title input").first.fill("Hạn báo cáo Bắc Sơn")
        page.locator("#cv-rename").click()
        page.wait_for_function("() => document.querySelector('#cv-chats').innerText.includes('Hạn báo cáo Bắc Sơn')")
        page.reload()
        page.wait_for_function("() => document.querySelectorAll('#cv-chat .message-row.bot-row').length === 2")
        assert "Hạn báo cáo Bắc Sơn" in _chats(page)
        page.get_by_text("Đổi tên, xóa").click()
        page.locator("#cv-delete").click()
        page.wait_for_function("() => document.querySelectorAll('#cv-chats label').length === 1")
        assert _bots(page) == 0 and "Hạn báo cáo Bắc Sơn" not in _chats(page)
    finally:
        context.close()


@pytest.mark.slow
def test_trash_and_new_chat_clear_the_conversation_and_its_sources(browser, app_url):  # noqa: F811
    context, page = _open(browser, app_url)
    empty_sources = "Nguồn của câu trả lời sẽ hiện ở đây."
    try:
        ask(page, FIRST, 1)
        page.locator("#cv-sources .cv-source").first.click()
        page.locator("#cv-document mark").wait_for()
        # The trash icon: conversation, sources and document gone, and gone from the list.
        page.locator("#cv-chat button[aria-label='Xóa cuộc trò chuyện']").click()
        page.wait_for_function("() => document.querySelectorAll('#cv-chat .message-row').length === 0")
        page.wait_for_function(f"() => document.querySelector('#cv-sources').innerText.includes('{empty_sources}')")
        assert page.locator("#cv-document mark").count() == 0 and _chats(page) == []
        # The next question starts afresh: the deleted one does not come back.
        ask(page, "Ai ký Công văn 2577/UBND-KGVX?", 1)
        assert page.locator("#cv-chat .message-row.user-row").count() == 1
        assert FIRST not in page.locator("#cv-chat").inner_text()
        # "Cuộc trò chuyện mới": the same clearing, but the conversation stays listed.
        page.locator("#cv-new").click()
        page.wait_for_function("() => document.querySelectorAll('#cv-chat .message-row').length === 0")
        page.wait_for_function(f"() => document.querySelector('#cv-sources').innerText.includes('{empty_sources}')")
        assert len(_chats(page)) == 1
        page.reload()
        page.wait_for_selector("#cv-chats label")
        page.wait_for_timeout(500)
        assert _bots(page) == 0 and len(_chats(page)) == 1  # the new, empty chat is the one shown
    finally:
        context.close()


VISIBLE_TEXT = """() => {
  const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const e = n.parentElement;
    if (!e || !n.textContent.trim() || !e.checkVisibility({visibilityProperty: true})) continue;
    if (parseFloat(getComputedStyle(e).fontSize) === 0 || e.closest('.visually-hidden, [aria-hidden=true]')) continue;
    if (e.closest('code')) continue;  // field names of a file format, written as code
    const box = e.getBoundingClientRect();
    if (box.width > 1 && box.height > 1) out.push(n.textContent);  // not screen-reader-only text
  }
  return out.join(' ');
}"""
"""The text a user sees: no hidden element, no zero-size text (Gradio's toast titles, replaced by CSS)."""


def _english_words(text: str) -> set[str]:
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    return (words & ENGLISH) - ALLOWED


@pytest.mark.slow
def test_no_english_is_visible_in_any_tab(browser, app_url):  # noqa: F811
    context, page = _open(browser, app_url)
    try:
        ask(page, FIRST, 1)
        # An empty question: a warning toast. A click while the answer's event is still finishing
        # is ignored (a send button that cannot submit twice), so it is repeated until it lands.
        for _ in range(3):
            page.locator("#cv-send").click()
            try:
                page.get_by_text("Hãy nhập câu hỏi.").wait_for(timeout=10_000)
                break
            except PlaywrightTimeout:
                continue
        else:
            raise AssertionError("no warning for an empty question")
        title = page.locator(".toast-title").first
        assert title.evaluate("e => getComputedStyle(e, '::before').content") == '"Cảnh báo"'
        assert "Warning" not in page.evaluate(VISIBLE_TEXT)
        found = {}
        for tab in TABS:
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(800)
            found[tab] = _english_words(page.evaluate(VISIBLE_TEXT))
        bad = {tab: words for tab, words in found.items() if words}
        assert not bad, bad
        page.get_by_role("tab", name="Tải văn bản lên").click()
        assert "Thả tệp vào đây" in page.locator("body").inner_text()
    finally:
        context.close()


@pytest.mark.slow
def test_phone_layout_every_tab_in_one_tap_cards_and_sources_under_the_answer(browser, app_url, shots):  # noqa: F811
    context, page = _open(browser, app_url, phone=True)
    try:
        assert page.locator(".tab-wrapper .overflow-menu").is_hidden()
        for tab in TABS:  # every tab is in the bar itself, visible and inside the screen
            button = page.get_by_role("tab", name=tab)
            box = button.bounding_box()
            assert button.is_visible() and box and box["x"] >= 0 and box["x"] + box["width"] <= 390, tab
        ask(page, FIRST, 1)
        answer = page.locator("#cv-chat").bounding_box()
        sources = page.locator("#cv-sources .cv-source").first.bounding_box()
        question = page.locator("#cv-question").bounding_box()
        assert answer["y"] + answer["height"] <= sources["y"] <= answer["y"] + answer["height"] + 120
        assert sources["y"] < question["y"]
        page.locator("#cv-chat").evaluate("e => window.scrollTo(0, e.getBoundingClientRect().bottom + scrollY - 420)")
        page.screenshot(path=str(shots / "phone-chat.png"))  # the end of the answer, then its sources
        for tab, cards, name in (("Thư viện văn bản", "#cv-lib-cards", "phone-library.png"),
                                 ("Nhiệm vụ & hạn", "#cv-task-cards", "phone-tasks.png")):
            page.get_by_role("tab", name=tab).click()
            card = page.locator(f"{cards} .cv-row-card").first
            card.wait_for()
            assert card.bounding_box()["width"] >= 300  # a card across the screen, not a letter per line
            assert page.locator("#cv-lib-table, #cv-task-table").first.is_hidden()
            words = card.inner_text().split()
            assert len(words) >= 5 and sum(len(w) for w in words) / len(words) >= 2.5
            page.screenshot(path=str(shots / name))
            card.click()  # a card opens its row, as the table does
            page.locator("#cv-lib-document .cv-text" if "lib" in cards else "#cv-task-source .cv-source-box").wait_for()
        assert (shots / "phone-chat.png").stat().st_size > 10_000
    finally:
        context.close()


@pytest.mark.slow
def test_an_answer_can_be_regenerated(browser, app_url):  # noqa: F811
    context, page = _open(browser, app_url)
    try:
        ask(page, FIRST, 1)
        # Regenerate: the same question is sent to the server and answered again, still one turn.
        retry = page.locator("#cv-chat button[aria-label='Hỏi lại'], #cv-chat button[title='Hỏi lại']").last
        joins: list[str] = []
        page.on("request", lambda r: joins.append(r.url) if "/queue/join" in r.url else None)
        retry.click()
        # The rewind event, then the ask chained after it (sent once the rewind's output is shown).
        for _ in range(300):
            if len(joins) >= 2:
                break
            page.wait_for_timeout(100)
        assert len(joins) >= 2, joins
        # The rewind empties the turn before the chained ask fills it again: wait for the chat to
        # settle on one question and its finished answer (reading it mid-rewind found the old answer
        # and no question row, under load).
        page.wait_for_function(
            """() => { const users = document.querySelectorAll('#cv-chat .message-row.user-row');
                     const bots = document.querySelectorAll('#cv-chat .message-row.bot-row');
                     return users.length >= 1 && bots.length >= 1 && !bots[bots.length - 1].innerText.includes('Đang tìm'); }""")
        assert "15/5" in wait_answer(page, 1)
        assert page.locator("#cv-chat .message-row.user-row").count() == 1
        assert page.locator("#cv-chat .message-row.user-row").first.inner_text().strip() == FIRST
    finally:
        context.close()
