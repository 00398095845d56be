"""Find input files and turn each into text: .txt, .md, .docx, .pdf and scanned images.

Every failure reaches the caller as a ``LoadError`` carrying the file's index key, a
reason a user can act on and a ``LoadCode`` saying which refusal it is (what the web app
translates); no library exception escapes un-wrapped.

Decisions worth knowing:

* **Text encodings.** A UTF-8 or UTF-16 byte-order mark decides the encoding. Without one,
  a file with UTF-16's pattern of NUL bytes (the high byte of every ASCII character) that
  decodes to text is read as UTF-16 LE or BE; otherwise NUL bytes mean binary. Other files
  must be UTF-8, except that Windows-1258 (the Windows code page for Vietnamese) is
  accepted when the decoded text is plausibly Vietnamese: its non-ASCII letters are
  Vietnamese letters or tone marks, at least one of them is specific to Vietnamese
  (ă â đ ê ô ơ ư or a tone mark), and the bytes are not mostly valid UTF-8 sequences (that
  pattern means a damaged UTF-8 file, which is refused with the offset of the bad byte).
  Windows-1252 is deliberately *not* tried: it has no ă ơ ư đ and no combining tone
  marks, so it cannot hold Vietnamese text, and a non-UTF-8 file that decodes as cp1252 is
  either another language or bytes of a legacy font encoding (TCVN3, VNI) that would be
  indexed as mojibake.
* **.docx limits.** python-docx inflates every part whole and builds an lxml tree of about
  140 bytes per element, so a 1 MB zip bomb used to take gigabytes. Before it runs, the zip
  is streamed in 1 MB chunks: the real inflated size (not the size the zip declares, which
  can lie) must stay within ``max_docx_xml_bytes``, the paragraphs within
  ``max_docx_paragraphs`` and the XML elements within 20 per allowed paragraph.
* **Misnamed files.** A .docx, .pdf or image whose first bytes say it is something else (a
  PDF named .docx, a .docx named .pdf) is refused with what it really is and how to fix it.
* **.docx order.** Body paragraphs and tables in document order. A data table (some row
  with three or more filled cells: an appendix of tasks, units and deadlines) is written one
  row a line, cells between pipes as in Markdown, so that a row is read as one sentence with
  its unit and deadline. A layout table is read row by row, cell by cell, each cell's
  paragraphs on their own lines (left cell first), because the header of a Vietnamese
  official letter is usually a two-column table: issuer on the left, quốc hiệu on the right.
  Vertically merged cells are read once (an empty cell in a pipe row). Text boxes are read
  after the paragraph that anchors them. Page headers, footers and footnotes are not read.
* **.pdf pages.** One ``page_starts`` entry per page, including pages without text, so a
  page index always maps to the printed page number. Pages without a text layer (and pages
  that are a full-page image with only a stray line of text, such as a scanner's watermark)
  are read by OCR when ``load_file`` is given an ``ingest.ocr.Ocr``; text pages keep their
  text layer. Without OCR a PDF with no text on any page is refused (it needs OCR), and when
  only some pages lack text the rest is loaded and a warning naming those pages is logged.
  When OCR is wanted but Tesseract is missing, the refusal or warning says how to install it.
* **Garbled text layers.** A PDF typed in a legacy Vietnamese font (TCVN3, VNI, or a font
  without a correct Unicode map) prints fine but extracts as mojibake ("Th«ng b¸o", "KӃW TXҧ").
  ``check_text_layer`` counts the words mixing Latin letters with characters no Vietnamese word
  has; a page where they are many (5 or more, and 30 % of the words with non-ASCII letters) is
  OCR'd like a scan, with a warning naming it. Without OCR such a page is loaded empty with a
  warning (mojibake would be indexed and quoted as gibberish), and a file of nothing else is
  refused as needing OCR.
* **Images** (.png, .jpg, .jpeg, .tif, .tiff) are read by OCR only, one page per frame of a
  multi-page TIFF, turned upright by their EXIF orientation.
"""

from __future__ import annotations

import codecs
import copy
import errno
import hashlib
import io
import logging
import os
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ingest.errors import LoadCode, LoadError
from ingest.models import LoadedFile, OcrPageInfo
from ingest.text.normalize import display_text

if TYPE_CHECKING:
    from lxml.etree import _Element
    from PIL import Image

    from ingest.ocr import Ocr, OcrPage, PageJob

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", *IMAGE_EXTENSIONS)
WARNING_EXTENSIONS: tuple[str, ...] = (".pdf", *IMAGE_EXTENSIONS)
"""Files whose loading can warn (a text layer needing OCR, a poorly read scan): the others load
with no warnings, so an unchanged one need not be loaded again to report it."""

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

# Defaults of settings.docx_max_uncompressed_mb and settings.docx_max_paragraphs, so callers
# that do not pass the limits still get them.
DEFAULT_DOCX_MAX_XML_BYTES = 100 * 1024 * 1024
DEFAULT_DOCX_MAX_PARAGRAPHS = 100_000


# --------------------------------------------------------------------------- discovery


class Rejected(NamedTuple):
    """A path ``discover`` refused: the English ``reason`` and its :class:`LoadCode`."""

    path: Path
    reason: str
    code: LoadCode


