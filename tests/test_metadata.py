"""Nghị định 30/2020 metadata: every field of every seed, plus synthetic layouts and traps."""

import unicodedata
from functools import cache

import pytest

from ingest.metadata import extract_metadata
from ingest.models import DocumentMetadata
from ingest.text.normalize import display_text, fold
from ingest.split import split_documents
from tests.conftest import CORPUS, SEED_FILES

SEEDS = SEED_FILES


@cache
def _seed_metadata(key: str) -> tuple[DocumentMetadata, ...]:
    text = display_text((CORPUS / SEEDS[key]).read_text(encoding="utf-8"))
    return tuple(extract_metadata([text[start:end] for start, end in split_documents(text)]))


class Folded(str):
    """An expected value compared accent-folded: the OCR seed lost its diacritics."""


# Every field of every document of the seeds. (seed, part) → field → expected value.
EXPECTED: dict[tuple[str, int], dict[str, object]] = {
    ("000", 0): {
        "doc_type": "công văn",
        "number": "/SLĐTBXH-BTXHTEBĐG",
        "issuer": "Sở Lao động - Thương binh và Xã hội tỉnh Sóc Trăng",
        "parent_issuer": "Ủy ban nhân dân tỉnh Sóc Trăng",
        "place": "Sóc Trăng",
        "date": "2024-10",
        "subject": "triển khai thực hiện Chương trình số 61-CTr/TU ngày 21/10/2024 "
        "của Ban Thường vụ Tỉnh ủy Sóc Trăng",
        "addressees": [
            "Các sở, ban, ngành tỉnh",
            "Công an tỉnh",
            "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh",
            "Đoàn Thanh niên Cộng sản Hồ chí Minh tỉnh",
            "Các Hội: Liên hiệp Phụ nữ tỉnh; Nông dân; Chủ thập đỏ",
            "Ủy ban nhân dân các huyện, thị xã, thành phố; tỉnh Sóc Trăng",
        ],
        "recipients": [
            "Như trên",
            "UBND tỉnh",
            "BGĐ Sở LĐ-TB&XH (TTHM)",
            "Phòng LĐ-TB&XH huyện, TX, TP",
            "Các phòng, đơn vị thuộc Sở LĐ-TB&XH",
            "VPS (để phối hợp)",
            "Lưu: VT, BTXHTEBDG",
        ],
        "signer_name": "Trần Thị Hoàng Mỹ",
        "signer_title": "PHÓ GIÁM ĐỐC",
        "signing_authority": "KT. GIÁM ĐỐC",
        "references": ["61-CTr/TU", "3452/UBND-VX", "28-CT/TW", "6237/VP-VX"],
        "secrecy": None,
        "urgency": None,
        "is_party": False,
        "inferred": [],
    },
    ("001", 0): {
        "doc_type": "công văn",
        "number": "2577/UBND-KGVX",
        "issuer": Folded("Ủy ban nhân dân tỉnh Kiên Giang"),
        "parent_issuer": None,
        "place": Folded("Kiên Giang"),
        "date": "2024-11-20",
        "subject": Folded(
            "triển khai thực hiện Kế hoạch triển khai thực hiện Chỉ thị số 28-CT/TW ngày 25/12/2023 của Bộ Chính trị"
        ),
        "addressees": [
            Folded("Gidam doc (Thu truong) cac sg, nganh, doan the cap tinh"),
            Folded("Chu tich UBND cac huyen, thanh pho"),
        ],
        "recipients": [
            Folded("Nhu tren"),
            Folded("Van phong Chinh phu (HN, TP. HCM)"),
            Folded("Thuong truc Tinh ay"),
            Folded("Thuong truc HDND tinh"),
            Folded("Poan BBQH tinh"),
            Folded("CT va cac PCT. UBND tinh"),
            Folded("Lanh dao Vian phong"),
            Folded("Phong: TH, KGVX"),
            Folded("Luu: VT, vttkieu"),
        ],
        "signer_name": "Lam Minh Thanh",
        "signer_title": None,
        "signing_authority": None,
        "references": ["28-CT/TW", "1183/QĐ-TTg", "211-KH/TU", "234/KH-UBND"],
        "secrecy": None,
        "urgency": None,
        "is_party": False,
        "inferred": [],
    },
    ("002", 0): {
        "doc_type": "công văn",
        "number": "3452/UBND-VX",
        "issuer": "Ủy ban nhân dân tỉnh Sóc Trăng",
        "parent_issuer": None,
        "place": "Sóc Trăng",
        "date": "2024-10-23",
        "subject": "triển khai Chương trình thực hiện Chỉ thị số 28-CT/TW ngày 25/12/2023 của Bộ Chính trị "
        "về tăng cường công tác chăm sóc, giáo dục và bảo vệ trẻ em đáp ứng yêu cầu phát triển "
        "đất nước phồn vinh, hạnh phúc",
        "addressees": [
            "Sở Lao động - Thương binh và Xã hội",
            "Ủy ban nhân dân các huyện, thị xã, thành phố; tỉnh Sóc Trăng",
        ],
        "recipients": ["Như trên", "PCT NVK", "Lưu: VT, VX"],
        "signer_name": "Lâm Hoàng Nghiệp",
        "signer_title": "PHÓ CHỦ TỊCH",
        "signing_authority": "KT. CHỦ TỊCH",
        "references": ["28-CT/TW", "61-CTr/TU", "1965-CV/BCSD"],
        "secrecy": None,
        "urgency": None,
        "is_party": False,
        "inferred": [],
    },
    ("002", 1): {
        "doc_type": "chương trình",
        "number": "61-CTr/TU",
        "issuer": "Ban Thường vụ Tỉnh ủy Sóc Trăng",
        "parent_issuer": None,
        "place": None,
        "date": "2024-10-21",
        "subject": "thực hiện Chỉ thị số 28-CT/TW, ngày 25/12/2023 của Bộ Chính trị về tăng cường công tác "
        "chăm sóc, giáo dục và bảo vệ trẻ em đáp ứng yêu cầu phát triển đất nước phồn vinh, hạnh phúc",
        "addressees": [],
        "recipients": [
            "Bộ Chính trị",
            "Ban Tuyên giáo Trung ương",
            "Ban cán sự đảng Bộ Lao động - Thương binh và Xã hội",
            "Các ban đảng, ban cán sự đảng, đảng đoàn, đảng ủy trực thuộc Tỉnh ủy",
            "Sở Lao động - Thương binh và Xã hội",
            "Các huyện ủy, thị ủy, thành ủy",
            "Ban Thường vụ Tỉnh đoàn",
            "Các đồng chí thành viên Ban Thường vụ Tỉnh ủy",
            "Lưu Văn phòng Tỉnh ủy",
        ],
        "signer_name": "Hồ Thị Cẩm Đào",
        "signer_title": "PHÓ BÍ THƯ THƯỜNG TRỰC",
        "signing_authority": "T/M BAN THƯỜNG VỤ",
        "references": ["28-CT/TW", "20-CT/TW"],
        "secrecy": None,
        "urgency": None,
        "is_party": True,
        "inferred": ["number", "issuer", "date"],
    },
    ("003", 0): {
        "doc_type": "kế hoạch",
        "number": "/KH-UBND",
        "issuer": "Ủy ban nhân dân huyện Bắc Sơn",
        "parent_issuer": None,
        "place": "Bắc Sơn",
        "date": "2024-03",
        "subject": "Triển khai thực hiện công tác trẻ em năm 2024 trên địa bàn huyện Bắc Sơn",
        "addressees": [],
        "recipients": [
            "Sở LĐ, TB&XH tỉnh",
            "TT Huyện ủy",
            "TT HĐND huyện",
            "CT, PCT UBND huyện",
            "UBMTTQVN, các đoàn thể huyện",
            "Các cơ quan, ban, ngành huyện",
            "UBND các xã, thị trấn",
            "Lưu: VT",
        ],
        "signer_name": "Dương Thị Thép",
        "signer_title": "PHÓ CHỦ TỊCH",
        "signing_authority": "KT. CHỦ TỊCH",
        "references": [
            "59/KH-SLĐTBXH",
            "56/2017/NĐ-CP",
            "121/2020/QH14",
            "28-CT/TW",
            "23/QĐ-TTg",
            "45/KH-UBND",
            "588/QĐ-TTg",
            "13/2021/TT-BLĐTBXH",
            "58/KH-SLĐTBXH",
            "06/QĐ-TTg",
            "29/2019/TT-BLĐTBXH",
        ],
        "secrecy": None,
        "urgency": None,
        "is_party": False,
        "inferred": ["issuer"],
    },
    ("004", 0): {
        "doc_type": "công văn",
        "number": None,
        "issuer": "Ủy ban nhân dân tỉnh Kon Tum",
        "parent_issuer": None,
        "place": None,
        "date": "2024",
        "subject": None,
        "addressees": ["Các Sở, ban, ngành, đơn vị thuộc tỉnh", "Ủy ban nhân dân các huyện, thành phố"],
        "recipients": [
            "Như trên (t/h)",
            "Bộ Lao động - Thương binh và Xã hội (b/c)",
            "Thường trực Tỉnh ủy (b/c)",
            "Chủ tịch, các PCT UBND tỉnh (đ/b)",
            "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh (p/h)",
            "Các tổ chức chính trị - xã hội tỉnh (p/h)",
            "Văn phòng UBND tỉnh",
            "CVP, các PCVP",
            "Phòng HCQT, CTTĐT",
            "Lưu: VT, KGVX.PTP",
        ],
        "signer_name": None,
        "signer_title": None,
        "signing_authority": None,
        "references": ["978/BLĐTBXH-CBTXH", "1125/KH-UBND"],
        "secrecy": None,
        "urgency": None,
        "is_party": False,
        "inferred": ["issuer", "date"],
    },
}


