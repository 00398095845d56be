"""Server-side limits of the web app, each found missing by a hostile probe.

Question length and the per-request time budget (through the HTTP API, which skips the
browser's checks), the upload queue, formula-safe CSV, Markdown that must stay text, Gradio's
upload cache, the delay after wrong passwords, and the feedback comment cap. Unit tests run
the pure pieces; the others start the real app with the fixtures of ``tests/test_web.py``
(their own instance for this module: three seeds, headless Chromium).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest.register import OBLIGATION_COLUMNS, Deadline, Obligation, SourceRef
from rag.assistant import Assistant, QuestionTooLong, check_question
from ingest.settings import Settings
from rag.web import render, tasks_page
from rag.web.auth import MAX_DELAY_S, failure_delay, make_auth
from rag.web.feedback import FeedbackRejected, FeedbackStore
from rag.web.ingest_queue import IngestQueue
from rag.web.limits import OutOfTime, within
from tests.test_web import _answer, _open_tab, app_url, ask, browser, page, web_services  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

LIMIT_MESSAGE = "vượt giới hạn 2000 ký tự"
PIXEL = "http://127.0.0.1:9/"  # a closed port: the browser must never ask it for anything


# --------------------------------------------------------------------------- 1. question length


def test_check_question_names_the_length_and_the_limit():
    check_question("x" * 2000, ["y" * 2000], 2000)
    with pytest.raises(QuestionTooLong) as caught:
        check_question("x" * 200_000, [], 2000)
    assert str(caught.value) == "Câu hỏi dài 200000 ký tự, vượt giới hạn 2000 ký tự. Hãy rút gọn câu hỏi."
    with pytest.raises(QuestionTooLong, match="câu hỏi trước .* dài 5000 ký tự"):
        check_question("ngắn", ["ok", "y" * 5000], 2000)


def test_assistant_refuses_a_long_question_before_any_work():
    class NoSearch:
        def search(self, *args, **kwargs):
            raise AssertionError("a refused question must not be searched")

    assistant = Assistant.__new__(Assistant)  # no index needed: the refusal comes first
    assistant.settings = Settings(max_question_chars=50)
    assistant.retriever = NoSearch()
    began = time.perf_counter()
    for call in (lambda: assistant.ask("x" * 200_000), lambda: next(assistant.stream("x" * 200_000)),
                 lambda: assistant.ask("ngắn", history=["y" * 51])):
        with pytest.raises(QuestionTooLong, match="vượt giới hạn 50 ký tự"):
            call()
    assert time.perf_counter() - began < 0.5


@pytest.mark.slow
def test_huge_question_via_the_api_is_refused_at_once_and_delays_nobody(app_url):  # noqa: F811 - fixture
    from evals.bench_load import ApiError, Session

    def timed(question: str) -> tuple[float, str]:
        """Seconds taken, and the answer with its citation markers or the refusal's message."""
        session = Session(app_url, timeout=120)
        try:
            began = time.perf_counter()
            try:
                answer = session.ask(question)
                text = answer["answer"] + " " + " ".join(f"[{c['n']}]" for c in answer["citations"])
            except ApiError as exc:
                text = exc.message
            return time.perf_counter() - began, text
        finally:
            session.close()

    elapsed, text = timed("Đơn vị nào " + "x" * 200_000)
    assert elapsed < 1.0, elapsed
    assert "Câu hỏi dài 200011 ký tự" in text and LIMIT_MESSAGE in text and "Hãy rút gọn" in text
    # Four long questions at once (the probe's flood) and a normal one: the long ones are all
    # refused at once, and the normal one is answered as usual.
    with ThreadPoolExecutor(5) as pool:
        floods = [pool.submit(timed, "y" * 100_000) for _ in range(4)]
        normal = pool.submit(timed, "Đơn vị nào phải báo cáo trước ngày 10/11?")
        results = [f.result() for f in floods]
        normal_elapsed, normal_text = normal.result()
    assert all(s < 3.0 and LIMIT_MESSAGE in t for s, t in results), results
    assert "[1]" in normal_text and "10/11" in normal_text and normal_elapsed < 30, (normal_elapsed, normal_text)


