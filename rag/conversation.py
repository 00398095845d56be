"""Follow-up questions made standalone before retrieval, without an LLM.

"còn huyện Bắc Sơn thì sao?" after "Đơn vị nào phải báo cáo trước ngày 10/11 ở tỉnh Kiên Giang?"
becomes "Đơn vị nào phải báo cáo trước ngày 10/11 ở huyện Bắc Sơn?": the follow-up's new
subject replaces the one of the same kind in the previous question, or is appended to it.
A document ("còn Kế hoạch 45/KH-UBND?") replaces the document the previous question named;
"hạn là khi nào?" asks the deadline of what the previous question was about; "ai ký văn bản
đó?" names the document of the previous question. The previous question is itself made
standalone first, so a chain of follow-ups keeps its subject.
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
ENTITY = re.compile(
    # places: "tỉnh Kiên Giang" (capitalised words only)
    rf"\b(?P<kind>tỉnh|huyện|xã|thành phố|thị xã|tinh|huyen|xa|thanh pho|thi xa)\s+(?P<name>{_CAPITALISED})"
    # bodies: "Sở Lao động - Thương binh và Xã hội" (up to the verb or the end of the clause)
    r"|\b(?P<body>Sở|Phòng|Ủy ban nhân dân|UBND|Ban|so|phong|ubnd)\s+(?P<body_name>[A-ZĐÀ-Ỹ].*?)"
    r"(?=\s+(?:phải|có|cần|được|làm|thì|ở|trong|về|đã|sẽ|là|yêu|giao|đề|phai|co|can|duoc|lam|thi|ve|da|se|la)\b|\s*[?,.;!]|\s*$)",
)
_CODE = re.compile(r"\b\d+[-/][\wĐđ&/-]+")
# A document named by its number ("Kế hoạch số 45/KH-UBND", "61-CTr/TU"): the code must hold a
# letter, so a date ("10/11") is never taken for a document.
_DOC_TYPES = (r"kế hoạch|công văn|chỉ thị|quyết định|nghị quyết|thông báo|chương trình|hướng dẫn|"
              r"báo cáo|thông tư|nghị định|văn bản|ke hoach|cong van|chi thi|quyet dinh|nghi quyet|"
              r"thong bao|chuong trinh|huong dan|van ban")
_DOCUMENT = re.compile(
    rf"(?:\b(?:{_DOC_TYPES})\s+(?:số\s+|so\s+)?)?\b\d+[-/](?=[\w&/-]*[^\W\d_])[\wĐđ&/-]*[\wĐđ]",
    re.IGNORECASE,
)
# "hạn là khi nào?", "thời hạn?", "còn hạn chót thì sao?": the deadline of the previous subject.
# Matched accent-folded, so "han la khi nao" typed without diacritics is the same follow-up.
_DEADLINE_FOLLOW_UP = re.compile(
    r"^\s*(?:(?:con|vay|the|vay con|the con)\s+)?(?:thoi han|han chot|han)"
    r"(?:\s+(?:hoan thanh|thuc hien|nop|gui|bao cao))?(?:\s+(?:la|vao|cua no|thi))?"
    r"(?:\s+(?:khi nao|bao gio|ngay nao|luc nao|sao|the nao|gi))?\s*[?.!]*\s*$"
)
# What a question asks with (its interrogative), stripped from the previous question before it
# becomes the subject of a deadline question, so the new question asks only "when".
_LEADING_ASK = re.compile(
    r"^\s*(?:(?:hãy\s+)?cho (?:tôi |em )?biết\s+)?(?:(?:(?:đơn vị|cơ quan|tổ chức)\s+nào|những ai|ai)\s+)?",
    re.IGNORECASE,
)
_TRAILING_ASK = re.compile(
    r"\s*(?:(?:đơn vị|cơ quan|ai)\s+nào|là gì|là những gì|những gì|gì|nào|ai|khi nào|bao giờ|"
    r"như thế nào|thế nào|ra sao|bao nhiêu)?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_INNER_ASK = re.compile(r"\s+(?:những\s+)?gì\b", re.IGNORECASE)  # "phải làm gì theo …" → "phải làm theo …"
_MAX_FOLLOW_UP_WORDS = 12
# Earlier turns made standalone before the newest is resolved against them (a chain of
# follow-ups); bounded so a long conversation costs a few regex passes, not one per turn.
_MAX_CHAIN = 4


def standalone_question(question: str, history: list[str]) -> str:
    """``question`` rewritten to stand alone, given the user's earlier questions (oldest first)."""
    if not history:
        return question
    # The previous question may itself have been a follow-up: resolve it first, so "còn huyện
    # B?" after "còn huyện A?" still carries the first question's content.
    earlier = history[-_MAX_CHAIN:]
    previous = standalone_question(earlier[-1], earlier[:-1])
    if _DEADLINE_FOLLOW_UP.match(fold(question)):
        return _deadline_of(previous)
    looks_like_follow_up = bool(_FOLLOW_UP_START.match(question)) or len(question.split()) <= 3
    if not looks_like_follow_up and not _REFERS_BACK.search(question):
        return question
    if _REFERS_BACK.search(question) and not _FOLLOW_UP_START.match(question):
        return f"{question.rstrip(' ?')} ({_subject_of(previous)})?"
    remainder = _FOLLOW_UP_END.sub("", _FOLLOW_UP_START.sub("", question)).strip()
    if not remainder or len(remainder.split()) > _MAX_FOLLOW_UP_WORDS:
        return question
    new_document = _DOCUMENT.search(remainder)
    old_document = _DOCUMENT.search(previous)
    if new_document and old_document:
        # A bare number ("còn 77/KH-UBND?") keeps the previous question's type word.
        start = old_document.start() if not new_document.group(0)[0].isdigit() else old_document.end() - len(
            _CODE.search(old_document.group(0)).group(0))
        return previous[:start] + new_document.group(0) + previous[old_document.end():]
    new = ENTITY.search(remainder)
    if new:
        for old in ENTITY.finditer(previous):
            if _same_level(_kind(old), _kind(new)):
                return previous[: old.start()] + new.group(0).strip() + previous[old.end():]
    joiner = " ở " if new and new.group("kind") else " "
    return f"{previous.rstrip(' ?.')}{joiner}{remainder}?"


_LEVELS = ({"tinh", "huyen", "xa", "thanh pho", "thi xa"}, {"so", "phong", "ban", "ubnd", "uy ban nhan dan"})


def _kind(m: re.Match[str]) -> str:
    return m.group("kind") or m.group("body")


def _same_level(a: str, b: str) -> bool:
    return any(fold(a) in level and fold(b) in level for level in _LEVELS)


def _deadline_of(previous: str) -> str:
    """A question for the deadline of what ``previous`` asked about: its interrogatives dropped
    ("Đơn vị nào phải nộp báo cáo quý?" → "Thời hạn phải nộp báo cáo quý là khi nào?")."""
    core = _TRAILING_ASK.sub("", _LEADING_ASK.sub("", previous, count=1))
    core = _INNER_ASK.sub("", core).strip(" ,;:")
    return f"Thời hạn {core} là khi nào?" if core else previous


def _subject_of(question: str) -> str:
    """What "this document" refers to: a document number in the previous question (never a
    date such as "10/11"), else its place or body, else the whole question."""
    document = _DOCUMENT.search(question)
    if document:
        # The number alone: it is what the document's header carries, whatever its type word.
        return _CODE.search(document.group(0)).group(0)
    m = ENTITY.search(question)
    return m.group(0).strip() if m else question.rstrip(" ?")