def _comparable(value):
    """Fold Folded values (and lists of them) for comparison; leave everything else as is."""
    if isinstance(value, Folded):
        return fold(value)
    if isinstance(value, list) and any(isinstance(v, Folded) for v in value):
        return [fold(v) for v in value]
    return value


@pytest.mark.parametrize("key", sorted(SEEDS))
def test_seed_has_the_expected_number_of_documents(key):
    assert len(_seed_metadata(key)) == len([k for k in EXPECTED if k[0] == key])


def test_expected_table_lists_every_field():
    fields = set(DocumentMetadata.model_fields)
    assert all(set(expected) == fields for expected in EXPECTED.values())


@pytest.mark.parametrize(
    "key, part, field, expected",
    [(key, part, field, value) for (key, part), fields in EXPECTED.items() for field, value in fields.items()],
)
def test_seed_field(key, part, field, expected):
    actual = getattr(_seed_metadata(key)[part], field)
    if isinstance(expected, Folded) or isinstance(expected, list) and any(isinstance(v, Folded) for v in expected):
        actual = [fold(v) for v in actual] if isinstance(actual, list) else fold(actual or "")
    assert actual == _comparable(expected)


# --- synthetic documents ------------------------------------------------------------------------

URGENT_LETTER = """ỦY BAN NHÂN DÂN
TỈNH LẠNG SƠN

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc

Số: 15/UBND-KGVX
V/v phòng, chống
đuối nước trẻ em

Lạng Sơn, ngày 02 tháng 5 năm 2024

KHẨN

Kính gửi: Sở Giáo dục và Đào tạo.

Thực hiện Quyết định số 1183/QD-TTg ngày 14/10/2024 của Thủ tướng Chính phủ và Chỉ thị số 28-
CT/TW ngày 25/12/2023 của Bộ Chính trị, Ủy ban nhân dân tỉnh đề nghị Sở triển khai.

Nơi nhận:
- Như trên;
- Lưu: VT.

CHỦ TỊCH

Nguyễn Văn Bình
"""

