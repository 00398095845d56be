"""Tests for ingest.loaders: discovery, decoding, .docx/.pdf extraction and every refusal."""

from __future__ import annotations

import codecs
import hashlib
import inspect
import io
import logging
import os
import struct
import time
import tracemalloc
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path

import docx
import pymupdf
import pytest
from docx.oxml import parse_xml

from ingest.errors import LoadCode, LoadError
from ingest.loaders import SUPPORTED_EXTENSIONS, _size_reason, check_text_layer, discover, load_file, real_path
from ingest.settings import Settings
from rag.web.uploads import explain
from tests.conftest import CORPUS

SEED_004 = CORPUS / "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MB = 1024 * 1024
LIMIT = 25 * MB

# pymupdf's built-in Base-14 fonts cannot draw Vietnamese letters; without DejaVu the PDF
# fixtures fall back to unaccented text, which still exercises pages and offsets.
HAS_FONT = FONT.exists()
VN = "Ủy ban nhân dân tỉnh về việc" if HAS_FONT else "Uy ban nhan dan tinh ve viec"

SENTENCE = "Ủy ban nhân dân tỉnh Kon Tum đề nghị các Sở, ban, ngành thực hiện việc này."


def _load(path: Path, max_bytes: int = LIMIT):
    return load_file(path, key=f"docs/{path.name}", max_bytes=max_bytes)


def _refusal(path: Path, max_bytes: int = LIMIT) -> LoadError:
    with pytest.raises(LoadError) as info:
        _load(path, max_bytes)
    assert info.value.path == f"docs/{path.name}"
    assert str(info.value).startswith(f"docs/{path.name}: ")
    return info.value


def _to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters precomposed, tone marks combining."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            tone = next(m for m in decomposed if m in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
            out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


# --------------------------------------------------------------------------- fixtures: docx


def _write_letter_docx(path: Path) -> Path:
    """An official letter whose header is the usual 2-column table."""
    document = docx.Document()
    header = document.add_table(rows=2, cols=2)
    left, right = header.rows[0].cells
    left.text = "ỦY BAN NHÂN DÂN"
    left.add_paragraph("TỈNH SÓC TRĂNG")
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    number, date = header.rows[1].cells
    number.text = "Số: 3452/UBND-VX"
    date.text = "Sóc Trăng, ngày 23 tháng 10 năm 2024"
    document.add_paragraph("V/v triển khai Chương trình số 61-CTr/TU")
    document.add_paragraph("")
    document.add_paragraph("Kính gửi: Các Sở, ban, ngành tỉnh.")
    body = document.add_table(rows=1, cols=2)
    body.rows[0].cells[0].text = "Nơi nhận:"
    body.rows[0].cells[1].text = "KT. CHỦ TỊCH"
    document.add_paragraph("Hết.")
    document.save(path)
    return path


# --------------------------------------------------------------------------- fixtures: pdf


def _text_page(document: pymupdf.Document, text: str) -> None:
    page = document.new_page()
    if HAS_FONT:
        page.insert_text((72, 72), text, fontname="dejavu", fontfile=str(FONT), fontsize=12)
    else:
        page.insert_text((72, 72), text, fontname="helv", fontsize=12)


def _image_page(document: pymupdf.Document) -> None:
    """A 'scanned' page: text rendered to pixels, then placed as an image with no text layer."""
    scratch = pymupdf.open()
    _text_page(scratch, "Trang quét: " + VN)
    pixmap = scratch[0].get_pixmap(dpi=50)
    scratch.close()
    page = document.new_page()
    page.insert_image(page.rect, pixmap=pixmap)


def _pdf_bytes(*pages: str | None, **save_options) -> bytes:
    """A PDF with one page per argument: text, or None for an image-only page."""
    document = pymupdf.open()
    for content in pages:
        if content is None:
            _image_page(document)
        else:
            _text_page(document, content)
    if HAS_FONT:
        document.subset_fonts()  # keeps fixtures small; DejaVu is 700 KB unsubsetted
    data = document.tobytes(garbage=3, deflate=True, **save_options)
    document.close()
    return data


# --------------------------------------------------------------------------- discover


