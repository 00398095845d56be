"""The register's records: where an item was read, deadlines, obligations, targets, relations,
and the ``Register`` that holds them.

Each item carries a ``SourceRef`` with the same fields as an answer's citation, so an item can
be cited, shown in a table or exported without going back to its document.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SourceRef(BaseModel):
    """Where an item was read: the quoted sentence with offsets into ``Document.text``.

    Carries the same fields as an answer's citation, so a register item can be cited as is.
    """

    doc_id: str
    file: str
    number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    date: str | None = Field(None, description="The document's own date (ISO, partial allowed).")
    subject: str | None = None
    section: str = Field("", description="Heading path: 'VI. CHẾ ĐỘ BÁO CÁO'.")
    quote: str = Field(description="Exactly ``document.text[start:end]``.")
    start: int
    end: int
    page: int | None = None
    references: list[str] = Field(default_factory=list, description="Numbers the document cites, for matching questions.")


class Deadline(BaseModel):
    """A deadline as data, plus the words that state it.

    ``kind``: 'date' (``date``, ISO), 'month' (``month``, '2024-11': due by its last day),
    'quarter' (``year`` and ``quarter`` 1-4: due by the quarter's last day), 'year' (``year``: due
    by 31/12) or 'recurring' (``recurrence`` 'yearly' / 'semiannual' / 'quarterly' on
    ``month_day`` '11-10', or 'monthly' / 'quarterly' on ``day``). A date written without a year
    ("trước ngày 25/5" in a 2024 plan) takes the year of the plan and says so in ``year_inferred``.
    """

    kind: Literal["date", "month", "quarter", "year", "recurring"]
    date: str | None = None
    month: str | None = None
    year: int | None = Field(None, description="Year of a 'quarter' or 'year' deadline.")
    quarter: int | None = Field(None, ge=1, le=4, description="Quarter (1-4) of a 'quarter' deadline.")
    recurrence: Literal["yearly", "semiannual", "quarterly", "monthly"] | None = None
    month_day: str | None = Field(None, description="'MM-DD' of a yearly, semiannual or quarterly deadline.")
    day: int | None = Field(None, description="Day of the month of a monthly (or quarterly) deadline.")
    year_inferred: bool = False
    due: str | None = Field(None, description="First due date on or after the document's date (ISO).")
    text: str = Field(description="As written: 'hằng năm trước ngày 10/11', 'trong tháng 11/2024'.")
    start: int
    end: int


class Obligation(BaseModel):
    """Who must do what by when, read from one sentence of a directive."""

    id: str
    units: list[str] = Field(default_factory=list, description="Acting units, as written.")
    units_from: str | None = Field(
        None, description="Where the units were found: 'sentence', 'table' (the row's cell), 'item' (the "
                          "item's role line), 'heading', 'previous' (an earlier sentence of the paragraph), "
                          "'lead-in', 'addressees' or 'collecting' (the unit that aggregates the reports)."
    )
    coordinating: list[str] = Field(default_factory=list, description="Units named after 'phối hợp với'.")
    action: str
    recipients: list[str] = Field(default_factory=list, description="Who receives the result ('trình', 'gửi về').")
    via: str | None = Field(None, description="The unit reports pass through: 'qua Phòng ...'.")
    deadline: Deadline
    source: SourceRef


class Target(BaseModel):
    """A percentage a document sets as a target or reports as a baseline."""

    id: str
    kind: Literal["target", "baseline"]
    subject: str
    value: float
    unit: str = "%"
    comparator: Literal["=", "<", ">", "<=", ">="] = "="
    value_text: str = Field(description="As written: 'giảm còn dưới 6%', 'đạt 97,2%'.")
    fraction: str | None = Field(None, description="A count given with the figure: '77/108'.")
    year: int | None = None
    source: SourceRef


class Relation(BaseModel):
    """One document referring to another by number."""

    id: str
    kind: Literal["implements", "based_on", "encloses", "cites"]
    source_doc_id: str
    source_number: str | None = None
    target_number: str
    target_key: str = Field(description="Accent-folded number used to match documents: '61-ctr/tu'.")
    target_doc_id: str | None = Field(None, description="The indexed document with that number, resolved at read time.")
    source: SourceRef


class Register(BaseModel):
    """Every obligation, target and reference of an index or of one file (references not yet resolved)."""

    obligations: list[Obligation] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
