"""Typed results of retrieval and answering, shared by the CLI, the web app and the evaluator."""

from __future__ import annotations

from pydantic import BaseModel, Field

# Built from chunk points by the index's schema; re-exported here for the answering code.
from ingest.schema import RetrievedChunk

__all__ = ["Answer", "Citation", "RetrievedChunk"]


class Citation(BaseModel):
    """A quoted passage that supports an answer; ``start``/``end`` index the document's text."""

    n: int = Field(description="The marker number used in the answer text: [n].")
    doc_id: str
    number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    date: str | None = None
    file: str
    section: str = ""
    quote: str
    start: int
    end: int
    page: int | None = Field(None, description="1-based page of a PDF source, when known.")


class Answer(BaseModel):
    """What ``congvan ask`` prints with ``--json``, and what the web app renders."""

    question: str
    answer: str
    abstained: bool = False
    citations: list[Citation] = Field(default_factory=list)
    related: list[Citation] = Field(
        default_factory=list, description="When no answer is certain (abstained): the passages that may be related, "
                                          "best first, for the user to read (\"có thể liên quan\"); not citations of "
                                          "the answer text, which has no [n] markers for them.")
    retrieved: list[RetrievedChunk] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    backend: str = Field("extractive", description="'extractive' (no LLM) or 'llm'.")
    notes: list[str] = Field(default_factory=list, description="Warnings for the user: LLM fallback, removed markers.")
    standalone_question: str | None = Field(None, description="The follow-up rewritten against the conversation.")
