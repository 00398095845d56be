"""Find input files and turn each into text: .txt, .md, .docx and .pdf.

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
  page index always maps to the printed page number. A PDF with no text on any page is
  refused (it needs OCR); when only some pages lack text the rest is loaded and a warning
  naming those pages is logged through ``logging``.
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
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import LoadError
from ingest.models import LoadedFile
from ingest.normalize import display_text

if TYPE_CHECKING:
    from lxml.etree import _Element

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf")

_SUPPORTED_LIST = ", ".join(SUPPORTED_EXTENSIONS)

# Formats users commonly have next to their directives, with the fix that gets them in.
_CONVERSION_HINTS = {
    ".doc": "save it as .docx in Word",
    ".rtf": "save it as .docx in Word",
    ".odt": "save it as .docx",
    ".xls": "only text documents are indexed",
    ".xlsx": "only text documents are indexed",
    ".jpg": "scanned images need OCR first",
    ".jpeg": "scanned images need OCR first",
    ".png": "scanned images need OCR first",
    ".tif": "scanned images need OCR first",
    ".tiff": "scanned images need OCR first",
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


def load_file(path: Path, *, key: str, max_bytes: int) -> LoadedFile:
    """Read one file and return its text (NFC, ``\\n`` line ends) under the index key ``key``.

    ``max_bytes`` is the size cap (``int(settings.max_file_mb * 1024 * 1024)``). Raises
    ``LoadError(key, reason)`` for unsupported, missing, empty, oversized, binary,
    undecodable, corrupt, password-protected and image-only files.
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

    page_starts: list[int] | None = None
    try:
        if kind in ("txt", "md"):
            text = display_text(_decode_text(raw, key))
        elif kind == "docx":
            text = display_text(_docx_text(raw, key))
        else:
            text, page_starts = _pdf_text(raw, key)
    except LoadError:
        raise
    except Exception as exc:  # the last net: a parser failing in a way not foreseen below
        raise LoadError(key, f"cannot read {kind} file ({_short_cause(exc)})") from exc

    if not text.strip():
        raise LoadError(key, "file is empty" if kind in ("txt", "md") else "file is empty: the document contains no text")
    return LoadedFile(
        path=key,
        kind=kind,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        page_starts=page_starts,
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


def _pdf_text(raw: bytes, key: str) -> tuple[str, list[int]]:
    """Page texts joined by a blank line, with the offset where each page starts."""
    if b"%PDF-" not in raw[:1024]:
        raise LoadError(key, "corrupt or truncated PDF (no PDF header: this is not a PDF file)")

    import pymupdf  # deferred: only PDFs need MuPDF

    try:
        document = pymupdf.open(stream=raw, filetype="pdf")
    except Exception as exc:
        raise LoadError(key, f"corrupt or truncated PDF ({_short_cause(exc)})") from None
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
    finally:
        document.close()

    # A page of only U+FFFD is text the PDF's fonts cannot map to Unicode: as unusable as none.
    empty = [i + 1 for i, page in enumerate(pages) if not page.replace("\ufffd", "").strip()]
    if len(empty) == len(pages):
        if repaired:
            raise LoadError(key, "corrupt or truncated PDF (it had to be repaired and no page has readable text)")
        raise LoadError(key, "PDF has no text layer (scanned image): it needs OCR")
    if empty:
        damaged = " (the file was damaged and repaired, which may be the cause)" if repaired else ""
        logger.warning(
            "%s: page(s) %s have no text layer (scanned images?) and were loaded empty; "
            "OCR the file to index them%s",
            key,
            ", ".join(map(str, empty)),
            damaged,
        )
    elif repaired:
        logger.warning("%s: the PDF was damaged and repaired while reading; check its text", key)

    # Per-page normalisation then joining equals normalising the joined text: the "\n\n"
    # separator is a composition boundary. So the offsets below index the returned text.
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    return "\n\n".join(pages), starts
