"""Nghị định 30/2020 metadata: every field of every seed, plus synthetic layouts and traps."""

import unicodedata
from functools import cache

import pytest

from ingest.metadata import extract_metadata
from ingest.models import DocumentMetadata
from ingest.text.normalize import display_text, fold
from ingest.split import split_documents
from tests.conftest import CORPUS, SEED_FILES
from tests.ocr_match import OcrText, ocr_matches

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
        "attached_to": None,
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
            # Scanned as "Gidam doc (Thu truong) cac sg, ...": the entry is the first Kính gửi line.
            OcrText("Giám đốc (Thủ trưởng) các sở, ngành, đoàn thể cấp tỉnh"),
            Folded("Chu tich UBND cac huyen, thanh pho"),
        ],
        "recipients": [
            Folded("Nhu tren"),
            Folded("Van phong Chinh phu (HN, TP. HCM)"),
            OcrText("Thường trực Tỉnh ủy"),
            Folded("Thuong truc HDND tinh"),
            OcrText("Đoàn ĐBQH tỉnh"),
            Folded("CT va cac PCT. UBND tinh"),
            OcrText("Lãnh đạo Văn phòng"),
            Folded("Phong: TH, KGVX"),
            Folded("Luu: VT, vttkieu"),
        ],
        "signer_name": "Lam Minh Thanh",
        "signer_title": None,
        "signing_authority": None,
        "attached_to": None,
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
        "attached_to": None,
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
        "attached_to": None,
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
        "attached_to": None,
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
        "attached_to": None,
        "references": ["978/BLĐTBXH-CBTXH", "1125/KH-UBND"],
        "secrecy": None,
        "urgency": None,
        "is_party": False,
        "inferred": ["issuer", "date"],
    },
}


def _tolerant(value) -> bool:
    return isinstance(value, (Folded, OcrText)) or isinstance(value, list) and any(
        isinstance(v, (Folded, OcrText)) for v in value)


def _matches(actual, expected) -> bool:
    """``actual`` equals ``expected`` with Folded parts compared folded and OcrText parts
    compared OCR-tolerantly (one misread letter per word)."""
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            _matches(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, OcrText):
        return ocr_matches(actual, expected)
    if isinstance(expected, Folded):
        return fold(actual or "") == fold(expected)
    return actual == expected


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
    if _tolerant(expected):
        assert _matches(actual, expected), (actual, expected)
    else:
        assert actual == expected


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
        "attached_to": None,
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
        "attached_to": None,
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
        ("Kién Giang, ngay 20 thang 11 nam 2024", OcrText("Kiên Giang"), "2024-11-20"),  # OCR
        ("Hà Nội, ngày 31 tháng 13 năm 2024", "Hà Nội", None),  # impossible month: no date
    ],
)
def test_place_and_date_line(line, place, date):
    meta = _one(f"Số: 5/UBND-VX\n\n{line}\n")
    assert _matches(meta.place, place) and meta.date == date, (meta.place, meta.date)


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


_DECISION = ("ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NGÃI\n\nSố: 1627/QĐ-UBND\n\nQuảng Ngãi, ngày 21 tháng 11 năm 2025\n\n"
             "QUYẾT ĐỊNH\nBan hành Kế hoạch tổng kiểm kê\n\nĐiều 1. Ban hành kèm theo Quyết định này Kế hoạch "
             "tổng kiểm kê tài sản công.\n")


@pytest.mark.parametrize("line", [
    "*(Kèm theo Quyết định số: 1627/QĐ-UBND ngày 21/11/2025 của Chủ tịch Ủy ban\nnhân dân tỉnh)*",
    "(Ban hành kèm theo Quyết định số 1627/QĐ-UBND ngày 21/11/2025 của UBND tỉnh)",
])
def test_an_attachment_is_known_by_the_decision_it_is_issued_with(line):
    plan = f"**KẾ HOẠCH**\n\nTỔNG KIỂM KÊ TÀI SẢN CÔNG\n\n{line}\n\n**I. MỤC ĐÍCH**\n\n1. Xác định tài sản.\n"
    meta = extract_metadata([_DECISION, plan])[1]
    assert meta.attached_to == "Quyết định số 1627/QĐ-UBND ngày 21/11/2025"
    assert meta.number is None  # its own number it has none; the label names the decision's
    assert (meta.date, meta.issuer, meta.inferred) == ("2025-11-21", "Ủy ban nhân dân tỉnh Quảng Ngãi", ["issuer", "date"])
    assert extract_metadata([_DECISION, plan])[0].attached_to is None