def discover(paths: list[Path]) -> tuple[list[Path], list[Rejected]]:
    """Expand files and folders into the files to load and the paths refused, with reasons.

    Folders are walked recursively in sorted order; hidden files and folders and editor/OS
    junk (``~$x.docx`` lock files, ``.DS_Store``, ``Thumbs.db``, ``*~`` backups, ``*.tmp``)
    are skipped silently. Files with an unsupported extension, whether named or found in a
    folder, are refused, as is a path that does not exist, a broken symbolic link and a
    symbolic link loop. Linked folders are followed, each real folder once, so a link back up
    the tree is refused instead of walked forever. A file reached twice is listed once, at its
    first position. Never raises for a bad path: every problem becomes a refused entry.
    """
    files: list[Path] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    dirs: dict[str, str] = {}

    def accept(path: Path) -> None:
        reason = _unsupported_reason(path)
        if reason is not None:
            rejected.append(Rejected(path, reason, LoadCode.UNSUPPORTED_TYPE))
            return
        # realpath, not Path.resolve(): resolve() raises RuntimeError on a link loop anywhere
        # in the path (Python < 3.13), and discovery must never abort the run.
        resolved = real_path(path, dirs)
        if resolved not in seen:
            seen.add(resolved)
            files.append(path)

    for path in paths:
        try:
            mode = path.stat().st_mode  # follows links: a loop or dangling link fails here
        except OSError as exc:
            rejected.append(Rejected(path, *_stat_failure(path, exc)))
            continue
        if stat.S_ISDIR(mode):
            for found, problem in _walk(path):
                if problem is not None:
                    rejected.append(Rejected(found, *problem))
                else:
                    accept(found)
        elif stat.S_ISREG(mode):
            junk = _junk_reason(path.name)
            if junk is not None:
                rejected.append(Rejected(path, junk, LoadCode.JUNK_FILE))
            else:
                accept(path)
        else:
            # A socket, pipe or device: there is nothing a user could mean here.
            rejected.append(Rejected(path, "not a regular file or folder", LoadCode.NOT_A_FILE))
    return files, rejected


def real_path(path: str | os.PathLike[str], dirs: dict[str, str]) -> str:
    """``os.path.realpath(path)``, with the real path of each folder resolved once into
    ``dirs`` (the caller's, for one run): an archive of 10,000 files in a few folders costs a
    link check per file instead of a walk of every path component per file."""
    absolute = os.path.abspath(path)
    if os.path.islink(absolute):
        return os.path.realpath(absolute)
    folder, name = os.path.split(absolute)
    real = dirs.get(folder)
    if real is None:
        real = dirs[folder] = os.path.realpath(folder)
    return os.path.join(real, name)


