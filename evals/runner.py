"""Ask every test question through ``Assistant.ask`` (the web app's API) and record the results.

Nothing is ingested: the run measures the index as it is. The result carries a settings
snapshot (secrets left out), the git commit, per-question records, metrics overall and per tag,
and the failed questions with what was retrieved and answered, so ``report`` can render it and
``compare`` can set two runs side by side.
"""

from __future__ import annotations

import logging
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr

from evals.format import QAItem
from evals.metrics import (
    QuestionScores,
    aggregate,
    aggregate_by_tag,
    facts_found,
    matched_quotes,
    score_question,
)

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.models import Answer
    from ingest.settings import Settings

log = logging.getLogger(__name__)

RESULT_SCHEMA = 1
FAIL_HIT_K = 5
"""A question fails retrieval when no gold quote is matched in its top ``FAIL_HIT_K`` chunks."""
_SECRET_NAME = re.compile(r"(?:^|_)(?:key|secret|password|token|credentials?)$")
_ROOT = Path(__file__).resolve().parent.parent


class RetrievedRecord(BaseModel):
    """One retrieved chunk as the run saw it."""

    rank: int
    doc_id: str
    file: str
    number: str | None = None
    section: str = ""
    score: float
    text: str
    matches: list[int] = Field(default_factory=list, description="Indexes of the gold quotes it matches.")


class CitationRecord(BaseModel):
    """One citation of the answer."""

    n: int
    file: str
    number: str | None = None
    section: str = ""
    quote: str
    relevant: bool


class QuestionRecord(BaseModel):
    """Everything about one question: gold data, the answer, retrieval, scores and failures."""

    id: str
    question: str
    tags: list[str] = Field(default_factory=list)
    answerable: bool
    reference_answer: str = ""
    facts: list[str] = Field(default_factory=list)
    facts_found: list[bool] = Field(default_factory=list)
    gold_quotes: list[dict[str, str | None]] = Field(default_factory=list)
    answer: str = ""
    abstained: bool = False
    backend: str | None = None
    citations: list[CitationRecord] = Field(default_factory=list)
    related: list[CitationRecord] = Field(
        default_factory=list, description="Passages offered as related when no answer was certain (not citations).")
    retrieved: list[RetrievedRecord] = Field(default_factory=list)
    scores: dict[str, float | None] = Field(default_factory=dict)
    latency_ms: float | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    failures: list[str] = Field(default_factory=list, description="Why the question failed; empty when it passed.")