@pytest.mark.parametrize("text", [
    # a cover letter sends a plan "kèm theo": it is not attached to it
    "Số: /UBND-VX\nV/v gửi kế hoạch\n\nỦy ban nhân dân tỉnh gửi kèm theo Kế hoạch số 3/KH-UBND ngày 2/4/2024.\n",
    # a decision number without its ký hiệu names no document
    "KẾ HOẠCH\n\n(Kèm theo Quyết định 12)\n\nNội dung.\n",
])
def test_no_attachment_line_no_attached_to(text):
    assert _one(text).attached_to is None


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


# --- OCR'd two-column headers ------------------------------------------------------------------
# Synthetic headers as Tesseract reads a two-column layout: the left column (issuer, number) and
# the right one (quốc hiệu, place and date) on the same lines, "Số" misread, digits confused.

_LEFT_RIGHT = """SỞ Y TẾ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH BẮC KẠN Độc lập - Tự do - Hạnh phúc
{number_line}
V/v tăng cường phòng, chống
dịch sốt xuất huyết {date_line}

Kính gửi: Các bệnh viện, trung tâm y tế.

Sở Y tế đề nghị các đơn vị triển khai ngay.
"""


@pytest.mark.parametrize(
    "number_line, date_line, number, date",
    [
        # the two columns on one line, either order
        ("Số: 418/SYT-NVY Bắc Kạn, ngày 07 tháng 8 năm 2025", "", "418/SYT-NVY", "2025-08-07"),
        ("Bắc Kạn, ngày 07 tháng 8 năm 2025 Số: 418/SYT-NVY", "", "418/SYT-NVY", "2025-08-07"),
        # "Số" as OCR reads it
        ("Sô: 418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        ("SỐ: 418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        ("S ố: 418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        ("Sé: 418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        ("| số: 418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        ("Sô 418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        ("Số:\n418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        # O for 0, l for 1: in digit context only
        ("Số: 4l8/SYT-NVY", "Bắc Kạn, ngày O7 tháng 8 năm 2O25", "418/SYT-NVY", "2025-08-07"),
        ("Số: 4O5/SYT-NVY", "Bắc Kạn, ngay l2 thang 1O nam 2025", "405/SYT-NVY", "2025-10-12"),
        # the date beside the V/v block; a day and month OCR could not read leave the year
        ("Số: 418/SYT-NVY", "Bắc Kạn, ngày} thángh năm 2025", "418/SYT-NVY", "2025"),
        ("Số: 418/SYT-NVY", "*Bắc Kạn, ngày 07\ntháng 8 năm 2025*", "418/SYT-NVY", "2025-08-07"),  # wrapped
        ("Số: 418/SYT-NVY", "Thành phố Bắc Kạn, ngày 07 tháng 8 năm 2025", "418/SYT-NVY", "2025-08-07"),
        # digits out of range are no date, read or not
        ("Số: 418/SYT-NVY", "Bắc Kạn, ngày 07 tháng 18 năm 2025", "418/SYT-NVY", None),
    ],
)
def test_number_and_date_of_an_ocr_header(number_line, date_line, number, date):
    meta = _one(_LEFT_RIGHT.format(number_line=number_line, date_line=date_line))
    assert (meta.number, meta.date) == (number, date)
    assert meta.issuer == "Sở Y tế tỉnh Bắc Kạn"
    if date:
        assert fold(meta.place) == "bac kan" or fold(meta.place) == "thanh pho bac kan"
    assert meta.subject == "tăng cường phòng, chống dịch sốt xuất huyết"
    assert meta.inferred == []


@pytest.mark.parametrize("motto", ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "CỘNG HOÀ XÃ ` 'HỦ NGHĨA VIỆT NAM",
                                   "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆ NAM"])
def test_issuer_stops_at_a_motto_the_scan_garbled(motto):
    meta = _one(f"BỘ CÔNG THƯƠNG {motto}\nĐộc lập - Tự do - Hạnh phúc\nSố: 2265/BCT-ATMT\n"
                "V/v triển khai thủ tục Hà Nội, ngày 02 tháng 4 năm 2026\n\nKính gửi: Các đơn vị.\n\n"
                "Bộ Công Thương đề nghị các đơn vị triển khai ngay.\n")
    assert meta.issuer == "Bộ Công Thương"


def test_issuer_beside_an_interleaved_number_is_kept():
    meta = _one("SỞ Y TẾ Số: 418/SYT-NVY CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
                "Độc lập - Tự do - Hạnh phúc Bắc Kạn, ngày 07 tháng 8 năm 2025\n\nKính gửi: Các đơn vị.\n\n"
                "Sở Y tế đề nghị các đơn vị triển khai ngay.\n")
    assert (meta.number, meta.date, meta.place, meta.issuer) == ("418/SYT-NVY", "2025-08-07", "Bắc Kạn", "Sở Y tế")


@pytest.mark.parametrize(
    "header",
    [
        # the issuer block names the decision that set the inspection team up: not this document's number
        "SỞ Y TẾ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐOÀN THANH TRA Độc lập - Tự do - Hạnh phúc\n"
        "THEO QUYẾT ĐỊNH\nSỐ 77/QĐ-SYT\n\nKẾ HOẠCH\nThanh tra chuyên đề\n",
        # a wrapped V/v that cites a decision: a line may start with "số" and still be a citation
        "SỞ Y TẾ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nV/v triển khai Quyết định\nsố 55/QĐ-UBND của UBND tỉnh\n\n"
        "Kính gửi: Các đơn vị.\n",
        # a citation's place and date in the V/v, and in the body
        "SỞ Y TẾ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nV/v thực hiện văn bản của UBND tỉnh Bắc Kạn, ngày 07 tháng 8 "
        "năm 2025\n\nKính gửi: Các đơn vị.\n",
        "SỞ Y TẾ\n\nKẾ HOẠCH\nPhòng, chống dịch\n\nCăn cứ Quyết định số 77/QĐ-SYT, Bắc Kạn, ngày 3 tháng 2 năm 2025.\n",
        # "Số" in the body text, after the header
        "SỞ Y TẾ\n\nKính gửi: Các đơn vị.\n\nĐề nghị thực hiện\nSố: 99/SYT-NVY ngày 3 tháng 2 năm 2025.\n",
        # O and l alone are letters, not digits
        "SỞ Y TẾ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nSố: lO/SYT-NVY\n\nKính gửi: Các đơn vị.\n",
    ],
    ids=["issuer-block", "wrapped-subject", "cited-date", "body-date", "body-number", "letters-only"],
)
def test_a_cited_number_or_date_is_never_the_documents_own(header):
    meta = _one(header)
    assert (meta.number, meta.date, meta.place) == (None, None, None)


def test_a_digital_signature_stamp_completes_an_unreadable_date():
    header = ("Ký bởi: Sở Y tế\nThời gian ký: 08.08.2025 09:12:40 +07:00\n\n"
              + _LEFT_RIGHT.format(number_line="Số: 418/SYT-NVY", date_line="Bắc Kạn, ngày} thángh năm 2025"))
    meta = _one(header)
    assert (meta.date, meta.inferred) == ("2025-08-08", ["date"])
    # A stamp that disagrees with the printed date is not taken over it.
    printed = header.replace("ngày} thángh", "ngày 07 tháng 9")
    assert (_one(printed).date, _one(printed).inferred) == ("2025-09-07", [])


_SIGNATURE = """Sở Y tế đề nghị các đơn vị triển khai ngay./.

{block}
"""


@pytest.mark.parametrize(
    "block, authority, title, name",
    [
        # the authority and title beside the recipients (two columns on one line), an annex of names below
        ("Nơi nhận: KT. GIÁM ĐỐC\n- Như trên; PHÓ GIÁM ĐỐC\n- Lưu: VT, NVY.\n\nĐinh Quang Hưng\n\n"
         "PHỤ LỤC\nDanh sách cán bộ trực\nLò Văn Páo\nHà Thị Mai\n",
         "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Đinh Quang Hưng"),
        # the title on a line of its own between two recipients, or beside the second one
        ("Nơi nhận: KT. GIÁM ĐỐC\n- Như trên;\n- UBND tỉnh (b/c);\nPHÓ GIÁM ĐỐC\n- Lưu: VT.\n\nĐinh Quang Hưng\n",
         "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Đinh Quang Hưng"),
        ("Nơi nhận: T/M. ĐOÀN KIỂM TRA\n- Giám đốc Sở;\n- Văn phòng Sở (bố trí phương tiện); TRƯỞNG ĐOÀN\n"
         "- Lưu: VT.\n\nĐinh Quang Hưng\n", "T/M. ĐOÀN KIỂM TRA", "TRƯỞNG ĐOÀN", "Đinh Quang Hưng"),
        # the list cell and the signature cell of a table: "- Lưu: VT. | TM. ..."
        ("Nơi nhận:\n- Như trên;\n- Lưu: VT. | TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\n\n"
         "Đinh Quang Hưng\n\nPhụ lục\nSTT | Họ tên\n1 | Lò Văn Páo\nHà Thị Mai\n",
         "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Đinh Quang Hưng"),
        # OCR lost the authority: the name under the list
        ("Nơi nhận:\n- Như trên;\n- Lưu: VT.\nĐinh Quang Hưng\nPHÓ GIÁM ĐỐC\nKẾ HOẠCH\nKiểm tra\nLò Văn Páo\n",
         None, None, "Đinh Quang Hưng"),
        # an agency written in capitals word by word is not a name
        ("Nơi nhận:\n- Như trên;\n- Lưu: VT.\nSở Tư Pháp\n", None, None, None),
        # a Markdown conversion wraps the authority: "TM. ỦY BAN NHÂN" / "DÂN"
        ("Nơi nhận:\n- Như trên;\n- Lưu: VT.\n|\nTM. ỦY BAN NHÂN\nDÂN\nCHỦ TỊCH\nĐinh Quang Hưng\n|\n\nPHỤ LỤC\n",
         "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Đinh Quang Hưng"),
    ],
    ids=["interleaved-authority", "title-own-line", "title-beside-entry", "table-cells", "no-authority",
         "agency-not-name", "wrapped-authority"],
)
def test_signer_of_a_block_beside_the_recipients(block, authority, title, name):
    meta = _one(_SIGNATURE.format(block=block))
    assert (meta.signing_authority, meta.signer_title, meta.signer_name) == (authority, title, name)


@pytest.mark.parametrize(
    "block, recipients",
    [
        ("Nơi nhận: KT. GIÁM ĐỐC\n- Như trên;\n- Lưu: VT, NVY.\n\nĐinh Quang Hưng\n", ["Như trên", "Lưu: VT, NVY"]),
        ("Nơi nhận:\n- Như trên; TM. ỦY BAN NHÂN DÂN\n- Lưu: VT.\n\nĐinh Quang Hưng\n", ["Như trên", "Lưu: VT"]),
        # "KT." inside a recipient's own words is not there: only an authority cuts an entry
        ("Nơi nhận:\n- Cục Kiểm tra văn bản;\n- Lưu: VT.\n\nĐinh Quang Hưng\n",
         ["Cục Kiểm tra văn bản", "Lưu: VT"]),
        # the signer's title, beside an entry or on a line between two, is none and cuts no list short
        ("Nơi nhận: KT. GIÁM ĐỐC\n- Như trên;\n- UBND tỉnh (b/c); PHÓ GIÁM ĐỐC\n- Lưu: VT.\n\nĐinh Quang Hưng\n",
         ["Như trên", "UBND tỉnh (b/c)", "Lưu: VT"]),
        ("Nơi nhận: KT. GIÁM ĐỐC\n- Như trên;\nPHÓ GIÁM ĐỐC\n- UBND các xã (p/h);\n- Lưu: VT.\n\nĐinh Quang Hưng\n",
         ["Như trên", "UBND các xã (p/h)", "Lưu: VT"]),
    ],
    ids=["beside-the-label", "beside-an-entry", "no-authority", "title-beside-an-entry", "title-between-entries"],
)
def test_a_signing_authority_a_scan_put_beside_the_recipients_is_not_one(block, recipients):
    assert _one(_SIGNATURE.format(block=block)).recipients == recipients


_SCAN_SUBJECT = """BỘ CÔNG THƯƠNG CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 2265/BCT-ATMT
V/v triển khai thủ tục cấp Hà Nội, ngày 02 tháng 4 năm 2026

{rest}
Kính gửi: Ủy ban nhân dân các tỉnh, thành phố

Bộ Công Thương đề nghị các đơn vị triển khai ngay.
"""


@pytest.mark.parametrize(
    "rest, subject",
    [
        # OCR read the two columns as one and left a blank line inside the V/v block
        ("Giấy phép vận chuyển hàng hóa\nnguy hiểm loại 1, 2, 3\n",
         "triển khai thủ tục cấp Giấy phép vận chuyển hàng hóa nguy hiểm loại 1, 2, 3"),
        # what stands there is not the V/v's: the motto, a caps line
        ("Độc lập - Tự do - Hạnh phúc\n", "triển khai thủ tục cấp"),
        ("KHẨN\n", "triển khai thủ tục cấp"),
        # a block longer than a V/v's tail is the body
        ("Một\nHai\nBa\nBốn\n", "triển khai thủ tục cấp"),
    ],
    ids=["continued", "motto", "caps", "too-long"],
)
def test_a_scans_subject_goes_on_past_a_blank_line_up_to_the_addressees(rest, subject):
    assert _one(_SCAN_SUBJECT.format(rest=rest)).subject == subject


def test_a_typed_subject_stops_at_its_blank_line():
    # One column (no date beside the V/v): the block after the blank line is not the V/v's.
    text = _SCAN_SUBJECT.replace(" Hà Nội, ngày 02 tháng 4 năm 2026", "").format(rest="Giấy phép vận chuyển\n")
    assert _one(text).subject == "triển khai thủ tục cấp"


def test_a_team_set_up_by_a_decision_is_the_issuer_and_the_decision_is_not_its_number():
    meta = _one("SỞ Y TẾ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐOÀN THANH TRA Độc lập - Tự do - Hạnh phúc\n"
                "THEO QUYẾT ĐỊNH\nSỐ 77/QĐ-SYT Bắc Kạn, ngày 07 tháng 8 năm 2025\nSố: 12/KH-ĐTT\n\n"
                "KẾ HOẠCH\nThanh tra chuyên đề\n\n"
                "Đoàn thanh tra theo Quyết định số 77/QĐ-SYT của Sở Y tế lập kế hoạch.\n")
    assert (meta.number, meta.date, meta.place) == ("12/KH-ĐTT", "2025-08-07", "Bắc Kạn")
    assert (meta.issuer, meta.parent_issuer) == ("Đoàn thanh tra theo Quyết định số 77/QĐ-SYT", "Sở Y tế")


# A web page converted to Markdown puts each line of the two header columns on a line of its own,
# between table pipes and bold marks: the motto's second line and a wrapped agency name stand alone.
_CONVERTED_HEADER = """|
**{agency_1}
**{agency_2}
-------
|
**CỘNG HÒA XÃ HỘI
CHỦ NGHĨA VIỆT NAM**
Độc lập - Tự do - Hạnh phúc
---------------
|
Số: {number}
|
*Bình Minh, ngày 12 tháng 3 năm 2026*
|

**KẾ HOẠCH**

Phòng, chống cháy rừng mùa khô năm 2026

{issuer} ban hành kế hoạch phòng, chống cháy rừng như sau.
"""


@pytest.mark.parametrize("agency_1, agency_2, issuer", [
    ("ỦY BAN NHÂN DÂN", "TỈNH BÌNH MINH", "Ủy ban nhân dân tỉnh Bình Minh"),   # the motto's line is no agency
    ("VĂN PHÒNG CHÍNH", "PHỦ**", "Văn phòng Chính phủ"),                       # one word: a wrapped name
])
def test_issuer_of_a_header_converted_line_by_line(agency_1, agency_2, issuer):
    text = _CONVERTED_HEADER.format(agency_1=agency_1, agency_2=agency_2, number="45/KH-UBND", issuer=issuer)
    [meta] = extract_metadata([text])
    assert meta.issuer == issuer and meta.number == "45/KH-UBND" and meta.date == "2026-03-12"
