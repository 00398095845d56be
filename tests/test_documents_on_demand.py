"""Memory independent of archive size: a catalogue without texts, full documents on demand.

The retriever keeps every document's metadata (``DocumentSummary``, read with a payload
selector that leaves the text in the engine) and reads full documents through a bounded LRU
cache (``document_cache_size``). An assistant opens and answers without ever reading every
document's text, with the same answers and citations as a scan of every text gave, on the
embedded engine and on the server path (qdrant-client's local mode).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from ingest.index import Index
from ingest.models import Document
from ingest.pipeline import ingest_paths
from ingest.schema import DocumentPoint, DocumentSummary
from ingest.store import Condition, ServerStore
from ingest.text.normalize import fold
from rag.answer import extractive_answer, named_documents
from rag.assistant import Assistant
from rag.query import Question
from rag.retrieve import DocumentCache

# Questions over the bundled corpus and the document number each answer must cite (None: any).
_QUESTIONS = [
    ("Ai ký Công văn 3452/UBND-VX?", "3452/UBND-VX"),
    ("Sở LĐTBXH phải làm gì trong tháng 11/2024?", "3452/UBND-VX"),
    ("Đơn vị nào phải báo cáo trước ngày 10/11?", "2577/UBND-KGVX"),
    # an attachment dated by the sentence of its cover letter that writes its number and date
    ("Chương trình 61-CTr/TU ban hành ngày nào?", None),
]


def _guard_texts(index: Index, monkeypatch) -> list:
    """Make every read of all document texts fail: ``Index.documents`` and any scroll of
    document points that does not leave their text out. Returns the scrolls made."""
    calls = []
    original = index.store.scroll

    def scroll(conditions, fields=None):
        calls.append((conditions, fields))
        if Condition("kind", DocumentPoint.KIND) in conditions and (
                fields is None or any(f in ("document", "document.text") for f in fields)):
            raise AssertionError("read every document's text")
        return original(conditions, fields)

    def documents(*args, **kwargs):
        raise AssertionError("Index.documents read every document's text")

    monkeypatch.setattr(index.store, "scroll", scroll)
    monkeypatch.setattr(index, "documents", documents)
    return calls


def _small_cache(index: Index, monkeypatch, size: int) -> None:
    monkeypatch.setattr(index, "settings", index.settings.model_copy(update={"document_cache_size": size}))


def test_the_catalogue_carries_no_text(corpus_index, monkeypatch):
    calls = _guard_texts(corpus_index, monkeypatch)
    catalogue = corpus_index.catalogue()
    assert calls and all(fields is not None and "document.text" not in fields for _, fields in calls)
    assert catalogue and all(isinstance(d, DocumentSummary) for d in catalogue)
    assert not any(hasattr(d, "text") or hasattr(d, "ocr_pages") for d in catalogue)
    monkeypatch.undo()
    full = corpus_index.documents()
    # the same documents, in the same order, with the same metadata
    assert [DocumentSummary.of(d) for d in full] == [d.model_copy(update={"chunks": 0}) for d in catalogue]
    assert all(d.chunks > 0 for d in catalogue)
    by_id = corpus_index.documents_by_id([catalogue[1].doc_id, "no-such-doc", catalogue[0].doc_id])
    assert list(by_id) == [catalogue[1].doc_id, catalogue[0].doc_id]
    assert by_id[catalogue[0].doc_id] == full[0]


@pytest.mark.parametrize("size", [1, 2])
def test_the_assistant_answers_with_a_tiny_cache_without_reading_every_text(corpus_index, monkeypatch, size):
    reference = Assistant(corpus_index)  # the default cache, holding every document of the corpus
    expected = {q: reference.ask(q) for q, _ in _QUESTIONS}
    _guard_texts(corpus_index, monkeypatch)
    _small_cache(corpus_index, monkeypatch, size)
    assistant = Assistant(corpus_index)
    assert len(assistant.retriever.documents()) > size + 2  # several documents, more than the cache keeps
    for question, number in _QUESTIONS * 2:
        answer = assistant.ask(question)
        assert not answer.abstained, question
        assert answer.answer == expected[question].answer and answer.citations == expected[question].citations
        if number:
            assert number in {c.number for c in answer.citations}, question
        for c in answer.citations:  # every quote is its document's text at the cited offsets
            assert assistant.retriever.document(c.doc_id).text[c.start:c.end] == c.quote
        assert len(assistant.retriever.cache) <= size
    assistant.retriever.cache.clear()
    answer = assistant.ask("Ai ký Công văn 3452/UBND-VX?")
    assert answer.citations[0].number == "3452/UBND-VX" and answer.citations[0].section == "Người ký"
    assert len(assistant.retriever.cache) <= size


def test_the_cache_keeps_at_most_its_size_and_the_latest_used(corpus_index):
    ids = [d.doc_id for d in corpus_index.catalogue()]
    cache = DocumentCache(corpus_index, 2)
    found = cache.get_many(ids)
    assert list(found) == ids and all(isinstance(d, Document) for d in found.values())  # all returned
    assert len(cache) == 2 and ids[-1] in cache and ids[-2] in cache
    cache.get_many([ids[-2]])  # used again: ids[-1] is now the least recently used
    cache.get_many([ids[0]])
    assert len(cache) == 2 and ids[0] in cache and ids[-2] in cache and ids[-1] not in cache
    assert cache.get_many(["no-such-doc"]) == {} and len(cache) == 2
    cache.clear()
    assert len(cache) == 0


def test_refresh_forgets_the_catalogue_and_the_cached_texts(corpus_index):
    assistant = Assistant(corpus_index)
    assistant.ask("Ai ký Công văn 3452/UBND-VX?")
    assert len(assistant.retriever.cache) > 0 and "_catalogue" in assistant.retriever.__dict__
    assistant.refresh()
    assert len(assistant.retriever.cache) == 0 and "_catalogue" not in assistant.retriever.__dict__


def test_a_first_question_naming_no_document_number_does_not_wait_for_the_catalogue(corpus_index):
    # Reading the catalogue is most of a first answer's time in a large archive (2 s at 258k
    # chunks); a date ("10/11") is no document number.
    assistant = Assistant(corpus_index)
    answer = assistant.ask("Đơn vị nào phải báo cáo trước ngày 10/11?")
    assert answer.citations and "_catalogue" not in assistant.retriever.__dict__
    assert assistant.ask("Ai ký Công văn 3452/UBND-VX?").citations
    assert "_catalogue" in assistant.retriever.__dict__


def test_named_documents_are_found_by_lookup_as_by_a_scan(corpus_index):
    assistant = Assistant(corpus_index)
    catalogue = {d.doc_id: d for d in assistant.retriever.documents()}
    questions = [f"{d.metadata.doc_type or 'Văn bản'} {d.metadata.number} do ai ký?"
                 for d in catalogue.values() if d.metadata.number]
    questions += ["ai ky cong van 3452/ubnd-vx", "Công văn 12/UBND-VX nói gì?", "Báo cáo trước ngày 10/11?"]
    for question in questions:
        q = Question.parse(question)
        assert assistant.retriever.named(q) == named_documents(q, catalogue), question


def test_date_questions_answer_as_a_scan_of_every_text_did(corpus_index):
    """An attachment without a date line of its own is dated by the sentence of another
    document writing its number and date: found through the index, the same as by a scan."""
    assistant = Assistant(corpus_index)
    everything = {d.doc_id: d for d in corpus_index.documents()}
    asked = 0
    for doc in everything.values():
        if not doc.metadata.number or doc.metadata.number.startswith("/"):
            continue
        question = f"{doc.metadata.doc_type or 'Văn bản'} {doc.metadata.number} ban hành ngày nào?"
        q = Question.parse(question)
        retrieval = assistant.retriever.search(q, top_k=assistant.settings.answer_pool)
        retrieval = assistant.retriever.with_documents(retrieval, named_documents(q, everything))
        scanned = extractive_answer(q, retrieval, assistant.term_stats, documents=everything,
                                    settings=assistant.settings)
        answered = assistant.ask(question)
        assert [(c.doc_id, c.start, c.end) for c in answered.citations] == \
            [(c.doc_id, c.start, c.end) for c in scanned.citations], question
        asked += 1
    assert asked >= 3


def test_mentioning_reads_the_file_first_then_what_the_index_finds(corpus_index, monkeypatch):
    assistant = Assistant(corpus_index)
    catalogue = assistant.retriever.documents()
    by_file: dict[str, list[DocumentSummary]] = {}
    for d in catalogue:
        by_file.setdefault(d.file, []).append(d)
    cover, attachment = next(docs for docs in by_file.values() if len(docs) > 1)[:2]
    searches = []
    original = corpus_index.search
    monkeypatch.setattr(corpus_index, "search", lambda **kw: searches.append(kw) or original(**kw))
    found = assistant.retriever.mentioning(attachment)
    assert [d.doc_id for d in (next(found), next(found))] == [cover.doc_id, attachment.doc_id]
    assert not searches  # the index is searched only when the file's own documents do not do
    others = [d.doc_id for d in found]
    assert searches and searches[0]["mode"] == "sparse"
    assert others and cover.doc_id not in others and attachment.doc_id not in others


def test_the_server_path_reads_documents_on_demand(settings, small_corpus, embedder, monkeypatch):
    store = ServerStore(QdrantClient(location=":memory:"), "congvan", embedder.dim)
    server = settings.model_copy(update={"qdrant_url": "http://qdrant.invalid:6333", "document_cache_size": 1})
    index = Index(server, store, embedder)
    try:
        ingest_paths(index, [small_corpus])
        catalogue = index.catalogue()
        assert len(catalogue) >= 2 and all(isinstance(d, DocumentSummary) for d in catalogue)
        raw = store.scroll([Condition("kind", DocumentPoint.KIND)], fields=list(DocumentSummary.FIELDS))
        assert raw and all("text" not in p["document"] and "ocr_pages" not in p["document"] for p in raw)
        _guard_texts(index, monkeypatch)
        assistant = Assistant(index)
        answer = assistant.ask("Ngày Công tác xã hội năm 2024 ở Kon Tum làm gì?")
        assert not answer.abstained
        for c in answer.citations:
            assert assistant.retriever.document(c.doc_id).text[c.start:c.end] == c.quote
        assert len(assistant.retriever.cache) <= 1
    finally:
        index.close()


def test_filters_resolve_against_the_catalogue(corpus_index, monkeypatch):
    _guard_texts(corpus_index, monkeypatch)
    retriever = Assistant(corpus_index).retriever
    catalogue = retriever.documents()
    first = catalogue[0]
    [only] = retriever.conditions({"doc_id": first.doc_id})
    assert only.any_of == (first.doc_id,)
    assert retriever.conditions({"doc_id": "no-such-doc"})[0].any_of == ("-none-",)
    kien_giang = {d.doc_id for d in catalogue if "kien giang" in fold(d.metadata.issuer or "")}
    assert kien_giang and set(retriever.conditions({"issuer": "kien giang"})[0].any_of) == kien_giang
    other = next(i for i in kien_giang if i != first.doc_id)
    assert retriever.conditions({"issuer": "kien giang", "doc_id": other})[0].any_of == (other,)
    assert retriever.conditions({"issuer": "kien giang", "doc_id": first.doc_id})[0].any_of == ("-none-",)
    retriever.refresh()  # the remembered filters go with the catalogue
    assert "_filter_ids" not in retriever.__dict__
    assert set(retriever.conditions({"issuer": "kien giang"})[0].any_of) == kien_giang


def _open(kind: str, settings, embedder) -> Index:
    if kind == "edge":
        return Index.open(settings, embedder=embedder)
    store = ServerStore(QdrantClient(location=":memory:"), "congvan", embedder.dim)
    return Index(settings.model_copy(update={"qdrant_url": "http://qdrant.invalid:6333"}), store, embedder)


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_after_an_ingest_only_the_changed_files_catalogue_entries_are_read(kind, settings, small_corpus, embedder,
                                                                          monkeypatch):
    """A file added, replaced or removed is seen after ``refresh(summary.changed_files)``; the
    catalogue is read again for those files only, never whole (a 100k-chunk archive spent a
    second re-reading it after each upload)."""
    index = _open(kind, settings, embedder)
    try:
        ingest_paths(index, [small_corpus])
        assistant = Assistant(index)
        before = {d.file: d.doc_id for d in assistant.retriever.documents()}
        kon_tum = next(f for f in before if "kon_tum" in f)
        new = small_corpus / "new.txt"
        new.write_text("ỦY BAN NHÂN DÂN TỈNH HẬU GIANG\nSố: 77/KH-UBND\n\nSở Y tế tổ chức tiêm vắc xin sởi "
                       "cho trẻ em dưới 5 tuổi trước ngày 15/5/2025.\n", encoding="utf-8")
        (small_corpus / Path(kon_tum).name).write_text(
            (small_corpus / Path(kon_tum).name).read_text(encoding="utf-8") + "\nSở Tài chính bố trí kinh phí.\n",
            encoding="utf-8")
        summary = ingest_paths(index, [small_corpus])
        assert summary.changed_files == {kon_tum, index.file_key(new)}
        reads = []
        original = index.catalogue
        monkeypatch.setattr(index, "catalogue", lambda conditions=None: reads.append(conditions) or original(conditions))
        assistant.refresh(summary.changed_files)
        after = assistant.retriever.documents()
        assert reads == [[Condition("file", any_of=tuple(sorted(summary.changed_files)))]]
        assert after == original()  # the same entries, in the same order, as a full read
        assert any(d.file == index.file_key(new) for d in after)
        answer = assistant.ask("Văn bản 77/KH-UBND yêu cầu tiêm vắc xin sởi trước ngày nào?")
        assert any(c.file == index.file_key(new) for c in answer.citations)
        new.unlink()
        summary = ingest_paths(index, [small_corpus], prune=True)
        assistant.refresh(summary.changed_files)
        assert not any(d.file == index.file_key(new) for d in assistant.retriever.documents())
        assert assistant.retriever.documents() == original()
    finally:
        index.close()


def test_the_catalogue_is_read_from_summary_points_not_document_points(corpus_index, monkeypatch):
    # The engine decodes a point's whole payload even to return a few fields: reading the
    # catalogue from document points decoded every text.
    from ingest.schema import SummaryPoint

    expected = corpus_index.catalogue()
    calls = _guard_texts(corpus_index, monkeypatch)
    assert corpus_index.catalogue() == expected
    assert corpus_index.document_ids() == {d.doc_id for d in expected}
    read = [c for conditions, _ in calls for c in conditions if c.key == "kind"]
    assert read and all(c.value == SummaryPoint.KIND for c in read)


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_an_index_without_summary_points_is_read_as_before_and_an_ingest_adds_them(kind, settings, small_corpus,
                                                                                  embedder, caplog):
    from ingest.schema import SummaryPoint

    server = ServerStore(QdrantClient(location=":memory:"), "congvan", embedder.dim) if kind == "server" else None

    def opened() -> Index:
        if server is None:
            return Index.open(settings, embedder=embedder)
        return Index(settings.model_copy(update={"qdrant_url": "http://qdrant.invalid:6333"}), server, embedder)

    index = opened()
    try:
        ingest_paths(index, [small_corpus])
        expected = index.catalogue()
        ids = index.document_ids()
        assert index.store.count([Condition("kind", SummaryPoint.KIND)]) == len(expected) >= 2
        index.store.delete([Condition("kind", SummaryPoint.KIND)])  # as written by the previous version
        if server is None:  # opened again, as an index written by the previous version is
            index.close()
        index = opened()
        assert index.catalogue() == expected and index.document_ids() == ids  # from the document points
        summary = ingest_paths(index, [small_corpus])
        assert {o.status for o in summary.outcomes} == {"unchanged"}
        assert f"{len(expected)} document summary point(s) added" in caplog.text
        assert index.store.count([Condition("kind", SummaryPoint.KIND)]) == len(expected)
        assert index.catalogue() == expected and index.document_ids() == ids
        assert index.add_missing_summaries() == 0
        # A file's summaries go with it.
        index.delete_file(expected[0].file)
        assert expected[0].doc_id not in {d.doc_id for d in index.catalogue()}
        assert index.store.count([Condition("kind", SummaryPoint.KIND), Condition("file", expected[0].file)]) == 0
    finally:
        index.close()
