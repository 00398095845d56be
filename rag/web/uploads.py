"""Files added from the browser: safe names, validation, storage, and Vietnamese reasons.

An upload is stored under ``<data_dir>/uploads`` with a sanitised name and is never
overwritten: a second file with the same name and other content gets a ``-2`` suffix. A file
that fails to ingest is removed again, so nothing but good documents stays there.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import LoadCode
from ingest.loaders import SUPPORTED_EXTENSIONS

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


class UploadRejected(Exception):
    """A file refused before ingestion; the message is Vietnamese and shown as is."""


def safe_filename(name: str) -> str:
    """A file name that is safe to create inside the uploads folder.

    Keeps Vietnamese letters, digits, spaces, dots, dashes, underscores and parentheses;
    drops any folder part (``../``, ``C:\\``), control characters and other symbols; never
    starts with a dot or dash; keeps the extension, lower-cased; at most ``MAX_NAME_CHARS``.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]  # a browser may send a Windows path
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = re.sub(r"[^a-z0-9]", "", ext.lower())[:10]
    stem = re.sub(r"_+", "_", stem).strip(" ._-") or "tai-lieu"
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"{stem}_"
    limit = MAX_NAME_CHARS - (len(ext) + 1 if ext else 0)
    stem = stem[:limit].rstrip(" .")
    return f"{stem}.{ext}" if ext else stem


def validate(name: str, size: int, *, max_mb: float) -> None:
    """Refuse an unsupported type, an empty file or one over the size limit."""
    ext = Path(name).suffix.lower()
    allowed = ", ".join(SUPPORTED_EXTENSIONS)
    if ext not in SUPPORTED_EXTENSIONS:
        shown = f"“{ext}”" if ext else "không có phần mở rộng"
        raise UploadRejected(f"định dạng {shown} không được hỗ trợ; chỉ nhận {allowed}.")
    if size == 0:
        raise UploadRejected("tệp rỗng, không có nội dung.")
    if size > max_mb * 1024 * 1024:
        raise UploadRejected(f"tệp nặng {size / 1024 / 1024:.1f} MB, vượt giới hạn {max_mb:g} MB.")


@dataclass
class Stored:
    path: Path
    created: bool
    """False when an identical file was already there (nothing was written)."""


