"""Evaluation: metrics on hand-worked cases, test-set parsing, reports, the gold set, BEIR, runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from evals.beir import bench_beir
from evals.format import EvalInputError, QAItem, load_items, read_beir
from evals.metrics import (
    QuestionScores,
    aggregate,
    aggregate_by_tag,
    beir_scores,
    citation_precision,
    contains,
    fact_recall,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    novel_gains,
    passage_matches,
    percentile,
    recall_at_k,
    retrieval_scores,
    score_question,
)
from evals.report import (
    compare,
    load_result,
    render_html,
    render_markdown,
    write_report,
)
from evals.runner import (
    EvalResult,
    QuestionRecord,
    RetrievedRecord,
    run_eval,
    settings_snapshot,
)
from ingest.text.normalize import fold
from rag.cli import cli
from ingest.settings import Settings
from tests.conftest import CORPUS, ROOT

GOLD = ROOT / "evals" / "qa.jsonl"
L3 = 1 / math.log2(3)
L5 = 1 / math.log2(5)


# Metrics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gains, k, hit, mrr", [
    ([0, 1, 0], 1, 0.0, 0.0),
    ([0, 1, 0], 2, 1.0, 0.5),
    ([0, 0, 1], 10, 1.0, 1 / 3),
    ([0, 0, 1], 2, 0.0, 0.0),
    ([1], 1, 1.0, 1.0),
    ([], 5, 0.0, 0.0),
])
def test_hit_and_mrr(gains, k, hit, mrr):
    assert hit_at_k(gains, k) == hit
    assert mrr_at_k(gains, k) == pytest.approx(mrr)


@pytest.mark.parametrize("gains, ideal, k, expected", [
    ([1, 1], [1, 1], 10, 1.0),
    ([0, 1], [1], 10, L3),
    ([1, 0, 1], [1, 1], 3, 1.5 / (1 + L3)),
    ([1, 2], [2, 1], 10, (1 + 2 * L3) / (2 + L3)),  # graded relevance
    ([0, 0, 1], [1], 2, 0.0),
    ([1], [], 10, 0.0),
])
def test_ndcg(gains, ideal, k, expected):
    assert ndcg_at_k(gains, ideal, k) == pytest.approx(expected)


@pytest.mark.parametrize("matched, n, k, expected", [
    ([set(), {"a"}, {"a", "b"}], 3, 1, 0.0),
    ([set(), {"a"}, {"a", "b"}], 3, 2, 1 / 3),
    ([set(), {"a"}, {"a", "b"}], 3, 3, 2 / 3),
    ([{"a"}], 0, 5, 0.0),
])
def test_recall(matched, n, k, expected):
    assert recall_at_k(matched, n, k) == pytest.approx(expected)


def test_novel_gains_count_each_gold_quote_once():
    assert novel_gains([{0}, {0}, set(), {0, 1}, {1}]) == [1.0, 0.0, 0.0, 1.0, 0.0]


def test_retrieval_scores_of_one_ranking():
    # Two gold quotes; quote 0 at ranks 2 and 3, quote 1 at rank 4.
    s = retrieval_scores([set(), {0}, {0}, {1}], 2)
    assert s["hit@1"] == 0.0 and s["hit@3"] == 1.0 and s["hit@5"] == 1.0
    assert s["mrr@10"] == pytest.approx(0.5)
    assert s["recall@3"] == pytest.approx(0.5) and s["recall@5"] == 1.0
    assert s["ndcg@10"] == pytest.approx((L3 + L5) / (1 + L3))


@pytest.mark.parametrize("values, p, expected", [
    ([1, 2, 3, 4], 50, 2.5),
    ([4, 1, 3, 2], 50, 2.5),
    ([10], 95, 10),
    (list(range(1, 21)), 95, 19.05),
    ([], 50, None),
])
def test_percentile(values, p, expected):
    assert percentile(values, p) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("text, needle, expected", [
    ("Báo cáo năm trước ngày 10/11 hằng năm", "10/11", True),
    ("trước ngày 110/11", "10/11", False),  # word boundaries
    ("bao cao truoc ngay 15/5", "Báo cáo trước ngày 15/5", True),  # typed without diacritics
    ("vé S¢ Lao dong - Thuong binh va Xa\nhoi", "Sở Lao động – Thương binh và Xã hội", True),  # OCR, dash, wrap
    ("Ban Tuyên giáo Tỉnh uỷ chủ trì", "Tỉnh ủy", True),  # old/new tone placement
    ("trình UBND tỉnh **trong tháng 11/2024**.", "tháng 11/2024", True),  # Markdown emphasis
    ("đạt 97,2%", "97%", False),
    ("anything", "", False),
])
def test_contains(text, needle, expected):
    assert contains(text, needle) is expected


@pytest.mark.parametrize("passage, quote, expected", [
    ("Sở đề nghị báo cáo năm trước ngày 10/11 theo mẫu.", "báo cáo năm trước ngày 10/11", True),
    # A quote cut by a chunk boundary: this chunk holds 4 of its 7 words.
    ("... các xã, thị trấn định kỳ báo cáo 6 tháng", "định kỳ báo cáo 6 tháng trước ngày", True),
    # Only 3 of 9 words shared: not the same passage.
    ("định kỳ báo cáo quý", "định kỳ báo cáo 6 tháng trước ngày 15/5 hằng năm", False),
    ("Lâm Hoàng Nghiệp", "Lâm Hoàng Nghiệp", True),
    ("Lâm Hoàng", "Lâm Hoàng Nghiệp", False),  # a short quote must be contained whole
])
def test_passage_matches(passage, quote, expected):
    assert passage_matches(passage, quote) is expected


def test_fact_recall_and_citation_precision():
    assert fact_recall("Báo cáo trước ngày 10/11 và 15/5.", ["10/11", "20/11"]) == 0.5
    assert fact_recall("anything", []) is None
    gold = [("báo cáo năm (*trước ngày 10/11*)", "corpus/003.txt")]
    cited = [("định kỳ báo cáo 6 tháng (*trước ngày 15/5*) và báo cáo năm (*trước ngày 10/11*) theo hướng dẫn", "corpus/003.txt"),
             ("Tổng đài quốc gia bảo vệ trẻ em số điện thoại 111", "corpus/003.txt")]
    assert citation_precision(cited, gold) == 0.5
    assert citation_precision(cited[:1], [(gold[0][0], "corpus/001.txt")]) == 0.0  # another file
    assert citation_precision([], gold) is None


def test_aggregate_overall_and_per_tag():
    scores = [
        QuestionScores(answerable=True, abstained=False, latency_ms=10, fact_recall=1.0, citation_precision=1.0,
                       retrieval={"hit@5": 1.0, "mrr@10": 1.0}, tags=["deadline"]),
        QuestionScores(answerable=True, abstained=True, latency_ms=20, fact_recall=0.0,
                       retrieval={"hit@5": 0.0, "mrr@10": 0.0}, tags=["deadline", "ocr"]),
        QuestionScores(answerable=False, abstained=True, latency_ms=30, tags=["unanswerable"]),
        QuestionScores(answerable=False, abstained=False, latency_ms=40, tags=["unanswerable"]),
    ]
    m = aggregate(scores)
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (4, 2, 2)
    assert m["hit@5"] == 0.5 and m["mrr@10"] == 0.5
    assert m["fact_recall"] == 0.5
    assert m["citation_precision"] == 1.0  # the abstained answer cited nothing: not counted
    assert m["abstention_accuracy"] == 0.5 and m["false_abstention_rate"] == 0.5
    assert m["latency_p50_ms"] == 25 and m["latency_p95_ms"] == pytest.approx(38.5)
    by_tag = aggregate_by_tag(scores)
    assert list(by_tag) == ["deadline", "ocr", "unanswerable"]
    assert by_tag["ocr"]["hit@5"] == 0.0 and by_tag["deadline"]["questions"] == 2
    assert by_tag["unanswerable"]["hit@5"] is None and by_tag["unanswerable"]["abstention_accuracy"] == 0.5


def test_related_hit_counts_declined_answerable_questions_that_point_at_the_answer():
    gold = [("báo cáo năm trước ngày 10/11", "docs/a.txt")]
    right = ("Các xã gửi báo cáo năm trước ngày 10/11 về Sở Y tế.", "docs/a.txt")
    wrong = ("Tổng đài quốc gia bảo vệ trẻ em số điện thoại 111", "docs/a.txt")

    def scored(*, answerable=True, abstained=True, related=()):
        return score_question(answerable=answerable, gold=gold if answerable else [], facts=["10/11"] if answerable
                              else [], ranked=[], answer="", abstained=abstained, cited=[], related=related)

    pointing = scored(related=[wrong, right])      # uncertain, and one related passage is gold
    elsewhere = scored(related=[wrong])            # uncertain, its related passages miss
    bare = scored()                                # a bare "not found": nothing to point at
    answered = scored(abstained=False)             # answered: not a decline
    unanswerable = scored(answerable=False, related=[wrong])
    assert (pointing.related_hit, elsewhere.related_hit, bare.related_hit) == (1.0, 0.0, 0.0)
    assert answered.related_hit is None and unanswerable.related_hit is None
    m = aggregate([pointing, elsewhere, bare, answered, unanswerable])
    assert m["related_hit"] == pytest.approx(1 / 3)


def test_beir_scores():
    s = beir_scores(["d3", "d1", "d2"], {"d1": 1})
    assert (s["recall@1"], s["recall@5"], s["recall@10"]) == (0.0, 1.0, 1.0)
    assert s["mrr@10"] == 0.5 and s["ndcg@10"] == pytest.approx(L3)


# Test-set formats ------------------------------------------------------------------------


def test_jsonl_bad_rows_are_reported_with_line_numbers(tmp_path):
    good = {"id": "a", "question": "Hạn báo cáo?", "facts": ["10/11"], "sources": [{"quote": "trước ngày 10/11"}]}
    lines = [
        json.dumps(good, ensure_ascii=False),                                    # 1 ok
        '{"id": "b", "question": "unterminated',                                 # 2 invalid JSON
        json.dumps({"id": "c", "sources": ["x y z"]}),                           # 3 no question
        json.dumps({"id": "d", "question": "q", "facts": "10/11", "sources": ["x"]}),  # 4 wrong type
        json.dumps({"id": "e", "question": "q", "answerable": True}),            # 5 answerable, no sources
        "",                                                                      # 6 blank: skipped
        json.dumps(good, ensure_ascii=False),                                    # 7 duplicate id
        json.dumps({"id": "f", "question": "Ai là Chủ tịch?", "answerable": False, "tags": ["unanswerable"]}),  # 8 ok
        json.dumps({"id": "g", "question": "q", "answerable": "yes", "sources": ["x"]}),  # 9 wrong type
        "[1, 2]",                                                                # 10 not an object
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_items(path)
    assert [i.id for i in result.items] == ["a", "f"]
    assert result.items[0].sources[0].quote == "trước ngày 10/11" and result.items[1].answerable is False
    assert [e.line for e in result.errors] == [2, 3, 4, 5, 7, 9, 10]
    messages = {e.line: str(e) for e in result.errors}
    assert all(m.startswith(f"{path}:{line}: ") for line, m in messages.items())
    assert "invalid JSON" in messages[2]
    assert "question" in messages[3]
    assert "facts" in messages[4]
    assert "source quote" in messages[5]
    assert "duplicate id 'a'" in messages[7] and "line 1" in messages[7]
    assert "answerable" in messages[9]


def test_csv_rows_with_lists_and_line_numbers(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text(
        "id,question,reference_answer,facts,sources,answerable,tags\n"            # 1
        "c1,Hạn báo cáo năm?,Trước 10/11,10/11|15/5,trước ngày 10/11|trước ngày 15/5,true,deadline|ocr\n"  # 2
        'c2,"Câu hỏi\nhai dòng",,,một câu trích dẫn,yes,\n'                      # 3-4
        "c3,Câu ba,,,x y z,maybe,\n"                                              # 5 bad boolean
        "c4,,,,x y z,true,\n"                                                     # 6 no question
        "c5,Có số liệu không?,,,,false,unanswerable\n"                            # 7 ok
        "c6,Thiếu nguồn,,,,true,\n",                                              # 8 no sources
        encoding="utf-8",
    )
    result = load_items(path)
    assert [i.id for i in result.items] == ["c1", "c2", "c5"]
    c1 = result.items[0]
    assert c1.facts == ["10/11", "15/5"] and c1.tags == ["deadline", "ocr"]
    assert [s.quote for s in c1.sources] == ["trước ngày 10/11", "trước ngày 15/5"]
    assert result.items[1].question == "Câu hỏi\nhai dòng"
    assert [e.line for e in result.errors] == [5, 6, 8]
    assert str(result.errors[0]).startswith(f"{path}:5: answerable")


def test_csv_without_question_column_and_unknown_format(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="question"):
        load_items(bad)
    other = tmp_path / "set.xlsx"
    other.write_text("", encoding="utf-8")
    with pytest.raises(EvalInputError, match="unknown test-set format"):
        load_items(other)
    with pytest.raises(EvalInputError, match="no such file"):
        load_items(tmp_path / "missing.jsonl")


# The gold set ----------------------------------------------------------------------------


def _collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def gold_items() -> list[QAItem]:
    result = load_items(GOLD)
    assert not result.errors, [str(e) for e in result.errors]
    return result.items


def test_gold_set_shape(gold_items):
    assert len(gold_items) >= 60
    tags = [t for item in gold_items for t in item.tags]
    assert sum(not i.answerable for i in gold_items) >= 8
    assert all("unanswerable" in i.tags for i in gold_items if not i.answerable)
    unaccented = [i for i in gold_items if "no-diacritics" in i.tags]
    assert len(unaccented) >= 8
    assert all(fold(i.question) == i.question.lower() for i in unaccented), "a no-diacritics question has accents"
    for tag in ("deadline", "responsibility", "target", "signer", "number-date", "cross-document", "ocr", "paraphrase"):
        assert tag in tags, tag
    assert any(len({s.file for s in i.sources}) > 1 for i in gold_items if "cross-document" in i.tags)


def test_every_gold_quote_is_verbatim_in_the_corpus(gold_items):
    files = {p.relative_to(ROOT).as_posix(): _collapse(p.read_text(encoding="utf-8")) for p in CORPUS.iterdir()}
    for item in gold_items:
        for source in item.sources:
            candidates = [source.file] if source.file else list(files)
            assert all(c in files for c in candidates), f"{item.id}: unknown file {source.file}"
            assert any(_collapse(source.quote) in files[c] for c in candidates), f"{item.id}: {source.quote!r}"
        if "ocr" in item.tags:
            assert any(s.file and "_ocr" in s.file for s in item.sources), f"{item.id}: tagged ocr without an OCR quote"


def test_every_gold_fact_occurs_in_its_sources(gold_items):
    texts = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in CORPUS.iterdir()}
    for item in gold_items:
        files = {s.file for s in item.sources if s.file} or set(texts)
        for fact in item.facts:
            assert any(contains(texts[f], fact) for f in files), f"{item.id}: fact {fact!r} not in its sources"


# Results and reports ---------------------------------------------------------------------


def _result(label: str, *, hit: float, failed: list[str]) -> EvalResult:
    records = [
        QuestionRecord(id="q1", question="Hạn báo cáo năm?", tags=["deadline"], answerable=True,
                       facts=["10/11"], facts_found=["q1" not in failed], answer="Trước ngày 10/11 [1].",
                       gold_quotes=[{"quote": "trước ngày 10/11", "file": None}],
                       retrieved=[RetrievedRecord(rank=1, doc_id="d", file="corpus/003.txt", section="VI", score=0.5,
                                                  text="báo cáo năm <b>trước ngày 10/11</b>", matches=[0])],
                       failures=["missing facts: 10/11"] if "q1" in failed else []),
        QuestionRecord(id="u1", question="Ai là Chủ tịch tỉnh Lạng Sơn?", tags=["unanswerable"], answerable=False,
                       answer="Không tìm thấy.", abstained=True,
                       failures=["answered an unanswerable question"] if "u1" in failed else []),
    ]
    metrics = {"questions": 2, "answerable": 1, "unanswerable": 1, "errors": 0, "hit@5": hit, "mrr@10": hit,
               "fact_recall": 1.0, "abstention_accuracy": 1.0, "latency_p50_ms": 40.0, "latency_p95_ms": 80.0}
    return EvalResult(config_label=label, timestamp="2025-01-01T00:00:00+00:00", git_commit="abc123",
                      run={"mode": "hybrid", "top_k": 8, "questions": 2, "test_set": "qa.jsonl", "seconds": 1.0},
                      metrics=metrics, by_tag={"deadline": {"questions": 1, "hit@5": hit, "fact_recall": 1.0}},
                      records=records, failures=failed)


def test_compare_shows_both_runs_and_deltas(tmp_path):
    a = _result("sparse", hit=0.5, failed=["q1"]).save(tmp_path / "a.json")
    b = _result("hybrid", hit=1.0, failed=["u1"]).save(tmp_path / "b.json")
    text = compare(a, b)
    assert "| metric | sparse | hybrid | Δ (B − A) |" in text
    assert "| hit@5 | 0.500 | 1.000 | +0.500 |" in text
    assert "| latency p50 (ms) | 40.0 | 40.0 | +0.0 |" in text
    assert "| deadline | 0.500 | 1.000 | +0.500 |" in text
    assert "## Failing in hybrid only (1)\n\n- u1: Ai là Chủ tịch tỉnh Lạng Sơn?" in text
    assert "## Failing in sparse only (1)\n\n- q1: Hạn báo cáo năm?" in text
    result = CliRunner().invoke(cli, ["eval", "compare", str(a), str(b)])
    assert result.exit_code == 0 and "+0.500" in result.output


def test_reports_list_failures_and_are_self_contained(tmp_path):
    result = _result("hybrid", hit=0.5, failed=["q1"])
    md = render_markdown(result)
    assert "# Báo cáo đánh giá: hybrid" in md and "## Câu không đạt (1)" in md
    assert "### q1: Hạn báo cáo năm?" in md and "thiếu dữ kiện: 10/11" in md and "**[nguồn đúng]**" in md
    page = render_html(result)
    assert "<svg" in page and "<style>" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
    assert "&lt;b&gt;trước ngày 10/11&lt;/b&gt;" in page  # chunk text is escaped
    md_path, html_path = write_report(result, tmp_path / "report")
    assert md_path.read_text(encoding="utf-8") == md and html_path.is_file()
    assert load_result(json.loads(result.model_dump_json())).records[0].id == "q1"


def test_settings_snapshot_leaves_secrets_out():
    snap = settings_snapshot(Settings(qdrant_url="https://user:pw@qdrant.example:6333", qdrant_api_key="s3cret"))
    assert snap["qdrant_api_key"] == "***" and snap["qdrant_url"] == "https://qdrant.example:6333"
    assert snap["embed_max_tokens"] == 512 and "s3cret" not in json.dumps(snap)


# BEIR ------------------------------------------------------------------------------------

_TOY = {
    "d1": ("Luật Trẻ em - Điều 1", "Trẻ em là người dưới 16 tuổi."),
    "d2": ("Luật Giáo dục - Điều 2", "Giáo dục phổ thông gồm tiểu học, trung học cơ sở và trung học phổ thông."),
    "d3": ("Luật Giao thông - Điều 3", "Người điều khiển xe mô tô phải đội mũ bảo hiểm."),
    "d4": ("Luật Lao động - Điều 4", "Thời giờ làm việc bình thường không quá 8 giờ trong một ngày."),
    "d5": ("Luật Hôn nhân - Điều 5", "Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi được kết hôn."),
    "d6": ("Luật Cư trú - Điều 6", "Công dân có quyền tự do cư trú theo quy định của luật."),
}
_TOY_QUERIES = {
    "q1": ("Trẻ em là người dưới bao nhiêu tuổi?", "d1"),
    "q2": ("Thời giờ làm việc bình thường tối đa mấy giờ một ngày?", "d4"),
    "q3": ("nu du bao nhieu tuoi duoc ket hon", "d5"),
    "q4": ("Đi xe mô tô có phải đội mũ bảo hiểm không?", "d3"),
}


@pytest.fixture
def toy_beir(tmp_path) -> Path:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=False) + "\n" for i, (t, x) in _TOY.items()), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(
        json.dumps({"_id": q, "text": t}, ensure_ascii=False) + "\n" for q, (t, _) in _TOY_QUERIES.items())
        + json.dumps({"_id": "q9", "text": "không có đánh giá"}) + "\n", encoding="utf-8")
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t1\n" for q, (_, d) in _TOY_QUERIES.items()), encoding="utf-8")
    return folder


def test_read_beir(toy_beir):
    data = read_beir(toy_beir)
    assert len(data.corpus) == 6 and set(data.queries) == {"q1", "q2", "q3", "q4"}  # q9 has no judgement
    assert data.qrels["q3"] == {"d5": 1}
    (toy_beir / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"qrels.tsv:2:"):
        read_beir(toy_beir)


def test_bench_beir_sparse_end_to_end(toy_beir):
    result = bench_beir(toy_beir, Settings(), modes=("sparse",))
    sparse = result["modes"]["sparse"]
    assert result["corpus_size"] == 6 and result["queries"] == 4 and result["embed_model"] is None
    assert sparse["recall@1"] == 1.0 and sparse["mrr@10"] == 1.0 and sparse["ndcg@10"] == 1.0
    assert sparse["query_p50_ms"] > 0 and sparse["missed_at_10"] == []
    assert result["memory"]["peak_rss_end_mib"] > 0 and "getrusage" in result["memory"]["how"]
    assert result["index"]["embed_s"] == 0.0


def test_bench_beir_command_writes_json(toy_beir, tmp_path):
    out = tmp_path / "beir.json"
    result = CliRunner().invoke(cli, ["bench", "beir", str(toy_beir), "--mode", "sparse", "--limit", "2",
                                      "--json", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "sparse" in result.output and "MRR@10" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["queries"] == 2


@pytest.mark.slow
def test_bench_beir_hybrid(toy_beir, embedder):
    result = bench_beir(toy_beir, Settings(), modes=("hybrid",), embedder=embedder)
    hybrid = result["modes"]["hybrid"]
    assert result["embed_model"] == embedder.name and result["index"]["embed_s"] > 0
    assert 0.0 <= hybrid["mrr@10"] <= 1.0 and hybrid["recall@10"] == 1.0  # six passages: all are in the top 10


# A real run ------------------------------------------------------------------------------


def test_eval_command_refuses_unusable_input(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": 1}\nnot json\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(bad), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code != 0
    assert f"{bad}:1:" in result.output and f"{bad}:2:" in result.output and "no usable question" in result.output
    missing = CliRunner().invoke(cli, ["eval", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code != 0 and "no such file" in missing.output


@pytest.mark.slow
def test_run_eval_against_the_corpus(corpus_index, tmp_path):
    from rag.assistant import Assistant

    items = [item for item in load_items(GOLD).items if item.id in ("q01", "q47", "u07")]
    result = run_eval(Assistant(corpus_index), items, config_label="test", test_set=str(GOLD))
    assert [r.id for r in result.records] == ["q01", "q47", "u07"]
    assert result.metrics["questions"] == 3 and result.metrics["unanswerable"] == 1
    for key in ("hit@5", "mrr@10", "ndcg@10", "fact_recall", "abstention_accuracy", "latency_p50_ms"):
        assert key in result.metrics
    assert set(result.by_tag) >= {"deadline", "signer", "unanswerable"}
    q01 = result.records[0]
    assert q01.retrieved and all(r.file.startswith("corpus/") for r in q01.retrieved)
    assert q01.latency_ms and q01.latency_ms > 0 and "total" in q01.timings_ms
    assert len(q01.facts_found) == 1
    assert result.settings["data_dir"] and result.run["mode"] == "hybrid"
    assert set(result.failures) == {r.id for r in result.records if r.failures}
    saved = load_result(result.save(tmp_path / "r.json"))
    assert saved.metrics == result.metrics
    assert "Báo cáo đánh giá: test" in render_markdown(saved)
