"""The web chat: unit tests of its logic, and browser tests in real headless Chromium.

The browser tests start the app in this process on a free 127.0.0.1 port, over a temporary
data dir holding three seeds (001, 003, 004), and drive Debian's ``/usr/bin/chromium``
through Playwright (no browser is downloaded). They are skipped only when that browser is
missing; ``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import time
from pathlib import Path

import pytest

from ingest.errors import LoadCode
from ingest.models import Chunk, Document, DocumentMetadata
from rag.models import Answer, Citation
from ingest.settings import Settings
from rag.web import catalog, render, uploads
from rag.web.feedback import FeedbackStore

# Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEEDS = (
    "001_ubnd_kien_giang_2577-UBND-KGVX_ocr.txt",
    "003_ubnd_bac_son_ke_hoach_tre_em_2024.txt",
    "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt",
)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
GOOD_UPLOAD = """ỦY BAN NHÂN DÂN
HUYỆN THỬ NGHIỆM
Số: 77/UBND-VP
V/v tổ chức tập huấn sử dụng phần mềm hỏi đáp văn bản

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Thử Nghiệm, ngày 05 tháng 12 năm 2024

Kính gửi: Các phòng, ban chuyên môn thuộc huyện.

Ủy ban nhân dân huyện đề nghị các phòng, ban chuyên môn cử cán bộ tham dự lớp tập huấn sử dụng
phần mềm hỏi đáp văn bản vào ngày 20/12/2024 tại Hội trường Ủy ban nhân dân huyện.

