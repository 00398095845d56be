"""Normalisation cases measured on the seeds: NFD input, tone placement, unaccented text, OCR codes."""

import unicodedata

import pytest

from ingest.text.normalize import (
    canonical_tones,
    clean_spacing,
    display_text,
    fold,
    fold_match,
    match_text,
    repair_ocr_codes,
)
from tests.conftest import CORPUS


@pytest.mark.parametrize(
    "text, expected",
    [
        ("uỷ ban", "ủy ban"),
        ("Tỉnh uỷ", "Tỉnh ủy"),
        ("UỶ BAN", "ỦY BAN"),
        ("hoà bình", "hòa bình"),
        ("văn hoá", "văn hóa"),
        ("khoẻ mạnh", "khỏe mạnh"),
        ("thuỷ lợi", "thủy lợi"),
        # already canonical, or not an open oa/oe/uy syllable: unchanged
        ("hòa bình", "hòa bình"),
        ("hoàn thành", "hoàn thành"),
        ("khoảng cách", "khoảng cách"),
        ("quý", "quý"),
        ("tuyết", "tuyết"),
        ("khuya", "khuya"),
    ],
)
def test_tone_marks_of_open_oa_oe_uy_syllables_are_canonical(text, expected):
    assert canonical_tones(text) == expected


def test_both_tone_placements_match_each_other():
    assert match_text("Ủy ban nhân dân") == match_text("Uỷ ban nhân dân")
    assert fold_match("hoà") == fold_match("hòa") == "hoa"


def test_nfd_seed_is_composed_for_display():
    raw = (CORPUS / "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt").read_text(encoding="utf-8")
    assert raw.count("về") == 0  # the seed is decomposed (NFD)
    shown = display_text(raw)
    assert shown.count("về") >= 2
    assert shown == unicodedata.normalize("NFC", shown)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Đơn vị nào phải báo cáo trước ngày 10/11?", "don vi nao phai bao cao truoc ngay 10/11?"),
        ("Sở Lao động - Thương binh và Xã hội", "so lao dong - thuong binh va xa hoi"),
        ("ĐẢNG CỘNG SẢN", "dang cong san"),
    ],
)
def test_fold_removes_diacritics_and_d_stroke(text, expected):
    assert fold(text) == expected


def test_unaccented_query_folds_like_the_accented_text():
    assert fold_match("don vi nao phai bao cao truoc ngay 10/11") == fold_match("Đơn vị nào phải báo cáo trước ngày 10/11")


@pytest.mark.parametrize(
    "damaged, repaired",
    [
        ("S6: 2577 JUBND-KGVX", "Số: 2577/UBND-KGVX"),
        ("Chi thi s6 28-CT/TW", "Chi thi số 28-CT/TW"),
        ("Quyét dinh sb 1183/QDB-TTg", "Quyét dinh số 1183/QĐ-TTg"),
        ("Chương trình số 61-/CTr/TU", "Chương trình số 61-CTr/TU"),
        ("Chỉ thị số 28-\nCT/TW ngày", "Chỉ thị số 28-CT/TW ngày"),
        ("Công văn số 1965 -CV/BCSD", "Công văn số 1965-CV/BCSD"),
        ("Kế hoạch số 59/KH-SLĐT BXH, ngày 22/3/2024", "Kế hoạch số 59/KH-SLĐTBXH, ngày 22/3/2024"),
        ("về S¢ Lao dong", "về Sở Lao dong"),
        # intact codes and ordinary text stay as they are
        ("Số: 3452/UBND-VX", "Số: 3452/UBND-VX"),
        ("56/2017/NĐ-CP ngày 09/5/2017", "56/2017/NĐ-CP ngày 09/5/2017"),
        ("trước ngày 10/11", "trước ngày 10/11"),
        ("Số: 234/KH-UBND ngày", "Số: 234/KH-UBND ngày"),
    ],
)
def test_ocr_number_codes_are_repaired(damaged, repaired):
    assert repair_ocr_codes(damaged) == repaired


def test_ocr_seed_makes_its_directive_number_findable():
    raw = (CORPUS / "001_ubnd_kien_giang_2577-UBND-KGVX_ocr.txt").read_text(encoding="utf-8")
    assert fold(raw).count("28-ct/tw") < fold_match(raw).count("28-ct/tw")
    assert "2577/ubnd-kgvx" in fold_match(raw)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("**KT. CHỦ TỊCH**", "KT. CHỦ TỊCH"),
        ("## II- MỤC ĐÍCH", "II- MỤC ĐÍCH"),
        ("Lao động – Thương binh", "Lao động - Thương binh"),
        ("a\u00a0 \t b", "a b"),
        ("“Quyền trẻ em”", '"Quyền trẻ em"'),
        ("  dòng 1  \n  dòng 2 ", "dòng 1\ndòng 2"),
    ],
)
def test_spacing_dashes_and_markdown_are_cleaned(text, expected):
    assert clean_spacing(text) == expected


def test_display_text_keeps_characters_and_unifies_line_ends():
    assert display_text("a\r\nb\rc") == "a\nb\nc"
    assert display_text("Tỉnh uỷ – **x**") == "Tỉnh uỷ – **x**"