def test_supported_extensions():
    assert SUPPORTED_EXTENSIONS == (".txt", ".md", ".docx", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


def test_discover_walks_folders_sorted_and_skips_junk(tmp_path: Path):
    root = tmp_path / "in"
    for name in [
        "b.txt",
        "a.PDF",
        "sub/c.docx",
        "sub/deeper/d.md",
        "sub/~$c.docx",
        ".hidden.txt",
        ".git/config.txt",
        "__MACOSX/x.txt",
        ".DS_Store",
        "Thumbs.db",
        "notes.txt~",
        "~WRL0001.tmp",
        "sheet.xlsx",
        "sub/old.doc",
        "README",
    ]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", encoding="utf-8")

    files, rejected = discover([root])

    assert files == [root / "a.PDF", root / "b.txt", root / "sub/c.docx", root / "sub/deeper/d.md"]
    assert rejected == [
        (root / "README", "unsupported file type (no extension) (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff)",
         LoadCode.UNSUPPORTED_TYPE),
        (
            root / "sheet.xlsx",
            "unsupported file type '.xlsx' (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff; only text documents are indexed)",
            LoadCode.UNSUPPORTED_TYPE,
        ),
        (
            root / "sub/old.doc",
            "unsupported file type '.doc' (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff; save it as .docx in Word)",
            LoadCode.UNSUPPORTED_TYPE,
        ),
    ]


def test_discover_inside_hidden_parent_folder(tmp_path: Path):
    # Only entries *below* the given folder are judged hidden, not the folder's own path.
    root = tmp_path / ".cache" / "corpus"
    root.mkdir(parents=True)
    (root / "a.txt").write_text("x", encoding="utf-8")
    assert discover([root]) == ([root / "a.txt"], [])


@pytest.mark.parametrize(
    ("name", "reason", "code"),
    [
        ("missing.txt", "no such file or folder", LoadCode.NOT_FOUND),
        ("table.csv", "unsupported file type '.csv' (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff)",
         LoadCode.UNSUPPORTED_TYPE),
        ("~$letter.docx", "Office lock file, not a document (it disappears when the document is closed)",
         LoadCode.JUNK_FILE),
    ],
)
def test_discover_rejects_explicit_paths(tmp_path: Path, name: str, reason: str, code: LoadCode):
    path = tmp_path / name
    if name != "missing.txt":
        path.write_text("x", encoding="utf-8")
    assert discover([path]) == ([], [(path, reason, code)])


def test_discover_keeps_order_and_dedupes(tmp_path: Path):
    (tmp_path / "z.txt").write_text("x", encoding="utf-8")
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    files, rejected = discover([tmp_path / "z.txt", tmp_path, tmp_path / "z.txt"])
    assert files == [tmp_path / "z.txt", tmp_path / "a.txt"]
    assert rejected == []


def test_discover_explicit_hidden_file_is_loaded(tmp_path: Path):
    path = tmp_path / ".notes.md"
    path.write_text("x", encoding="utf-8")
    assert discover([path]) == ([path], [])


# --------------------------------------------------------------------------- text files


def test_real_seed_in_nfd_is_loaded_as_nfc():
    raw = SEED_004.read_bytes()
    assert not unicodedata.is_normalized("NFC", raw.decode("utf-8"))  # the point of this seed

    loaded = load_file(SEED_004, key="corpus/004.txt", max_bytes=LIMIT)

    assert loaded.path == "corpus/004.txt"
    assert loaded.kind == "txt"
    assert loaded.page_starts is None
    assert unicodedata.is_normalized("NFC", loaded.text)
    assert "về" in loaded.text
    assert "Ủy ban nhân dân" in loaded.text
    assert loaded.sha256 == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("utf8.txt", SENTENCE.encode("utf-8"), SENTENCE),
        ("bom.txt", codecs.BOM_UTF8 + SENTENCE.encode("utf-8"), SENTENCE),
        ("utf16le.txt", SENTENCE.encode("utf-16"), SENTENCE),  # Python writes a BOM
        ("utf16be.txt", codecs.BOM_UTF16_BE + SENTENCE.encode("utf-16-be"), SENTENCE),
        # Without a byte-order mark, UTF-16 is recognised by its NUL bytes (they were "binary").
        ("utf16le-nobom.txt", f"{SENTENCE}\r\nDòng hai.".encode("utf-16-le"), f"{SENTENCE}\nDòng hai."),
        ("utf16be-nobom.md", f"# Tiêu đề\n\n{SENTENCE}".encode("utf-16-be"), f"# Tiêu đề\n\n{SENTENCE}"),
        ("utf16le-ascii.txt", "So: 12/KH-UBND".encode("utf-16-le"), "So: 12/KH-UBND"),
        ("crlf.txt", "Dòng một\r\nDòng hai\r\n".encode("utf-8"), "Dòng một\nDòng hai\n"),
        ("cr.txt", "Dòng một\rDòng hai".encode("utf-8"), "Dòng một\nDòng hai"),
        ("nfd.txt", unicodedata.normalize("NFD", SENTENCE).encode("utf-8"), SENTENCE),
        ("legacy.txt", _to_cp1258(SENTENCE), SENTENCE),
        ("notes.md", "# Tiêu đề\n\n**Đậm** nội dung".encode("utf-8"), "# Tiêu đề\n\n**Đậm** nội dung"),
        ("formfeed.txt", "Trang 1\n\x0cTrang 2".encode("utf-8"), "Trang 1\n\x0cTrang 2"),
    ],
)
def test_text_decoding(tmp_path: Path, name: str, raw: bytes, expected: str):
    path = tmp_path / name
    path.write_bytes(raw)
    loaded = _load(path)
    assert loaded.text == expected
    assert loaded.kind == path.suffix[1:]
    assert unicodedata.is_normalized("NFC", loaded.text)


@pytest.mark.parametrize(
    ("name", "raw", "reason"),
    [
        ("empty.txt", b"", "file is empty"),
        ("blank.txt", b"  \r\n\t \n", "file is empty"),
        ("bom-only.md", codecs.BOM_UTF8 + b"\n", "file is empty"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "looks like a binary file, not text"),
        ("controls.txt", bytes(range(1, 32)) * 20 + b"abc", "looks like a binary file, not text"),
        (
            "latin1.txt",
            "Le café crème à la française, s'il vous plaît.".encode("latin-1"),
            "cannot decode text: not UTF-8 or UTF-16 (save it as UTF-8)",
        ),
        (
            "damaged.txt",
            SENTENCE.encode("utf-8")[:20] + b"\xff" + SENTENCE.encode("utf-8")[20:],
            "cannot decode text: invalid UTF-8 at byte 20 (the file is damaged or mixes encodings; save it as UTF-8)",
        ),
        (
            "bad-bom.txt",
            codecs.BOM_UTF8 + b"abc\xc3",
            "cannot decode text: invalid UTF-8 (it starts with a UTF-8 byte-order mark) at byte 3 (save it as UTF-8)",
        ),
        (
            "bad-utf16.txt",
            codecs.BOM_UTF16_LE + b"a\x00\x00\xd8b\x00",  # a lone high surrogate
            "cannot decode text: invalid UTF-16 (it starts with a UTF-16 byte-order mark) at byte 4 (save it as UTF-8)",
        ),
        (
            "bad-utf16-nobom.txt",
            ("Văn bản số 12. " * 10).encode("utf-16-le") + b"\x00\xd8" + "tiếp".encode("utf-16-le"),  # lone surrogate
            "cannot decode text: invalid UTF-16 LE (UTF-16 text without a byte-order mark) at byte 300 "
            "(save it as UTF-8)",
        ),
        # NUL bytes at both even and odd offsets: binary, not UTF-16.
        ("nuls.txt", bytes(range(256)) * 8, "looks like a binary file, not text"),
        # UTF-16's NUL pattern, but it decodes to private-use and unassigned characters.
        ("fake-utf16.txt", b"\x01\x00\x02\x00\x03\x00" * 100 + b"\x41\xe0" * 100, "looks like a binary file, not text"),
    ],
)
def test_bad_text_files(tmp_path: Path, name: str, raw: bytes, reason: str):
    path = tmp_path / name
    path.write_bytes(raw)
    assert _refusal(path).reason == reason


