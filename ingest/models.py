"""Typed records that cross module boundaries: loaded files, documents, chunks, ingest results."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OcrPageInfo(BaseModel):
    """What a document keeps of one OCR'd page: its quality and the box of every word."""

    page: int = Field(description="1-based page of the file.")
    start: int = Field(description="Offset where the page's text begins, in the text of the file (LoadedFile) "
                                   "or of the document (Document; negative when the page began before it).")
    mean_confidence: float | None = Field(None, description="Tesseract's mean word confidence, 0-100.")
    low_confidence: bool = Field(False, description="Below CONGVAN_OCR_LOW_CONFIDENCE: 'chất lượng quét thấp'.")
    width: int = Field(0, description="Width of the OCR'd page image, pixels.")
    height: int = Field(0, description="Height of the OCR'd page image, pixels.")
    dpi: int | None = None
    words: list[list[int]] = Field(
        default_factory=list, description="[start, end, x0, y0, x1, y1] per word: offsets from ``start``, box in pixels.")


class LoadedFile(BaseModel):
    """A file read from disk and turned into text (NFC, ``\\n`` line ends)."""

    path: str = Field(description="Key of the file in the index: path relative to the working directory when possible.")
    kind: str = Field(description="'txt', 'md', 'docx' or 'pdf'.")
    sha256: str
    text: str
    page_starts: list[int] | None = Field(None, description="PDF only: offset in ``text`` where each page begins.")
    ocr_pages: list[OcrPageInfo] | None = Field(None, description="Pages read by OCR (scans and images only).")
    warnings: list[str] = Field(default_factory=list, description="Problems worth a user's look that did not stop loading.")


class DocumentMetadata(BaseModel):
    """Fields of a directive by Nghị định 30/2020/NĐ-CP. Unknown fields are None, never guessed."""

    doc_type: str | None = Field(None, description="Lower-case Vietnamese type name: 'công văn', 'kế hoạch', ...")
    number: str | None = Field(None, description="Số, ký hiệu as written after repair: '3452/UBND-VX'; a blank number keeps its ký hiệu: '/KH-UBND'.")
    issuer: str | None = None
    parent_issuer: str | None = None
    place: str | None = None
    date: str | None = Field(None, description="ISO date, partial allowed: '2024-10-23', '2024-10' or '2024'.")
    subject: str | None = Field(None, description="Trích yếu / V/v line(s), joined.")
    addressees: list[str] = Field(default_factory=list, description="Kính gửi: the bodies that must act.")
    recipients: list[str] = Field(default_factory=list, description="Nơi nhận entries, as written.")
    signer_name: str | None = None
    signer_title: str | None = None
    signing_authority: str | None = Field(None, description="'KT. CHỦ TỊCH', 'T/M BAN THƯỜNG VỤ', ...")
    references: list[str] = Field(default_factory=list, description="Numbers of other documents cited: '28-CT/TW', '1183/QĐ-TTg'.")
    attached_to: str | None = Field(None, description="An attachment without a number of its own: the document it is issued "
                                                      "with, as its '(Kèm theo ...)' line names it: 'Quyết định số 1627/QĐ-UBND "
                                                      "ngày 21/11/2025'.")
    secrecy: str | None = None
    urgency: str | None = None
    is_party: bool = Field(False, description="Party document (Hướng dẫn 36-HD/VPTW layout).")
    inferred: list[str] = Field(default_factory=list, description="Fields read from context rather than from their ND30 position.")


class Document(BaseModel):
    """One directive. A file may hold several (a cover letter and its attachment)."""

    doc_id: str
    file: str
    part: int = Field(0, description="Position of this document inside its file.")
    file_sha256: str
    kind: str
    text: str = Field(description="The document's text as displayed and quoted (NFC of the source).")
    start: int = Field(0, description="Offset of ``text`` inside the file's text.")
    page_starts: list[int] | None = Field(None, description="PDF only: offset in ``text`` where each page begins.")
    metadata: DocumentMetadata = Field(default_factory=DocumentMetadata)
    ocr_pages: list[OcrPageInfo] | None = Field(None, description="OCR'd pages overlapping this document.")


class Chunk(BaseModel):
    """A passage of a document, the unit of retrieval and citation."""

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str = Field(description="Exactly ``document.text[start:end]``.")
    start: int
    end: int
    section: list[str] = Field(default_factory=list, description="Heading path, outermost first.")
    header: str = Field("", description="Short document context (number, type, issuer, subject) used for retrieval.")

    @property
    def section_path(self) -> str:
        """The heading path as shown to users: 'III- MỤC TIÊU > 2. Mục tiêu cụ thể'."""
        return " > ".join(self.section)


class FileOutcome(BaseModel):
    """What happened to one input file during an ingest run."""

    file: str
    status: str = Field(description="'ingested', 'unchanged', 'failed' or 'pruned'.")
    documents: int = 0
    chunks: int = 0
    reason: str | None = None
    code: str | None = Field(None, description="Failed: the LoadCode of a refused file (ingest.errors); "
                                                 "None for failures after loading.")
    warnings: list[str] = Field(default_factory=list, description="E.g. pages of low scan quality.")


class IngestSummary(BaseModel):
    """The result of ``congvan ingest``: one outcome per file plus totals."""

    outcomes: list[FileOutcome] = Field(default_factory=list)
    seconds: float = 0.0
    changed_files: set[str] = Field(default_factory=set, exclude=True)
    """Files whose points this run deleted or replaced (ingested, moved, pruned): what a reader
    keeping a catalogue must read again. Not part of the report."""

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return any(o.status == "failed" for o in self.outcomes)
