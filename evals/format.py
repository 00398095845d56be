"""Test-set formats: Q&A items (JSONL or CSV) and BEIR retrieval folders.

A Q&A test set is JSONL, one question per line::

    {"id": "q01", "question": "...", "reference_answer": "...", "facts": ["10/11"],
     "sources": [{"quote": "verbatim passage", "file": "corpus/003_....txt"}],
     "answerable": true, "tags": ["deadline"]}

or CSV with the same columns, where ``facts``, ``tags`` and ``sources`` hold several values
separated by ``|`` (``sources`` then holds quotes only, no file). A bad row never stops a run:
the reader returns the good items and one ``RowError`` per bad row, naming file and line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

LIST_SEPARATOR = "|"
_COLUMNS = ("id", "question", "reference_answer", "facts", "sources", "answerable", "tags")
_TRUE = {"true", "1", "yes", "y", "có", "co", "x"}
_FALSE = {"false", "0", "no", "n", "không", "khong", ""}


class SourceQuote(BaseModel):
    """A passage of a source document that supports the reference answer."""

    model_config = ConfigDict(extra="forbid", strict=True)

    quote: str = Field(description="A verbatim passage of the source (5-15 words is best).")
    file: str | None = Field(None, description="The source file; when given, only its passages count.")

    @field_validator("quote")
    @classmethod
    def _quote_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a source quote must not be empty")
        return value.strip()


class QAItem(BaseModel):
    """One test question with what a good answer must contain and where it comes from."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    question: str
    reference_answer: str = ""
    facts: list[str] = Field(default_factory=list, description="Short strings a good answer contains.")
    sources: list[SourceQuote] = Field(default_factory=list)
    answerable: bool = True
    tags: list[str] = Field(default_factory=list)

    @field_validator("sources", mode="before")
    @classmethod
    def _plain_quotes(cls, value: Any) -> Any:
        """Accept a bare string as a quote without a file."""
        if isinstance(value, list):
            return [{"quote": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("facts", "tags")
    @classmethod
    def _no_blank_entries(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("entries must not be empty")
        return [v.strip() for v in values]

    @model_validator(mode="after")
    def _answerable_has_sources(self) -> QAItem:
        if self.answerable and not self.sources:
            raise ValueError("an answerable question needs at least one source quote")
        if not self.answerable and self.facts:
            raise ValueError("an unanswerable question cannot have facts")
        return self


@dataclass(frozen=True)
class RowError:
    """A row that could not be read, and why."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class LoadResult:
    """The good items of a test set and one error per bad row."""

    items: list[QAItem] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class EvalInputError(ValueError):
    """The test set cannot be used at all (missing file, unknown format, no header)."""


def load_items(path: Path | str) -> LoadResult:
    """Read a JSONL (``.jsonl``/``.json``) or CSV (``.csv``) test set; bad rows become errors."""
    path = Path(path)
    if not path.is_file():
        raise EvalInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _jsonl_rows(path)
    elif suffix in (".csv", ".tsv"):
        rows = _csv_rows(path, delimiter="\t" if suffix == ".tsv" else ",")
    else:
        raise EvalInputError(f"{path}: unknown test-set format {suffix!r} (use .jsonl or .csv)")
    result = LoadResult()
    seen: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, RowError):
            result.errors.append(row)
            continue
        try:
            item = QAItem.model_validate(row)
        except ValidationError as exc:
            result.errors.append(RowError(str(path), line, _describe(exc)))
            continue
        if item.id in seen:
            result.errors.append(RowError(str(path), line, f"duplicate id {item.id!r} (first on line {seen[item.id]})"))
            continue
        seen[item.id] = line
        result.items.append(item)
    return result


def _describe(exc: ValidationError) -> str:
    """One line per problem: 'field: message'."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def _json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, object) for each non-blank line of a JSONL file, or (line, why) when it is not a
    JSON object; callers decide whether a bad line is skipped or fatal."""
    with path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                yield line, f"invalid JSON: {exc.msg} (column {exc.colno})"
                continue
            if not isinstance(row, dict):
                yield line, f"expected a JSON object, got {type(row).__name__}"
                continue
            yield line, row


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    for line, row in _json_objects(path):
        if isinstance(row, str):
            yield line, RowError(str(path), line, row)
        else:
            yield line, row if "id" in row else {"id": f"{path.stem}:{line}", **row}


def _csv_rows(path: Path, *, delimiter: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        header = [h.strip() for h in (reader.fieldnames or [])]
        if "question" not in header:
            raise EvalInputError(f"{path}:1: the header must name a 'question' column (found: {', '.join(header) or 'nothing'})")
        reader.fieldnames = header
        unknown = [h for h in header if h not in _COLUMNS]
        if unknown:
            yield 1, RowError(str(path), 1, f"unknown column(s) ignored: {', '.join(unknown)}")
        next_line = reader.line_num + 1
        for raw in reader:
            line, next_line = next_line, reader.line_num + 1
            if None in raw:
                yield line, RowError(str(path), line, "more values than header columns")
                continue
            if not any((v or "").strip() for v in raw.values()):
                continue
            try:
                yield line, _csv_item(raw, default_id=f"{path.stem}:{line}")
            except ValueError as exc:
                yield line, RowError(str(path), line, str(exc))


def _csv_item(raw: dict[str, str | None], *, default_id: str) -> dict[str, Any]:
    """A CSV row turned into the JSON shape ``QAItem`` validates."""
    value = {k: (v or "").strip() for k, v in raw.items() if k in _COLUMNS}
    answerable = value.get("answerable", "").lower()
    if answerable not in _TRUE | _FALSE:
        raise ValueError(f"answerable: {value['answerable']!r} is not true/false")
    row: dict[str, Any] = {
        "id": value.get("id") or default_id,
        "question": value.get("question", ""),
        "reference_answer": value.get("reference_answer", ""),
        "facts": _split(value.get("facts", "")),
        "sources": [{"quote": q} for q in _split(value.get("sources", ""))],
        "answerable": answerable in _TRUE if value.get("answerable") else True,
        "tags": _split(value.get("tags", "")),
    }
    return row


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


# BEIR ------------------------------------------------------------------------------------


@dataclass
class BeirSet:
    """A BEIR folder: passages, queries and graded relevance judgements."""

    corpus: dict[str, tuple[str, str]]
    """Passage id → (title, text)."""
    queries: dict[str, str]
    """Query id → text (only queries with judgements are kept)."""
    qrels: dict[str, dict[str, int]]
    """Query id → {passage id: grade > 0}."""


def read_beir(folder: Path | str) -> BeirSet:
    """Read ``corpus.jsonl``, ``queries.jsonl`` and ``qrels.tsv`` (or ``qrels/test.tsv``).

    Raises ``EvalInputError`` naming file and line on the first malformed line: a benchmark on a
    partly read set would report wrong numbers.
    """
    folder = Path(folder)
    qrels_path = folder / "qrels.tsv"
    if not qrels_path.is_file() and (folder / "qrels" / "test.tsv").is_file():
        qrels_path = folder / "qrels" / "test.tsv"
    for needed in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not needed.is_file():
            raise EvalInputError(f"{needed}: missing (a BEIR folder holds corpus.jsonl, queries.jsonl, qrels.tsv)")

    corpus: dict[str, tuple[str, str]] = {}
    for line, row in _beir_jsonl(folder / "corpus.jsonl"):
        corpus[str(row["_id"])] = (str(row.get("title") or ""), str(row.get("text") or ""))
    all_queries = {str(row["_id"]): str(row.get("text") or "") for _, row in _beir_jsonl(folder / "queries.jsonl")}

    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            cells = text.rstrip("\n").split("\t")
            if not text.strip():
                continue
            if line == 1 and not cells[-1].strip().lstrip("-").isdigit():
                continue  # the header
            if len(cells) != 3 or not cells[2].strip().lstrip("-").isdigit():
                raise EvalInputError(f"{qrels_path}:{line}: expected query-id<TAB>corpus-id<TAB>score")
            qid, did, grade = cells[0].strip(), cells[1].strip(), int(cells[2])
            if did not in corpus:
                raise EvalInputError(f"{qrels_path}:{line}: corpus id {did!r} is not in corpus.jsonl")
            if grade > 0:
                qrels.setdefault(qid, {})[did] = grade
    missing = sorted(set(qrels) - set(all_queries))
    if missing:
        raise EvalInputError(f"{qrels_path}: query id(s) not in queries.jsonl: {', '.join(missing[:5])}")
    queries = {qid: text for qid, text in all_queries.items() if qid in qrels}
    return BeirSet(corpus=corpus, queries=queries, qrels=qrels)


def _beir_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, row in _json_objects(path):
        if isinstance(row, str):
            raise EvalInputError(f"{path}:{line}: {row}")
        if "_id" not in row:
            raise EvalInputError(f"{path}:{line}: expected an object with an '_id'")
        yield line, row