def test_cp1258_mojibake_of_utf8_is_not_accepted(tmp_path: Path):
    # UTF-8 Vietnamese with one broken byte must not be re-read as a code page (→ "á»‡").
    path = tmp_path / "mixed.txt"
    path.write_bytes(("Việt Nam " * 50).encode("utf-8") + b"\x81")
    assert _refusal(path).reason.startswith("cannot decode text: invalid UTF-8 at byte 550")


# --------------------------------------------------------------------------- size and paths


@pytest.mark.parametrize(
    ("size", "limit", "reason"),
    [
        (int(31.2 * MB), 25 * MB, "file is 31.2 MB, over the 25 MB limit (CONGVAN_MAX_FILE_MB)"),
        (25 * MB + 30_000, 25 * MB, "file is 25.03 MB, over the 25 MB limit (CONGVAN_MAX_FILE_MB)"),
        (3000, 2048, "file is 2.9 KB, over the 2 KB limit (CONGVAN_MAX_FILE_MB)"),
        (120, 10, "file is 120 bytes, over the 10 bytes limit (CONGVAN_MAX_FILE_MB)"),
    ],
)
def test_size_reason(size: int, limit: int, reason: str):
    assert _size_reason(size, limit) == reason


@pytest.mark.parametrize("suffix", [".txt", ".docx", ".pdf"])
def test_oversize_file_is_refused_before_parsing(tmp_path: Path, suffix: str):
    path = tmp_path / f"big{suffix}"
    path.write_bytes(b"x" * 120)  # not even a valid docx/pdf: size is checked first
    assert _refusal(path, max_bytes=10).reason == "file is 120 bytes, over the 10 bytes limit (CONGVAN_MAX_FILE_MB)"


def test_file_at_the_limit_is_loaded(tmp_path: Path):
    path = tmp_path / "exact.txt"
    path.write_bytes(b"x" * 10)
    assert _load(path, max_bytes=10).text == "x" * 10


@pytest.mark.parametrize(
    ("name", "create", "reason"),
    [
        ("gone.txt", False, "no such file or folder"),
        ("sheet.xlsx", True, "unsupported file type '.xlsx' (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff; only text documents are indexed)"),
    ],
)
def test_load_file_refuses_missing_and_unsupported(tmp_path: Path, name: str, create: bool, reason: str):
    path = tmp_path / name
    if create:
        path.write_bytes(b"x")
    assert _refusal(path).reason == reason


def test_load_file_refuses_a_folder(tmp_path: Path):
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert _refusal(folder).reason == "not a regular file"


# --------------------------------------------------------------------------- docx


def test_docx_header_table_comes_first_left_cell_first(tmp_path: Path):
    path = _write_letter_docx(tmp_path / "letter.docx")
    loaded = _load(path)
    assert loaded.kind == "docx"
    assert loaded.page_starts is None
    assert loaded.text == (
        "ỦY BAN NHÂN DÂN\n"
        "TỈNH SÓC TRĂNG\n"
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "Độc lập - Tự do - Hạnh phúc\n"
        "Số: 3452/UBND-VX\n"
        "Sóc Trăng, ngày 23 tháng 10 năm 2024\n"
        "V/v triển khai Chương trình số 61-CTr/TU\n"
        "\n"
        "Kính gửi: Các Sở, ban, ngành tỉnh.\n"
        "Nơi nhận:\n"
        "KT. CHỦ TỊCH\n"
        "Hết."
    )


def test_docx_merged_cells_are_read_once(tmp_path: Path):
    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "TIÊU ĐỀ GỘP NGANG"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "GỘP DỌC"
    table.cell(1, 1).text = "b1"
    table.cell(2, 1).text = "b2"
    path = tmp_path / "merged.docx"
    document.save(path)
    assert _load(path).text == "TIÊU ĐỀ GỘP NGANG\nGỘP DỌC\nb1\nb2"


_W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_MC_NS = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'


def test_docx_data_table_is_read_one_row_a_line(tmp_path: Path):
    """A table of tasks, units and deadlines: each row on one line, cells between pipes, so the
    row's deadline is in the same sentence as its task; merged cells keep the columns in place."""
    document = docx.Document()
    document.add_paragraph("Phụ lục")
    table = document.add_table(rows=5, cols=4)
    rows = [["TT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời gian"], ["1", "Rà soát quy hoạch", "Sở Tài chính", "Quý II/2026"],
            None, ["2", "Kiểm tra", None, "Tháng 5/2026"], ["3", "Tổng kết", None, "Tháng 12/2026"]]
    for r, texts in enumerate(rows):
        for c, text in enumerate(texts or []):
            if text is not None:
                table.cell(r, c).text = text
    table.rows[1].cells[1].add_paragraph("khoáng sản | đá")
    table.cell(2, 0).merge(table.cell(2, 3)).text = "II. NHIỆM VỤ KHÁC"
    table.cell(3, 2).merge(table.cell(4, 2)).text = "Sở Xây dựng"
    document.add_paragraph("Hết.")
    path = tmp_path / "appendix.docx"
    document.save(path)
    assert _load(path).text == (
        "Phụ lục\n"
        "| TT | Nhiệm vụ | Đơn vị chủ trì | Thời gian |\n"
        "| 1 | Rà soát quy hoạch khoáng sản / đá | Sở Tài chính | Quý II/2026 |\n"
        "| II. NHIỆM VỤ KHÁC |  |  |  |\n"
        "| 2 | Kiểm tra | Sở Xây dựng | Tháng 5/2026 |\n"
        "| 3 | Tổng kết |  | Tháng 12/2026 |\n"
        "Hết."
    )