PARTY_NOTICE = """TỈNH ỦY SÓC TRĂNG
*
ĐẢNG CỘNG SẢN VIỆT NAM

Số 12-TB/TU

Sóc Trăng, ngày 5 tháng 3 năm 2024

THÔNG BÁO
kết luận của Ban Thường vụ Tỉnh ủy
về công tác trẻ em

Ban Thường vụ Tỉnh ủy thống nhất thực hiện nghiêm túc.

Nơi nhận:
- Các huyện ủy,
- Lưu Văn phòng Tỉnh ủy.

T/M BAN THƯỜNG VỤ
BÍ THƯ

Nguyễn Văn An
"""


def _one(text: str) -> DocumentMetadata:
    (meta,) = extract_metadata([text])
    return meta


def test_urgent_letter():
    meta = _one(URGENT_LETTER)
    assert meta.model_dump() == {
        "doc_type": "công văn",
        "number": "15/UBND-KGVX",
        "issuer": "Ủy ban nhân dân tỉnh Lạng Sơn",
        "parent_issuer": None,
        "place": "Lạng Sơn",
        "date": "2024-05-02",
        "subject": "phòng, chống đuối nước trẻ em",
        "addressees": ["Sở Giáo dục và Đào tạo"],
        "recipients": ["Như trên", "Lưu: VT"],
        "signer_name": "Nguyễn Văn Bình",
        "signer_title": "CHỦ TỊCH",
        "signing_authority": None,
        "references": ["1183/QĐ-TTg", "28-CT/TW"],
        "secrecy": None,
        "urgency": "KHẨN",
        "is_party": False,
        "inferred": [],
    }