def _stat_failure(path: Path, exc: OSError) -> tuple[str, LoadCode]:
    """Why ``path`` cannot be followed to a file or folder, from the error ``stat`` raised."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (the link leads back to itself; fix or remove it)", LoadCode.LINK_LOOP
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        if os.path.islink(path):
            return "broken symbolic link (its target does not exist)", LoadCode.BROKEN_LINK
        return "no such file or folder", LoadCode.NOT_FOUND
    if exc.errno == errno.EACCES:
        return "cannot read: permission denied", LoadCode.PERMISSION_DENIED
    return f"cannot read ({exc.strerror or exc})", LoadCode.UNREADABLE


def _walk(root: Path) -> Iterator[tuple[Path, tuple[str, LoadCode] | None]]:
    """Entries under ``root``, sorted, each with None or the (reason, code) it is refused for.

    Hidden and junk entries below ``root`` are left out. Linked folders are followed, but a
    real folder is entered once only (by device and inode), so link cycles end the walk
    instead of looping; a link that points back to a folder above it is refused by name.
    """
    found: list[tuple[Path, tuple[str, LoadCode] | None]] = []
    visited: set[tuple[int, int]] = set()
    try:
        st = root.stat()
        visited.add((st.st_dev, st.st_ino))
    except OSError:
        pass

    def unreadable(exc: OSError) -> None:
        # os.walk skips a folder it cannot list in silence; the user should hear about it.
        where = Path(exc.filename) if exc.filename else root
        found.append((where, (f"cannot read folder ({exc.strerror or exc})", LoadCode.FOLDER_UNREADABLE)))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unreadable):
        kept: list[str] = []
        # Real folders before links, so a folder reached both ways is listed by its real path.
        for name in sorted(dirnames, key=lambda d: (os.path.islink(os.path.join(dirpath, d)), d)):
            if name.startswith(".") or name.lower() in _JUNK_DIRS:
                continue
            sub = Path(dirpath) / name
            try:
                st = sub.stat()
            except OSError as exc:  # vanished or unreadable since the listing
                found.append((sub, _stat_failure(sub, exc)))
                continue
            identity = (st.st_dev, st.st_ino)
            if identity in visited:
                # Already walked (or about to be) under another path. A link to a folder
                # above it is a cycle worth reporting; a second link to a sibling is not.
                if sub.is_symlink() and _is_within(Path(dirpath), sub):
                    found.append((sub, (_FOLDER_LOOP, LoadCode.LINK_LOOP)))
                continue
            visited.add(identity)
            kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            if name.startswith(".") or _junk_reason(name) is not None:
                continue
            path = Path(dirpath) / name
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                # os.walk lists a looping or dangling link as a file; say what it is.
                found.append((path, _stat_failure(path, exc)))
                continue
            if stat.S_ISREG(mode):
                found.append((path, None))
    yield from sorted(found, key=lambda entry: entry[0])


_FOLDER_LOOP = "symbolic link loop (the link points back to a folder that holds it; it was not followed)"


def _is_within(folder: Path, link: Path) -> bool:
    """True when the real ``folder`` is the real target of ``link`` or lies below it."""
    target = os.path.realpath(link)
    here = os.path.realpath(folder)
    return here == target or here.startswith(target.rstrip(os.sep) + os.sep)


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


def load_file(
    path: Path,
    *,
    key: str,
    max_bytes: int,
    ocr: Ocr | None = None,
    max_docx_xml_bytes: int = DEFAULT_DOCX_MAX_XML_BYTES,
    max_docx_paragraphs: int = DEFAULT_DOCX_MAX_PARAGRAPHS,
) -> LoadedFile:
    """Read one file and return its text (NFC, ``\\n`` line ends) under the index key ``key``.

    ``max_bytes`` is the size cap (``int(settings.max_file_mb * 1024 * 1024)``). ``ocr``
    (``ingest.ocr.Ocr.from_settings(settings)``) reads scanned pages and images; without it
    they are refused as needing OCR. ``max_docx_xml_bytes``
    (``int(settings.docx_max_uncompressed_mb * 1024 * 1024)``) and ``max_docx_paragraphs``
    (``settings.docx_max_paragraphs``) bound what a .docx may expand to; both are checked by
    streaming through the zip before python-docx builds anything in memory. Raises
    ``LoadError(key, reason, code)`` for unsupported, missing, empty, oversized, binary,
    undecodable, corrupt, password-protected, misnamed (a PDF called .docx), zip-bomb and
    image-only files (the last only without OCR or without Tesseract).
    """
    reason = _unsupported_reason(path)
    if reason is not None:
        raise LoadError(key, reason, LoadCode.UNSUPPORTED_TYPE)
    suffix = path.suffix.lower()
    kind = suffix.lstrip(".")

    try:
        size = path.stat().st_size
        if not path.is_file():
            raise LoadError(key, "not a regular file", LoadCode.NOT_A_FILE)
        # Checked before reading so a huge file is never pulled into memory.
        if size > max_bytes:
            raise LoadError(key, _size_reason(size, max_bytes), LoadCode.TOO_LARGE)
        raw = path.read_bytes()
    except LoadError:
        raise
    except PermissionError:
        raise LoadError(key, "cannot read file: permission denied", LoadCode.PERMISSION_DENIED) from None
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            raise LoadError(key, *_stat_failure(path, exc)) from None
        raise LoadError(key, f"cannot read file ({exc.strerror or exc})", LoadCode.UNREADABLE) from None

    if not raw:
        raise LoadError(key, "file is empty", LoadCode.EMPTY)
    if len(raw) > max_bytes:  # grew between stat and read
        raise LoadError(key, _size_reason(len(raw), max_bytes), LoadCode.TOO_LARGE)

    sha256 = hashlib.sha256(raw).hexdigest()
    page_starts: list[int] | None = None
    scan = _Scan()
    try:
        if kind in ("txt", "md"):
            text = display_text(_decode_text(raw, key))
        elif kind == "docx":
            text = display_text(_docx_text(
                raw, key, max_xml_bytes=max_docx_xml_bytes, max_paragraphs=max_docx_paragraphs))
        elif kind == "pdf":
            text, page_starts = _pdf_text(raw, key, ocr=ocr, sha256=sha256, scan=scan)
        else:
            found = _sniff(raw)
            # Pillow reads any image by its content (a JPEG named .png is fine); anything else
            # is misnamed, and is said so before "needs OCR" sends the user the wrong way.
            if found is not None and found.family != "image":
                raise _misnamed(key, "an image", suffix, found, LoadCode.NOT_IMAGE)
            text, page_starts = _image_text(raw, key, ocr=ocr, sha256=sha256, scan=scan)
    except LoadError:
        raise
    except Exception as exc:  # the last net: a parser failing in a way not foreseen below
        raise LoadError(key, f"cannot read {kind} file ({_short_cause(exc)})", LoadCode.UNREADABLE) from exc

    if not text.strip():
        if scan.pages:
            raise LoadError(key, "OCR found no text (blank pages or an unreadable scan)", LoadCode.OCR_NO_TEXT)
        raise LoadError(key, "file is empty" if kind in ("txt", "md") else "file is empty: the document contains no text",
                        LoadCode.EMPTY)
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


# --------------------------------------------------------------------------- file signatures


@dataclass(frozen=True)
class _Format:
    """What a file's first bytes say it is, and how a user gets it indexed."""

    what: str  # "a PDF file", for "it is a PDF file with a .docx name"
    fix: str  # "rename it to .pdf", or how to convert it when it is not supported
    family: str  # "pdf", "docx", "image", "zip" or "other"
    renamed: LoadCode | None = None  # the refusal's code when renaming is the fix


_PDF = _Format("a PDF file", "rename it to .pdf", "pdf", LoadCode.REALLY_PDF)
_DOCX = _Format("a Word .docx document", "rename it to .docx", "docx", LoadCode.REALLY_DOCX)
_OLE = _Format(
    "an old Office 97-2003 file (.doc, .xls, .ppt) or a password-protected Office document",
    "open it in Word and save it as .docx without a password", "other")
