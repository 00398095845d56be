"""Find input files and turn each into text: .txt, .md, .docx, .pdf and scanned images.

Every failure reaches the caller as a ``LoadError`` carrying the file's index key and a
reason a user can act on; no library exception escapes un-wrapped.

Decisions worth knowing:

* **Text encodings.** A UTF-8 or UTF-16 byte-order mark decides the encoding. Without one the
  file must be UTF-8, except that Windows-1258 (the Windows code page for Vietnamese) is
  accepted when the decoded text is plausibly Vietnamese: its non-ASCII letters are
  Vietnamese letters or tone marks, at least one of them is specific to Vietnamese
  (ă â đ ê ô ơ ư or a tone mark), and the bytes are not mostly valid UTF-8 sequences (that
  pattern means a damaged UTF-8 file, which is refused with the offset of the bad byte).
  Windows-1252 is deliberately *not* tried: it has no ă ơ ư đ and no combining tone
  marks, so it cannot hold Vietnamese text, and a non-UTF-8 file that decodes as cp1252 is
  either another language or bytes of a legacy font encoding (TCVN3, VNI) that would be
  indexed as mojibake.
* **.docx order.** Body paragraphs and tables in document order. A table is read row by
  row, cell by cell, each cell's paragraphs on their own lines (left cell first), because
  the header of a Vietnamese official letter is usually a two-column table: issuer on the
  left, quốc hiệu on the right. Vertically merged cells are read once. Text boxes are read
  after the paragraph that anchors them. Page headers, footers and footnotes are not read.
* **.pdf pages.** One ``page_starts`` entry per page, including pages without text, so a
  page index always maps to the printed page number. Pages without a text layer (and pages
  that are a full-page image with only a stray line of text, such as a scanner's watermark)
  are read by OCR when ``load_file`` is given an ``ingest.ocr.Ocr``; text pages keep their
  text layer. Without OCR a PDF with no text on any page is refused (it needs OCR), and when
  only some pages lack text the rest is loaded and a warning naming those pages is logged.
  When OCR is wanted but Tesseract is missing, the refusal or warning says how to install it.
* **Images** (.png, .jpg, .jpeg, .tif, .tiff) are read by OCR only, one page per frame of a
  multi-page TIFF, turned upright by their EXIF orientation.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import LoadError
from ingest.models import LoadedFile, OcrPageInfo
from ingest.normalize import display_text

if TYPE_CHECKING:
    from lxml.etree import _Element
    from PIL import Image

    from ingest.ocr import Ocr, OcrPage, PageJob

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", *IMAGE_EXTENSIONS)

_SUPPORTED_LIST = ", ".join(SUPPORTED_EXTENSIONS)

# Formats users commonly have next to their directives, with the fix that gets them in.
_CONVERSION_HINTS = {
    ".doc": "save it as .docx in Word",
    ".rtf": "save it as .docx in Word",
    ".odt": "save it as .docx",
    ".xls": "only text documents are indexed",
    ".xlsx": "only text documents are indexed",
    ".heic": "save it as .jpg",
    ".webp": "save it as .png",
}

_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_JUNK_DIRS = {"__macosx", "__pycache__"}

# A file is "mostly control characters" above this share; real text has next to none.
_CONTROL_SHARE_LIMIT = 0.05
# Control characters that do occur in text files: tab, line ends, form feed (page breaks in
# text exported from PDFs), vertical tab and the DOS end-of-file mark.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x1A)) + bytes(range(0x1B, 0x20)) + b"\x7f"

_HIGH_BYTES = bytes(range(0x80, 0x100))
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_VIETNAMESE_VOWELS = set("aeiouyAEIOUY")
# Marks a Vietnamese vowel may carry: the five tones plus circumflex, breve and horn.
_TONE_MARKS = set("\u0300\u0301\u0303\u0309\u0323")
_VOWEL_MARKS = _TONE_MARKS | set("\u0302\u0306\u031b")
_SPECIFIC_VIETNAMESE = set("ăâđêôơưĂÂĐÊÔƠƯ") | _TONE_MARKS

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --------------------------------------------------------------------------- discovery


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and folders into the files to load and the paths refused, with reasons.

    Folders are walked recursively in sorted order; hidden files and folders and editor/OS
    junk (``~$x.docx`` lock files, ``.DS_Store``, ``Thumbs.db``, ``*~`` backups, ``*.tmp``)
    are skipped silently. Files with an unsupported extension, whether named or found in a
    folder, are refused, as is a path that does not exist. A file reached twice is listed
    once, at its first position.
    """
    files: list[Path] = []
    rejected: list[tuple[Path, str]] = []
    seen: set[Path] = set()

    def accept(path: Path) -> None:
        reason = _unsupported_reason(path)
        if reason is not None:
            rejected.append((path, reason))
            return
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            files.append(path)

    for path in paths:
        if path.is_dir():
            for found in _walk(path):
                accept(found)
        elif path.is_file():
            junk = _junk_reason(path.name)
            if junk is not None:
                rejected.append((path, junk))
            else:
                accept(path)
        elif path.exists() or path.is_symlink():
            # A dangling link, socket or device: there is nothing a user could mean here.
            reason = "broken link" if path.is_symlink() and not path.exists() else "not a regular file or folder"
            rejected.append((path, reason))
        else:
            rejected.append((path, "no such file or folder"))
    return files, rejected