# --------------------------------------------------------------------------- 2. time budget


def test_within_passes_items_and_errors_through():
    assert list(within(iter([1, 2, 3]), 5)) == [1, 2, 3]

    def failing():
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(within(failing(), 5))


def test_within_stops_a_stuck_producer_at_the_deadline_and_closes_it():
    release, closed = threading.Event(), threading.Event()

    def stuck():
        try:
            yield "đầu"
            release.wait(30)  # a search or an LLM chunk that does not come back
            yield "không bao giờ tới"
        finally:
            closed.set()

    got = []
    began = time.perf_counter()
    with pytest.raises(OutOfTime, match="hơn 0.5 giây"):
        for item in within(stuck(), 0.5):
            got.append(item)
    assert got == ["đầu"] and time.perf_counter() - began < 1.5
    release.set()
    assert closed.wait(5), "the abandoned producer was not closed"


@pytest.mark.slow
def test_a_request_over_its_time_budget_ends_with_a_message(app_url, web_services):  # noqa: F811 - fixture
    from evals.bench_load import ApiError, Session

    release, closed = threading.Event(), threading.Event()

    def slow(*args, **kwargs):
        try:
            yield "Đang trả lời"
            release.wait(60)
            yield "muộn"
        finally:
            closed.set()

    web_services.assistant.stream = slow
    budget = web_services.settings.request_time_budget_s
    web_services.settings.request_time_budget_s = 1.5
    session = Session(app_url, timeout=120)
    try:
        began = time.perf_counter()
        with pytest.raises(ApiError) as caught:
            session.ask("Ai ký văn bản?")
        elapsed = time.perf_counter() - began
    finally:
        web_services.settings.request_time_budget_s = budget
        del web_services.assistant.stream
        release.set()
        session.close()
    assert elapsed < 6, elapsed
    assert "cần hơn 1.5 giây để trả lời nên đã dừng lại" in caught.value.message
    assert closed.wait(10), "the timed-out answer kept running"


# --------------------------------------------------------------------------- 3. upload queue


def test_ingest_queue_runs_one_job_small_files_first_without_starving_big_ones():
    clock = [1000.0]
    queue = IngestQueue(bytes_per_second=1000, clock=lambda: clock[0])
    running = queue.enqueue("dang-nap.txt", 10)
    assert queue.wait_turn(running, timeout=0)
    running.report(120, 17000)
    big = queue.enqueue("lon.pdf", 20_000_000)       # would take 20,000 s at this rate
    clock[0] += 1
    small = queue.enqueue("nho.txt", 100)
    assert not queue.wait_turn(small, timeout=0)      # one writer at a time
    assert queue.ahead_of(small) == 0 and queue.ahead_of(big) == 1
    assert small.waiting_message().startswith("Đang chờ: tệp “dang-nap.txt” đang được nạp (120/17000 đoạn)")
    assert "còn 1 tệp xếp trước “lon.pdf”" in big.waiting_message()
    queue.finish(running)
    assert not queue.wait_turn(big, timeout=0) and queue.wait_turn(small, timeout=0)
    assert small.waiting_message() == ""
    queue.finish(small)
    # Once the big file has waited its estimated time, newcomers no longer overtake it.
    clock[0] += 30_000
    late = queue.enqueue("nho-sau.txt", 100)
    assert queue.ahead_of(late) == 1
    assert not queue.wait_turn(late, timeout=0) and queue.wait_turn(big, timeout=0)
    queue.finish(big)
    queue.finish(late)
    assert queue.running is None