Nơi nhận:
- Như trên;
- Lưu: VT.
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH
Nguyễn Văn Thử
"""


# --------------------------------------------------------------------------- unit tests


@pytest.mark.parametrize("raw,safe", [
    ("Công văn 3452.docx", "Công văn 3452.docx"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\Windows\\win.ini.txt", "win.ini.txt"),
    ("C:\\Users\\cb\\Desktop\\ke hoach.PDF", "ke hoach.pdf"),
    (".hidden.md", "hidden.md"),
    ("-rf.txt", "rf.txt"),
    ("a/b/../../c.txt", "c.txt"),
    ("bad\x00name\nx.txt", "badnamex.txt"),
    ("tên <script>alert(1)</script>.txt", "script.txt"),  # "/" ends a folder part
    ("hồ sơ: <mật>|*?.txt", "hồ sơ_ _mật.txt"),
    ("...", "tai-lieu"),
    ("", "tai-lieu"),
    ("CON.txt", "CON_.txt"),
    ("Ke hoach so 01\u0301.txt", "Ke hoach so 01.txt"),  # a stray combining mark is dropped
    ("x" * 300 + ".docx", "x" * 115 + ".docx"),
])
def test_safe_filename(raw, safe):
    assert uploads.safe_filename(raw) == safe
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")


def test_safe_filename_composes_vietnamese_to_nfc():
    decomposed = "Ke\u0302\u0301 hoa\u0323ch.txt"  # "Kế hoạch" typed with combining marks
    assert uploads.safe_filename(decomposed) == "Kế hoạch.txt"


@pytest.mark.parametrize("name,size,message", [
    ("a.exe", 10, "không được hỗ trợ"),
    ("noext", 10, "không có phần mở rộng"),
    ("a.txt", 0, "tệp rỗng"),
    ("a.pdf", 3 * 1024 * 1024, "vượt giới hạn 2 MB"),
])
def test_validate_refuses_in_vietnamese(name, size, message):
    with pytest.raises(uploads.UploadRejected, match=message):
        uploads.validate(name, size, max_mb=2)


def test_validate_accepts_supported_files():
    for ext in (".txt", ".md", ".docx", ".pdf", ".PDF"):
        uploads.validate(f"x{ext}", 100, max_mb=2)


def test_store_never_overwrites_and_skips_identical_files(tmp_path):
    src_a, src_b = tmp_path / "a", tmp_path / "b"
    src_a.write_text("một", encoding="utf-8")
    src_b.write_text("hai", encoding="utf-8")
    folder = tmp_path / "uploads"
    first = uploads.store(src_a, "../Kế hoạch.txt", folder)
    again = uploads.store(src_a, "Kế hoạch.txt", folder)
    other = uploads.store(src_b, "Kế hoạch.txt", folder)
    assert first.path == folder / "Kế hoạch.txt" and first.created
    assert again.path == first.path and not again.created
    assert other.path == folder / "Kế hoạch-2.txt" and other.created
    assert first.path.read_text(encoding="utf-8") == "một"
    assert {p.name for p in folder.iterdir()} == {"Kế hoạch.txt", "Kế hoạch-2.txt"}


@pytest.mark.parametrize("reason,code,vietnamese", [
    ("corrupt or truncated PDF (no PDF header: this is not a PDF file)", LoadCode.PDF_CORRUPT, "tệp PDF bị hỏng"),
    ("PDF has no text layer (scanned image): it needs OCR", LoadCode.PDF_NEEDS_OCR, "OCR"),
    ("corrupt or truncated .docx (not a valid zip archive)", LoadCode.DOCX_CORRUPT, "tệp .docx bị hỏng"),
    ("file is empty", LoadCode.EMPTY, "tệp rỗng"),
    # Failures of the ingest run after loading carry no code: told apart by their reason.
    ("could not parse: boom", None, "không phân tích được"),
    ("no text to index", None, "không có nội dung"),
    ("too large to index: about 5000 chunks, over the limit of 3000 per file", None, "vượt giới hạn"),
    ("something new", None, "không nạp được tệp"),
    ("something new", "a_code_from_a_newer_version", "không nạp được tệp"),
])
def test_loader_reasons_are_explained_in_vietnamese(reason, code, vietnamese):
    text = uploads.explain(reason, code)
    assert vietnamese in text and text.endswith(f" (chi tiết: {reason})")


@pytest.mark.parametrize("code", list(LoadCode))
def test_every_load_code_has_a_vietnamese_text(code):
    text = uploads.VIETNAMESE.get(code)
    assert text and text == text.strip()
    assert uploads.explain("detail", code) == f"{text} (chi tiết: detail)"
    assert uploads.explain("detail", str(code)) == f"{text} (chi tiết: detail)"  # as FileOutcome.code holds it


def _answer(**kw) -> Answer:
    citation = Citation(n=1, doc_id="d-0", number="3452/UBND-VX", doc_type="công văn",
                        issuer="Ủy ban nhân dân tỉnh Sóc Trăng", date="2024-10-23", file="x.txt",
                        section="II. NHIỆM VỤ", quote="Giao Sở **Lao động** thực hiện.", start=10, end=40)
    data = {"question": "Ai làm?", "answer": "Sở Lao động thực hiện [1].", "citations": [citation]}
    return Answer(**(data | kw))


def test_feedback_is_one_durable_json_line_per_vote(tmp_path):
    store = FeedbackStore.in_data_dir(tmp_path / "data")
    store.record(vote="up", answer=_answer())
    store.record(vote="down", answer=_answer(), comment="  thiếu Sở Y tế ", filters={"issuer": "UBND"},
                 history=["câu trước"])
    lines = (tmp_path / "data" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    second = json.loads(lines[1])
    assert second["vote"] == "down" and second["comment"] == "thiếu Sở Y tế"
    assert second["question"] == "Ai làm?" and second["answer"] == "Sở Lao động thực hiện [1]."
    assert second["sources"][0]["number"] == "3452/UBND-VX" and second["sources"][0]["quote"]
    assert second["filters"] == {"issuer": "UBND"} and second["history"] == ["câu trước"]
    assert len({json.loads(line)["id"] for line in lines}) == 2
    # A new store over the same file (a restarted app) reads them back; a torn last line is skipped.
    with (tmp_path / "data" / "feedback.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"vote": "up", "quest')
    assert [r["vote"] for r in FeedbackStore.in_data_dir(tmp_path / "data").records()] == ["up", "down"]
    with pytest.raises(ValueError):
        store.record(vote="maybe", answer=_answer())


@pytest.mark.parametrize("iso,shown", [("2024-10-23", "23/10/2024"), ("2024-03", "03/2024"), ("2024", "2024"),
                                       (None, ""), ("sai", "sai")])
def test_format_date(iso, shown):
    assert render.format_date(iso) == shown


def test_answer_renderings_carry_markers_and_sources():
    answer = _answer()
    md = render.answer_markdown(answer)
    shown = re.sub(r' title="[^"]*"', "", md)  # [1] previews its source on hover only
    assert "[1]" in shown and "3452/UBND-VX" not in shown  # the source cards name it, once
    plain = render.answer_plaintext(answer)
    assert "Nguồn:" in plain and "Mục: II. NHIỆM VỤ" in plain and "“Giao Sở Lao động thực hiện.”" in plain
    html = render.sources_html(answer)
    assert 'data-cite="1"' in html and "<strong>Lao động</strong>" in html and "23/10/2024" in html
    abstained = _answer(answer="", abstained=True, citations=[])
    assert render.answer_markdown(abstained) == render.NOT_FOUND
    assert "Không có nguồn" in render.sources_html(abstained)


def test_document_html_escapes_and_highlights_the_cited_range():
    text = "Kính gửi: <Sở Y tế> & các đơn vị.\nI. NHIỆM VỤ\nBáo cáo trước ngày 10/11.\nHết."
    doc = Document(doc_id="d-0", file="x.txt", file_sha256="0", kind="txt", text=text,
                   metadata=DocumentMetadata(doc_type="công văn", number="1/UBND", date="2024-11-05"))
    start = text.index("Báo cáo")
    chunks = [Chunk(chunk_id="d-0:0", doc_id="d-0", ordinal=0, text=text[:start], start=0, end=start),
              Chunk(chunk_id="d-0:1", doc_id="d-0", ordinal=1, text=text[start:], start=start, end=len(text),
                    section=["I. NHIỆM VỤ"])]
    html = render.document_html(doc, chunks, highlight=(start, start + 25), quote="Báo cáo trước ngày 10/11.")
    assert '<mark id="cv-hit">Báo cáo trước ngày 10/11.</mark>' in html
    assert "&lt;Sở Y tế&gt; &amp; các" in html and "<Sở" not in html
    assert "I. NHIỆM VỤ</a>" in html and "05/11/2024" in html
    # Offsets from another index version: the quote is found instead.
    moved = render.document_html(doc, chunks, highlight=(0, 5), quote="Báo cáo trước ngày 10/11.")
    assert '<mark id="cv-hit">Báo cáo trước ngày 10/11.</mark>' in moved


def test_library_search_ignores_accents_and_filters():
    docs = [
        Document(doc_id="a-0", file="a.txt", file_sha256="0", kind="txt", text="",
                 metadata=DocumentMetadata(doc_type="kế hoạch", issuer="Ủy ban nhân dân huyện Bắc Sơn",
                                           subject="Công tác trẻ em năm 2024", number="/KH-UBND")),
        Document(doc_id="b-0", file="b.txt", file_sha256="0", kind="txt", text="",
                 metadata=DocumentMetadata(doc_type="công văn", issuer="Ủy ban nhân dân tỉnh Sóc Trăng",
                                           number="3452/UBND-VX", signer_name="Lâm Hoàng Nghiệp")),
    ]
    assert [d.doc_id for d in catalog.filter_documents(docs, "bac son tre em")] == ["a-0"]
    assert [d.doc_id for d in catalog.filter_documents(docs, "3452")] == ["b-0"]
    assert [d.doc_id for d in catalog.filter_documents(docs, "lam hoang nghiep")] == ["b-0"]
    assert [d.doc_id for d in catalog.filter_documents(docs, "", doc_type="kế hoạch")] == ["a-0"]
    assert catalog.filter_documents(docs, "", issuer="Ủy ban nhân dân tỉnh Sóc Trăng")[0].doc_id == "b-0"
    assert len(catalog.filter_documents(docs, "", catalog.ALL, catalog.ALL)) == 2
    assert catalog.scope_filters("doc:b-0") == {"doc_id": "b-0"}
    assert catalog.scope_filters("issuer:UBND tỉnh") == {"issuer": "UBND tỉnh"}
    assert catalog.scope_filters(catalog.ALL) == {}
    assert ("Văn bản: Công văn 3452/UBND-VX · Ủy ban nhân dân tỉnh Sóc Trăng", "doc:b-0") in catalog.scope_choices(docs)


def test_login_needs_both_user_and_password():
    from ingest.errors import CongvanError
    from rag.web.server import auth_of

    assert auth_of(Settings()) is None
    assert auth_of(Settings(auth_user="cb", auth_password="mk")) == ("cb", "mk")
    with pytest.raises(CongvanError, match="CONGVAN_AUTH_PASSWORD"):
        auth_of(Settings(auth_user="cb"))


def test_web_settings_defaults_bind_locally():
    s = Settings()
    assert (s.host, s.port, s.uploads_enabled, s.chat_concurrency) == ("127.0.0.1", 7860, True, 4)


def test_core_modules_never_import_the_web_package():
    for folder in ("ingest", "rag"):
        for path in (ROOT / folder).glob("*.py"):
            assert not re.search(r"^\s*(from|import) rag\.web", path.read_text(encoding="utf-8"), re.MULTILINE), path


# --------------------------------------------------------------------------- the running app


@pytest.fixture(scope="module")
def web_services(tmp_path_factory, embedder):
    """Three seeds ingested into a temporary data dir, opened once like ``python app.py`` does."""
    from rag.web.server import ensure_corpus, open_services

    base = tmp_path_factory.mktemp("web")
    corpus = base / "corpus"
    corpus.mkdir()
    for name in SEEDS:
        shutil.copy(CORPUS / name, corpus / name)
    settings = Settings(data_dir=base / "data", corpus_dir=corpus, max_file_mb=1)
    services = open_services(settings, embedder=embedder)
    summary = ensure_corpus(services)  # first run: ingests the corpus folder
    assert summary is not None and not summary.failed, summary
    assert ensure_corpus(services) is None  # later runs skip it
    yield services
    services.close()


@pytest.mark.slow
def test_upload_disabled_by_setting(web_services, tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text(GOOD_UPLOAD, encoding="utf-8")
    web_services.settings.uploads_enabled = False
    try:
        result = web_services.add_upload(bad, "x.txt")
    finally:
        web_services.settings.uploads_enabled = True
    assert not result.ok and "đang tắt" in result.message
    assert not (web_services.uploads_dir / "x.txt").exists()


@pytest.fixture(scope="module")
def app_url(web_services):
    from rag.web.layout import build_app
    from rag.web.server import launch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_app(web_services)
    _app, url, _share = launch(demo, web_services.settings, port=port, block=False, quiet=True)
    assert url.startswith("http://127.0.0.1:")
    yield url.rstrip("/")
    demo.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url)
    page.wait_for_selector("#cv-chat")
    yield page
    context.close()


def ask(page, question: str, answers: int) -> str:
    """Type a question, send it, wait for the ``answers``-th finished answer and return it."""
    page.locator("#cv-question textarea").fill(question)
    page.locator("#cv-send").click()
    return wait_answer(page, answers)


def wait_answer(page, answers: int) -> str:
    page.wait_for_function(
        """n => { const bots = document.querySelectorAll('#cv-chat .message-row.bot-row');
                 return bots.length >= n && !bots[n - 1].innerText.includes('Đang tìm'); }""", arg=answers)
    return page.locator("#cv-chat .message-row.bot-row").nth(answers - 1).inner_text()


@pytest.mark.slow
def test_example_question_gets_a_streamed_answer_with_sources(page):
    page.get_by_text("Đơn vị nào phải báo cáo trước ngày 10/11?").first.click()
    answer = wait_answer(page, 1)
    assert "[1]" in answer and "10/11" in answer and "Nguồn:" not in answer  # sources: the cards, once
    card = page.locator("#cv-sources .cv-source").first
    text = card.inner_text()
    assert "[1]" in text and re.search(r"\d{2}/\d{4}", text) and "Mục:" in text and "“" in text
    page.get_by_text("Sao chép câu trả lời kèm nguồn").click()
    copy = page.locator("#cv-copy textarea").input_value()
    assert copy.startswith("Câu hỏi: Đơn vị nào phải báo cáo") and "Nguồn:" in copy and "[1]" in copy


@pytest.mark.slow
def test_source_opens_document_with_passage_highlighted(page):
    ask(page, "Đơn vị nào phải báo cáo trước ngày 10/11?", 1)
    cards = page.locator("#cv-sources .cv-source")
    quote = cards.first.locator(".cv-quote").inner_text().strip("“”")
    cards.first.click()
    mark = page.locator("#cv-document mark")
    mark.wait_for()
    assert "10/11" in mark.inner_text()
    assert re.sub(r"[\s*]", "", quote)[:30] in re.sub(r"[\s*]", "", mark.inner_text())
    assert page.locator("#cv-document .cv-outline").count() == 1
    page.wait_for_function(
        """() => { const m = document.querySelector('#cv-document mark').getBoundingClientRect();
                   const box = document.querySelector('#cv-document .cv-text').getBoundingClientRect();
                   return m.top >= box.top - 1 && m.top < box.bottom && m.top >= 0 && m.top < innerHeight; }""")


@pytest.mark.slow
def test_follow_up_uses_the_earlier_question(page):
    first = ask(page, "Đơn vị nào phải báo cáo trước ngày 10/11?", 1)
    follow = ask(page, "Còn huyện Bắc Sơn thì sao?", 2)
    assert "Không tìm thấy" not in follow and "Bắc Sơn" in follow and "10/11" in follow
    assert first != follow or "Bắc Sơn" in first
    assert page.locator("#cv-chat .message-row.user-row").count() == 2


@pytest.mark.slow
def test_unanswerable_question_abstains(page):
    answer = ask(page, "Giá vàng hôm nay là bao nhiêu?", 1)
    assert "Không tìm thấy trong các văn bản đã nạp." in answer
    assert "Không có nguồn" in page.locator("#cv-sources").inner_text()


@pytest.mark.slow
def test_vote_with_comment_is_stored(page, web_services):
    before = len(web_services.feedback.records())
    ask(page, "Đơn vị nào phải báo cáo trước ngày 10/11?", 1)
    page.locator("#cv-comment textarea").fill("Thiếu hạn báo cáo 6 tháng")
    page.locator("#cv-down").click()
    deadline = time.time() + 15
    while len(web_services.feedback.records()) == before and time.time() < deadline:
        time.sleep(0.2)
    record = web_services.feedback.records()[-1]
    assert len(web_services.feedback.records()) == before + 1
    assert record["vote"] == "down" and record["comment"] == "Thiếu hạn báo cáo 6 tháng"
    assert record["question"] == "Đơn vị nào phải báo cáo trước ngày 10/11?" and record["sources"]
    page.wait_for_function("() => document.querySelector('#cv-comment textarea').value === ''")


@pytest.mark.slow
def test_a_failing_request_shows_an_error_and_the_app_keeps_working(page, web_services):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    web_services.assistant.stream = broken
    try:
        failed = ask(page, "Ai ký văn bản?", 1)
    finally:
        del web_services.assistant.stream
    assert "Lỗi:" in failed and "Đã có lỗi khi xử lý câu hỏi này" in failed and "boom" not in failed
    assert "[1]" in ask(page, "Đơn vị nào phải báo cáo trước ngày 10/11?", 2)


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


ROWS = "#cv-lib-table .virtual-row"


def _library_rows(page) -> list[str]:
    return page.locator(ROWS).all_inner_texts()


def _wait_rows(page, condition: str) -> None:
    """Wait until the library table's row count satisfies ``condition`` (JS, on ``n``)."""
    page.wait_for_function(f"() => {{ const n = document.querySelectorAll('{ROWS}').length; return {condition}; }}")