def test_docx_tracked_changes_breaks_and_text_boxes(tmp_path: Path):
    document = docx.Document()
    document.add_paragraph("Mở đầu")
    anchor = document.add_paragraph("Neo")
    # Inserted text counts, deleted text does not; a text box written twice (modern
    # drawing + VML fallback, as Word does) is read once, after its paragraph.
    extra = parse_xml(
        f"<w:p {_W_NS} {_MC_NS}>"
        "<w:r><w:t>Trước</w:t><w:br/><w:t>sau</w:t><w:tab/><w:t>cột</w:t></w:r>"
        "<w:ins><w:r><w:t> thêm</w:t></w:r></w:ins>"
        "<w:del><w:r><w:delText> bỏ</w:delText></w:r></w:del>"
        '<w:hyperlink><w:r><w:t> liên kết</w:t></w:r></w:hyperlink>'
        "<w:r><mc:AlternateContent>"
        "<mc:Choice Requires=\"wps\"><w:drawing><w:txbxContent><w:p><w:r><w:t>Số: 12/KH</w:t></w:r></w:p>"
        "</w:txbxContent></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Số: 12/KH</w:t></w:r></w:p>"
        "</w:txbxContent></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
        "</w:p>"
    )
    anchor._p.addnext(extra)
    # A block content control (form field) holds ordinary paragraphs.
    control = parse_xml(
        f"<w:sdt {_W_NS}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>Trong ô nội dung</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    )
    extra.addnext(control)
    path = tmp_path / "changes.docx"
    document.save(path)
    assert _load(path).text == "Mở đầu\nNeo\nTrước\nsau\tcột thêm liên kết\nSố: 12/KH\nTrong ô nội dung"


def test_docx_nested_table_is_read_inside_its_cell(tmp_path: Path):
    document = docx.Document()
    outer = document.add_table(rows=1, cols=2)
    left = outer.cell(0, 0)
    left.text = "Trái trên"
    inner = left.add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "trong 1"
    inner.cell(0, 1).text = "trong 2"
    left.add_paragraph("Trái dưới")
    outer.cell(0, 1).text = "Phải"
    path = tmp_path / "nested.docx"
    document.save(path)
    # python-docx (like Word) puts an empty paragraph after a table in a cell: a blank line.
    assert _load(path).text == "Trái trên\ntrong 1\ntrong 2\n\nTrái dưới\nPhải"


def test_docx_without_text_is_empty(tmp_path: Path):
    path = tmp_path / "blank.docx"
    document = docx.Document()
    document.add_paragraph("")
    document.save(path)
    assert _refusal(path).reason == "file is empty: the document contains no text"


def _truncated_docx(tmp_path: Path) -> bytes:
    data = _write_letter_docx(tmp_path / "whole.docx").read_bytes()
    return data[: len(data) // 2]


def _zip_without_word_parts(tmp_path: Path) -> bytes:
    target = tmp_path / "plain.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    return target.read_bytes()


def _xlsx_bytes(tmp_path: Path) -> bytes:
    target = tmp_path / "book.xlsx"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return target.read_bytes()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_truncated_docx, "corrupt or truncated .docx (not a valid zip archive)"),
        (lambda _: "Đây là văn bản thường, không phải docx.".encode("utf-8"), "corrupt or truncated .docx (not a valid zip archive)"),
        (_zip_without_word_parts, "corrupt or truncated .docx (a zip archive, but not a Word document)"),
        (_xlsx_bytes, "not a .docx: it is an Excel workbook with a .docx name"),
        (
            lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "not a .docx: it is an old Word 97-2003 file or a password-protected document "
            "(open it in Word and save it as .docx without a password)",
        ),
    ],
    ids=["truncated", "text-file", "plain-zip", "xlsx", "ole"],
)
def test_bad_docx(tmp_path: Path, make, reason: str):
    path = tmp_path / "bad.docx"
    path.write_bytes(make(tmp_path))
    assert _refusal(path).reason == reason


def test_docx_with_broken_xml(tmp_path: Path):
    source = _write_letter_docx(tmp_path / "source.docx")
    target = tmp_path / "broken.docx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]
            dst.writestr(item, data)
    reason = _refusal(target).reason
    assert reason.startswith("corrupt or truncated .docx (")
    assert "XMLSyntaxError" in reason


# --------------------------------------------------------------------------- pdf