def test_ingest_queue_wakes_the_next_job_when_one_finishes():
    queue = IngestQueue()
    order = []
    with queue.turn("một.txt", 1):
        waiter = threading.Thread(target=lambda: order.append(queue.wait_turn(queue.enqueue("hai.txt", 1), 10)))
        waiter.start()
        time.sleep(0.2)
        assert order == []
    waiter.join(5)
    assert order == [True] and queue.running.name == "hai.txt"


@pytest.mark.slow
def test_a_waiting_upload_says_what_it_waits_for_then_is_ingested(page, web_services, tmp_path):  # noqa: F811 - fixture
    release, holding = threading.Event(), threading.Event()

    def big_upload_in_progress():
        with web_services.ingest_queue.turn("lon-20MB.txt", 20_000_000) as ticket:
            ticket.report(120, 17000)
            holding.set()
            release.wait(60)

    holder = threading.Thread(target=big_upload_in_progress)
    holder.start()
    try:
        assert holding.wait(10)
        small = tmp_path / "Công văn một dòng.txt"
        small.write_text("ỦY BAN NHÂN DÂN XÃ HÀNG CHỜ\nSố: 5/UBND-VP\nXã đề nghị các thôn báo cáo số hộ nghèo.\n",
                         encoding="utf-8")
        _open_tab(page, "Tải văn bản lên")
        page.locator("#cv-upload-files input[type=file]").set_input_files(str(small))
        page.locator("#cv-upload-submit").click()
        page.wait_for_function(
            """() => { const t = document.querySelector('#cv-upload-result').innerText;
                       return t.includes('Đang chờ') && t.includes('lon-20MB.txt') && t.includes('120/17000'); }""")
    finally:
        release.set()
        holder.join(10)
    done = page.locator("#cv-upload-result .cv-ok")
    done.wait_for(timeout=60_000)
    assert "Đã nạp “Công văn một dòng.txt”" in done.inner_text()
    assert "Đang chờ" not in page.locator("#cv-upload-result").inner_text()


# --------------------------------------------------------------------------- 4. CSV


def test_csv_export_neutralises_formulas():
    def ob(i: int, action: str, unit: str) -> Obligation:
        src = SourceRef(doc_id=f"d{i}", file="f.txt", number="-2", doc_type="công văn", issuer="@SUM(A1)",
                        section="\t=1", quote="x", start=0, end=1)
        return Obligation(id=f"o{i}", units=[unit], action=action, source=src,
                          deadline=Deadline(kind="date", date="2024-11-10", text="trước ngày 10/11", start=0, end=5))

    obligations = [ob(1, '=HYPERLINK("http://x","y")', "+1"), ob(2, "\r=cmd|' /C calc'!A0", "Sở Y tế")]
    # The header row is in Vietnamese; the columns keep OBLIGATION_COLUMNS' order.
    _, *cells = list(csv.reader(io.StringIO(tasks_page.to_csv(obligations).decode("utf-8-sig"))))
    rows = [dict(zip(OBLIGATION_COLUMNS, r)) for r in cells]
    assert rows[0]["action"] == "'=HYPERLINK(\"http://x\",\"y\")" and rows[0]["units"] == "'+1"
    assert rows[0]["number"] == "'-2" and rows[0]["issuer"] == "'@SUM(A1)" and rows[0]["section"] == "'\t=1"
    assert rows[1]["action"].startswith("'\r=cmd") and rows[1]["units"] == "Sở Y tế"
    assert rows[0]["start"] == "0" and rows[0]["due"] == "2024-11-10"  # numbers and dates are untouched
    for row in rows:
        assert not any(v and v[0] in "=+-@\t\r" for v in row.values()), row


# --------------------------------------------------------------------------- 5. Markdown stays text


HOSTILE = f"![x]({PIXEL}pixel.png) <img src=\"{PIXEL}raw.png\"> [bấm]({PIXEL}link) <{PIXEL}auto>"