@pytest.mark.slow
def test_library_search_filter_and_open(page):
    _open_tab(page, "Thư viện văn bản")
    _wait_rows(page, "n >= 3")
    page.locator("#cv-lib-search input, #cv-lib-search textarea").first.fill("bac son")
    _wait_rows(page, "n === 1")
    assert "Bắc Sơn" in _library_rows(page)[0]
    page.locator("#cv-lib-search input, #cv-lib-search textarea").first.fill("")
    _wait_rows(page, "n >= 3")
    page.get_by_role("combobox", name="Cơ quan ban hành").click()
    page.get_by_role("option", name="Ủy ban nhân dân tỉnh Kon Tum").click()
    _wait_rows(page, "n === 1")
    assert "Kon Tum" in _library_rows(page)[0]
    assert "1** / " in page.locator("#cv-lib-count").inner_text() or "1 / " in page.locator("#cv-lib-count").inner_text()
    page.locator('#cv-lib-table [data-testid="cell-0-2"]').click()
    page.wait_for_selector("#cv-lib-document .cv-text")
    assert "Kon Tum" in page.locator("#cv-lib-document h3").inner_text()
    # The chosen document scopes the chat.
    page.locator("#cv-lib-ask").click()
    page.wait_for_function("() => document.querySelector('#cv-tab-chat').offsetParent !== null")
    assert "Kon Tum" in page.get_by_role("combobox", name="Phạm vi câu hỏi").input_value()