def _walk(root: Path) -> Iterator[Path]:
    """Files under ``root``, sorted, without hidden or junk entries below ``root``."""
    found: list[Path] = []
    # followlinks=False: a link back up the tree must not loop forever.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d.lower() not in _JUNK_DIRS]
        for name in filenames:
            if name.startswith(".") or _junk_reason(name) is not None:
                continue
            path = Path(dirpath) / name
            if path.is_file():
                found.append(path)
    yield from sorted(found)


def _junk_reason(name: str) -> str | None:
    """Why a file name is editor/OS junk rather than a document, or None."""
    lower = name.lower()
    if lower.startswith("~$") or lower.startswith(".~lock."):
        return "Office lock file, not a document (it disappears when the document is closed)"
    if lower in _JUNK_NAMES:
        return "operating-system metadata file, not a document"
    if lower.endswith("~") or lower.endswith(".tmp"):
        return "temporary or backup file, not a document"
    return None


def _unsupported_reason(path: Path) -> str | None:
    """The refusal reason for a file whose extension is not supported, or None."""
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_EXTENSIONS:
        return None
    kind = f"'{suffix}'" if suffix else "(no extension)"
    hint = _CONVERSION_HINTS.get(suffix)
    tail = f"; {hint}" if hint else ""
    return f"unsupported file type {kind} (supported: {_SUPPORTED_LIST}{tail})"


# --------------------------------------------------------------------------- loading