def test_markdown_from_documents_and_users_cannot_make_images_links_or_tags():
    answer = _answer(answer=f"Nộp trước ngày 15/12 {HOSTILE} [1].", notes=[HOSTILE])
    for md in (render.answer_markdown(answer), render.escape_user(HOSTILE), render.error_markdown(HOSTILE)):
        assert "<img" not in md and "<http" not in md and "![" not in md, md
        assert not re.search(r"(?<!\\)\]\(", md), md  # no "](" left unescaped: no inline link or image
    assert "[1]" in render.answer_markdown(answer)  # citation markers still read as written
    assert render.markdown_text("[x]: http://a") == "[x\\]: http://a"  # no reference definitions
    assert render.markdown_text("\\![x](y)") == "\\\\!\\[x\\](y)"  # a source backslash cannot undo ours


@pytest.mark.slow
def test_images_and_html_in_documents_and_questions_stay_text(page, web_services, tmp_path):  # noqa: F811 - fixture
    doc = tmp_path / "Công văn nộp hồ sơ số hóa.txt"
    doc.write_text(
        "ỦY BAN NHÂN DÂN\nXÃ THỬ ẢNH\nSố: 91/UBND-VP\nV/v nộp báo cáo hồ sơ số hóa\n\n"
        "Kính gửi: Tổ số hóa của xã.\n\n"
        f"Tổ số hóa nộp báo cáo hồ sơ số hóa ![x]({PIXEL}pixel.png) trước ngày 15/12/2024 "
        f"<img src=\"{PIXEL}raw.png\"> tại Văn phòng xã.\n",
        encoding="utf-8")
    summary = web_services.ingest([doc])
    assert not summary.failed, summary
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.reload()
    page.wait_for_selector("#cv-chat")
    answer = ask(page, f"Tổ số hóa ![q]({PIXEL}q.png) <img src={PIXEL}q2.png> [bấm]({PIXEL}link) phải nộp "
                       "báo cáo hồ sơ số hóa trước ngày nào?", 1)
    assert "15/12/2024" in answer and "pixel.png" in answer and "<img" in answer  # shown as typed
    user = page.locator("#cv-chat .message-row.user-row").first.inner_text()
    assert "q.png" in user and "<img" in user
    page.locator("#cv-sources .cv-source").first.click()
    page.locator("#cv-document mark").wait_for()
    page.wait_for_timeout(500)
    assert page.evaluate("u => document.querySelectorAll(`img[src^='${u}']`).length", PIXEL) == 0
    assert page.locator("#cv-chat img").count() == 0
    # Link syntax stays text too (a bare URL may still be linkified; following it needs a click).
    assert page.evaluate("() => [...document.querySelectorAll('#cv-chat a')].every(a => a.textContent !== 'bấm')")
    assert not [u for u in requests if u.startswith(PIXEL)], requests


# --------------------------------------------------------------------------- 6. upload cache


@pytest.mark.slow
def test_a_rejected_upload_leaves_nothing_in_gradios_cache(page, web_services, tmp_path):  # noqa: F811 - fixture
    from gradio.utils import get_upload_folder

    from rag.web.layout import CACHE_LIFETIME_S, build_app

    assert build_app(web_services).delete_cache == (CACHE_LIFETIME_S, CACHE_LIFETIME_S)
    name = f"rong-{uuid.uuid4().hex[:8]}.txt"
    empty = tmp_path / name
    empty.write_bytes(b"")
    _open_tab(page, "Tải văn bản lên")
    page.locator("#cv-upload-files input[type=file]").set_input_files(str(empty))
    page.locator("#cv-upload-submit").click()
    error = page.locator("#cv-upload-result .cv-bad")
    error.wait_for(timeout=60_000)
    assert "tệp rỗng" in error.inner_text()
    assert not list(Path(get_upload_folder()).rglob(name))


# --------------------------------------------------------------------------- 7. login delay