@pytest.mark.slow
def test_upload_good_file_then_it_is_in_the_library(page, web_services, tmp_path):
    good = tmp_path / "Công văn tập huấn 77.txt"
    good.write_text(GOOD_UPLOAD, encoding="utf-8")
    _open_tab(page, "Tải văn bản lên")
    page.locator("#cv-upload-files input[type=file]").set_input_files(str(good))
    page.locator("#cv-upload-submit").click()
    result = page.locator("#cv-upload-result .cv-ok")
    result.wait_for(timeout=60_000)
    assert "Đã nạp" in result.inner_text() and "1 văn bản" in result.inner_text()
    stored = list(web_services.uploads_dir.iterdir())
    assert [p.name for p in stored] == ["Công văn tập huấn 77.txt"]
    _open_tab(page, "Thư viện văn bản")
    page.locator("#cv-lib-search input, #cv-lib-search textarea").first.fill("tap huan")
    _wait_rows(page, "n === 1")
    assert "77/UBND-VP" in _library_rows(page)[0]
    _open_tab(page, "Hỏi đáp")
    answer = ask(page, "Lớp tập huấn sử dụng phần mềm hỏi đáp văn bản tổ chức ngày nào?", 1)
    assert "20/12/2024" in answer


@pytest.mark.slow
def test_upload_corrupt_file_shows_a_clear_error_and_changes_nothing(page, web_services, tmp_path):
    docs_before = {d.doc_id for d in web_services.documents()}
    bad = tmp_path / "hong.pdf"
    bad.write_bytes(b"this is not a pdf at all")
    _open_tab(page, "Tải văn bản lên")
    page.locator("#cv-upload-files input[type=file]").set_input_files(str(bad))
    page.locator("#cv-upload-submit").click()
    error = page.locator("#cv-upload-result .cv-bad")
    error.wait_for(timeout=60_000)
    assert "Không nạp được “hong.pdf”: tệp PDF bị hỏng" in error.inner_text()
    assert {d.doc_id for d in web_services.documents()} == docs_before
    assert not (web_services.uploads_dir / "hong.pdf").exists()


@pytest.mark.slow
def test_concurrent_users_through_the_api_get_answers(app_url):
    from evals.bench_load import is_loopback, run

    result = run(app_url, users=4, duration=3, think=0, turns=3, max_requests=40, timeout=30)
    assert result["errors"] == 0, result["error_samples"]
    assert result["ok"] >= 4 and result["latency_ms"]["p50"] is not None
    assert is_loopback("http://localhost:7860") and not is_loopback("http://10.0.0.5:7860")


@pytest.mark.slow
def test_login_is_required_when_configured(web_services):
    import httpx
    from pydantic import SecretStr

    from rag.web.layout import build_app
    from rag.web.server import launch

    settings = web_services.settings.model_copy(update={"auth_user": SecretStr("canbo"),
                                                        "auth_password": SecretStr("matkhau")})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_app(web_services)
    _app, url, _share = launch(demo, settings, port=port, block=False, quiet=True)
    try:
        with httpx.Client(base_url=url) as http:
            assert http.get("/config").status_code == 401
            assert http.post("/login", data={"username": "canbo", "password": "sai"}).status_code == 400
            assert http.post("/login", data={"username": "canbo", "password": "matkhau"}).status_code == 200
            assert http.get("/config").status_code == 200
    finally:
        demo.close()
