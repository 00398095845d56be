"""The one entry point the CLI, the web app and the evaluator share: question in, cited answer out."""

from __future__ import annotations

import time
from dataclasses import replace
from collections.abc import Iterable, Iterator
from functools import cached_property

from ingest.errors import CongvanError
from ingest.index import Index
from ingest.register import Register, load_register, register_evidence, terms_indexed
from ingest.schema import retrieved_chunk
from ingest.settings import Settings
from ingest.store import SearchMode
from ingest.text.normalize import fold
from rag.answer import (TermStats, described_scope, described_terms, extractive_answer, merge_answers,
                        merge_register_evidence, other_occurrence)
from rag.llm import LLMAnswerer
from rag.models import Answer, RetrievedChunk
from rag.query import ENGLISH_HINT, Question, asks_comparison, compared_parties, comparison_sides
from rag.retrieve import Retrieval, Retriever
from rag.selection import of_another_year

# Citations answered from document metadata rather than from ranked passages.
_METADATA_SECTIONS = ("Người ký", "Ngày ban hành")


class QuestionTooLong(CongvanError):
    """A question (or an earlier question of its conversation) longer than ``max_question_chars``.

    Refused before any work: retrieval and the LLM prompt grow with the question, so one
    200,000-character question used to hold a worker for minutes.
    """

    def __init__(self, length: int, limit: int, *, earlier: bool = False) -> None:
        self.length, self.limit = length, limit
        what = "Một câu hỏi trước trong cuộc trò chuyện" if earlier else "Câu hỏi"
        super().__init__(f"{what} dài {length} ký tự, vượt giới hạn {limit} ký tự. Hãy rút gọn câu hỏi.")


def check_question(question: str, history: list[str] | None, limit: int) -> None:
    """Raise ``QuestionTooLong`` when ``question`` or any ``history`` entry exceeds ``limit``
    characters. Costs a ``len`` per string, so callers run it before anything else."""
    if len(question) > limit:
        raise QuestionTooLong(len(question), limit)
    for earlier in history or ():
        if len(earlier) > limit:
            raise QuestionTooLong(len(earlier), limit, earlier=True)