def test_pdf_pages_and_page_starts(tmp_path: Path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(_pdf_bytes(f"Trang 1\n{VN}", f"Trang 2\n{VN}", "Trang 3"))

    loaded = _load(path)

    assert loaded.kind == "pdf"
    assert loaded.text == f"Trang 1\n{VN}\n\nTrang 2\n{VN}\n\nTrang 3"
    assert loaded.page_starts is not None and len(loaded.page_starts) == 3
    for number, start in enumerate(loaded.page_starts, start=1):
        assert loaded.text[start:].startswith(f"Trang {number}")
    assert unicodedata.is_normalized("NFC", loaded.text)


def test_mixed_pdf_loads_text_pages_and_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "mixed.pdf"
    path.write_bytes(_pdf_bytes("Trang 1", None, "Trang 3", None))

    with caplog.at_level(logging.WARNING, logger="ingest.loaders"):
        loaded = _load(path)

    assert loaded.text == "Trang 1\n\n\n\nTrang 3\n\n"
    # One start per page, so index i is always page i + 1, text or not.
    assert loaded.page_starts == [0, 9, 11, 20]
    assert loaded.text[loaded.page_starts[2]:].startswith("Trang 3")
    [record] = [r for r in caplog.records if r.name == "ingest.loaders"]
    assert record.levelno == logging.WARNING
    assert "docs/mixed.pdf" in record.getMessage()
    assert "page(s) 2, 4 have no text layer" in record.getMessage()


def _encrypted_pdf(_: Path) -> bytes:
    return _pdf_bytes("Mật", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")


def _truncated_pdf(_: Path) -> bytes:
    data = _pdf_bytes("Trang 1", "Trang 2")
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_encrypted_pdf, "PDF is password-protected (remove the password and save it again)"),
        (lambda _: _pdf_bytes(None, None), "PDF has no text layer (scanned image): it needs OCR"),
        # How MuPDF fails on these depends on its version: only the start is checked.
        (_truncated_pdf, "corrupt or truncated PDF ("),
        (lambda _: b"%PDF-1.7\n" + b"garbage " * 40, "corrupt or truncated PDF ("),
        (
            lambda _: "Đây là văn bản, không phải PDF.".encode("utf-8"),
            "corrupt or truncated PDF (no PDF header: this is not a PDF file)",
        ),
    ],
    ids=["encrypted", "image-only", "truncated", "garbage", "text-file"],
)
def test_bad_pdf(tmp_path: Path, make, reason: str):
    path = tmp_path / "bad.pdf"
    path.write_bytes(make(tmp_path))
    actual = _refusal(path).reason
    assert actual.startswith(reason) if reason.endswith("(") else actual == reason