def load_file(path: Path, *, key: str, max_bytes: int, ocr: Ocr | None = None) -> LoadedFile:
    """Read one file and return its text (NFC, ``\\n`` line ends) under the index key ``key``.

    ``max_bytes`` is the size cap (``int(settings.max_file_mb * 1024 * 1024)``). ``ocr``
    (``ingest.ocr.Ocr.from_settings(settings)``) reads scanned pages and images; without it
    they are refused as needing OCR. Raises ``LoadError(key, reason)`` for unsupported,
    missing, empty, oversized, binary, undecodable, corrupt, password-protected and image-only
    files (the last only without OCR or without Tesseract).
    """
    reason = _unsupported_reason(path)
    if reason is not None:
        raise LoadError(key, reason)
    kind = path.suffix.lower().lstrip(".")

    try:
        size = path.stat().st_size
        if not path.is_file():
            raise LoadError(key, "not a regular file")
        # Checked before reading so a huge file is never pulled into memory.
        if size > max_bytes:
            raise LoadError(key, _size_reason(size, max_bytes))
        raw = path.read_bytes()
    except LoadError:
        raise
    except FileNotFoundError:
        raise LoadError(key, "no such file or folder") from None
    except PermissionError:
        raise LoadError(key, "cannot read file: permission denied") from None
    except OSError as exc:
        raise LoadError(key, f"cannot read file ({exc.strerror or exc})") from None

    if not raw:
        raise LoadError(key, "file is empty")
    if len(raw) > max_bytes:  # grew between stat and read
        raise LoadError(key, _size_reason(len(raw), max_bytes))

    sha256 = hashlib.sha256(raw).hexdigest()
    page_starts: list[int] | None = None
    scan = _Scan()
    try:
        if kind in ("txt", "md"):
            text = display_text(_decode_text(raw, key))
        elif kind == "docx":
            text = display_text(_docx_text(raw, key))
        elif kind == "pdf":
            text, page_starts = _pdf_text(raw, key, ocr=ocr, sha256=sha256, scan=scan)
        else:
            text, page_starts = _image_text(raw, key, ocr=ocr, sha256=sha256, scan=scan)
    except LoadError:
        raise
    except Exception as exc:  # the last net: a parser failing in a way not foreseen below
        raise LoadError(key, f"cannot read {kind} file ({_short_cause(exc)})") from exc

    if not text.strip():
        if scan.pages:
            raise LoadError(key, "OCR found no text (blank pages or an unreadable scan)")
        raise LoadError(key, "file is empty" if kind in ("txt", "md") else "file is empty: the document contains no text")
    return LoadedFile(
        path=key,
        kind=kind,
        sha256=sha256,
        text=text,
        page_starts=page_starts,
        ocr_pages=scan.pages or None,
        warnings=scan.warnings,
    )


def _size_reason(size: int, max_bytes: int) -> str:
    """'file is 31.2 MB, over the 25 MB limit (CONGVAN_MAX_FILE_MB)', never showing equal sizes."""
    for decimals in (1, 2, 3):
        shown, limit = _human_size(size, decimals), _human_size(max_bytes, decimals)
        if shown != limit:
            break
    else:
        shown, limit = f"{size} bytes", f"{max_bytes} bytes"
    return f"file is {shown}, over the {limit} limit (CONGVAN_MAX_FILE_MB)"


def _human_size(n: int, decimals: int) -> str:
    """A byte count in bytes, KB or MB (binary units, matching CONGVAN_MAX_FILE_MB)."""
    if n < 1024:
        return f"{n} bytes"
    value, unit = (n / 1024, "KB") if n < 1024 * 1024 else (n / (1024 * 1024), "MB")
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"


def _short_cause(exc: BaseException) -> str:
    """One short line naming a library failure, for the end of a user-facing reason."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(message) > 120:
        message = message[:117] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# --------------------------------------------------------------------------- plain text


def _decode_text(raw: bytes, key: str) -> str:
    """Decode a .txt/.md file by the rule in the module docstring; refuse binary content."""
    if raw.startswith(codecs.BOM_UTF8):
        text = _strict(raw[len(codecs.BOM_UTF8):], "utf-8", key, "UTF-8 (it starts with a UTF-8 byte-order mark)")
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(raw, "utf-16", key, "UTF-16 (it starts with a UTF-16 byte-order mark)")
    else:
        if b"\x00" in raw:
            raise LoadError(key, "looks like a binary file, not text")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _legacy_vietnamese(raw, key, exc)
    if text and len(_CONTROL_CHARS.findall(text)) > _CONTROL_SHARE_LIMIT * len(text):
        raise LoadError(key, "looks like a binary file, not text")
    return text


def _strict(raw: bytes, encoding: str, key: str, described: str) -> str:
    """``raw`` decoded strictly, or a refusal naming the first bad byte."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LoadError(
            key, f"cannot decode text: invalid {described} at byte {exc.start} (save it as UTF-8)"
        ) from None


