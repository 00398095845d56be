"""What a question asks: its content terms (for matching evidence) and its intent.

Everything is compared accent-folded so that "đơn vị nào" and "don vi nao" are one question.
A question is read once per ask (``Question.parse``): the follow-up made standalone, the
abbreviations spelled out, the terms, intents, names and document codes found; every later
step (retrieval, named documents, the extractive answer, register evidence, the LLM) reads the
same frozen ``Question``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.text.abbreviations import SPELLED_OUT
from ingest.text.normalize import canonical_tones, fold_match
from ingest.text.tokens import CODE, SYLLABLE
from rag.conversation import standalone_question

# Question and function words: they say what kind of answer is wanted, not what it is about.
# "bao" is not here: it is half of "báo cáo".
STOPWORDS = frozenset(
    "nao gi ai dau sao the nhu la co khong duoc cua cho va cac nhung mot trong voi ve tai thi hay hoac do "
    "nay phai lam can o den tu theo da se dang bi boi vay con hoi xin biet nhe a u gom nhieu bang "
    "muon cu the ra sao duoi tren hien nay hien vao luc khi gio noi".split()
)

# The sparse index's token patterns: question terms must be cut like indexed terms.
_SYLLABLE = SYLLABLE
_CODE = CODE

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
    """One question as every step of answering reads it, built once per ask by ``parse``.

    ``asked`` is the text as the user typed it; ``standalone`` the same after follow-up
    rewriting against the conversation ("còn huyện Bắc Sơn thì sao?" → the previous question
    about Bắc Sơn), which everything below is computed from; ``expanded`` the standalone text
    followed by the spelled-out form of each abbreviation it uses (what retrieval searches);
    ``folded`` that, accent-folded (what intents and terms are read from).
    """

    asked: str
    standalone: str
    expanded: str
    folded: str
    terms: tuple[str, ...] = ()
    """Content syllables, syllable bigrams and number codes, cut like indexed text, stopwords dropped."""
    intents: frozenset[str] = frozenset()
    """What kind of answer is wanted: who, when, figure, task, signer, date, number, recipients."""
    names: tuple[str, ...] = ()
    """Folded places and bodies named in capitals ("kien giang", "bac son")."""
    codes: tuple[str, ...] = ()
    """Folded number codes with a digit ("3452/ubnd-vx", "61-ctr/tu", "10/11"): the document
    numbers (and dates) the question names. Also among ``terms``."""

    @classmethod
    def parse(cls, asked: str, history: Sequence[str] = ()) -> Question:
        """``asked`` (a follow-up of ``history``, the user's earlier questions, oldest first)
        made standalone, its abbreviations spelled out, and analysed."""
        standalone = standalone_question(asked, list(history))
        expanded = expand_abbreviations(standalone)
        folded = fold_match(expanded)
        syllables = _SYLLABLE.findall(folded)
        content = [s for s in syllables if s not in STOPWORDS]
        bigrams = [f"{a} {b}" for a, b in zip(syllables, syllables[1:]) if a not in STOPWORDS and b not in STOPWORDS]
        codes = tuple(dict.fromkeys(c for c in _CODE.findall(folded) if any(ch.isdigit() for ch in c)))
        terms = tuple(dict.fromkeys(content + bigrams + list(codes)))
        intents = frozenset(name for name, pattern in _INTENT_PATTERNS.items() if pattern.search(folded))
        # Names are read from the text as typed (rewritten), where capitals mark them; the
        # spelled-out abbreviations appended to ``expanded`` are lower case and name nothing.
        return cls(asked, standalone, expanded, folded, terms, intents, _proper_names(standalone), codes)

    @property
    def rewritten(self) -> bool:
        """True when follow-up rewriting changed the question."""
        return self.standalone != self.asked

    def wants(self, intent: str) -> bool:
        """True when the question asks for ``intent`` (one of the keys of ``intents``)."""
        return intent in self.intents


# Abbreviations officials type; documents mostly spell the names out (and sometimes not).
_ABBREVIATIONS: dict[str, str] = SPELLED_OUT
_ABBREVIATION = re.compile(r"(?<![\w&-])(" + "|".join(re.escape(k) for k in sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w&])")


def expand_abbreviations(text: str) -> str:
    """``text`` followed by the spelled-out form of each abbreviation it uses ("Sở LĐTBXH" → + "lao động ...")."""
    found = dict.fromkeys(_ABBREVIATIONS[m.group(1)] for m in _ABBREVIATION.finditer(fold_match(text)))
    return " ".join([text, *found]) if found else text


def analyze(question: str) -> Question:
    """``question`` analysed on its own, outside any conversation: ``Question.parse(question)``."""
    return Question.parse(question)


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