def test_pdf_with_owner_password_only_is_readable(tmp_path: Path):
    # Restriction-only encryption (no user password) opens without asking: nothing to refuse.
    path = tmp_path / "restricted.pdf"
    path.write_bytes(_pdf_bytes(VN, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", permissions=0))
    assert _load(path).text == VN


# --------------------------------------------------------------------------- pdf: garbled text layers

# TCVN3 (ABC), the pre-Unicode Vietnamese font encoding: every accented small letter has a byte of
# its own in Latin-1 positions, which is what a PDF typed in a .VnTime font extracts as.
_TCVN3_SMALL = dict(zip(
    "ăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
    "¨©ª«¬\xad®µ¶·¸¹»¼½¾ÆÇÈÉÊËÌÎÏÐÑÒÓÔÕÖ×ØÜÝÞßáâãäåæçèéêëìíîïñòóôõö÷øùúûüýþ",
))
_TCVN3_CAPITAL = dict(zip("ĂÂÊÔƠƯĐ", "¡¢£¤¥¦§"))


def _tcvn3(text: str) -> str:
    """``text`` as it extracts from a TCVN3 font: capitals with tones fall back to small ones,
    as the .VnTime fonts draw them."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _TCVN3_CAPITAL:
            out.append(_TCVN3_CAPITAL[ch])
        else:
            out.append(_TCVN3_SMALL.get(ch.lower(), ch) if not ch.isascii() else ch)
    return "".join(out)


def _broken_glyph_map(text: str) -> str:
    """``text`` as a Unicode font subset with a wrong ToUnicode map extracts: every accented
    letter lands on some Cyrillic letter."""
    return "".join(ch if ch.isascii() else chr(0x0450 + ord(ch) % 0x60) for ch in text)


_PARAGRAPH = ("Thực hiện Kế hoạch của Ủy ban nhân dân tỉnh về công tác phòng cháy, chữa cháy năm 2026, "
              "Sở Công Thương đề nghị các đơn vị rà soát, báo cáo kết quả thực hiện trước ngày 15 tháng 5 "
              "và chịu trách nhiệm về số liệu báo cáo.")
# VNI-Windows spells tones and vowel marks as separate Latin-1 letters after the vowel.
_VNI = ("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam. Sôû Coâng Thöông ñeà nghò caùc ñôn vò baùo caùo "
        "keát quaû thöïc hieän tröôùc ngaøy 15 thaùng 5.")


@pytest.mark.parametrize(
    ("text", "garbled"),
    [
        (_tcvn3(_PARAGRAPH), True),
        (_tcvn3("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n" + _PARAGRAPH), True),
        (_VNI, True),
        (_broken_glyph_map(_PARAGRAPH), True),
        # Glyphs MuPDF could not map at all, inside words.
        ("".join(ch if ch.isascii() else "\ufffd" for ch in _PARAGRAPH), True),
        (_PARAGRAPH, False),
        (unicodedata.normalize("NFD", _PARAGRAPH), False),
        (_PARAGRAPH.upper(), False),
        ("The Department of Industry and Trade asks every unit to report by 15 May; don't be late. " * 3, False),
        ("STT | 2024 | 2025 | Tỷ lệ\n1 | 1.234 | 1.456 | 18,0%\n2 | 567 | 602 | 6,2%\n"
         "3 | 12,5 m² | 25°C | ±0,5", False),
        ("123 456 789\n2024–2025 ≥ 10 × 20 ÷ 4 = 50\n" * 10, False),
        # A foreign name or a formula in Vietnamese text is not a broken page.
        (_PARAGRAPH + " Theo ông Müller và bà Gödel, enzyme α-amylase đạt 95 %.", False),
        ("Министерство промышленности и торговли Вьетнама утвердило план на 2026 год.", False),
        # Four broken words are too few to judge a page by: a stray line stays as it is.
        (_tcvn3("Thông báo kết quả kiểm") + " " + _PARAGRAPH, False),
        ("", False),
    ],
    ids=["tcvn3", "tcvn3-header", "vni", "glyph-map", "replacement-chars", "vietnamese", "vietnamese-nfd",
         "capitals", "english", "table", "numbers", "foreign-names", "russian", "stray-line", "empty"],
)
def test_check_text_layer(text: str, garbled: bool):
    assert check_text_layer(text).garbled is garbled


def test_check_text_layer_counts_words():
    check = check_text_layer("Th«ng b¸o về việc hoµ x· Müller 2024 Nam")
    # "Th«ng", "b¸o", "hoµ", "Müller" broken; "về", "việc" Vietnamese; "x·", "2024", "Nam" neither.
    assert (check.broken, check.vietnamese) == (4, 2)


def test_pdf_whose_text_layer_is_all_legacy_font_is_refused_without_ocr(tmp_path: Path):
    path = tmp_path / "legacy.pdf"
    document = pymupdf.open()
    for _ in range(2):
        # Base-14 Helvetica draws Latin-1, which is all TCVN3 needs.
        document.new_page().insert_text((72, 72), _tcvn3(_PARAGRAPH), fontname="helv", fontsize=9)
    path.write_bytes(document.tobytes())

    error = _refusal(path)

    assert error.code is LoadCode.PDF_LEGACY_FONT
    assert error.reason == ("PDF has a text layer in a legacy Vietnamese font encoding (TCVN3/VNI) that extracts "
                            "as garbage: it needs OCR")


def test_pdf_legacy_font_pages_are_loaded_empty_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "partly.pdf"
    document = pymupdf.open()
    document.new_page().insert_text((72, 72), _tcvn3(_PARAGRAPH), fontname="helv", fontsize=9)
    _text_page(document, f"Trang 2\n{VN}")
    path.write_bytes(document.tobytes())

    with caplog.at_level(logging.WARNING, logger="ingest.loaders"):
        loaded = _load(path)

    assert loaded.text == f"\n\nTrang 2\n{VN}"
    assert loaded.page_starts == [0, 2]
    assert loaded.warnings == ["page(s) 1 have a text layer in a legacy Vietnamese font encoding (TCVN3/VNI) "
                               "that extracts as garbage and were not read: needs OCR"]
    [record] = [r for r in caplog.records if r.name == "ingest.loaders"]
    assert "docs/partly.pdf: page(s) 1 have a text layer in a legacy" in record.getMessage()
    # Only the garbled page is named: it is not reported again as a page without a text layer.
    assert "no text layer" not in record.getMessage()


# --------------------------------------------------------------------------- symbolic links


def test_discover_refuses_link_loops_and_broken_links_and_loads_the_rest(tmp_path: Path):
    # A named loop used to be called a "broken link" (and Path.resolve() on it raises
    # RuntimeError, which aborted the ingest run); the other files must still load.
    (tmp_path / "ok.txt").write_text("x", encoding="utf-8")
    os.symlink("loop.txt", tmp_path / "loop.txt")
    os.symlink("b.txt", tmp_path / "a.txt")
    os.symlink("a.txt", tmp_path / "b.txt")
    os.symlink("missing.txt", tmp_path / "dangling.txt")
    named = [tmp_path / "loop.txt", tmp_path / "a.txt", tmp_path / "dangling.txt", tmp_path / "ok.txt"]

    files, rejected = discover(named)

    assert files == [tmp_path / "ok.txt"]
    loop = ("symbolic link loop (the link leads back to itself; fix or remove it)", LoadCode.LINK_LOOP)
    dangling = ("broken symbolic link (its target does not exist)", LoadCode.BROKEN_LINK)
    assert rejected == [
        (tmp_path / "loop.txt", *loop),
        (tmp_path / "a.txt", *loop),
        (tmp_path / "dangling.txt", *dangling),
    ]
    # The same links met while walking the folder are refused the same way.
    files, rejected = discover([tmp_path])
    assert files == [tmp_path / "ok.txt"]
    assert rejected == [
        (tmp_path / "a.txt", *loop),
        (tmp_path / "b.txt", *loop),
        (tmp_path / "dangling.txt", *dangling),
        (tmp_path / "loop.txt", *loop),
    ]


def test_discover_follows_linked_folders_once_and_refuses_cycles(tmp_path: Path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("x", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "b.md").write_text("x", encoding="utf-8")
    os.symlink("..", root / "sub" / "up")  # a cycle: back to the root
    os.symlink(".", root / "sub" / "self")  # a cycle: its own folder
    os.symlink("sub", root / "again")  # a second way into a folder already walked
    os.symlink(outside, root / "linked")  # a linked folder outside the tree is read

    files, rejected = discover([root])

    assert files == [root / "linked" / "b.md", root / "sub" / "a.txt"]
    cycle = "symbolic link loop (the link points back to a folder that holds it; it was not followed)"
    assert rejected == [(root / "sub" / "self", cycle, LoadCode.LINK_LOOP),
                        (root / "sub" / "up", cycle, LoadCode.LINK_LOOP)]


def test_load_file_names_a_link_loop(tmp_path: Path):
    path = tmp_path / "loop.txt"
    os.symlink("loop.txt", path)
    assert _refusal(path).reason == "symbolic link loop (the link leads back to itself; fix or remove it)"


# --------------------------------------------------------------------------- docx limits (zip bombs)

_DOC_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_DOC_TAIL = b"</w:body></w:document>"


def _docx_with_body(path: Path, body: Iterable[bytes], *, declared_size: int | None = None) -> Path:
    """A python-docx package whose word/document.xml body is ``body`` (streamed, so it can be huge).

    ``declared_size`` overwrites the uncompressed size the zip states for word/document.xml
    (central directory and local header), as a crafted zip bomb does to get past a size check.
    """
    template = io.BytesIO()
    docx.Document().save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item, source.read(item))
                continue
            info = zipfile.ZipInfo("word/document.xml")
            info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(info, "w") as stream:
                stream.write(_DOC_HEAD)
                for block in body:
                    stream.write(block)
                stream.write(_DOC_TAIL)
    if declared_size is not None:
        data = bytearray(path.read_bytes())
        name = b"word/document.xml"
        at = data.find(b"PK\x01\x02")
        while at != -1:
            name_length = struct.unpack_from("<H", data, at + 28)[0]
            if data[at + 46:at + 46 + name_length] == name:
                struct.pack_into("<I", data, at + 24, declared_size)  # central directory entry
                local = struct.unpack_from("<I", data, at + 42)[0]
                struct.pack_into("<I", data, local + 22, declared_size)  # local file header
            at = data.find(b"PK\x01\x02", at + 4)
        path.write_bytes(bytes(data))
    return path


def _repeat(block: bytes, total: int) -> Iterable[bytes]:
    """``block`` repeated to about ``total`` bytes, yielded 1 MB at a time."""
    chunk = block * max(1, MB // len(block))
    for _ in range(max(1, total // len(chunk))):
        yield chunk


def _docx_refusal(path: Path, **limits) -> str:
    with pytest.raises(LoadError) as info:
        load_file(path, key="docs/bomb.docx", max_bytes=LIMIT, **limits)
    return info.value.reason


def _too_big(limit: str) -> str:
    return (f"the .docx expands to more than {limit} when unzipped (limit CONGVAN_DOCX_MAX_UNCOMPRESSED_MB); "
            "it may be a zip bomb")


def test_docx_limits_default_to_the_settings_defaults():
    parameters = inspect.signature(load_file).parameters
    fields = Settings.model_fields
    assert parameters["max_docx_xml_bytes"].default == int(fields["docx_max_uncompressed_mb"].default * MB)
    assert parameters["max_docx_paragraphs"].default == fields["docx_max_paragraphs"].default


def test_docx_bomb_refused_by_declared_size(tmp_path: Path):
    path = _docx_with_body(tmp_path / "bomb.docx", _repeat(b" ", 3 * MB))
    assert path.stat().st_size < 50_000
    assert _docx_refusal(path, max_docx_xml_bytes=MB) == _too_big("1 MB")


def test_docx_bomb_with_a_lying_size_is_measured_by_what_it_inflates(tmp_path: Path):
    # The zip claims 1000 bytes; the stream holds 3 MB. zipfile stops at the claimed size
    # (after inflating it all in one go), so only streaming the real bytes can catch it.
    path = _docx_with_body(tmp_path / "bomb.docx", _repeat(b"<w:p/>", 3 * MB), declared_size=1000)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("word/document.xml").file_size == 1000
    assert _docx_refusal(path, max_docx_xml_bytes=2 * MB, max_docx_paragraphs=10**7) == _too_big("2 MB")


def test_docx_bomb_at_default_limits_stays_small_in_memory(tmp_path: Path):
    # A 120 MB stream behind a 1000-byte claim, at the default limits: refused while no more
    # than a few chunks of it are ever in memory (python-docx used to inflate it whole).
    path = _docx_with_body(tmp_path / "bomb.docx", _repeat(b" " * 1024, 120 * MB), declared_size=1000)
    assert path.stat().st_size < 300_000
    tracemalloc.start()
    try:
        began = time.perf_counter()
        reason = _docx_refusal(path)
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reason == _too_big("100 MB")
    assert peak < 40 * MB, f"peak {peak / MB:.0f} MB"
    assert elapsed < 5


def test_docx_paragraph_limit_counts_exactly_across_chunks(tmp_path: Path):
    # Paragraphs of an odd length straddle the 1 MB read boundaries; <w:pPr> is not a paragraph.
    paragraph = (b'<w:p w:rsidR="00AB12"><w:pPr><w:jc w:val="both"/></w:pPr><w:r><w:t>' + b"a" * 900
                 + b"</w:t></w:r></w:p>")
    count = 2500  # about 2.4 MB of XML
    path = _docx_with_body(tmp_path / "long.docx", [paragraph * count])

    loaded = load_file(path, key="docs/long.docx", max_bytes=LIMIT, max_docx_paragraphs=count)
    assert loaded.text.count("a" * 900) == count
    assert _docx_refusal(path, max_docx_paragraphs=count - 1) == (
        f"the .docx holds more than {count - 1} paragraphs (limit CONGVAN_DOCX_MAX_PARAGRAPHS); "
        "it may be built to exhaust memory"
    )


def test_docx_empty_paragraph_flood_is_refused(tmp_path: Path):
    # 5 MB of <w:p/> in a 10 KB file: under the byte limit, over the paragraph limit.
    path = _docx_with_body(tmp_path / "flood.docx", _repeat(b"<w:p/>", 5 * MB))
    reason = _docx_refusal(path, max_docx_paragraphs=1000)
    assert reason.startswith("the .docx holds more than 1000 paragraphs (limit CONGVAN_DOCX_MAX_PARAGRAPHS)")


def test_docx_element_flood_is_refused(tmp_path: Path):
    # One paragraph of 40,000 empty runs: few paragraphs, but lxml pays per element.
    path = _docx_with_body(tmp_path / "runs.docx", [b"<w:p>" + b"<w:r/>" * 40_000 + b"</w:p>"])
    assert _docx_refusal(path, max_docx_paragraphs=1000) == (
        "the .docx holds more than 20000 XML elements (20 per paragraph of the limit CONGVAN_DOCX_MAX_PARAGRAPHS); "
        "it may be built to exhaust memory"
    )


def test_docx_part_with_unusual_compression_is_refused(tmp_path: Path):
    # zipfile inflates bzip2 without an output bound per read; Word never writes it.
    source = _write_letter_docx(tmp_path / "source.docx")
    target = tmp_path / "bzip2.docx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_BZIP2) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item))
    reason = _docx_refusal(target)
    assert reason.startswith("corrupt or truncated .docx (part '")
    assert "uses compression method 12, which Word never writes)" in reason


# --------------------------------------------------------------------------- misnamed files


def _png_bytes(_: Path) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "reason", "code"),
    [
        ("letter.docx", lambda _: _pdf_bytes("Trang 1"),
         "not a .docx: it is a PDF file with a .docx name (rename it to .pdf)", LoadCode.REALLY_PDF),
        ("letter.docx", _png_bytes, "not a .docx: it is a PNG image with a .docx name (rename it to .png)",
         LoadCode.REALLY_PNG),
        ("letter.docx", lambda _: b"{\\rtf1\\ansi Van ban}", "not a .docx: it is an RTF document with a .docx name "
                                                              "(save it as .docx in Word)", LoadCode.NOT_DOCX),
        ("letter.pdf", lambda p: _write_letter_docx(p / "real.docx").read_bytes(),
         "not a PDF: it is a Word .docx document with a .pdf name (rename it to .docx)", LoadCode.REALLY_DOCX),
        ("letter.pdf", _xlsx_bytes,
         "not a PDF: it is an Excel workbook with a .pdf name (only text documents are indexed)", LoadCode.NOT_PDF),
        ("letter.pdf", _zip_without_word_parts,
         "not a PDF: it is a zip archive with a .pdf name (extract it and add the documents inside)",
         LoadCode.NOT_PDF),
        ("letter.pdf", lambda _: b"\xff\xd8\xff\xe0" + b"\x00" * 100,
         "not a PDF: it is a JPEG image with a .pdf name (rename it to .jpg)", LoadCode.REALLY_JPG),
        ("scan.png", lambda _: _pdf_bytes("Trang 1"),
         "not an image: it is a PDF file with a .png name (rename it to .pdf)", LoadCode.REALLY_PDF),
    ],
    ids=["pdf-as-docx", "png-as-docx", "rtf-as-docx", "docx-as-pdf", "xlsx-as-pdf", "zip-as-pdf", "jpeg-as-pdf",
         "pdf-as-png"],
)
def test_misnamed_files_say_what_they_are(tmp_path: Path, name: str, make, reason: str, code: LoadCode):
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    refusal = _refusal(path)
    assert (refusal.reason, refusal.code) == (reason, code)


def test_image_with_another_image_extension_is_not_misnamed(tmp_path: Path):
    # Pillow reads images by content: a JPEG called .png is fine and goes on to OCR.
    from PIL import Image

    path = tmp_path / "scan.png"
    Image.new("RGB", (4, 4), "white").save(path, format="JPEG")
    assert _refusal(path).reason == "scanned image: it needs OCR"


# --------------------------------------------------------------------------- reasons in the web app


@pytest.mark.parametrize(
    ("reason", "code", "vietnamese"),
    [
        (_too_big("100 MB"), LoadCode.DOCX_BOMB, "có thể là tệp nén độc hại"),
        ("the .docx holds more than 100000 paragraphs (limit CONGVAN_DOCX_MAX_PARAGRAPHS); it may be built to "
         "exhaust memory", LoadCode.DOCX_TOO_MANY_PARAGRAPHS, "quá nhiều đoạn văn"),
        ("the .docx holds more than 2000000 XML elements (20 per paragraph of the limit "
         "CONGVAN_DOCX_MAX_PARAGRAPHS); it may be built to exhaust memory", LoadCode.DOCX_TOO_COMPLEX, "quá phức tạp"),
        ("not a .docx: it is a PDF file with a .docx name (rename it to .pdf)", LoadCode.REALLY_PDF,
         "đổi đuôi thành .pdf"),
        ("not a PDF: it is a Word .docx document with a .pdf name (rename it to .docx)", LoadCode.REALLY_DOCX,
         "đổi đuôi thành .docx"),
        ("not a PDF: it is an Excel workbook with a .pdf name (only text documents are indexed)", LoadCode.NOT_PDF,
         "không phải tệp PDF"),
        ("symbolic link loop (the link leads back to itself; fix or remove it)", LoadCode.LINK_LOOP, "vòng lặp"),
        ("broken symbolic link (its target does not exist)", LoadCode.BROKEN_LINK, "không tồn tại"),
        ("cannot decode text: invalid UTF-16 LE (UTF-16 text without a byte-order mark) at byte 8 (save it as UTF-8)",
         LoadCode.UTF16_WITHOUT_BOM, "UTF-16"),
    ],
)
def test_new_reasons_have_vietnamese(reason: str, code: LoadCode, vietnamese: str):
    # The web app picks its text by the code and keeps the English reason as the detail.
    shown, detail = explain(reason, code).split(" (chi tiết: ")
    assert vietnamese in shown
    assert detail == reason + ")"


def test_every_load_error_raised_carries_a_code():
    # A refusal without a code would reach the browser as the generic "không nạp được tệp".
    import ast

    import ingest.loaders

    source = Path(ingest.loaders.__file__).read_text(encoding="utf-8")
    calls = [node for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "LoadError"]
    assert calls
    uncoded = [node.lineno for node in calls
               if len(node.args) < 3 and not any(isinstance(a, ast.Starred) for a in node.args)
               and not any(k.arg == "code" for k in node.keywords)]
    assert uncoded == []


def test_real_path_resolves_each_folder_once_and_agrees_with_realpath(tmp_path: Path) -> None:
    """A run over many files resolves their folders once (``dirs``); the result is exactly
    ``os.path.realpath`` for plain files, files under a linked folder and linked files."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_text("a", encoding="utf-8")
    (real / "b.txt").write_text("b", encoding="utf-8")
    (tmp_path / "via").symlink_to(real, target_is_directory=True)
    (tmp_path / "link.txt").symlink_to(real / "b.txt")
    dirs: dict[str, str] = {}
    paths = [real / "a.txt", tmp_path / "via" / "a.txt", tmp_path / "via" / "b.txt", tmp_path / "link.txt",
             Path(os.path.relpath(real / "a.txt"))]
    for path in paths:
        assert real_path(path, dirs) == os.path.realpath(path)
    assert dirs[str(tmp_path / "via")] == str(real)
