"""Vietnamese text normalisation, shared by ingestion and queries.

Two kinds of output:

* ``display_text`` keeps what a person reads (only Unicode composition and line ends change),
  so offsets and quotes taken from it stay faithful to the source.
* ``match_text`` and ``fold`` produce copies used only for matching: canonical tone-mark
  placement, clean whitespace and dashes, repaired OCR number codes, and (``fold``) no
  diacritics at all, so a query typed without accents meets an accented or OCR-damaged text.
"""

from __future__ import annotations

import re
import unicodedata

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below
_COMBINING = "\u0300-\u036f"

# oa / oe / uy as the whole nucleus of an open syllable (no final consonant), in NFD.
# "hoàn", "khoảng" (final consonant) and "quý" (qu- onset) keep their placement.
_OPEN_GLIDE_SYLLABLE = re.compile(
    rf"(?<![aeiouyq{_COMBINING}])"
    rf"(?:(?P<o>[oO])(?P<t1>[{_TONE_MARKS}]?)(?P<v1>[aAeE])(?P<t2>[{_TONE_MARKS}]?)"
    rf"|(?P<u>[uU])(?P<t3>[{_TONE_MARKS}]?)(?P<v2>[yY])(?P<t4>[{_TONE_MARKS}]?))"
    rf"(?![\w{_COMBINING}])",
    re.IGNORECASE,
)

_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")
_MARKDOWN = re.compile(r"\*\*|__|^#{1,6}\s*", re.MULTILINE)

# OCR and typing damage inside document numbers ("số, ký hiệu"), most specific first.
_CODE_TYPE = r"[A-ZĐ][A-Za-zĐđ]{0,9}"
_OCR_CODE_REPAIRS: list[tuple[re.Pattern[str], str]] = [
    # "S6:" / "sé" / "sb" / "s¢" read for "Số:" / "số" right before a number
    (re.compile(r"\b([Ss])(?:6|b|é|ë|è|ẻ|¢|o)(?=\s*:?\s*\d)"), lambda m: "Số" if m.group(1) == "S" else "số"),
    # "S¢" read for "Sở"
    (re.compile(r"\bS¢"), "Sở"),
    # "2577 JUBND-KGVX": a slash read as J
    (re.compile(rf"\b(\d{{1,6}})\s?J(?={_CODE_TYPE}[-/])"), r"\1/"),
    # "QDB-TTg": Đ read as DB
    (re.compile(r"\bQDB(?=-)"), "QĐ"),
    # "61-/CTr/TU": stray slash after the party-number dash
    (re.compile(rf"\b(\d{{1,6}})-\s*/\s*(?={_CODE_TYPE}/)"), r"\1-"),
    # "28-\nCT/TW" (line wrap) and "1965 -CV/BCSD" (stray space)
    (re.compile(rf"\b(\d{{1,6}})[ \t]*-[ \t]*\n?[ \t]*(?={_CODE_TYPE}/)"), r"\1-"),
    # "59/KH-SLĐT BXH": a space inside the issuer part of the code
    (re.compile(r"\b(\d{1,6}/[A-ZĐ]{1,6}-[A-ZĐ]{2,})[ ](?=[A-ZĐ]{2,4}\b(?![a-zà-ỹ]))"), r"\1"),
]


def display_text(raw: str) -> str:
    """The text kept for display and quotes: NFC composition and ``\\n`` line ends only."""
    return unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))


def canonical_tones(text: str) -> str:
    """Put the tone mark of open oa/oe/uy syllables on the first vowel: hoà→hòa, uỷ→ủy, khoẻ→khỏe."""

    def move(m: re.Match[str]) -> str:
        if m.group("o"):
            first, second, tone = m.group("o"), m.group("v1"), m.group("t1") or m.group("t2")
        else:
            first, second, tone = m.group("u"), m.group("v2"), m.group("t3") or m.group("t4")
        return f"{first}{tone}{second}"

    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _OPEN_GLIDE_SYLLABLE.sub(move, decomposed))


def clean_spacing(text: str) -> str:
    """Unify dashes, quotes and spaces; drop Markdown emphasis; keep line breaks."""
    text = _MARKDOWN.sub("", text)
    text = _DASHES.sub("-", text).translate(_QUOTES)
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


def repair_ocr_codes(text: str) -> str:
    """Repair document numbers broken by OCR, line wraps or stray spaces ("2577 JUBND-KGVX")."""
    for pattern, replacement in _OCR_CODE_REPAIRS:
        text = pattern.sub(replacement, text)
    return text


def match_text(text: str) -> str:
    """The copy of ``text`` used for matching and parsing: every repair, diacritics kept."""
    return repair_ocr_codes(clean_spacing(canonical_tones(display_text(text))))


class _DropCombining(dict):
    """``str.translate`` table that deletes combining marks, filled as characters are met
    (one dict lookup per character instead of a Python call: fold runs over every chunk)."""

    def __missing__(self, code: int) -> int | None:
        self[code] = kept = None if unicodedata.combining(chr(code)) else code
        return kept


_DROP_COMBINING = _DropCombining()


def fold(text: str) -> str:
    """Accent-folded lower-case text: NFD, combining marks dropped, đ→d."""
    return unicodedata.normalize("NFD", text.lower()).translate(_DROP_COMBINING).replace("đ", "d")


def fold_match(text: str) -> str:
    """``fold(match_text(text))``: the form the sparse index and fuzzy comparisons use."""
    return fold(match_text(text))
