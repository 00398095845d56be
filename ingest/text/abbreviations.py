"""Agency abbreviations officials write, and the names they stand for: one word list as data.

Documents mostly spell names out ("Ủy ban nhân dân tỉnh"), questions and headers mostly do not
("UBND tỉnh"); both sides expand from this list so they meet. Keys are folded
(``fold_match``: lower case, no accents, "đ" → "d"), so "LĐTBXH", "LDTBXH" and an OCR scan that
lost the stroke of "Đ" find the same entry; values are the names as written, in lower case.
"""

from __future__ import annotations

from ingest.text.normalize import fold_match

SPELLED_OUT: dict[str, str] = {
    "ubnd": "ủy ban nhân dân",
    "hdnd": "hội đồng nhân dân",
    "ldtbxh": "lao động thương binh và xã hội",
    "ld-tb&xh": "lao động thương binh và xã hội",
    "sldtbxh": "sở lao động thương binh và xã hội",
    "ubmttq": "ủy ban mặt trận tổ quốc",
    "mttq": "mặt trận tổ quốc",
    "gd&dt": "giáo dục và đào tạo",
    "gddt": "giáo dục và đào tạo",
    "ttg": "thủ tướng",
    "bcd": "ban chỉ đạo",
    "tw": "trung ương",
}


def spelled_out(abbreviation: str) -> str | None:
    """The name ``abbreviation`` stands for ("HĐND" → "hội đồng nhân dân"); None when unknown."""
    return SPELLED_OUT.get(fold_match(abbreviation))