def test_nfd_input_gives_the_same_metadata():
    assert _one(unicodedata.normalize("NFD", URGENT_LETTER)) == _one(URGENT_LETTER)


@pytest.mark.parametrize(
    "mark, field, expected",
    [
        ("HỎA TỐC", "urgency", "HỎA TỐC"),
        ("HOẢ TỐC", "urgency", "HỎA TỐC"),  # old tone placement
        ("THƯỢNG KHẨN", "urgency", "THƯỢNG KHẨN"),
        ("MẬT", "secrecy", "MẬT"),
        ("TỐI MẬT", "secrecy", "TỐI MẬT"),
        ("**TUYỆT MẬT**", "secrecy", "TUYỆT MẬT"),
    ],
)
def test_secrecy_and_urgency_marks(mark, field, expected):
    meta = _one(URGENT_LETTER.replace("KHẨN\n", mark + "\n", 1))
    assert getattr(meta, field) == expected
    assert meta.issuer == "Ủy ban nhân dân tỉnh Lạng Sơn"  # the mark is not an issuer line


def test_urgency_word_inside_a_sentence_is_no_mark():
    meta = _one(URGENT_LETTER.replace("KHẨN\n", "Đề nghị khẩn trương thực hiện.\n", 1))
    assert meta.urgency is None


def test_party_document():
    meta = _one(PARTY_NOTICE)
    assert meta.model_dump() == {
        "doc_type": "thông báo",
        "number": "12-TB/TU",
        "issuer": "Tỉnh ủy Sóc Trăng",
        "parent_issuer": None,
        "place": "Sóc Trăng",
        "date": "2024-03-05",
        "subject": "kết luận của Ban Thường vụ Tỉnh ủy về công tác trẻ em",
        "addressees": [],
        "recipients": ["Các huyện ủy", "Lưu Văn phòng Tỉnh ủy"],
        "signer_name": "Nguyễn Văn An",
        "signer_title": "BÍ THƯ",
        "signing_authority": "T/M BAN THƯỜNG VỤ",
        "references": [],
        "secrecy": None,
        "urgency": None,
        "is_party": True,
        "inferred": [],
    }


def test_party_header_alone_marks_a_party_document():
    meta = _one("ĐẢNG CỘNG SẢN VIỆT NAM\n\nSố: /TB-VP\n")
    assert meta.is_party is True
    assert meta.doc_type == "thông báo"  # from the number's type abbreviation


@pytest.mark.parametrize(
    "body, references",
    [
        ("Thực hiện Chỉ thị số 28-\nCT/TW ngày 25/12/2023.", ["28-CT/TW"]),
        ("Thực hiện Kế hoạch số 211-\nKH/TU và Chương trình số 61-/CTr/TU.", ["211-KH/TU", "61-CTr/TU"]),
        ("Quyết định sb 1183/QDB-TTg và Quyết định số 1183/QD-TTg.", ["1183/QĐ-TTg"]),
        ("Kế hoạch số 59/KH-SLĐT BXH, Công văn số 1965 -CV/BCSD.", ["59/KH-SLĐTBXH", "1965-CV/BCSD"]),
        ("Nghị định 56/2017/NĐ-CP, Nghị quyết số 121/2020/QH14.", ["56/2017/NĐ-CP", "121/2020/QH14"]),
        ("77/108 xã đạt 71,3%; giai đoạn 2021-2025; ngày 25/12/2023.", []),
    ],
)
def test_references(body, references):
    assert _one(body).references == references


