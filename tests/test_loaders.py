"""Tests for ingest.loaders: discovery, decoding, .docx/.pdf extraction and every refusal."""

from __future__ import annotations

import codecs
import hashlib
import logging
import unicodedata
import zipfile
from pathlib import Path

import docx
import pymupdf
import pytest
from docx.oxml import parse_xml

from ingest.errors import LoadError
from ingest.loaders import SUPPORTED_EXTENSIONS, _size_reason, discover, load_file
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
        (root / "README", "unsupported file type (no extension) (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff)"),
        (
            root / "sheet.xlsx",
            "unsupported file type '.xlsx' (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff; only text documents are indexed)",
        ),
        (
            root / "sub/old.doc",
            "unsupported file type '.doc' (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff; save it as .docx in Word)",
        ),
    ]


def test_discover_inside_hidden_parent_folder(tmp_path: Path):
    # Only entries *below* the given folder are judged hidden, not the folder's own path.
    root = tmp_path / ".cache" / "corpus"
    root.mkdir(parents=True)
    (root / "a.txt").write_text("x", encoding="utf-8")
    assert discover([root]) == ([root / "a.txt"], [])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.txt", "no such file or folder"),
        ("table.csv", "unsupported file type '.csv' (supported: .txt, .md, .docx, .pdf, .png, .jpg, .jpeg, .tif, .tiff)"),
        ("~$letter.docx", "Office lock file, not a document (it disappears when the document is closed)"),
    ],
)
def test_discover_rejects_explicit_paths(tmp_path: Path, name: str, reason: str):
    path = tmp_path / name
    if name != "missing.txt":
        path.write_text("x", encoding="utf-8")
    assert discover([path]) == ([], [(path, reason)])


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
