"""What a question asks: its content terms (for matching evidence) and its intent.

Everything is compared accent-folded so that "đơn vị nào" and "don vi nao" are one question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.text.normalize import canonical_tones, fold_match

# Question and function words: they say what kind of answer is wanted, not what it is about.
# "bao" is not here: it is half of "báo cáo".
STOPWORDS = frozenset(
    "nao gi ai dau sao the nhu la co khong duoc cua cho va cac nhung mot trong voi ve tai thi hay hoac do "
    "nay phai lam can o den tu theo da se dang bi boi vay con hoi xin biet nhe a u gom nhieu bang "
    "muon cu the ra sao duoi tren hien nay hien vao luc khi gio noi".split()
)

_SYLLABLE = re.compile(r"[a-z0-9]+")
_CODE = re.compile(r"[a-z0-9]+(?:[-/.][a-z0-9]+)+")

_INTENT_PATTERNS: dict[str, re.Pattern[str]] = {
    "who": re.compile(r"\b(?:don vi|co quan|to chuc|ben|cap|so|phong|ai)\s+nao\b|\bai\b(?! ky)|\bnhung (?:ai|don vi|co quan)\b|\bchu tri\b|\bphu trach\b"),
    "when": re.compile(r"\b(?:khi nao|bao gio|thoi han|han chot|han\b|ngay nao|thang nao|luc nao|truoc ngay|dinh ky|thoi gian)"),
    "figure": re.compile(r"\b(?:bao nhieu|ty le|ti le|muc tieu|chi tieu|phan tram|so luong|dat \d)"),
    "task": re.compile(r"\b(?:lam gi|nhiem vu gi|yeu cau gi|giao .{0,40}\bgi\b|trach nhiem gi|can lam|phai lam|noi dung gi|de nghi gi|chi dao gi)"),
    "signer": re.compile(r"\b(?:ai ky|nguoi ky|ky ban hanh|ky van ban|ky ten|chu ky)\b"),
    "date": re.compile(r"\bngay (?:ban hanh|ky)\b|\bban hanh (?:ngay|khi nao)\b"),
    "number": re.compile(r"\bso (?:hieu|ky hieu|van ban)\b|\bky hieu\b"),
    "recipients": re.compile(r"\bnoi nhan\b|\bgui (?:cho|den) (?:ai|nhung ai|don vi nao)\b|\bkinh gui\b"),
}


@dataclass(frozen=True)
class Question:
    """A question reduced to what matching needs."""

    text: str
    folded: str
    terms: tuple[str, ...]
    intents: frozenset[str] = field(default_factory=frozenset)
    names: tuple[str, ...] = ()

    def wants(self, intent: str) -> bool:
        return intent in self.intents


# Abbreviations officials type; documents mostly spell the names out (and sometimes not).
_ABBREVIATIONS: dict[str, str] = {
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
_ABBREVIATION = re.compile(r"(?<![\w&-])(" + "|".join(re.escape(k) for k in sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w&])")


def expand_abbreviations(text: str) -> str:
    """``text`` followed by the spelled-out form of each abbreviation it uses ("Sở LĐTBXH" → + "lao động ...")."""
    found = dict.fromkeys(_ABBREVIATIONS[m.group(1)] for m in _ABBREVIATION.finditer(fold_match(text)))
    return " ".join([text, *found]) if found else text


def analyze(question: str) -> Question:
    """Content terms (syllables, bigrams, codes, stopwords dropped) and intents of ``question``."""
    folded = fold_match(expand_abbreviations(question))
    syllables = _SYLLABLE.findall(folded)
    content = [s for s in syllables if s not in STOPWORDS]
    bigrams = [f"{a} {b}" for a, b in zip(syllables, syllables[1:]) if a not in STOPWORDS and b not in STOPWORDS]
    codes = [c for c in _CODE.findall(folded) if any(ch.isdigit() for ch in c)]
    terms = tuple(dict.fromkeys(content + bigrams + codes))
    intents = frozenset(name for name, pattern in _INTENT_PATTERNS.items() if pattern.search(folded))
    return Question(question, folded, terms, intents, _proper_names(question))


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Capitalised words that are not names: titles of document types, bodies and ranks, dates.
# Compared with diacritics, so "Nam" (Việt Nam) is not "năm" (year).
_NOT_NAME_WORDS = frozenset(
    "theo trong tại về của và các những kế hoạch công văn chương trình chỉ thị quyết định nghị quyết "
    "thông báo tư hướng dẫn tờ báo cáo ban thường vụ tỉnh ủy uỷ huyện xã phường thị trấn thành phố sở "
    "phòng bộ chủ tịch phó giám đốc ngày tháng năm hội đồng nhân dân mặt trận tổ quốc đảng đoàn "
    "chính phủ thủ tướng văn bản điều khoản mục phần chương ai đơn vị cơ quan hãy cho biết".split()
)


def _proper_names(question: str) -> tuple[str, ...]:
    """Folded runs of two or more capitalised words in the question ("Kiên Giang", "Bắc Sơn").

    A name the documents never mention is the surest sign that a question is out of scope.
    Vietnamese names are several syllables, each capitalised; one capitalised word is usually
    just the start of the sentence.
    """
    names, run = [], []
    for m in _WORD.finditer(question + " end"):  # a lower-case word closes the last run
        word = m.group(0)
        if word[0].isupper() and not word.isupper() and canonical_tones(word.lower()) not in _NOT_NAME_WORDS:
            run.append(word)
            continue
        if len(run) >= 2:
            names.append(fold_match(" ".join(run)))
        run = []
    return tuple(dict.fromkeys(names))
