"""Follow-up questions made standalone before retrieval, without an LLM.

"còn huyện Bắc Sơn thì sao?" after "Đơn vị nào phải báo cáo trước ngày 10/11 ở tỉnh Kiên Giang?"
becomes "Đơn vị nào phải báo cáo trước ngày 10/11 ở huyện Bắc Sơn?": the follow-up's new
subject replaces the one of the same kind in the previous question, or is appended to it.
"""

from __future__ import annotations

import re

from ingest.text.normalize import fold

_FOLLOW_UP_START = re.compile(r"^\s*(?:còn|thế còn|vậy còn|vậy|thế|con|the con|vay con)\b\s*", re.IGNORECASE)
_FOLLOW_UP_END = re.compile(
    r"\s*(?:thì sao|thì thế nào|thì như thế nào|như thế nào|ra sao|thi sao|thi the nao|the nao)?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_REFERS_BACK = re.compile(r"\b(?:văn bản (?:này|đó|trên)|van ban (?:nay|do|tren)|nó|no)\b", re.IGNORECASE)
# Kinds of subject a follow-up swaps: a place or a body, by its leading word.
_CAPITALISED = r"[A-ZĐÀ-Ỹ][\wÀ-ỹđ]*(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹđ]*)*"
_ENTITY = re.compile(
    # places: "tỉnh Kiên Giang" (capitalised words only)
    rf"\b(?P<kind>tỉnh|huyện|xã|thành phố|thị xã|tinh|huyen|xa|thanh pho|thi xa)\s+(?P<name>{_CAPITALISED})"
    # bodies: "Sở Lao động - Thương binh và Xã hội" (up to the verb or the end of the clause)
    r"|\b(?P<body>Sở|Phòng|Ủy ban nhân dân|UBND|Ban|so|phong|ubnd)\s+(?P<body_name>[A-ZĐÀ-Ỹ].*?)"
    r"(?=\s+(?:phải|có|cần|được|làm|thì|ở|trong|về|đã|sẽ|là|yêu|giao|đề|phai|co|can|duoc|lam|thi|ve|da|se|la)\b|\s*[?,.;!]|\s*$)",
)
_CODE = re.compile(r"\b\d+[-/][\wĐđ&/-]+")
_MAX_FOLLOW_UP_WORDS = 12


def standalone_question(question: str, history: list[str]) -> str:
    """``question`` rewritten to stand alone, given the user's earlier questions (oldest first)."""
    if not history:
        return question
    previous = history[-1]
    looks_like_follow_up = bool(_FOLLOW_UP_START.match(question)) or len(question.split()) <= 3
    if not looks_like_follow_up and not _REFERS_BACK.search(question):
        return question
    if _REFERS_BACK.search(question) and not _FOLLOW_UP_START.match(question):
        return f"{question.rstrip(' ?')} ({_subject_of(previous)})?"
    remainder = _FOLLOW_UP_END.sub("", _FOLLOW_UP_START.sub("", question)).strip()
    if not remainder or len(remainder.split()) > _MAX_FOLLOW_UP_WORDS:
        return question
    new = _ENTITY.search(remainder)
    if new:
        for old in _ENTITY.finditer(previous):
            if _same_level(_kind(old), _kind(new)):
                return previous[: old.start()] + new.group(0).strip() + previous[old.end():]
    joiner = " ở " if new and new.group("kind") else " "
    return f"{previous.rstrip(' ?.')}{joiner}{remainder}?"


_LEVELS = ({"tinh", "huyen", "xa", "thanh pho", "thi xa"}, {"so", "phong", "ban", "ubnd", "uy ban nhan dan"})


def _kind(m: re.Match[str]) -> str:
    return m.group("kind") or m.group("body")


def _same_level(a: str, b: str) -> bool:
    return any(fold(a) in level and fold(b) in level for level in _LEVELS)


def _subject_of(question: str) -> str:
    """What "this document" refers to: a number in the previous question, else its subject."""
    code = _CODE.search(question)
    if code:
        return code.group(0)
    m = _ENTITY.search(question)
    return m.group(0).strip() if m else question.rstrip(" ?")
