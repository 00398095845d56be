"""The one entry point the CLI, the web app and the evaluator share: question in, cited answer out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cached_property

from ingest.index import Index
from ingest.models import Document
from ingest.store import Condition, SearchMode
from rag.answer import TermStats, extractive_answer, named_documents
from rag.conversation import standalone_question
from rag.models import Answer, RetrievedChunk
from rag.query import expand_abbreviations
from rag.retrieve import Retrieval, Retriever
from rag.settings import Settings


class Assistant:
    """Answers questions over one index; safe to keep for the life of a process."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.settings: Settings = index.settings
        self.retriever = Retriever(index)

    @cached_property
    def term_stats(self) -> TermStats:
        """IDF statistics over every indexed chunk (built once, refreshed after ingest)."""
        payloads = self.index.store.scroll([Condition("kind", "chunk")])
        return TermStats(p["chunk"]["text"] for p in payloads)

    def refresh(self) -> None:
        """Call after an ingest so new documents are searched and weighed."""
        self.retriever.refresh()
        self.__dict__.pop("term_stats", None)

    def ask(
        self,
        question: str,
        *,
        history: list[str] | None = None,
        filters: dict[str, str] | None = None,
        top_k: int | None = None,
        mode: SearchMode = "hybrid",
    ) -> Answer:
        """Answer ``question`` (a follow-up of ``history``, the user's earlier questions)."""
        began = time.perf_counter()
        standalone = standalone_question(question, history or [])
        retrieval = self.retriever.search(expand_abbreviations(standalone), top_k=top_k, filters=filters, mode=mode)
        documents = {d.doc_id: d for d in self.retriever.documents()}
        self._add_named_documents(standalone, retrieval, documents)
        compose_began = time.perf_counter()
        answer = extractive_answer(standalone, retrieval, self.term_stats, documents=documents)
        timings = dict(retrieval.timings_ms)
        timings["answer"] = round((time.perf_counter() - compose_began) * 1000, 2)
        timings["total"] = round((time.perf_counter() - began) * 1000, 2)
        return answer.model_copy(update={
            "question": question,
            "standalone_question": standalone if standalone != question else None,
            "timings_ms": timings,
        })

    def _add_named_documents(self, question: str, retrieval: Retrieval, documents: dict[str, Document]) -> None:
        """A question that names a document by number searches all of that document's passages,
        even those that ranked below documents merely citing the number."""
        present = {c.chunk_id for c in retrieval.chunks}
        for doc in named_documents(question, documents):
            retrieval.documents[doc.doc_id] = doc
            for chunk in self.index.chunks(doc.doc_id):
                if chunk.chunk_id not in present:
                    retrieval.chunks.append(RetrievedChunk(
                        doc_id=doc.doc_id, chunk_id=chunk.chunk_id, file=doc.file, number=doc.metadata.number,
                        doc_type=doc.metadata.doc_type, issuer=doc.metadata.issuer, date=doc.metadata.date,
                        section=chunk.section_path, text=chunk.text, start=chunk.start, end=chunk.end, score=0.0,
                    ))

    def stream(self, question: str, **kwargs) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the finished ``Answer``."""
        answer = self.ask(question, **kwargs)
        yield answer.answer
        yield answer