_IMAGE_SIGNATURES: tuple[tuple[bytes, _Format], ...] = (
    (b"\x89PNG\r\n\x1a\n", _Format("a PNG image", "rename it to .png", "image", LoadCode.REALLY_PNG)),
    (b"\xff\xd8\xff", _Format("a JPEG image", "rename it to .jpg", "image", LoadCode.REALLY_JPG)),
    (b"II*\x00", _Format("a TIFF image", "rename it to .tif", "image", LoadCode.REALLY_TIF)),
    (b"MM\x00*", _Format("a TIFF image", "rename it to .tif", "image", LoadCode.REALLY_TIF)),
    (b"GIF87a", _Format("a GIF image", "save it as .png", "other")),
    (b"GIF89a", _Format("a GIF image", "save it as .png", "other")),
)
_OTHER_SIGNATURES: tuple[tuple[bytes, _Format], ...] = (
    (b"{\\rtf", _Format("an RTF document", "save it as .docx in Word", "other")),
    (b"\x1f\x8b", _Format("a gzip archive", "extract it and add the documents inside", "other")),
    (b"7z\xbc\xaf\x27\x1c", _Format("a 7-Zip archive", "extract it and add the documents inside", "other")),
    (b"Rar!\x1a\x07", _Format("a RAR archive", "extract it and add the documents inside", "other")),
)
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _sniff(raw: bytes) -> _Format | None:
    """The format ``raw`` really is, from its magic bytes, or None when it has no known signature.

    Only cheap, unambiguous signatures: plain text and unknown binaries give None. A zip is
    told apart by its listing (Word, Excel, PowerPoint, OpenDocument or a plain archive).
    """
    if raw.startswith(_OLE_MAGIC):
        return _OLE
    if raw.startswith(_ZIP_MAGICS):
        return _zip_format(raw)
    # Readers accept a PDF header anywhere in the first 1024 bytes (after a mail header, say).
    if b"%PDF-" in raw[:1024]:
        return _PDF
    for magic, found in _IMAGE_SIGNATURES + _OTHER_SIGNATURES:
        if raw.startswith(magic):
            return found
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return _Format("a WebP image", "save it as .png", "other")
    if raw[4:8] == b"ftyp" and raw[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
        return _Format("a HEIC photo", "save it as .jpg", "other")
    head = raw[:512].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return _Format("an HTML web page", "open it in Word and save it as .docx", "other")
    return None


def _zip_format(raw: bytes) -> _Format:
    """Which kind of zip package ``raw`` is, from the names it lists."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = archive.namelist()
            mimetype = b""
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(100)  # a bounded read: the member may be a bomb
    except Exception:  # a damaged zip is still a zip; what it held cannot be told
        return _Format("a zip archive", "extract it and add the documents inside", "zip")
    if any(name.startswith("word/") for name in names):
        return _DOCX
    if any(name.startswith("xl/") for name in names):
        return _Format("an Excel workbook", "only text documents are indexed", "other")
    if any(name.startswith("ppt/") for name in names):
        return _Format("a PowerPoint presentation", "only text documents are indexed", "other")
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return _Format("an OpenDocument file", "save it as .docx", "other")
    return _Format("a zip archive", "extract it and add the documents inside", "zip")


def _misnamed(key: str, label: str, suffix: str, found: _Format, code: LoadCode) -> LoadError:
    """'not a .docx: it is a PDF file with a .docx name (rename it to .pdf)'.

    ``code`` says the file is not what its name claims; when a rename fixes it, the code of
    the format it really is (``REALLY_PDF``) replaces it, since that is what the user must do.
    """
    return LoadError(key, f"not {label}: it is {found.what} with a {suffix} name ({found.fix})",
                     found.renamed or code)


# --------------------------------------------------------------------------- plain text


def _decode_text(raw: bytes, key: str) -> str:
    """Decode a .txt/.md file by the rule in the module docstring; refuse binary content."""
    if raw.startswith(codecs.BOM_UTF8):
        text = _strict(raw[len(codecs.BOM_UTF8):], "utf-8", key, "UTF-8 (it starts with a UTF-8 byte-order mark)")
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(raw, "utf-16", key, "UTF-16 (it starts with a UTF-16 byte-order mark)")
    elif b"\x00" in raw:
        # NUL bytes never occur in UTF-8 or code-page text, but half the bytes of UTF-16 text
        # are NUL when nothing marks its byte order (Notepad's "Unicode" without a BOM,
        # exports from some databases and mail systems).
        encoding = _utf16_byte_order(raw)
        if encoding is None:
            raise LoadError(key, "looks like a binary file, not text", LoadCode.BINARY)
        text = _strict(raw, encoding, key, f"{_UTF16_NAMES[encoding]} (UTF-16 text without a byte-order mark)",
                       LoadCode.UTF16_WITHOUT_BOM)
        if not _plausible_utf16_text(text):
            raise LoadError(key, "looks like a binary file, not text", LoadCode.BINARY)
        logger.info("%s: read as %s without a byte-order mark", key, _UTF16_NAMES[encoding])
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _legacy_vietnamese(raw, key, exc)
    if text and len(_CONTROL_CHARS.findall(text)) > _CONTROL_SHARE_LIMIT * len(text):
        raise LoadError(key, "looks like a binary file, not text", LoadCode.BINARY)
    return text


_UTF16_NAMES = {"utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE"}
# In UTF-16 text every ASCII character (spaces, digits, punctuation, most letters of
# Vietnamese too) has a NUL high byte, so at least this share of the code units does ...
_UTF16_MIN_ASCII_SHARE = 0.3
# ... while a NUL low byte is rare (U+0100, U+1E00, U+2000 ...); binary data has NULs on both.
_UTF16_MAX_NUL_LOW_SHARE = 0.02
# Decoded characters that text does not contain: controls, unassigned, private use, surrogates.
_UTF16_MAX_ODD_SHARE = 0.01


def _utf16_byte_order(raw: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when ``raw`` has UTF-16's pattern of NUL bytes, else None."""
    units = len(raw) // 2
    if len(raw) % 2 or units == 0:
        return None
    nul_at_even, nul_at_odd = raw[0::2].count(0), raw[1::2].count(0)
    if nul_at_odd >= _UTF16_MIN_ASCII_SHARE * units and nul_at_even <= _UTF16_MAX_NUL_LOW_SHARE * units:
        return "utf-16-le"
    if nul_at_even >= _UTF16_MIN_ASCII_SHARE * units and nul_at_odd <= _UTF16_MAX_NUL_LOW_SHARE * units:
        return "utf-16-be"
    return None


def _plausible_utf16_text(text: str) -> bool:
    """True when decoded UTF-16 reads as text: almost no characters text never holds."""
    odd = sum(1 for ch in text if ch not in "\t\n\r\x0b\x0c" and unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    return odd <= _UTF16_MAX_ODD_SHARE * len(text)


def _strict(raw: bytes, encoding: str, key: str, described: str,
            code: LoadCode = LoadCode.UNDECODABLE) -> str:
    """``raw`` decoded strictly, or a refusal naming the first bad byte."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LoadError(
            key, f"cannot decode text: invalid {described} at byte {exc.start} (save it as UTF-8)", code
        ) from None


def _legacy_vietnamese(raw: bytes, key: str, utf8_error: UnicodeDecodeError) -> str:
    """Windows-1258 text when it is plausibly Vietnamese; otherwise the right refusal."""
    control = len(raw) - len(raw.translate(None, delete=_CONTROL_BYTES))
    if control > _CONTROL_SHARE_LIMIT * len(raw):
        raise LoadError(key, "looks like a binary file, not text", LoadCode.BINARY)

    non_ascii = len(raw) - len(raw.translate(None, delete=_HIGH_BYTES))
    in_utf8_sequences = sum(len(m) for m in _UTF8_MULTIBYTE.findall(raw))
    if in_utf8_sequences * 2 >= non_ascii:
        # Mostly well-formed UTF-8 with a few broken bytes: a damaged or mixed file. Reading
        # it as a code page would turn every accented letter into mojibake.
        raise LoadError(
            key,
            f"cannot decode text: invalid UTF-8 at byte {utf8_error.start} "
            "(the file is damaged or mixes encodings; save it as UTF-8)",
            LoadCode.UNDECODABLE,
        )
    try:
        text = raw.decode("cp1258")
    except UnicodeDecodeError:
        text = None
    if text is None or not _plausibly_vietnamese(text):
        raise LoadError(key, "cannot decode text: not UTF-8 or UTF-16 (save it as UTF-8)", LoadCode.UNDECODABLE)
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


def _docx_text(raw: bytes, key: str, *, max_xml_bytes: int = DEFAULT_DOCX_MAX_XML_BYTES,
               max_paragraphs: int = DEFAULT_DOCX_MAX_PARAGRAPHS) -> str:
    """Body text of a .docx in document order, tables included (see module docstring).

    The zip is inspected against ``max_xml_bytes`` and ``max_paragraphs`` before python-docx
    reads it, because python-docx inflates every part whole and builds a full lxml tree.
    """
    if raw.startswith(_OLE_MAGIC):
        # Word writes both the old binary format and password-protected .docx files as
        # OLE compound files, so either could be behind a .docx name.
        raise LoadError(
            key,
            "not a .docx: it is an old Word 97-2003 file or a password-protected document "
            "(open it in Word and save it as .docx without a password)",
            LoadCode.NOT_DOCX,
        )
    if not raw.startswith(_ZIP_MAGICS):
        found = _sniff(raw)
        if found is not None:
            raise _misnamed(key, "a .docx", ".docx", found, LoadCode.NOT_DOCX)
    problem = _docx_package_problem(raw) or _docx_expansion_problem(
        raw, max_xml_bytes=max_xml_bytes, max_paragraphs=max_paragraphs)
    if problem is not None:
        raise LoadError(key, *problem)

    import docx  # deferred: python-docx pulls in lxml, not needed for other formats
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
        body = document.element.body
    except PackageNotFoundError:
        raise LoadError(key, "corrupt or truncated .docx (a zip archive, but not a Word document)",
                        LoadCode.DOCX_CORRUPT) from None
    except Exception as exc:
        raise LoadError(key, f"corrupt or truncated .docx ({_short_cause(exc)})", LoadCode.DOCX_CORRUPT) from None
    try:
        return "\n".join(_block_lines(body))
    except Exception as exc:
        raise LoadError(key, f"corrupt or truncated .docx ({_short_cause(exc)})", LoadCode.DOCX_CORRUPT) from None


def _docx_package_problem(raw: bytes) -> tuple[str, LoadCode] | None:
    """Why ``raw`` is not a Word package (reason, code), judged from the zip listing, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        # A truncated .docx loses the zip's central directory, which sits at the end.
        return "corrupt or truncated .docx (not a valid zip archive)", LoadCode.DOCX_CORRUPT
    if any(name.startswith("word/") for name in names) and "[Content_Types].xml" in names:
        return None
    for prefix, program in (("xl/", "an Excel workbook"), ("ppt/", "a PowerPoint presentation")):
        if any(name.startswith(prefix) for name in names):
            return f"not a .docx: it is {program} with a .docx name", LoadCode.NOT_DOCX
    return "corrupt or truncated .docx (a zip archive, but not a Word document)", LoadCode.DOCX_CORRUPT


# Word writes parts stored or deflated, nothing else. zipfile inflates bzip2 and LZMA members
# without an output bound per read, so such a member could not be inspected safely.
_INSPECTABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# Bytes inflated per read while inspecting: the most a part costs in memory at any time.
_INSPECT_CHUNK = 1 << 20
# A paragraph start tag whatever its namespace prefix (<w:p>, <w:p/>, <w:p w:rsidR="..">,
# DrawingML's <a:p>), but not <w:pPr> or <w:pStyle>.
_PARAGRAPH_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?p[\s/>]")
# Bytes carried from one chunk to the next so a tag cut by a chunk boundary is still seen.
_TAG_OVERLAP = 64
# XML elements allowed per paragraph of the paragraph limit. lxml costs about 140 bytes of
# memory per element, and the byte limit alone does not bound that: 90 MB of "<w:r/>" is
# 16 million elements, 2.1 GB and 40 s to parse. Real letters have 14-47 elements per
# paragraph, but few paragraphs: at the default 100,000 paragraphs this allows 2 million
# elements (about 330 MB, 5 s), which a real document reaches only past ~1,000 pages.
_ELEMENTS_PER_PARAGRAPH = 20


def _docx_expansion_problem(raw: bytes, *, max_xml_bytes: int, max_paragraphs: int) -> tuple[str, LoadCode] | None:
    """Why a .docx package must not be handed to python-docx (a zip bomb), as (reason, code), or None.

    python-docx reads each part with ``ZipFile.read``, which inflates the whole part in one
    call, and then parses the XML into an lxml tree that costs about a hundred bytes per
    element: a 1 MB file can expand to a gigabyte of XML and take many gigabytes to parse.
    So, before it runs:

    * the uncompressed sizes the zip declares must add up to at most ``max_xml_bytes``;
    * the parts are really inflated, in bounded chunks, and their real size counted,
      because a declared size can lie: zipfile stops a part at its declared size, but only
      after ``read()`` has already inflated the whole stream into memory;
    * paragraphs are counted in the XML parts as it streams, at most ``max_paragraphs``,
      and XML elements of any kind, at most ``_ELEMENTS_PER_PARAGRAPH * max_paragraphs``.
    """
    too_big = (f"the .docx expands to more than {_human_size(max_xml_bytes, 1)} when unzipped "
               "(limit CONGVAN_DOCX_MAX_UNCOMPRESSED_MB); it may be a zip bomb", LoadCode.DOCX_BOMB)
    too_many = (f"the .docx holds more than {max_paragraphs} paragraphs "
                "(limit CONGVAN_DOCX_MAX_PARAGRAPHS); it may be built to exhaust memory",
                LoadCode.DOCX_TOO_MANY_PARAGRAPHS)
    max_elements = _ELEMENTS_PER_PARAGRAPH * max_paragraphs
    too_dense = (f"the .docx holds more than {max_elements} XML elements ({_ELEMENTS_PER_PARAGRAPH} per paragraph "
                 "of the limit CONGVAN_DOCX_MAX_PARAGRAPHS); it may be built to exhaust memory",
                 LoadCode.DOCX_TOO_COMPLEX)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            parts = [info for info in archive.infolist() if not info.is_dir()]
            if sum(info.file_size for info in parts) > max_xml_bytes:
                return too_big
            inflated = paragraphs = elements = 0
            for info in parts:
                if info.compress_type not in _INSPECTABLE_METHODS:
                    return (f"corrupt or truncated .docx (part '{info.filename}' uses compression method "
                            f"{info.compress_type}, which Word never writes)", LoadCode.DOCX_CORRUPT)
                # Let zipfile read past the declared size, up to one byte over what the limit
                # leaves, so a lying header is measured by what the stream really holds. The
                # CRC check is off here because zipfile runs it when it reaches that made-up
                # size; python-docx's own read checks the CRC of every part it uses.
                probe = copy.copy(info)
                probe.file_size = max_xml_bytes - inflated + 1
                probe.CRC = None
                count_paragraphs = info.filename.lower().endswith(".xml")
                carried = b""
                with archive.open(probe) as stream:
                    while chunk := stream.read(_INSPECT_CHUNK):
                        inflated += len(chunk)
                        if inflated > max_xml_bytes:
                            return too_big
                        if count_paragraphs:
                            text = carried + chunk
                            # Tags wholly inside the carried bytes were counted last time.
                            paragraphs += sum(1 for m in _PARAGRAPH_TAG.finditer(text) if m.end() > len(carried))
                            if paragraphs > max_paragraphs:
                                return too_many
                            # Start tags: every "<" but end tags, declarations and comments.
                            # A tag cut by the chunk boundary may count once too often.
                            elements += (chunk.count(b"<") - chunk.count(b"</") - chunk.count(b"<?")
                                         - chunk.count(b"<!"))
                            if elements > max_elements:
                                return too_dense
                            carried = text[-_TAG_OVERLAP:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, RuntimeError,
            NotImplementedError, zlib.error) as exc:
        # RuntimeError: an encrypted part; BadZipFile: a bad CRC or local header.
        return f"corrupt or truncated .docx ({_short_cause(exc)})", LoadCode.DOCX_CORRUPT
    return None


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
    """A data table (a row with three or more filled cells: tasks, units, deadlines) one row a
    line, its cells between pipes as in Markdown, so a row reads as one line: "| 2 | Rà soát …
    | Sở Nông nghiệp và Môi trường | … | Xong trong tháng 5/2026 |". A layout table (the
    two-column header of issuer and quốc hiệu, the signature block; a spacer column does not
    count) row by row, cell by cell, each cell's own lines, with its empty edges dropped."""
    rows = [[(cell, _trimmed(_block_lines(cell))) for cell in row.iter(f"{_W}tc")
             if _nearest(cell, f"{_W}tr") is row]
            for row in table.iter(f"{_W}tr")
            if _nearest(row, f"{_W}tbl") is table]  # a nested table's rows are read through its cell
    if any(sum(1 for cell, lines in row if any(line.strip() for line in lines)) >= 3 for row in rows):
        return [_pipe_row(row) for row in rows]
    lines: list[str] = []
    for row in rows:
        for cell, cell_lines in row:
            if not _continues_vertical_merge(cell):
                lines.extend(cell_lines)
    return lines


# Word tables have at most 63 columns; a file claiming a wider span is not allowed to make a
# row of millions of empty cells.
_MAX_GRID_SPAN = 64


def _pipe_row(row: list[tuple[_Element, list[str]]]) -> str:
    """One table row as "| a | b | c |": a cell's lines joined by spaces, a pipe inside a cell
    written "/", a cell continuing a vertical merge left empty and a cell spanning n columns
    followed by n - 1 empty ones, so every row keeps its columns in place."""
    cells: list[str] = []
    for cell, lines in row:
        text = "" if _continues_vertical_merge(cell) else " ".join(" ".join(lines).split()).replace("|", "/")
        cells.append(text)
        span = cell.find(f"{_W}tcPr/{_W}gridSpan")
        extra = int(span.get(f"{_W}val", "1")) - 1 if span is not None and span.get(f"{_W}val", "").isdigit() else 0
        cells.extend([""] * min(extra, _MAX_GRID_SPAN))
    return "| " + " | ".join(cells) + " |"


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


# --------------------------------------------------------------------------- pdf: broken text layers


# A text layer is judged garbled when at least this many words are broken and they are at least
# this share of the words that carry anything but ASCII. Real Vietnamese pages have no broken
# words but a foreign name or a formula; a legacy-font page has dozens.
_GARBLED_MIN_WORDS = 5
_GARBLED_MIN_SHARE = 0.3
# Joiners that may stand between two letters of a real word: apostrophes, hyphens and dashes.
_WORD_JOINERS = set("'\u2019\u2018\u02bc-\u2010\u2011\u2013\u2014")


class TextLayerCheck(NamedTuple):
    """What ``check_text_layer`` counted on one page."""

    broken: int
    """Words mixing Latin letters with characters no Vietnamese or English word has."""
    vietnamese: int
    """Words with Vietnamese letters and nothing foreign."""

    @property
    def garbled(self) -> bool:
        """True when the page reads as mojibake rather than text (see ``check_text_layer``)."""
        judged = self.broken + self.vietnamese
        return self.broken >= _GARBLED_MIN_WORDS and self.broken >= _GARBLED_MIN_SHARE * judged


def check_text_layer(text: str) -> TextLayerCheck:
    """Count the broken and the Vietnamese words of a page's extracted text.

    A PDF typed in a legacy Vietnamese font (TCVN3/ABC, VNI, or a Unicode font subset without
    a correct ToUnicode map) prints fine but extracts as mojibake: TCVN3 puts letters in Latin-1
    positions ("Th«ng b¸o", "hoµ"), VNI spells tones as Latin-1 letters ("Coäng hoøa"), and
    broken glyph maps yield Cyrillic and stray combining marks inside Latin words ("KӃW TXҧ").
    A word (split on white space, punctuation at its ends ignored) is *broken* when it holds a
    Latin letter and also a letter or combining mark that is neither ASCII nor Vietnamese, or a
    symbol squeezed between two letters (other than an apostrophe or a hyphen), or a non-ASCII
    capital right after a small letter (TCVN3 "vÒ" for "về"). So "Müller" or
    "α-amylase" is broken too, but a page of them is rare; pure Cyrillic or Greek words,
    numbers, tables of figures and English text count for nothing either way. Pure: no I/O.
    """
    broken = vietnamese = 0
    for word in text.split():
        kinds = _char_kinds(word)
        if not kinds:
            continue
        latin = any(k in "av" for k in kinds)
        if latin and ("x" in kinds or _squeezed_symbol(word, kinds) or _capital_inside(word)):
            broken += 1
        elif "v" in kinds and "x" not in kinds:
            vietnamese += 1
    return TextLayerCheck(broken, vietnamese)


def _char_kinds(word: str) -> str:
    """One code per character: a ASCII letter, v Vietnamese letter or mark, x foreign letter or
    mark, s any other non-ASCII character, space for ASCII digits and punctuation."""
    kinds = []
    for ch in word:
        if ch.isascii():
            kinds.append("a" if ch.isalpha() else " ")
        elif _is_vietnamese_letter(ch) or ch in _VOWEL_MARKS:
            kinds.append("v")
        elif unicodedata.category(ch)[0] in "LM":
            kinds.append("x")
        else:
            kinds.append("s")
    return "".join(kinds) if any(k != " " for k in kinds) else ""


def _capital_inside(word: str) -> bool:
    """True when a non-ASCII capital follows a small letter: TCVN3 "vÒ" (về), "ViÖt" (Việt)."""
    return any(b.isupper() and not b.isascii() and a.islower() for a, b in zip(word, word[1:]))


def _squeezed_symbol(word: str, kinds: str) -> bool:
    """True when a non-ASCII symbol sits between two letters: "Th«ng", "b¸o", "Tr\ufffdng"."""
    for i in range(1, len(word) - 1):
        if kinds[i] == "s" and word[i] not in _WORD_JOINERS and kinds[i - 1] in "av" and kinds[i + 1] in "av":
            return True
    return False


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
        found = _sniff(raw)
        if found is not None:
            raise _misnamed(key, "a PDF", ".pdf", found, LoadCode.NOT_PDF)
        raise LoadError(key, "corrupt or truncated PDF (no PDF header: this is not a PDF file)", LoadCode.PDF_CORRUPT)

    import pymupdf  # deferred: only PDFs need MuPDF

    try:
        document = pymupdf.open(stream=raw, filetype="pdf")
    except Exception as exc:
        raise LoadError(key, f"corrupt or truncated PDF ({_short_cause(exc)})", LoadCode.PDF_CORRUPT) from None
    unavailable: str | None = None  # the install hint, when OCR was wanted and is missing
    recognised: dict[int, OcrPage] = {}
    try:
        if document.needs_pass and not document.authenticate(""):
            raise LoadError(key, "PDF is password-protected (remove the password and save it again)",
                            LoadCode.PDF_PASSWORD)
        if document.page_count == 0:
            raise LoadError(key, "corrupt or truncated PDF (no pages could be read)", LoadCode.PDF_CORRUPT)
        pages: list[str] = []
        for number in range(document.page_count):
            try:
                page_text = document[number].get_text("text", sort=True)
            except Exception as exc:
                raise LoadError(
                    key, f"corrupt or truncated PDF (page {number + 1} cannot be read: {_short_cause(exc)})",
                    LoadCode.PDF_CORRUPT,
                ) from None
            pages.append(display_text(page_text).rstrip())
        repaired = bool(getattr(document, "is_repaired", False))
        # Pages whose text layer is legacy-font mojibake are read like scans: their print is fine.
        garbled = [i for i, page in enumerate(pages) if check_text_layer(page).garbled]
        if ocr is not None:
            scanned = [i for i, page in enumerate(pages) if i in garbled or _is_scanned_page(document[i], page)]
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

    hint = f": {unavailable}" if unavailable else ""
    blanked = _handle_garbled(key, pages, garbled, recognised, hint, scan) if garbled else set()

    # A page of only U+FFFD is text the PDF's fonts cannot map to Unicode: as unusable as none.
    empty = [i + 1 for i, page in enumerate(pages) if i not in blanked and not page.replace("\ufffd", "").strip()]
    if len(empty) == len(pages):
        if recognised:
            raise LoadError(key, "OCR found no text (blank pages or an unreadable scan)", LoadCode.OCR_NO_TEXT)
        if repaired:
            raise LoadError(key, "corrupt or truncated PDF (it had to be repaired and no page has readable text)",
                            LoadCode.PDF_CORRUPT)
        raise LoadError(key, f"PDF has no text layer (scanned image): it needs OCR{hint}", LoadCode.PDF_NEEDS_OCR)
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


def _handle_garbled(key: str, pages: list[str], garbled: list[int], recognised: dict[int, OcrPage],
                    hint: str, scan: _Scan) -> set[int]:
    """Say which pages had a garbled text layer; blank those OCR did not read, or refuse the file.

    Mojibake indexed as text would be matched by nothing and quoted as gibberish, so a garbled
    page OCR could not read is loaded empty, with a warning naming it; a file with nothing else
    is refused as needing OCR. Returns the indexes of the pages blanked.
    """
    listed = ", ".join(str(i + 1) for i in garbled)
    legacy = "a text layer in a legacy Vietnamese font encoding (TCVN3/VNI) that extracts as garbage"
    unread = [i for i in garbled if i not in recognised]
    if not unread:
        logger.warning("%s: page(s) %s have %s; read by OCR instead", key, listed, legacy)
        scan.warnings.append(f"page(s) {listed} have {legacy}; they were read by OCR instead")
        return set()
    for i in unread:
        pages[i] = ""
    if not any(page.replace("\ufffd", "").strip() for page in pages):
        raise LoadError(key, f"PDF has {legacy}: it needs OCR{hint}", LoadCode.PDF_LEGACY_FONT)
    listed = ", ".join(str(i + 1) for i in unread)
    logger.warning("%s: page(s) %s have %s and were loaded empty; OCR the file to index them%s",
                   key, listed, legacy, hint)
    scan.warnings.append(f"page(s) {listed} have {legacy} and were not read: needs OCR{hint}")
    return set(unread)


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
        raise LoadError(key, "scanned image: it needs OCR", LoadCode.IMAGE_NEEDS_OCR)
    from PIL import Image, UnidentifiedImageError

    from ingest.ocr import OcrUnavailable

    try:
        image = Image.open(io.BytesIO(raw))
        frames = int(getattr(image, "n_frames", 1) or 1)
    except UnidentifiedImageError:
        raise LoadError(key, "corrupt or unreadable image (not an image Pillow can read)",
                        LoadCode.IMAGE_UNREADABLE) from None
    except Image.DecompressionBombError:
        raise LoadError(key, "image is too large to OCR (over 178 million pixels)", LoadCode.IMAGE_TOO_LARGE) from None
    jobs = [(i, partial(_image_frame, image, i, key)) for i in range(frames)]
    try:
        recognised = _recognise(ocr, key, sha256, jobs)
    except OcrUnavailable as exc:
        raise LoadError(key, f"scanned image: it needs OCR: {exc.hint}", LoadCode.IMAGE_NEEDS_OCR) from None
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
        raise LoadError(key, "image is too large to OCR (over 178 million pixels)", LoadCode.IMAGE_TOO_LARGE) from None
    except (OSError, ValueError, EOFError) as exc:
        raise LoadError(key, f"corrupt or truncated image ({_short_cause(exc)})", LoadCode.IMAGE_CORRUPT) from None
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
        raise LoadError(key, f"OCR failed on {exc}", LoadCode.OCR_FAILED) from None


def _record(scan: _Scan, ocr: Ocr, recognised: dict[int, OcrPage], starts: list[int]) -> None:
    """Keep the OCR'd pages' quality and word boxes, and flag the poorly read ones."""
    from ingest.ocr import low_quality_warning

    scan.pages = [ocr.page_info(i + 1, starts[i], recognised[i]) for i in sorted(recognised)]
    warning = low_quality_warning(scan.pages, ocr.low_confidence)
    if warning:
        scan.warnings.append(warning)