def _legacy_vietnamese(raw: bytes, key: str, utf8_error: UnicodeDecodeError) -> str:
    """Windows-1258 text when it is plausibly Vietnamese; otherwise the right refusal."""
    control = len(raw) - len(raw.translate(None, delete=_CONTROL_BYTES))
    if control > _CONTROL_SHARE_LIMIT * len(raw):
        raise LoadError(key, "looks like a binary file, not text")

    non_ascii = len(raw) - len(raw.translate(None, delete=_HIGH_BYTES))
    in_utf8_sequences = sum(len(m) for m in _UTF8_MULTIBYTE.findall(raw))
    if in_utf8_sequences * 2 >= non_ascii:
        # Mostly well-formed UTF-8 with a few broken bytes: a damaged or mixed file. Reading
        # it as a code page would turn every accented letter into mojibake.
        raise LoadError(
            key,
            f"cannot decode text: invalid UTF-8 at byte {utf8_error.start} "
            "(the file is damaged or mixes encodings; save it as UTF-8)",
        )
    try:
        text = raw.decode("cp1258")
    except UnicodeDecodeError:
        text = None
    if text is None or not _plausibly_vietnamese(text):
        raise LoadError(key, "cannot decode text: not UTF-8 or UTF-16 (save it as UTF-8)")
    logger.info("%s: read as Windows-1258 (legacy Vietnamese code page)", key)
    return text


def _plausibly_vietnamese(text: str) -> bool:
    """True when the non-ASCII letters of ``text`` are Vietnamese and some only Vietnamese has."""
    letters = [ch for ch in text if ord(ch) >= 0x80 and unicodedata.category(ch)[0] in "LM"]
    if not letters:
        return False
    vietnamese = sum(1 for ch in letters if _is_vietnamese_letter(ch))
    specific = any(ch in _SPECIFIC_VIETNAMESE or _has_tone(ch) for ch in letters)
    return specific and vietnamese >= 0.95 * len(letters)


def _is_vietnamese_letter(ch: str) -> bool:
    if ch in "đĐ" or ch in _TONE_MARKS:
        return True
    base, *marks = unicodedata.normalize("NFD", ch)
    return base in _VIETNAMESE_VOWELS and bool(marks) and all(m in _VOWEL_MARKS for m in marks)


def _has_tone(ch: str) -> bool:
    return any(m in _TONE_MARKS for m in unicodedata.normalize("NFD", ch)[1:])


# --------------------------------------------------------------------------- docx


def _docx_text(raw: bytes, key: str) -> str:
    """Body text of a .docx in document order, tables included (see module docstring)."""
    if raw.startswith(_OLE_MAGIC):
        # Word writes both the old binary format and password-protected .docx files as
        # OLE compound files, so either could be behind a .docx name.
        raise LoadError(
            key,
            "not a .docx: it is an old Word 97-2003 file or a password-protected document "
            "(open it in Word and save it as .docx without a password)",
        )
    problem = _docx_package_problem(raw)
    if problem is not None:
        raise LoadError(key, problem)

    import docx  # deferred: python-docx pulls in lxml, not needed for other formats
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
        body = document.element.body
    except PackageNotFoundError:
        raise LoadError(key, "corrupt or truncated .docx (a zip archive, but not a Word document)") from None
    except Exception as exc:
        raise LoadError(key, f"corrupt or truncated .docx ({_short_cause(exc)})") from None
    try:
        return "\n".join(_block_lines(body))
    except Exception as exc:
        raise LoadError(key, f"corrupt or truncated .docx ({_short_cause(exc)})") from None


