"""Errors a user sees during ingestion. Each message names the file and says what to do."""

from __future__ import annotations

from enum import StrEnum


class CongvanError(Exception):
    """Base class: the message is shown to the user as it is."""


class LoadCode(StrEnum):
    """Why a file was refused, as a machine code next to the English reason.

    The reason is for logs and the CLI and carries the detail (sizes, byte offsets, library
    errors); the code is what a program branches on, such as the web app choosing its
    Vietnamese text, so that rewording a reason cannot silently change what users read.
    The values are stable strings: they travel in ``FileOutcome.code`` and JSON summaries.
    """

    # Finding the file
    UNSUPPORTED_TYPE = "unsupported_type"
    NOT_FOUND = "not_found"
    BROKEN_LINK = "broken_link"
    LINK_LOOP = "link_loop"
    NOT_A_FILE = "not_a_file"  # a socket, pipe or device
    JUNK_FILE = "junk_file"  # Office lock files, OS metadata, temporary and backup files
    FOLDER_UNREADABLE = "folder_unreadable"
    PERMISSION_DENIED = "permission_denied"
    UNREADABLE = "unreadable"  # any other read error, and the last net around the parsers
    TOO_LARGE = "too_large"  # over CONGVAN_MAX_FILE_MB
    EMPTY = "empty"  # no bytes, or a document without any text
    # Misnamed: the content is another supported format; renaming fixes it
    REALLY_PDF = "really_pdf"
    REALLY_DOCX = "really_docx"
    REALLY_PNG = "really_png"
    REALLY_JPG = "really_jpg"
    REALLY_TIF = "really_tif"
    # Misnamed: the content is something that cannot be indexed as named
    NOT_PDF = "not_pdf"
    NOT_DOCX = "not_docx"
    NOT_IMAGE = "not_image"
    # Plain text
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    UTF16_WITHOUT_BOM = "utf16_without_bom"
    # .docx
    DOCX_CORRUPT = "docx_corrupt"
    DOCX_BOMB = "docx_bomb"  # expands past CONGVAN_DOCX_MAX_UNCOMPRESSED_MB
    DOCX_TOO_MANY_PARAGRAPHS = "docx_too_many_paragraphs"
    DOCX_TOO_COMPLEX = "docx_too_complex"  # too many XML elements for the paragraph limit
    # PDF
    PDF_CORRUPT = "pdf_corrupt"
    PDF_PASSWORD = "pdf_password"
    PDF_NEEDS_OCR = "pdf_needs_ocr"  # no text layer, and OCR off or not installed
    PDF_LEGACY_FONT = "pdf_legacy_font"  # a text layer in a legacy font (mojibake), and OCR off or not installed
    # Images and OCR
    IMAGE_NEEDS_OCR = "image_needs_ocr"
    IMAGE_UNREADABLE = "image_unreadable"  # not an image Pillow can identify
    IMAGE_CORRUPT = "image_corrupt"  # identified, but a frame cannot be decoded
    IMAGE_TOO_LARGE = "image_too_large"
    OCR_NO_TEXT = "ocr_no_text"
    OCR_FAILED = "ocr_failed"


class LoadError(CongvanError):
    """A file could not be turned into text. Nothing already indexed is touched.

    ``reason`` is the English explanation with its detail; ``code`` (a :class:`LoadCode`)
    says which kind of refusal it is.
    """

    def __init__(self, path: str, reason: str, code: LoadCode | None = None):
        self.path = path
        self.reason = reason
        self.code = code
        super().__init__(f"{path}: {reason}")


class IndexLockedError(CongvanError):
    """The embedded index is open in another process (usually the running web app)."""


class IndexMismatchError(CongvanError):
    """The index on disk was built with other settings (embedding model, vector size)."""


class IndexDamagedError(CongvanError):
    """The index on disk cannot be read; ``congvan ingest --repair`` rebuilds it from the files."""
