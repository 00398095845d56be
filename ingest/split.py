"""Split a file's text into the documents it holds (a cover letter and its attachments).

Nghị định 30/2020 fixes how a document opens (quốc hiệu, issuer, number, type title) and how it
closes ("Nơi nhận", then the signature block). A new document therefore starts at an opening
that comes *after* a closing; openings inside a body (an all-caps "V- TỔ CHỨC THỰC HIỆN" heading,
the "KẾ HOẠCH" title of a single document) are ignored because no closing precedes them.

The layout markers recognised here are public so that ``ingest.metadata`` reads the same layout.
"""

from __future__ import annotations

import re

from ingest.text.normalize import canonical_tones, clean_spacing, fold

# Type abbreviations of Nghị định 30/2020 (Phụ lục III) and Hướng dẫn 36-HD/VPTW → type name.
DOCUMENT_TYPES: dict[str, str] = {
    "NQ": "nghị quyết",
    "QĐ": "quyết định",
    "CT": "chỉ thị",
    "QC": "quy chế",
    "QyĐ": "quy định",
    "TC": "thông cáo",
    "TB": "thông báo",
    "HD": "hướng dẫn",
    "CTr": "chương trình",
    "KH": "kế hoạch",
    "PA": "phương án",
    "ĐA": "đề án",
    "DA": "dự án",
    "BC": "báo cáo",
    "BB": "biên bản",
    "TTr": "tờ trình",
    "HĐ": "hợp đồng",
    "CĐ": "công điện",
    "GM": "giấy mời",
    "GUQ": "giấy ủy quyền",
    "TT": "thông tư",
    "NĐ": "nghị định",
    "CV": "công văn",
    "KL": "kết luận",
}

# Title lines are compared accent-folded so that OCR text without diacritics ("KE HOACH") counts.
_TITLE_NAMES: dict[str, str] = {fold(name): name for name in DOCUMENT_TYPES.values()}
_TITLE_NAMES[fold("thông tri")] = "thông tri"

_NATIONAL_MOTTO = re.compile(r"cong hoa xa hoi chu nghia viet nam|^dang cong san viet nam\b")
_RECIPIENTS_LABEL = re.compile(r"^noi nhan\s*:?")
# KT. / TM. / Q. / TL. / TUQ. (state) and K/T, T/M, T/L (Party), followed by an all-caps title.
_AUTHORITY = re.compile(r"^(?:K/?T|T/?M|T/?L|TUQ|Q)\s*\.?\s+\w")
# Issuer lines: an agency word must appear, so a signer's name or title is never taken for one.
_AGENCY_WORD = re.compile(
    r"\b(?:uy ban|ubnd|hdnd|hoi dong|so|ban|bo|cuc|tong cuc|vu|vien|phong|van phong|"
    r"tinh uy|huyen uy|thanh uy|thi uy|quan uy|dang uy|dang bo|cong an|toa an|"
    r"tinh|huyen|thanh pho|quan|thi xa|xa|phuong|thi tran)\b"
)


def _clean_line(line: str) -> str:
    """One line as parsed: canonical tones, no Markdown emphasis, single spaces, stripped."""
    return clean_spacing(canonical_tones(line)).strip()


def _is_caps(line: str) -> bool:
    """True when the line has letters and none of them is lower case."""
    return any(ch.isalpha() for ch in line) and line == line.upper()


def title_type(line: str) -> str | None:
    """The type name when ``line`` is an all-caps type title ("KẾ HOẠCH", "**CHƯƠNG TRÌNH**")."""
    clean = _clean_line(line)
    if not _is_caps(clean):
        return None
    return _TITLE_NAMES.get(fold(clean))


def is_national_header(line: str) -> bool:
    """True for a quốc hiệu line ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") or "ĐẢNG CỘNG SẢN VIỆT NAM"."""
    return bool(_NATIONAL_MOTTO.search(fold(_clean_line(line))))


def is_recipients_label(line: str) -> bool:
    """True for the "Nơi nhận:" label (also OCR "Noi nhan:")."""
    return bool(_RECIPIENTS_LABEL.match(fold(_clean_line(line))))


def is_signing_authority(line: str) -> bool:
    """True for an all-caps authority line of a signature block: "KT. CHỦ TỊCH", "T/M BAN THƯỜNG VỤ"."""
    clean = _clean_line(line)
    return _is_caps(clean) and bool(_AUTHORITY.match(clean))


def _is_issuer_line(line: str) -> bool:
    """An all-caps line naming an agency, as in the issuer block above a header."""
    clean = _clean_line(line)
    return _is_caps(clean) and bool(_AGENCY_WORD.search(fold(clean)))


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the line break."""
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _opening_start(lines: list[str], header: int) -> int:
    """Index of the first line of the opening whose header line is ``header``.

    The issuer block sits just above the quốc hiệu or title (left column first in extracted text),
    so all-caps agency lines directly above it, blank lines allowed, belong to the new document.
    """
    start, i = header, header - 1
    while i >= 0:
        clean = _clean_line(lines[i])
        if not clean:
            i -= 1
            continue
        if not _is_issuer_line(lines[i]) or is_signing_authority(lines[i]):
            break
        start, i = i, i - 1
    return start


def split_documents(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) spans of the documents in a file's display text, in order.

    The spans are contiguous and cover ``text``; a file holding one document gives
    ``[(0, len(text))]``. A document starts at a header (quốc hiệu, "ĐẢNG CỘNG SẢN VIỆT NAM" or
    an all-caps type title) that follows the previous document's "Nơi nhận" or signature block.
    """
    lines = text.split("\n")
    offsets = _line_spans(text)
    starts = [0]
    closed = False
    for i, line in enumerate(lines):
        if closed and (is_national_header(line) or title_type(line)):
            first = _opening_start(lines, i)
            if offsets[first][0] > starts[-1]:
                starts.append(offsets[first][0])
            closed = False
        elif is_recipients_label(line) or is_signing_authority(line):
            closed = True
    ends = starts[1:] + [len(text)]
    return list(zip(starts, ends))
