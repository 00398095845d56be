"""The API for programs: ``/answer`` through ``gradio_client`` against the real app.

Unit tests check the request validation (``rag.web.api.check_request``); the slow ones start the
app with the fixtures of ``tests/test_web.py`` (their own instance for this module: three seeds,
001 Kiên Giang, 003 Bắc Sơn, 004 Kon Tum) and call it as a program would.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rag.models import Answer
from rag.retrieve import FILTER_KEYS
from rag.web.api import MAX_HISTORY, ApiRejected, check_request
from tests.test_web import app_url, browser, page, wait_answer, web_services  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

QUESTION = "Đơn vị nào phải báo cáo trước ngày 10/11?"
BAC_SON_FIRST = "Kế hoạch của huyện Bắc Sơn yêu cầu báo cáo 6 tháng trước ngày nào?"
FOLLOW_UP = "còn báo cáo năm thì sao?"
BAC_SON_FILE = "003_ubnd_bac_son_ke_hoach_tre_em_2024.txt"


# --------------------------------------------------------------------------- validation (no server)


def test_a_valid_request_is_cleaned():
    assert check_request("  Ai ký?  ", [" trước ", "", "  "], {"doc_id": "abc", "issuer": "", "number": None},
                         max_chars=2000) == ("Ai ký?", ["trước"], {"doc_id": "abc"})
    assert check_request("Ai ký?", None, None, max_chars=2000) == ("Ai ký?", [], {})
    every = {key: "2024" for key in FILTER_KEYS}
    assert check_request("q", [], every, max_chars=2000)[2] == every


@pytest.mark.parametrize(("question", "history", "filters", "vietnamese", "english"), [
    ("q", [], {"loai": "x", "doc_id": "a"}, "Bộ lọc không được hỗ trợ: loai", "unknown filter key(s): loai"),
    ("q", [], ["doc_id"], "filters phải là một đối tượng", "filters must be an object"),
    ("q", [], {"doc_id": 3}, "Giá trị của bộ lọc doc_id phải là chuỗi", "filter doc_id must be a string"),
    ("q", [], {"date_from": "10/11/2024"}, "date_from phải có dạng 2024-10-23", "must look like 2024-10-23"),
    ("q", "trước", {}, "history phải là danh sách", "history must be a list"),
    ("q", [1], {}, "history phải là danh sách", "history must be a list"),
    ("q", ["a"] * (MAX_HISTORY + 1), {}, f"vượt giới hạn {MAX_HISTORY}", "over the limit"),
    (5, [], {}, "Câu hỏi phải là một chuỗi", "question must be a string"),
    ("   ", [], {}, "Hãy nhập câu hỏi", "the question is empty"),
    ("x" * 2001, [], {}, "Câu hỏi dài 2001 ký tự, vượt giới hạn 2000 ký tự",
     "the question is 2001 characters long, over the limit of 2000"),
    ("q", ["y" * 3000], {}, "Một câu hỏi trước trong cuộc trò chuyện dài 3000 ký tự",
     "an earlier question in history is 3000 characters long"),
])
def test_bad_requests_are_refused_in_vietnamese_and_english(question, history, filters, vietnamese, english):
    with pytest.raises(ApiRejected) as caught:
        check_request(question, history, filters, max_chars=2000)
    assert vietnamese in str(caught.value) and english in str(caught.value)


def test_unknown_filter_keys_name_the_supported_ones():
    with pytest.raises(ApiRejected, match="supported: issuer, doc_type, number, file, doc_id, date_from, date_to"):
        check_request("q", [], {"x" * 5000: "1"}, max_chars=2000)


# --------------------------------------------------------------------------- the running app


@pytest.fixture(scope="module")
def client(app_url):  # noqa: F811 - fixture
    from gradio_client import Client

    return Client(app_url, verbose=False, analytics_enabled=False)


def _files(answer: dict) -> set[str]:
    """The file names (without folders) the answer cites."""
    return {Path(c["file"]).name for c in answer["citations"]}


@pytest.mark.slow
def test_view_api_lists_only_the_documented_endpoint(client):
    info = client.view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == ["/answer"] and info["unnamed_endpoints"] == {}
    params = info["named_endpoints"]["/answer"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["question", "history", "filters"]
    assert [p["type"]["type"] for p in params] == ["string", "array", "object"]
    # The chat's own events are private: a program cannot call them by their old name.
    with pytest.raises(ValueError):
        client.predict("Ai ký?", "__all__", api_name="/ask")


@pytest.mark.slow
def test_answer_returns_the_json_of_congvan_ask(client, web_services):  # noqa: F811 - fixture
    result = client.predict(QUESTION, [], {}, api_name="/answer")
    assert isinstance(result, dict) and not result["abstained"]
    assert set(result) == set(Answer.model_fields)  # what `congvan ask --json` prints
    assert "10/11" in result["answer"] and result["citations"] and result["retrieved"]
    for c in result["citations"]:
        assert c["quote"] and c["n"] >= 1 and 0 <= c["start"] < c["end"] and "section" in c and "number" in c
    assert result["timings_ms"]["total"] > 0 and result["standalone_question"] is None
    assert Answer.model_validate(result).answer == result["answer"]
    # The same object the CLI prints for the same question (timings aside).
    direct = web_services.ask(QUESTION).model_dump(mode="json")
    assert {k: v for k, v in result.items() if k != "timings_ms"} == {k: v for k, v in direct.items()
                                                                     if k != "timings_ms"}


@pytest.mark.slow
def test_a_follow_up_with_history_answers_from_the_bac_son_plan(client):
    first = client.predict(BAC_SON_FIRST, [], {}, api_name="/answer")
    assert "15/5" in first["answer"] and BAC_SON_FILE in _files(first)
    follow = client.predict(FOLLOW_UP, [BAC_SON_FIRST], {}, api_name="/answer")
    assert not follow["abstained"] and "10/11" in follow["answer"], follow["answer"]
    assert follow["standalone_question"] and follow["standalone_question"] != FOLLOW_UP
    assert BAC_SON_FILE in _files(follow)
    assert any("10/11" in c["quote"] and Path(c["file"]).name == BAC_SON_FILE for c in follow["citations"])


@pytest.mark.slow
def test_calls_share_no_state(client, app_url):  # noqa: F811 - fixture
    from gradio_client import Client

    with_history = client.predict(FOLLOW_UP, [BAC_SON_FIRST], {}, api_name="/answer")
    # The same client, right after a call about Bắc Sơn: without history the follow-up is not
    # read as one (nothing of the earlier call was kept).
    client.predict(BAC_SON_FIRST, [], {}, api_name="/answer")
    alone = client.predict(FOLLOW_UP, [], {}, api_name="/answer")
    assert alone["standalone_question"] is None and alone["question"] == FOLLOW_UP
    assert alone["answer"] != with_history["answer"]
    # A fresh client sending the same history gets the same answer as the first one did.
    again = Client(app_url, verbose=False, analytics_enabled=False).predict(FOLLOW_UP, [BAC_SON_FIRST], {},
                                                                           api_name="/answer")
    assert again["answer"] == with_history["answer"]
    assert again["standalone_question"] == with_history["standalone_question"]


@pytest.mark.slow
def test_filters_limit_the_documents(client, web_services):  # noqa: F811 - fixture
    scoped = client.predict(QUESTION, [], {"file": "bac_son"}, api_name="/answer")
    assert scoped["citations"] and _files(scoped) == {BAC_SON_FILE}
    doc_id = next(d.doc_id for d in web_services.documents() if Path(d.file).name == BAC_SON_FILE)
    by_id = client.predict(QUESTION, [], {"doc_id": doc_id}, api_name="/answer")
    assert _files(by_id) == {BAC_SON_FILE}
    by_issuer = client.predict(QUESTION, [], {"issuer": "Bắc Sơn"}, api_name="/answer")
    assert by_issuer["citations"] and _files(by_issuer) == {BAC_SON_FILE}
    nothing = client.predict(QUESTION, [], {"doc_id": "khong-co"}, api_name="/answer")
    assert nothing["abstained"] and not nothing["citations"]


@pytest.mark.slow
def test_bad_requests_are_refused_with_a_clear_message_and_the_app_keeps_working(client):
    from gradio_client.exceptions import AppError

    began = time.perf_counter()
    with pytest.raises(AppError) as caught:
        client.predict("Đơn vị nào " + "x" * 200_000, [], {}, api_name="/answer")
    assert time.perf_counter() - began < 5
    assert "Câu hỏi dài 200011 ký tự, vượt giới hạn 2000 ký tự" in caught.value.message
    assert "over the limit of 2000" in caught.value.message
    with pytest.raises(AppError) as caught:
        client.predict(QUESTION, [], {"loai_van_ban": "kế hoạch"}, api_name="/answer")
    assert "Bộ lọc không được hỗ trợ: loai_van_ban" in caught.value.message
    assert "unknown filter key(s): loai_van_ban" in caught.value.message
    assert "10/11" in client.predict(QUESTION, [], {}, api_name="/answer")["answer"]


@pytest.mark.slow
def test_an_answer_over_the_time_budget_is_refused_with_a_message(client, web_services):  # noqa: F811 - fixture
    import threading

    from gradio_client.exceptions import AppError

    release = threading.Event()

    def slow(*args, **kwargs):
        yield "Đang trả lời"
        release.wait(60)
        yield "muộn"

    budget = web_services.settings.request_time_budget_s
    web_services.assistant.stream = slow
    web_services.settings.request_time_budget_s = 1.0
    try:
        began = time.perf_counter()
        with pytest.raises(AppError) as caught:
            client.predict(QUESTION, [], {}, api_name="/answer")
        elapsed = time.perf_counter() - began
    finally:
        web_services.settings.request_time_budget_s = budget
        del web_services.assistant.stream
        release.set()
    assert elapsed < 6, elapsed
    assert "cần hơn 1 giây để trả lời" in caught.value.message and "over 1 s" in caught.value.message


@pytest.mark.slow
def test_the_readme_example_runs(app_url, capsys):  # noqa: F811 - fixture
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## API for programs", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'Client("http://127.0.0.1:7860/")' in code
    exec(code.replace("http://127.0.0.1:7860/", app_url + "/"), {})  # noqa: S102 - our own README
    out = capsys.readouterr().out
    first, follow_up = out.split("→", 1)
    assert "[1]" in first and "10/11" in first and "10/11" in follow_up


@pytest.mark.slow
def test_the_chat_still_answers_on_enter_with_its_events_private(page):  # noqa: F811 - fixture
    page.locator("#cv-question textarea").fill(QUESTION)
    page.locator("#cv-question textarea").press("Enter")
    assert "10/11" in wait_answer(page, 1)