def store(source: Path, original_name: str, folder: Path) -> Stored:
    """Copy an uploaded temporary file into ``folder`` under a safe, unused name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_filename(original_name)
    stem, ext = (name.rsplit(".", 1) + [""])[:2] if "." in name else (name, "")
    digest = _sha256(source)
    for n in range(1, 1000):
        candidate = folder / (f"{stem}-{n}" if n > 1 else stem)
        candidate = candidate.with_name(candidate.name + (f".{ext}" if ext else ""))
        if not candidate.exists():
            shutil.copyfile(source, candidate)
            return Stored(candidate, True)
        if candidate.is_file() and _sha256(candidate) == digest:
            return Stored(candidate, False)
    raise UploadRejected("đã có quá nhiều tệp trùng tên; hãy đổi tên tệp rồi tải lên lại.")


# What an official reads in the browser for each refusal code; the English reason (for logs
# and the CLI) follows it as the technical detail.
VIETNAMESE: dict[LoadCode, str] = {
    LoadCode.UNSUPPORTED_TYPE: "định dạng tệp không được hỗ trợ",
    LoadCode.NOT_FOUND: "không tìm thấy tệp hoặc thư mục",
    LoadCode.BROKEN_LINK: "liên kết tượng trưng (symbolic link) bị hỏng: tệp đích không tồn tại",
    LoadCode.LINK_LOOP:
        "liên kết tượng trưng (symbolic link) tạo thành vòng lặp, không dẫn tới tệp nào; hãy sửa hoặc xoá liên kết",
    LoadCode.NOT_A_FILE: "không phải tệp hay thư mục thông thường",
    LoadCode.JUNK_FILE: "không phải văn bản (tệp khoá, tệp tạm hoặc tệp của hệ điều hành)",
    LoadCode.FOLDER_UNREADABLE: "không đọc được thư mục",
    LoadCode.PERMISSION_DENIED: "không đọc được tệp",
    LoadCode.UNREADABLE: "không đọc được tệp",
    LoadCode.TOO_LARGE: "tệp vượt giới hạn dung lượng",
    LoadCode.EMPTY: "tệp rỗng, không có nội dung",
    LoadCode.REALLY_PDF: "tệp thực chất là tệp PDF nhưng mang đuôi khác; hãy đổi đuôi thành .pdf",
    LoadCode.REALLY_DOCX: "tệp thực chất là tài liệu Word .docx nhưng mang đuôi khác; hãy đổi đuôi thành .docx",
    LoadCode.REALLY_PNG: "tệp thực chất là ảnh PNG nhưng mang đuôi khác; hãy đổi đuôi thành .png",
    LoadCode.REALLY_JPG: "tệp thực chất là ảnh JPEG nhưng mang đuôi khác; hãy đổi đuôi thành .jpg",
    LoadCode.REALLY_TIF: "tệp thực chất là ảnh TIFF nhưng mang đuôi khác; hãy đổi đuôi thành .tif",
    LoadCode.NOT_PDF: "tệp mang đuôi .pdf nhưng không phải tệp PDF",
    LoadCode.NOT_DOCX: "tệp mang đuôi .docx nhưng không phải tài liệu Word",
    LoadCode.NOT_IMAGE: "tệp mang đuôi ảnh nhưng không phải tệp ảnh",
    LoadCode.BINARY: "tệp không phải văn bản (có vẻ là tệp nhị phân)",
    LoadCode.UNDECODABLE: "không đọc được bảng mã của tệp; hãy lưu lại dưới dạng UTF-8",
    LoadCode.UTF16_WITHOUT_BOM:
        "tệp UTF-16 không có dấu thứ tự byte (BOM) và bị lỗi mã hoá; hãy lưu lại dưới dạng UTF-8",
    LoadCode.DOCX_CORRUPT: "tệp .docx bị hỏng hoặc không đầy đủ",
    LoadCode.DOCX_BOMB:
        "tệp .docx khi giải nén quá lớn, có thể là tệp nén độc hại (zip bomb); "
        "giới hạn: CONGVAN_DOCX_MAX_UNCOMPRESSED_MB",
    LoadCode.DOCX_TOO_MANY_PARAGRAPHS: "tệp .docx có quá nhiều đoạn văn; giới hạn: CONGVAN_DOCX_MAX_PARAGRAPHS",
    LoadCode.DOCX_TOO_COMPLEX:
        "tệp .docx có cấu trúc quá phức tạp, có thể được tạo ra để làm cạn bộ nhớ; "
        "giới hạn theo CONGVAN_DOCX_MAX_PARAGRAPHS",
    LoadCode.PDF_CORRUPT: "tệp PDF bị hỏng hoặc không đầy đủ",
    LoadCode.PDF_PASSWORD: "tệp PDF có mật khẩu; hãy gỡ mật khẩu rồi lưu lại",
    LoadCode.PDF_NEEDS_OCR: "tệp PDF là ảnh quét, không có lớp chữ; cần nhận dạng chữ (OCR) trước",
    LoadCode.PDF_LEGACY_FONT: ("lớp chữ của tệp PDF dùng phông chữ cũ (TCVN3/VNI) nên đọc ra chữ lỗi; "
                               "cần nhận dạng chữ (OCR) trước"),
    LoadCode.IMAGE_NEEDS_OCR: "tệp ảnh quét cần nhận dạng chữ (OCR), chức năng này chưa bật trên máy chủ",
    LoadCode.IMAGE_UNREADABLE: "tệp ảnh bị hỏng hoặc không đọc được",
    LoadCode.IMAGE_CORRUPT: "tệp ảnh bị hỏng hoặc không đầy đủ",
    LoadCode.IMAGE_TOO_LARGE: "ảnh quá lớn để nhận dạng chữ",
    LoadCode.OCR_NO_TEXT: "nhận dạng chữ (OCR) không tìm thấy chữ nào: trang trắng hoặc bản quét quá mờ",
    LoadCode.OCR_FAILED: "nhận dạng chữ (OCR) thất bại",
}

# Failures after a file loaded (the ingest run's own: parse, size in chunks, index write) carry
# no code; they are told apart by their reason, first match wins.
_UNCODED = [
    ("over the", "tệp vượt giới hạn dung lượng"),  # "too large to index: ... over the limit of N"
    ("no text to index", "tệp không có nội dung để đưa vào kho"),
    ("could not parse", "không phân tích được nội dung tệp"),
    ("could not index", "không ghi được tệp vào kho văn bản"),
]
_UNKNOWN = "không nạp được tệp"


def explain(reason: str | None, code: str | None = None) -> str:
    """Why a file was not loaded, in Vietnamese, with the English reason kept as the detail:
    'tệp PDF có mật khẩu; ... (chi tiết: PDF is password-protected ...)'.

    ``code`` is the refusal's ``LoadCode`` (``FileOutcome.code``); without one (a failure after
    loading) the reason itself is recognised, and anything else is "không nạp được tệp".
    """
    reason = reason or "unknown error"
    vietnamese = VIETNAMESE.get(code) if code else None  # a StrEnum key equals its string value
    if vietnamese is None:
        vietnamese = next((text for fragment, text in _UNCODED if fragment in reason), _UNKNOWN)
    return f"{vietnamese} (chi tiết: {reason})"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
