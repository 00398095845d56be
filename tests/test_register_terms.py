"""Register evidence found through the index (issue 15): items carry their terms and a sparse
vector of them, a question scores only the items the index ranks first among those naming its
places, and where the register is small enough to score every item, the result is the scan's."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from ingest.index import Index
from ingest.register import load_register, register_evidence, register_points, terms_indexed
from ingest.register import storage
from ingest.register.models import Obligation
from ingest.register.evidence import asking_words
from ingest.register.terms import item_terms, obligation_own, question_vector, target_own
from ingest.sparse import tokenize
from ingest.settings import Settings
from rag.assistant import Assistant
from rag.query import Question
from tests.test_sparse_first import FLOODS

@contextmanager
def _one_file(tmp_path, embedder, name: str, text: str):
    """An embedded index holding one file ``docs/name`` of ``text``, ingested; yields (index, docs)."""
    from ingest.pipeline import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / name).write_text(text, encoding="utf-8")
    with Index.open(Settings(data_dir=tmp_path / "data", files_root=tmp_path), embedder=embedder) as index:
        ingest_paths(index, [docs])
        yield index, docs


def test_items_store_their_terms_and_every_question_gets_the_scans_evidence(corpus_index):
    register = load_register(corpus_index)
    assert register.obligations and register.targets and terms_indexed(corpus_index)
    points = register_points(register)
    items = [*register.obligations, *register.targets]
    for point, item in zip(points, items):
        assert point.payload["terms"] == item_terms(item) and point.payload["terms"]
        assert all(" " not in t for t in point.payload["terms"])  # single syllables and codes
        # Every word of the item's own fields, its sentence and the numbers its document cites
        # can be asked for: the filter must find the item by any of them.
        own = obligation_own(item) if isinstance(item, Obligation) else target_own(item)
        texts = [*own, item.source.quote, *item.source.references]
        assert {t for t in tokenize(" ".join(texts)) if " " not in t} <= set(point.payload["terms"])
    assert all("terms" not in p.payload for p in points[len(items):])  # relations are not searched
    questions = [
        "Đơn vị nào phải báo cáo trước ngày 10/11?",
        "Kế hoạch của huyện Bắc Sơn yêu cầu báo cáo 6 tháng trước ngày nào?",
        "Sở Lao động - Thương binh và Xã hội phải làm gì?",
        "Tỷ lệ trẻ em có hoàn cảnh đặc biệt được trợ giúp phấn đấu đạt bao nhiêu phần trăm?",
        "Công văn 2577/UBND-KGVX yêu cầu báo cáo khi nào?",
        "Hạn nộp báo cáo năm là khi nào?",
        "Ai ký văn bản?",
        "Huyện Bắc Sơn phải báo cáo kết quả thực hiện kế hoạch trước ngày nào?",  # a name
        "Tỉnh Cà Mau phải báo cáo trước ngày nào?",  # a name no item holds
    ]
    found = 0
    for text in questions:
        q = Question.parse(text, [])
        through_index = register_evidence(q, corpus_index, settings=corpus_index.settings)
        scanned = register_evidence(q, register, settings=corpus_index.settings)
        assert [e.model_dump() for e in through_index] == [e.model_dump() for e in scanned], text
        found += bool(scanned)
    assert found >= 4  # the comparison is not between empty lists


def test_a_question_naming_a_place_reads_only_the_items_that_name_it(corpus_index, monkeypatch):
    reads, whole = [], []
    original, original_items = storage.ranked_match_terms, storage.items_by_id

    def recording(index, kind, query, limit, *, all_of=(), any_of=()):
        found = original(index, kind, query, limit, all_of=all_of, any_of=any_of)
        reads.append((set(all_of), found))
        return found

    def reading(index, kind, ids):
        ids = list(ids)
        whole.extend(ids)
        return original_items(index, kind, ids)

    monkeypatch.setattr("ingest.register.evidence.ranked_match_terms", recording)
    monkeypatch.setattr("ingest.register.evidence.items_by_id", reading)
    q = Question.parse("Huyện Bắc Sơn báo cáo kết quả hằng năm trước ngày nào?", [])
    evidence = register_evidence(q, corpus_index, settings=corpus_index.settings)
    assert evidence and reads and all(required == {"bac", "son"} for required, _ in reads)
    for _, found in reads:
        assert all(m.holds("bac", references=True) and m.holds("son", references=True) for m in found.values())
    # Candidates are scored from their stored terms; only those that match are read whole.
    candidates = {item_id for _, found in reads for item_id in found}
    assert {e.obligation.id for e in evidence} <= set(whole) < candidates


def test_the_assistant_answers_from_the_register_without_loading_it(corpus_index, monkeypatch):
    assistant = Assistant(corpus_index)
    expected = assistant.ask("Đơn vị nào phải báo cáo trước ngày 10/11?")

    def no_scan(index):
        raise AssertionError("the whole register was read")

    monkeypatch.setattr("rag.assistant.load_register", no_scan)
    monkeypatch.setattr("ingest.register.evidence.load_register", no_scan)
    fresh = Assistant(corpus_index)
    answer = fresh.ask("Đơn vị nào phải báo cáo trước ngày 10/11?")
    assert answer.answer == expected.answer and "10/11" in answer.answer
    assert [c.quote for c in answer.citations] == [c.quote for c in expected.citations]




def test_an_index_whose_items_lack_terms_is_scanned(tmp_path, embedder):
    with _one_file(tmp_path, embedder, "de_bao.txt", FLOODS) as (index, _):
        settings = index.settings
        register = load_register(index)
        assert register.obligations
        # As an index written before items carried terms: the same items, without them.
        old = register_points(register)
        for p in old:
            p.payload.pop("terms", None)
            p.payload.pop("terms_version", None)
        index.store.upsert(old)
        assert not terms_indexed(index)
        question = Question.parse("Trưởng các thôn phải báo cáo số hộ dân vùng trũng trước ngày nào?", [])
        scanned = register_evidence(question, register, settings=settings)
        assert scanned and "15/10/2024" in scanned[0].line
        # Read through the index, the items would not be found: the register is scanned instead.
        assert register_evidence(question, index, settings=settings) == scanned
        assistant = Assistant(index)
        assert assistant.register_indexed is False
        assert "15/10" in assistant.ask("Trưởng các thôn phải báo cáo số hộ dân vùng trũng trước ngày nào?").answer
        # The items written again by this version carry their terms.
        index.store.upsert(register_points(register))
        assistant.refresh()
        assert assistant.register_indexed is True
        assert register_evidence(question, index, settings=settings) == scanned
        query = question_vector(["trung"], [], ())

        def found(all_of=(), any_of=()):
            return storage.ranked_match_terms(index, "obligation", query, 100, all_of=all_of, any_of=any_of)

        assert found() and found(all_of=["trung", "thon"]) and found(any_of=["zzz", "trung"])
        assert not found(all_of=["trung", "zzz"])
        assert not found(any_of=["khong-co-tu-nay"])


def test_an_ingest_brings_items_of_an_older_terms_version_up_to_date(tmp_path, embedder, caplog):
    from ingest.pipeline import ingest_paths

    question = Question.parse("Trưởng các thôn phải báo cáo số hộ dân vùng trũng trước ngày nào?", [])
    with _one_file(tmp_path, embedder, "de_bao.txt", FLOODS) as (index, docs):
        settings = index.settings
        register = load_register(index)
        scanned = register_evidence(question, register, settings=settings)
        assert scanned and "15/10/2024" in scanned[0].line
        # As written by the previous version: terms, but not what scoring reads.
        old = register_points(register)
        for p in old:
            if "match" in p.payload:
                del p.payload["match"]
                p.payload["terms_version"] = 1
        index.store.upsert(old)
        assert not terms_indexed(index)
        summary = ingest_paths(index, [docs])  # the file is unchanged: nothing is parsed again
        assert [o.status for o in summary.outcomes] == ["unchanged"]
        # Minutes on a large archive, once: the user is told what the pause is.
        assert f"bringing the search terms of {len(old) - len(register.relations)} item(s)" in caplog.text
        assert terms_indexed(index) and load_register(index) == register
        assert register_evidence(question, index, settings=settings) == scanned
        assert storage.upgrade_terms(index) == 0  # nothing left to do


APART = """ỦY BAN NHÂN DÂN
TỈNH THỬ NGHIỆM
Số: 15/UBND-VX
V/v báo cáo kết quả tiêm chủng

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Thử Nghiệm, ngày 02 tháng 10 năm 2024