def test_failure_delay_doubles_and_is_capped():
    assert [failure_delay(n, 1.0) for n in range(7)] == [0, 1, 2, 4, 8, 16, 30]
    assert failure_delay(10_000, 1.0) == MAX_DELAY_S and failure_delay(3, 0) == 0


def test_wrong_passwords_are_answered_ever_more_slowly_even_in_parallel():
    assert make_auth(Settings()) is None
    check = make_auth(Settings(auth_user="canbo", auth_password="mật khẩu", auth_failure_delay_s=0.05))

    async def scenario() -> tuple[float, float, float, bool]:
        began = time.perf_counter()
        for guess in ("a", "b", "c", "d", "e"):
            assert not await check("canbo", guess)
        five = time.perf_counter() - began
        began = time.perf_counter()
        assert await check("canbo", "mật khẩu")
        right = time.perf_counter() - began
        began = time.perf_counter()  # sending guesses at once does not make them faster
        results = await asyncio.gather(*(check("canbo", g) for g in ("f", "g", "h")))
        parallel = time.perf_counter() - began
        return five, right, parallel, any(results)

    with ThreadPoolExecutor(1) as pool:  # its own thread: Playwright may hold this one's event loop
        five, right, parallel, any_ok = pool.submit(asyncio.run, scenario()).result()
    assert five >= 0.05 * (1 + 2 + 4 + 8 + 16) and right < 0.05
    assert parallel >= 0.05 * (1 + 2 + 4) and not any_ok


@pytest.mark.slow
def test_login_over_http_slows_wrong_passwords_without_blocking(web_services):  # noqa: F811 - fixture
    import httpx
    from pydantic import SecretStr

    from rag.web.layout import build_app
    from rag.web.server import launch

    settings = web_services.settings.model_copy(update={
        "auth_user": SecretStr("canbo"), "auth_password": SecretStr("matkhau"), "auth_failure_delay_s": 0.2})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_app(web_services)
    _app, url, _share = launch(demo, settings, port=port, block=False, quiet=True)
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            began = time.perf_counter()
            for guess in ("1", "2", "3", "4"):
                assert http.post("/login", data={"username": "canbo", "password": guess}).status_code == 400
            assert time.perf_counter() - began >= 0.2 * (1 + 2 + 4 + 8)
            # While a fifth wrong guess waits out its 3.2 s, the server answers others at once.
            slow = threading.Thread(target=lambda: http.post("/login", data={"username": "canbo", "password": "5"}))
            with httpx.Client(base_url=url, timeout=60) as other:
                slow.start()
                time.sleep(0.3)
                began = time.perf_counter()
                assert other.get("/config").status_code == 401
                assert time.perf_counter() - began < 1.0
            slow.join(10)
            began = time.perf_counter()
            assert http.post("/login", data={"username": "canbo", "password": "matkhau"}).status_code == 200
            assert time.perf_counter() - began < 1.0
            assert http.get("/config").status_code == 200
    finally:
        demo.close()


# --------------------------------------------------------------------------- 8. feedback


def test_feedback_comment_over_the_limit_is_refused_and_not_stored(tmp_path):
    store = FeedbackStore.in_data_dir(tmp_path, max_comment_chars=2000)
    store.record(vote="up", answer=_answer(), comment="x" * 2000)
    with pytest.raises(FeedbackRejected, match="Góp ý dài 5000000 ký tự, vượt giới hạn 2000 ký tự"):
        store.record(vote="down", answer=_answer(), comment="y" * 5_000_000)
    assert [r["vote"] for r in store.records()] == ["up"]
    assert (tmp_path / "feedback.jsonl").stat().st_size < 10_000


@pytest.mark.slow
def test_the_apps_feedback_store_uses_the_setting(web_services):  # noqa: F811 - fixture
    assert web_services.feedback.max_comment_chars == web_services.settings.max_feedback_chars == 2000