class Assistant:
    """Answers questions over one index; safe to keep for the life of a process."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.settings: Settings = index.settings
        self.retriever = Retriever(index)
        self.llm = LLMAnswerer(self.settings) if self.settings.llm_url else None

    @cached_property
    def term_stats(self) -> TermStats:
        """IDF statistics over every indexed chunk (read once, refreshed after ingest): the
        statistics ingest keeps in the index, one point read rather than a scroll of every chunk."""
        counts = self.index.term_counts()
        stats = TermStats(())
        stats.n, stats.df = counts.n, counts.df
        return stats

    @cached_property
    def register(self) -> Register:
        """Obligations, targets and relations extracted at ingest (read once, refreshed after ingest)."""
        return load_register(self.index)

    @cached_property
    def register_indexed(self) -> bool:
        """Whether register evidence is found through the index's ``terms`` (every item carries
        them) rather than by scanning the register (an index ingested before them)."""
        return terms_indexed(self.index)

    def refresh(self, files: Iterable[str] | None = None) -> None:
        """Call after an ingest so new documents are searched and weighed; ``files``: the
        files it changed (``IngestSummary.changed_files``), whose catalogue entries alone are
        read again (None: all)."""
        self.retriever.refresh(files)
        for name in ("term_stats", "register", "register_indexed"):
            self.__dict__.pop(name, None)

    def ask(
        self,
        question: str,
        *,
        history: list[str] | None = None,
        filters: dict[str, str] | None = None,
        top_k: int | None = None,
        mode: SearchMode = "hybrid",
    ) -> Answer:
        """Answer ``question`` (a follow-up of ``history``, the user's earlier questions), with
        the LLM when one is configured (``CONGVAN_LLM_URL``), else extractively.

        Raises ``QuestionTooLong`` when the question or a history entry is over
        ``max_question_chars``."""
        *_, answer = self._answer(question, history=history, filters=filters, top_k=top_k, mode=mode)
        return answer

    def _answer(self, question: str, *, history: list[str] | None = None, filters: dict[str, str] | None = None,
                top_k: int | None = None, mode: SearchMode = "hybrid") -> Iterator[str | Answer]:
        """LLM text deltas (when an LLM is configured), then the final ``Answer``.

        The question is read once (``Question.parse``) and that one value goes to retrieval,
        the named-document lookup, the extractive answer, register evidence and the LLM; each
        step returns a new ``Retrieval`` or ``Answer`` instead of changing the one it got."""
        check_question(question, history, self.settings.max_question_chars)
        began = time.perf_counter()
        q = Question.parse(question, history or [])
        if self.llm is None and asks_comparison(q.folded):
            compared = self._compare(q, filters=filters, top_k=top_k, mode=mode)
            if compared is not None:
                timings = {"total": round((time.perf_counter() - began) * 1000, 2)}
                yield compared.model_copy(update={"question": question, "timings_ms": timings,
                                                  "standalone_question": q.standalone if q.rewritten else None})
                return
        shown = top_k or self.settings.top_k
        retrieval = self.retriever.search(q, top_k=max(shown, self.settings.answer_pool), filters=filters, mode=mode)
        # A question that names a document by number searches all of that document's passages,
        # even those that ranked below documents merely citing the number. Found by a lookup in
        # the catalogue; only those documents' texts are read (no document's text is scanned
        # unless it was retrieved, named, or found by the index to write a number asked about).
        named = self.retriever.named(q)
        retrieval = self.retriever.with_documents(retrieval, named)
        named = [retrieval.documents[d.doc_id] for d in named if d.doc_id in retrieval.documents]
        compose_began = time.perf_counter()
        answer = extractive_answer(q, retrieval, self.term_stats, named=named, mentioning=self.retriever.mentioning,
                                   settings=self.settings)
        answer = self._evidence_first(answer, retrieval)
        # The answerer put the passages its sentences come from first: the first ``shown`` are the
        # sources, and what the LLM reads.
        answer = answer.model_copy(update={"retrieved": answer.retrieved[:shown]})
        retrieval = replace(retrieval, chunks=answer.retrieved)
        # Through the index: only the items holding enough of the question's words are read, so a
        # question costs the same in a large archive (the register is not loaded).
        source = self.index if self.register_indexed else self.register
        evidence = register_evidence(q, source, settings=self.settings, indexed=self.register_indexed)
        # "lần thứ nhất" does not answer a question about "lần thứ tư", from the register either.
        # Nor does a goal set for 2030 answer a question about 2025.
        evidence = [e for e in evidence if not other_occurrence(q, e.source.quote)
                    and not of_another_year(q, e.source.section, e.source.quote)]
        # "Theo <document described>, ...": only the items of documents that description fits, as
        # only their passages (an item of a letter on another subject answers nothing asked).
        # The documents are judged with the items' own (an item's letter may not be among the passages);
        # a description no document fits leaves the items alone.
        if described_terms(q) is not None and not named and evidence:
            pool = {**retrieval.documents, **self.retriever.full_documents(e.source.doc_id for e in evidence)}
            scope = {d.doc_id for d in described_scope(q, pool.values(), self.term_stats, self.settings.tuning)}
            if scope:
                evidence = [e for e in evidence if e.source.doc_id in scope]
        if filters:
            # The store applies the same conditions the retriever searched with, so register
            # items obey exactly the scope the passages did.
            allowed = self.index.document_ids(self.retriever.conditions(filters))
            evidence = [e for e in evidence if e.source.doc_id in allowed]
        answer = merge_register_evidence(
            answer, evidence, self.retriever.full_documents(e.source.doc_id for e in evidence))
        timings = dict(retrieval.timings_ms)
        timings["answer"] = round((time.perf_counter() - compose_began) * 1000, 2)
        if self.llm is not None:
            # The extractive answer is computed first: it is the LLM's fallback.
            for item in self.llm.stream(q, retrieval, answer):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
            timings.update(answer.timings_ms)
        timings["total"] = round((time.perf_counter() - began) * 1000, 2)
        if q.english and answer.abstained:
            # The documents are Vietnamese, so an English question mostly finds nothing: say why
            # and how to ask instead of a bare "not found".
            answer = answer.model_copy(update={"answer": f"{answer.answer} {ENGLISH_HINT}"})
        yield answer.model_copy(update={
            "question": question,
            "standalone_question": q.standalone if q.rewritten else None,
            "timings_ms": timings,
        })

    def _compare(self, q: Question, **kwargs) -> Answer | None:
        """"So sánh mục tiêu … giữa tỉnh Sóc Trăng và huyện Bắc Sơn": each place's own question
        (``comparison_sides``) asked on its own, and the answers given one after the other; "hạn
        … của doanh nghiệp và của các sở khác nhau thế nào?" likewise for each party
        (``compared_parties``). A sentence about one side holds half of the words of such a
        question, so asked whole it is rarely answered with confidence. None (ask the question
        whole) unless every side is answered, a place's from documents about it (by issuer or
        the quoted text)."""
        parts = []
        sides = comparison_sides(q.standalone, q.names) if len(q.names) > 1 else [
            ("", text) for text in compared_parties(q.standalone)]
        if not sides:
            return None
        for name, text in sides:
            part = self.ask(text, **kwargs)
            if part.abstained or not all(name in fold(f"{c.issuer or ''} {c.quote}") for c in part.citations):
                return None
            parts.append(part)
        return merge_answers(q.standalone, parts)

    def _evidence_first(self, answer: Answer, retrieval: Retrieval) -> Answer:
        """``answer`` with the cited passages found by metadata (a signature, a date line) rather
        than by search first in ``retrieved``, so the sources shown are the ones the answer used."""
        if answer.backend != "extractive" or not any(c.section in _METADATA_SECTIONS for c in answer.citations):
            return answer
        first: list[RetrievedChunk] = []
        for c in answer.citations:
            if any(r.doc_id == c.doc_id and r.start <= c.start < r.end for r in first):
                continue
            found = next((r for r in answer.retrieved if r.doc_id == c.doc_id and r.start <= c.start < r.end), None)
            if found is None:
                chunk = next((ch for ch in self.index.chunks(c.doc_id) if ch.start <= c.start < ch.end), None)
                doc = retrieval.documents.get(c.doc_id) or self.retriever.document(c.doc_id)
                found = retrieved_chunk(chunk, doc, score=0.0) if chunk and doc else None
            if found is not None:
                first.append(found)
        return answer.model_copy(update={"retrieved": first + [r for r in answer.retrieved if r not in first]})

    def stream(self, question: str, **kwargs) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the finished ``Answer``, which is
        authoritative: after an LLM failure it is the extractive answer, not the text streamed.

        Raises ``QuestionTooLong`` (on the first ``next``) like ``ask``."""
        streamed = False
        for item in self._answer(question, **kwargs):
            if isinstance(item, Answer):
                if not streamed:
                    yield item.answer
                yield item
            else:
                streamed = True
                yield item