def _docx_package_problem(raw: bytes) -> str | None:
    """Why ``raw`` is not a Word package, judged from the zip listing, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        # A truncated .docx loses the zip's central directory, which sits at the end.
        return "corrupt or truncated .docx (not a valid zip archive)"
    if any(name.startswith("word/") for name in names) and "[Content_Types].xml" in names:
        return None
    for prefix, program in (("xl/", "an Excel workbook"), ("ppt/", "a PowerPoint presentation")):
        if any(name.startswith(prefix) for name in names):
            return f"not a .docx: it is {program} with a .docx name"
    return "corrupt or truncated .docx (a zip archive, but not a Word document)"


def _block_lines(container: _Element) -> list[str]:
    """Lines of a block container (body, table cell, text box, content control)."""
    lines: list[str] = []
    for child in container:
        tag = child.tag
        if tag == f"{_W}p":
            lines.append(_paragraph_text(child))
            for box in _text_boxes(child):
                lines.extend(_trimmed(_block_lines(box)))
        elif tag == f"{_W}tbl":
            lines.extend(_table_lines(child))
        elif tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent") if tag == f"{_W}sdt" else child
            if content is not None:
                lines.extend(_block_lines(content))
    return lines


def _table_lines(table: _Element) -> list[str]:
    """Row by row, cell by cell; each cell's own lines, with its empty edges dropped."""
    lines: list[str] = []
    for row in table.iter(f"{_W}tr"):
        if _nearest(row, f"{_W}tbl") is not table:
            continue  # a row of a nested table: read through its cell
        for cell in row.iter(f"{_W}tc"):
            if _nearest(cell, f"{_W}tr") is not row or _continues_vertical_merge(cell):
                continue
            lines.extend(_trimmed(_block_lines(cell)))
    return lines


def _continues_vertical_merge(cell: _Element) -> bool:
    """A cell below the first of a vertical merge: its text lives in the first cell."""
    merge = cell.find(f"{_W}tcPr/{_W}vMerge")
    return merge is not None and merge.get(f"{_W}val", "continue") == "continue"


def _paragraph_text(paragraph: _Element) -> str:
    """Visible text of a paragraph: its runs, including inserted, hyperlink and field runs."""
    parts: list[str] = []
    for run in paragraph.iter(f"{_W}r"):
        if _run_belongs_to(run, paragraph):
            parts.append(_run_text(run))
    return "".join(parts)


def _run_belongs_to(run: _Element, paragraph: _Element) -> bool:
    """False for runs of a nested text box, deleted text or a duplicate fallback rendering."""
    node = run.getparent()
    while node is not None and node is not paragraph:
        if node.tag in (f"{_W}p", f"{_W}del", f"{_W}moveFrom", _MC_FALLBACK):
            return False
        node = node.getparent()
    return True


def _run_text(run: _Element) -> str:
    parts: list[str] = []
    for child in run:
        tag = child.tag
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag in (f"{_W}tab", f"{_W}ptab"):
            parts.append("\t")
        elif tag == f"{_W}br":
            # Page and column breaks end a line too; dropping them would glue two words.
            parts.append("\n")
        elif tag == f"{_W}cr":
            parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


def _text_boxes(paragraph: _Element) -> Iterator[_Element]:
    """Text-box contents anchored in this paragraph, each once (not the fallback copy)."""
    for box in paragraph.iter(f"{_W}txbxContent"):
        node = box.getparent()
        inside_other = False
        while node is not None and node is not paragraph:
            if node.tag in (_MC_FALLBACK, f"{_W}txbxContent", f"{_W}p"):
                inside_other = True
                break
            node = node.getparent()
        if not inside_other:
            yield box


def _nearest(element: _Element, tag: str) -> _Element | None:
    """The closest ancestor of ``element`` with ``tag``."""
    node = element.getparent()
    while node is not None and node.tag != tag:
        node = node.getparent()
    return node