def test_own_number_is_not_a_reference():
    meta = _one("Số: 12/UBND-VX\nV/v trả lời Công văn số 12/UBND-VX\n\nNhư Công văn số 7/SYT-NV đã nêu.")
    assert meta.number == "12/UBND-VX"
    assert meta.references == ["7/SYT-NV"]


def test_wrapped_subject_is_joined_and_its_codes_repaired():
    meta = _one(
        "Số: 12/UBND-VX\nV/v thực hiện Chỉ thị số 28-\nCT/TW ngày 25/12/2023 của\nBộ Chính trị\n\nKính gửi: Sở Y tế."
    )
    assert meta.subject == "thực hiện Chỉ thị số 28-CT/TW ngày 25/12/2023 của Bộ Chính trị"
    assert meta.doc_type == "công văn"


def test_text_without_metadata_yields_nothing():
    meta = _one("Một đoạn văn bình thường, không có bố cục văn bản hành chính.\n\nĐoạn thứ hai.")
    assert meta == DocumentMetadata()


def test_empty_file_list():
    assert extract_metadata([]) == []


@pytest.mark.parametrize(
    "line, place, date",
    [
        ("Sóc Trăng, ngày 23 tháng 10 năm 2024", "Sóc Trăng", "2024-10-23"),
        ("Sóc Trăng, ngày tháng 10 năm 2024", "Sóc Trăng", "2024-10"),  # blank day
        ("Bắc Sơn, ngày **** tháng 3 năm 2024", "Bắc Sơn", "2024-03"),  # blank day in bold
        ("Hà Nội, ngày 02 tháng 5 năm 2024", "Hà Nội", "2024-05-02"),
        ("Kién Giang, ngay 20 thang 11 nam 2024", "Kién Giang", "2024-11-20"),  # OCR
        ("Hà Nội, ngày 31 tháng 13 năm 2024", "Hà Nội", None),  # impossible month: no date
    ],
)
def test_place_and_date_line(line, place, date):
    meta = _one(f"Số: 5/UBND-VX\n\n{line}\n")
    assert (meta.place, meta.date) == (place, date)


@pytest.mark.parametrize(
    "text",
    [
        "Số: 12/UBND-VX\n\nThực hiện Kế hoạch số 59/KH-SLĐT BXH, ngày 22/3/2024 của Sở Lao động - "
        "Thương binh và Xã hội tỉnh Lạng Sơn.\n",
        "Thực hiện Kế hoạch số 59/KH-SLĐT BXH, ngày 22/3/2024 của Sở Lao động - Thương binh và Xã hội.\n",
        "Thực hiện Văn bản số 978/BLĐTBXH-CBTXH ngày 12 tháng 3 năm 2024 của Bộ.\n",
    ],
)
def test_a_references_date_is_not_the_documents_date(text):
    meta = _one(text)
    assert (meta.date, meta.place, meta.inferred) == (None, None, [])
    assert meta.references[0] in ("59/KH-SLĐTBXH", "978/BLĐTBXH-CBTXH")


def test_attachment_borrows_only_from_an_enclosure_mention():
    cover = (
        "Số: 9/UBND-VX\nV/v gửi kế hoạch\n\nHà Nội, ngày 3 tháng 4 năm 2024\n\n"
        "Thực hiện Kế hoạch số 1/KH-BYT ngày 1/2/2024 của Bộ Y tế và Kế hoạch số 2/KH-BCA ngày 2/2/2024 "
        "của Bộ Công an.\n\nNơi nhận:\n- Lưu: VT.\n"
    )
    attachment = "KẾ HOẠCH\nphòng, chống dịch\n\nNội dung.\n"
    # two different Kế hoạch are cited and none is enclosed: nothing is borrowed
    assert extract_metadata([cover, attachment])[1].number is None
    enclosure = "(Kèm theo Kế hoạch số 3/KH-UBND ngày 2/4/2024 của Ủy ban nhân dân thành phố Hà Nội)."
    enclosed = cover.replace("\n\nNơi nhận", f"\n\n{enclosure}\n\nNơi nhận")
    meta = extract_metadata([enclosed, attachment])[1]
    assert (meta.number, meta.date, meta.issuer, meta.inferred) == (
        "3/KH-UBND",
        "2024-04-02",
        "Ủy ban nhân dân thành phố Hà Nội",
        ["number", "issuer", "date"],
    )