class EvalResult(BaseModel):
    """One evaluation run, as saved to JSON."""

    schema_version: int = RESULT_SCHEMA
    config_label: str
    timestamp: str
    git_commit: str | None = None
    git_dirty: bool | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    run: dict[str, Any] = Field(default_factory=dict, description="mode, top_k, test set, seconds.")
    metrics: dict[str, float | int | None] = Field(default_factory=dict)
    by_tag: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    records: list[QuestionRecord] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list, description="Ids of the failed questions, in run order.")
    input_errors: list[str] = Field(default_factory=list, description="Rows of the test set that could not be read.")

    def failed_records(self) -> list[QuestionRecord]:
        """The records of the failed questions."""
        return [r for r in self.records if r.failures]

    def save(self, path: Path | str) -> Path:
        """Write the result as indented UTF-8 JSON and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path


def run_eval(
    assistant: Assistant,
    items: Sequence[QAItem],
    *,
    config_label: str,
    mode: str = "hybrid",
    top_k: int | None = None,
    test_set: str | None = None,
    input_errors: Sequence[str] = (),
    progress: Callable[[int, int, QuestionRecord], None] | None = None,
) -> EvalResult:
    """Ask every item's question through ``assistant.ask`` and score the answers.

    A question whose ``ask`` raises is recorded with its error (and counted as failed); the run
    goes on with the others.
    """
    began = time.perf_counter()
    records: list[QuestionRecord] = []
    scores: list[QuestionScores] = []
    for n, item in enumerate(items, start=1):
        record, score = _ask_one(assistant, item, mode=mode, top_k=top_k)
        records.append(record)
        scores.append(score)
        if progress:
            progress(n, len(items), record)
    seconds = time.perf_counter() - began
    commit, dirty = git_state()
    return EvalResult(
        config_label=config_label,
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        git_commit=commit,
        git_dirty=dirty,
        settings=settings_snapshot(assistant.settings),
        run={"mode": mode, "top_k": top_k or assistant.settings.top_k, "test_set": test_set,
             "questions": len(items), "seconds": round(seconds, 2), "fail_hit_k": FAIL_HIT_K,
             "backends": dict(Counter(r.backend for r in records if r.backend))},
        metrics=aggregate(scores),
        by_tag=aggregate_by_tag(scores),
        records=records,
        failures=[r.id for r in records if r.failures],
        input_errors=list(input_errors),
    )


def _ask_one(assistant: Assistant, item: QAItem, *, mode: str, top_k: int | None) -> tuple[QuestionRecord, QuestionScores]:
    gold = [(s.quote, s.file) for s in item.sources]
    record = QuestionRecord(
        id=item.id, question=item.question, tags=item.tags, answerable=item.answerable,
        reference_answer=item.reference_answer, facts=item.facts,
        gold_quotes=[{"quote": s.quote, "file": s.file} for s in item.sources],
    )
    began = time.perf_counter()
    try:
        answer = assistant.ask(item.question, top_k=top_k, mode=mode)  # type: ignore[arg-type]
    except Exception as exc:  # one broken question must not stop the run
        log.exception("question %s failed", item.id)
        record.latency_ms = round((time.perf_counter() - began) * 1000, 2)
        record.error = f"{type(exc).__name__}: {exc}"
        record.failures = [f"error: {record.error}"]
        score = QuestionScores(answerable=item.answerable, abstained=False, latency_ms=record.latency_ms,
                               error=True, tags=list(item.tags))
        return record, score
    record.latency_ms = round((time.perf_counter() - began) * 1000, 2)
    _fill_answer(record, answer, gold)
    score = score_question(
        answerable=item.answerable,
        gold=gold,
        facts=item.facts,
        ranked=[(c.text, c.file) for c in answer.retrieved],
        answer=answer.answer,
        abstained=answer.abstained,
        cited=[(c.quote, c.file) for c in answer.citations],
        related=[(c.quote, c.file) for c in answer.related],
        latency_ms=record.latency_ms,
        tags=item.tags,
    )
    record.scores = {
        **(score.retrieval or {}),
        "fact_recall": score.fact_recall,
        "citation_precision": score.citation_precision,
        "related_hit": score.related_hit,
    }
    record.failures = _failures(record, score)
    return record, score


def _fill_answer(record: QuestionRecord, answer: Answer, gold: list[tuple[str, str | None]]) -> None:
    record.answer = answer.answer
    record.abstained = answer.abstained
    record.backend = answer.backend
    record.timings_ms = dict(answer.timings_ms)
    record.facts_found = facts_found(answer.answer, record.facts)
    record.retrieved = [
        RetrievedRecord(rank=rank, doc_id=c.doc_id, file=c.file, number=c.number, section=c.section,
                        score=round(c.score, 6), text=c.text, matches=sorted(matched_quotes(c.text, c.file, gold)))
        for rank, c in enumerate(answer.retrieved, start=1)
    ]
    record.citations = [
        CitationRecord(n=c.n, file=c.file, number=c.number, section=c.section, quote=c.quote,
                       relevant=bool(matched_quotes(c.quote, c.file, gold)))
        for c in answer.citations
    ]
    record.related = [
        CitationRecord(n=c.n, file=c.file, number=c.number, section=c.section, quote=c.quote,
                       relevant=bool(matched_quotes(c.quote, c.file, gold)))
        for c in answer.related
    ]


def _failures(record: QuestionRecord, score: QuestionScores) -> list[str]:
    reasons = []
    if record.answerable and score.abstained:
        reasons.append("abstained on an answerable question")
    if not record.answerable and not score.abstained:
        reasons.append("answered an unanswerable question")
    if score.retrieval is not None and not score.retrieval.get(f"hit@{FAIL_HIT_K}"):
        reasons.append(f"no gold passage in the top {FAIL_HIT_K} retrieved chunks")
    missing = [f for f, ok in zip(record.facts, record.facts_found) if not ok]
    if missing:
        reasons.append("missing facts: " + "; ".join(missing))
    return reasons


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, without secrets (API keys, tokens, URL credentials)."""
    out: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) or _SECRET_NAME.search(name.lower()):
            out[name] = "***" if value else None
            continue
        if isinstance(value, str) and "://" in value:
            value = _strip_credentials(value)
        out[name] = value
    return _jsonable(out)


def _strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, BaseModel):  # nested settings (the tuning constants): field by field, so runs compare
        return _jsonable(value.model_dump())
    return str(value)


def git_state(root: Path = _ROOT) -> tuple[str | None, bool | None]:
    """(commit, has uncommitted changes) of the checkout, or (None, None) outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(status.strip())
