"""Splitting a file into documents: the seeds, and synthetic openings and closings."""

import unicodedata

import pytest

from ingest.text.normalize import display_text
from ingest.split import (
    is_national_header,
    is_recipients_label,
    is_signing_authority,
    split_documents,
    title_type,
)
from tests.conftest import CORPUS, SEED_FILES

SEEDS = SEED_FILES


def _seed(key: str) -> str:
    return display_text((CORPUS / SEEDS[key]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", ["000", "001", "003", "004"])
def test_single_document_seeds_are_not_split(key):
    text = _seed(key)
    assert split_documents(text) == [(0, len(text))]


def test_seed_002_splits_into_cover_letter_and_programme():
    text = _seed("002")
    spans = split_documents(text)
    assert len(spans) == 2
    (start1, end1), (start2, end2) = spans
    assert (start1, end1, end2) == (0, start2, len(text))
    assert text[start1:end1].rstrip().endswith("**Lâm Hoàng Nghiệp**")
    assert text[start2:end2].startswith("**CHƯƠNG TRÌNH**")
    assert text[start2:end2].rstrip().endswith("**Hồ Thị Cẩm Đào**")


LETTER = """UBND TỈNH SÓC TRĂNG
SỞ Y TẾ

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: 10/SYT-NV
V/v tiêm chủng

Sóc Trăng, ngày 2 tháng 4 năm 2024

Kính gửi: Ủy ban nhân dân các huyện.

Sở Y tế đề nghị các huyện triển khai.

Nơi nhận:
- Như trên;
- Lưu: VT.

GIÁM ĐỐC

Nguyễn Văn An
"""

SECOND_LETTER = """ỦY BAN NHÂN DÂN
HUYỆN BẮC SƠN

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: 5/UBND-VX

Bắc Sơn, ngày 3 tháng 4 năm 2024
"""

PLAN_WITH_CAPS_HEADINGS = """Số: /KH-UBND

Bắc Sơn, ngày tháng 3 năm 2024

KẾ HOẠCH
Triển khai công tác trẻ em

I. MỤC ĐÍCH

BÁO CÁO

V- TỔ CHỨC THỰC HIỆN

Nơi nhận:
- Lưu: VT.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Dương Thị Thép
"""


@pytest.mark.parametrize(
    "text, starts",
    [
        # issuer lines above the second quốc hiệu belong to the second letter
        (LETTER + "\n" + SECOND_LETTER, [0, len(LETTER) + 1]),
        # a type title after the signature opens an attachment
        (LETTER + "\nQUY CHẾ\nphối hợp tiêm chủng\n", [0, len(LETTER) + 1]),
        # Markdown bold is allowed around the title
        (LETTER + "**KẾ HOẠCH**\nthực hiện tiêm chủng\n", [0, len(LETTER)]),
        # Party header after a closing
        (LETTER + "ĐẢNG CỘNG SẢN VIỆT NAM\n", [0, len(LETTER)]),
        # a title or caps heading before any closing opens nothing
        (PLAN_WITH_CAPS_HEADINGS, [0]),
        # a signer's caps title above the next title is not an issuer line
        (LETTER.replace("Nguyễn Văn An\n", "") + "KẾ HOẠCH\n", [0, len(LETTER) - len("Nguyễn Văn An\n")]),
        ("Một đoạn văn không có bố cục văn bản.", [0]),
        ("", [0]),
    ],
)
def test_documents_start_at_an_opening_after_a_closing(text, starts):
    spans = split_documents(text)
    assert [start for start, _end in spans] == starts
    assert spans[-1][1] == len(text)


def test_nfd_text_splits_at_the_same_offsets():
    text = LETTER + "\n" + SECOND_LETTER
    nfd = unicodedata.normalize("NFD", text)
    spans = split_documents(nfd)
    assert len(spans) == 2
    assert nfd[spans[1][0]:].startswith(unicodedata.normalize("NFD", "ỦY BAN NHÂN DÂN"))


@pytest.mark.parametrize(
    "line, expected",
    [
        ("KẾ HOẠCH", "kế hoạch"),
        ("**CHƯƠNG TRÌNH**  ", "chương trình"),
        ("KE HOACH", "kế hoạch"),  # OCR without diacritics
        ("Kế hoạch", None),  # not a title: lower case
        ("V- TỔ CHỨC THỰC HIỆN", None),
        ("KẾ HOẠCH THỰC HIỆN", None),
    ],
)
def test_title_type(line, expected):
    assert title_type(line) == expected


@pytest.mark.parametrize(
    "line, national, recipients, authority",
    [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False, False),
        ("UY BAN NHAN DAN CONG HOA XA HOI CHU NGHIA VIET NAM", True, False, False),
        ("ĐẢNG CỘNG SẢN VIỆT NAM", True, False, False),
        ("**Nơi nhận:**", False, True, False),
        ("Noi nhan:", False, True, False),
        ("**KT. CHỦ TỊCH", False, False, True),
        ("T/M BAN THƯỜNG VỤ", False, False, True),
        ("TM. ỦY BAN NHÂN DÂN", False, False, True),
        ("Tm. ủy ban", False, False, False),
    ],
)
def test_layout_markers(line, national, recipients, authority):
    assert (is_national_header(line), is_recipients_label(line), is_signing_authority(line)) == (
        national,
        recipients,
        authority,
    )