Kính gửi: Các trung tâm y tế.

1. Trung tâm Y tế huyện Bắc Sơn báo cáo kết quả tiêm chủng sởi trước ngày 10/11/2024.

2. Trung tâm Y tế Bắc Giang và Trung tâm Y tế Sơn La báo cáo kết quả tiêm chủng sởi trước ngày 20/11/2024.
"""


def test_a_named_place_matches_only_where_its_syllables_stand_together(tmp_path, embedder):
    with _one_file(tmp_path, embedder, "tiem_chung.txt", APART) as (index, _):
        settings = index.settings
        register = load_register(index)
        assert len(register.obligations) == 2  # "Bắc Giang ... Sơn La" holds both syllables, apart
        q = Question.parse("Trung tâm Y tế huyện Bắc Sơn báo cáo kết quả tiêm chủng sởi trước ngày nào?", [])
        assert q.names and "bac son" in q.names
        scanned = register_evidence(q, register, settings=settings)
        assert [e.obligation.deadline.date for e in scanned] == ["2024-11-10"]
        assert register_evidence(q, index, settings=settings) == scanned


@pytest.mark.parametrize("question, asking, about", [
    # Written, a question word is told from the word it folds like: "bao nhiêu" asks, "báo cáo",
    # "bảo vệ" and "đất" say what about.
    ("Sở Tài chính phải báo cáo kết quả bảo vệ đất đai trước ngày nào?", {"phai", "truoc", "ngay", "nao"},
     {"bao", "dat", "tai"}),
    ("Tỷ lệ đạt bao nhiêu phần trăm?", {"ty", "le", "dat", "bao", "nhieu", "phan", "tram"}, set()),
    # "bao" asks in "bao nhiêu" and says what about in "báo cáo": it stays a word of the question.
    ("Báo cáo bao nhiêu lần?", {"nhieu"}, {"bao", "cao"}),
    # Typed without diacritics, every syllable that folds like a question word asks.
    ("so tai chinh phai bao cao truoc ngay nao", {"bao", "phai", "truoc", "ngay", "nao"}, {"tai", "cao"}),
    # "chủ trì" asks which unit leads, which every obligation's units do; elsewhere "chủ" and
    # "trì" say what about ("chủ rừng", "duy trì").
    ("Đơn vị nào chủ trì xử lý khai thác khoáng sản bằng tàu cuốc?", {"chu", "tri"}, {"xu", "tau"}),
    ("don vi nao chu tri xu ly tau cuoc", {"chu", "tri"}, {"xu", "tau"}),
    ("Chủ rừng phải duy trì lực lượng bảo vệ rừng thế nào?", set(), {"chu", "tri"}),
])
def test_question_words_are_told_apart_as_written(question, asking, about):
    words = asking_words(question)
    assert asking <= words
    assert not about & words


def _obligation(i: int, action: str) -> Obligation:
    from ingest.register.models import Deadline, SourceRef

    source = SourceRef(doc_id=f"d{i:02d}", file=f"d{i:02d}.txt", number=f"{i}/KH-UBND", doc_type="kế hoạch",
                       quote=f"Sở Y tế {action} trước ngày 10/11/2026.", start=0, end=40)
    return Obligation(id=f"d{i:02d}:o0", units=["Sở Y tế"], units_from="sentence", action=action,
                      deadline=Deadline(kind="date", date="2026-11-10", text="trước ngày 10/11/2026", start=0, end=10),
                      source=source)


def test_a_question_scores_only_the_items_the_index_ranks_first(tmp_path, embedder, monkeypatch):
    """A plan repeated in every year's folder gives thousands of items of the same words: a
    question scores at most ``evidence_candidates`` of them, those holding its rarer words first."""
    from ingest.register.models import Register

    common = [_obligation(i, "báo cáo kết quả thực hiện nhiệm vụ") for i in range(30)]
    rare = _obligation(30, "báo cáo kết quả tiêm chủng vắc xin")  # last in id and file order
    register = Register(obligations=[*common, rare])
    scored = []
    original = storage.ranked_match_terms

    def recording(*args, **kwargs):
        found = original(*args, **kwargs)
        scored.append(len(found))
        return found

    monkeypatch.setattr("ingest.register.evidence.ranked_match_terms", recording)
    with Index.open(Settings(data_dir=tmp_path / "data"), embedder=embedder) as index:
        index.store.upsert(register_points(register))
        assert terms_indexed(index)
        q = Question.parse("Sở Y tế phải báo cáo kết quả tiêm chủng vắc xin trước ngày nào?", [])
        small = index.settings.model_copy(update={"tuning": index.settings.tuning.model_copy(
            update={"evidence_candidates": 3})})
        # Every item holds enough of the question's words to be a candidate; the scan finds the
        # one that says all of them first.
        scanned = register_evidence(q, register, settings=small)
        assert scanned[0].obligation == rare
        ranked = register_evidence(q, index, settings=small)
        assert scored == [3]  # three of the 31 candidates scored, not all
        assert ranked[0].obligation == rare
        # With room for every candidate, the index gives the scan's result exactly.
        assert register_evidence(q, index, settings=index.settings) == scanned
        assert scored[-1] == 31


def test_an_index_created_before_the_register_vector_gets_it_at_the_next_ingest(tmp_path, embedder):
    """Items are ranked by a sparse vector of their own: a collection made before it existed is
    given it (nothing rewritten), and its items are written again with theirs."""
    import qdrant_edge as qe

    from ingest.pipeline import ingest_paths
    from ingest.store import DENSE, SPARSE, store_location

    settings = Settings(data_dir=tmp_path / "data", files_root=tmp_path)
    path = store_location(settings, "live")
    path.mkdir(parents=True)
    cold = qe.Memory.Cold  # as the previous version made them: read from disk as queries touch them
    old = qe.EdgeConfig(vectors={DENSE: qe.EdgeVectorParams(size=embedder.dim, distance=qe.Distance.Cosine, memory=cold)},
                        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf, memory=cold)},
                        payload_memory=cold)
    qe.EdgeShard.create(str(path), old).close()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "de_bao.txt").write_text(FLOODS, encoding="utf-8")
    question = "Trưởng các thôn phải báo cáo số hộ dân vùng trũng trước ngày nào?"
    with Index.open(settings, embedder=embedder) as index:
        assert index.store.add_missing_vectors() == ["register"]
        assert index.store.add_missing_vectors() == []  # once
    # The new vector stays on disk like the others (created with the engine's defaults, it and
    # every segment merged with it would be held in RAM).
    vectors = json.loads((path / "edge_config.json").read_text())["sparse_vectors"]
    assert vectors["register"].get("memory") == vectors["sparse"].get("memory") == "cold"
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [docs])
        assert terms_indexed(index)
        evidence = register_evidence(Question.parse(question, []), index, settings=settings)
        assert evidence and "15/10/2024" in evidence[0].line