def _trimmed(lines: list[str]) -> list[str]:
    """``lines`` without leading and trailing blank lines."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


# --------------------------------------------------------------------------- pdf


# A page that is mostly one image with at most this much text is a scan with a stray text line
# (a scanner's watermark, a digital-signature stamp): it is OCR'd rather than read as near-empty.
_SCANNED_PAGE_MAX_CHARS = 200
_SCANNED_PAGE_IMAGE_SHARE = 0.5
# Pages are rendered for OCR at the configured dpi, lowered for oversized pages (A0 plans).
_MAX_RENDER_PIXELS = 40_000_000


@dataclass
class _Scan:
    """What OCR added to a file being loaded: its pages' quality and word boxes, and warnings."""

    pages: list[OcrPageInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _pdf_text(raw: bytes, key: str, *, ocr: Ocr | None = None, sha256: str = "",
              scan: _Scan | None = None) -> tuple[str, list[int]]:
    """Page texts joined by a blank line, with the offset where each page starts.

    Pages without a text layer are OCR'd when ``ocr`` is given (see the module docstring).
    """
    scan = scan if scan is not None else _Scan()
    if b"%PDF-" not in raw[:1024]:
        raise LoadError(key, "corrupt or truncated PDF (no PDF header: this is not a PDF file)")

    import pymupdf  # deferred: only PDFs need MuPDF

    try:
        document = pymupdf.open(stream=raw, filetype="pdf")
    except Exception as exc:
        raise LoadError(key, f"corrupt or truncated PDF ({_short_cause(exc)})") from None
    unavailable: str | None = None  # the install hint, when OCR was wanted and is missing
    recognised: dict[int, OcrPage] = {}
    try:
        if document.needs_pass and not document.authenticate(""):
            raise LoadError(key, "PDF is password-protected (remove the password and save it again)")
        if document.page_count == 0:
            raise LoadError(key, "corrupt or truncated PDF (no pages could be read)")
        pages: list[str] = []
        for number in range(document.page_count):
            try:
                page_text = document[number].get_text("text", sort=True)
            except Exception as exc:
                raise LoadError(
                    key, f"corrupt or truncated PDF (page {number + 1} cannot be read: {_short_cause(exc)})"
                ) from None
            pages.append(display_text(page_text).rstrip())
        repaired = bool(getattr(document, "is_repaired", False))
        if ocr is not None:
            scanned = [i for i, page in enumerate(pages) if _is_scanned_page(document[i], page)]
            if scanned:
                from ingest.ocr import OcrUnavailable

                jobs = [(i, partial(_render_page, document, i, ocr.dpi)) for i in scanned]
                try:
                    recognised = _recognise(ocr, key, sha256, jobs)
                except OcrUnavailable as exc:
                    unavailable = exc.hint
        for i, page in recognised.items():
            pages[i] = page.text
    finally:
        document.close()

    # A page of only U+FFFD is text the PDF's fonts cannot map to Unicode: as unusable as none.
    empty = [i + 1 for i, page in enumerate(pages) if not page.replace("\ufffd", "").strip()]
    hint = f": {unavailable}" if unavailable else ""
    if len(empty) == len(pages):
        if recognised:
            raise LoadError(key, "OCR found no text (blank pages or an unreadable scan)")
        if repaired:
            raise LoadError(key, "corrupt or truncated PDF (it had to be repaired and no page has readable text)")
        raise LoadError(key, f"PDF has no text layer (scanned image): it needs OCR{hint}")
    if empty and recognised:
        log_pages = ", ".join(map(str, empty))
        logger.info("%s: page(s) %s are blank (OCR found no text)", key, log_pages)
    elif empty:
        damaged = " (the file was damaged and repaired, which may be the cause)" if repaired else ""
        logger.warning(
            "%s: page(s) %s have no text layer (scanned images?) and were loaded empty; "
            "OCR the file to index them%s%s",
            key,
            ", ".join(map(str, empty)),
            damaged,
            hint,
        )
        if unavailable:
            scan.warnings.append(
                f"page(s) {', '.join(map(str, empty))} have no text layer and were not read: needs OCR: {unavailable}")
    elif repaired:
        logger.warning("%s: the PDF was damaged and repaired while reading; check its text", key)

    # Per-page normalisation then joining equals normalising the joined text: the "\n\n"
    # separator is a composition boundary. So the offsets below index the returned text.
    starts = _page_starts(pages)
    if recognised and ocr is not None:
        _record(scan, ocr, recognised, starts)
    return "\n\n".join(pages), starts


def _page_starts(pages: list[str]) -> list[int]:
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    return starts


def _is_scanned_page(page, text: str) -> bool:  # page: pymupdf.Page
    """No usable text, or a page covered by an image with only a stray line of text."""
    usable = text.replace("\ufffd", "").strip()
    if not usable:
        return True
    if len(usable) > _SCANNED_PAGE_MAX_CHARS:
        return False
    import pymupdf

    area = abs(page.rect)
    covered = sum(abs(pymupdf.Rect(info["bbox"]) & page.rect) for info in page.get_image_info())
    return area > 0 and covered >= _SCANNED_PAGE_IMAGE_SHARE * area


def _render_page(document, index: int, dpi: int) -> Image.Image:  # document: pymupdf.Document
    """Page ``index`` as an RGB image for OCR, at ``dpi`` unless that makes it enormous."""
    from PIL import Image

    page = document[index]
    inches = (page.rect.width / 72) * (page.rect.height / 72)
    if inches > 0 and dpi * dpi * inches > _MAX_RENDER_PIXELS:
        dpi = max(72, int((_MAX_RENDER_PIXELS / inches) ** 0.5))
    pixmap = page.get_pixmap(dpi=dpi)
    image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    image.info["dpi"] = (dpi, dpi)
    return image


# --------------------------------------------------------------------------- images


def _image_text(raw: bytes, key: str, *, ocr: Ocr | None, sha256: str, scan: _Scan) -> tuple[str, list[int]]:
    """The OCR'd text of an image file, one page per frame (multi-page TIFF)."""
    if ocr is None:
        raise LoadError(key, "scanned image: it needs OCR")
    from PIL import Image, UnidentifiedImageError

    from ingest.ocr import OcrUnavailable

    try:
        image = Image.open(io.BytesIO(raw))
        frames = int(getattr(image, "n_frames", 1) or 1)
    except UnidentifiedImageError:
        raise LoadError(key, "corrupt or unreadable image (not an image Pillow can read)") from None
    except Image.DecompressionBombError:
        raise LoadError(key, "image is too large to OCR (over 178 million pixels)") from None
    jobs = [(i, partial(_image_frame, image, i, key)) for i in range(frames)]
    try:
        recognised = _recognise(ocr, key, sha256, jobs)
    except OcrUnavailable as exc:
        raise LoadError(key, f"scanned image: it needs OCR: {exc.hint}") from None
    finally:
        image.close()
    pages = [recognised[i].text for i in range(frames)]
    starts = _page_starts(pages)
    _record(scan, ocr, recognised, starts)
    return "\n\n".join(pages), starts


def _image_frame(image: Image.Image, index: int, key: str) -> Image.Image:
    """Frame ``index`` of an image file, upright, with its resolution when it states a useful one."""
    from PIL import Image, ImageOps

    try:
        image.seek(index)
        frame = ImageOps.exif_transpose(image) or image.copy()
        frame.load()
    except Image.DecompressionBombError:
        raise LoadError(key, "image is too large to OCR (over 178 million pixels)") from None
    except (OSError, ValueError, EOFError) as exc:
        raise LoadError(key, f"corrupt or truncated image ({_short_cause(exc)})") from None
    dpi = image.info.get("dpi")
    frame.info.pop("dpi", None)
    try:
        # 72 and 96 dpi are what cameras and screenshots write whatever the real scale;
        # Tesseract estimates better than it reads those.
        if dpi and 150 <= round(float(dpi[0])) <= 1200:
            frame.info["dpi"] = (round(float(dpi[0])),) * 2
    except (TypeError, ValueError, IndexError):
        pass
    return frame


# --------------------------------------------------------------------------- OCR glue


def _recognise(ocr: Ocr, key: str, sha256: str, jobs: list[PageJob]) -> dict[int, OcrPage]:
    """``ocr.recognise`` with a page that cannot be read turned into the file's refusal."""
    from ingest.ocr import OcrFailed

    try:
        return ocr.recognise(key, sha256, jobs)
    except OcrFailed as exc:
        raise LoadError(key, f"OCR failed on {exc}") from None


def _record(scan: _Scan, ocr: Ocr, recognised: dict[int, OcrPage], starts: list[int]) -> None:
    """Keep the OCR'd pages' quality and word boxes, and flag the poorly read ones."""
    from ingest.ocr import low_quality_warning

    scan.pages = [ocr.page_info(i + 1, starts[i], recognised[i]) for i in sorted(recognised)]
    warning = low_quality_warning(scan.pages, ocr.low_confidence)
    if warning:
        scan.warnings.append(warning)
