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
from functools import lru_cache

from ingest.text.abbreviations import SPELLED_OUT
from ingest.text.actors import SECTOR_NAMES, UNIT_HEAD
from ingest.text.members import TEAM_ROLES
from ingest.text.normalize import canonical_tones, fold, fold_match
from ingest.text.tokens import CODE, SYLLABLE, written_syllables
from rag.conversation import ENTITY, standalone_question

# Question and function words: they say what kind of answer is wanted, not what it is about.
# They are listed as written, with their diacritics: folded, many of them are also syllables of
# the names a question is about ("tại"/"Sở Tài chính", "nơi"/"Sở Nội vụ", "từ"/"Sở Tư pháp",
# "hỏi"/"hội nghị", "cần"/"cán bộ", "thì"/"chỉ thị", "làm"/"lâm nghiệp", "đâu"/"đầu tư"), which
# must stay terms. "bao" is not here: it is half of "báo cáo".
STOPWORDS = frozenset(
    "nào gì ai đâu sao thế thể như là có không được của cho và các những nhưng một trong với về tại "
    "thì hay hãy hoặc do này nay phải làm cần ở đến từ theo đã sẽ đang bị bởi vậy còn hỏi xin biết "
    "nhé ạ à ư gồm nhiều bằng muốn cụ ra dưới trên hiện vào lúc khi giờ nơi".split()
)
# A question typed without diacritics cannot tell "tại" from "Tài": there every syllable that
# folds like a function word is dropped.
FOLDED_STOPWORDS = frozenset(fold(word) for word in STOPWORDS)

# The sparse index's token patterns: question terms must be cut like indexed terms.
_SYLLABLE = SYLLABLE
_CODE = CODE

_INTENT_PATTERNS: dict[str, re.Pattern[str]] = {
    "who": re.compile(r"\b(?:don vi|co quan|to chuc|ben|cap|so|phong|ai)\s+nao\b|\bai\b(?! ky)|\bnhung (?:ai|don vi|co quan)\b|\bchu tri\b|\bphu trach\b"),
    # "báo cáo về đâu", "báo lên đâu", "chuyển đi đâu": the body a report or a file is sent to.
    "destination": re.compile(r"\b(?:bao|gui|chuyen|nop)\b(?: \S+){0,12}? (?:ve|len|di|toi|den) dau\b"),
    "when": re.compile(r"\b(?:khi nao|bao gio|thoi han|han chot|han\b|ngay nao|thang nao|luc nao|truoc ngay|dinh ky|thoi gian"
                       r"|gio nao|may gio|khung gio|thoi diem|(?:nam|quy|tuan|dip|buoi|hom) nao)"),
    # "trong bao lâu", "bao lâu một lần": a duration or a frequency is a quantity ("10 ngày", "1 năm 1 lần").
    "figure": re.compile(r"\b(?:bao nhieu|bao lau|ty le|ti le|muc tieu|chi tieu|phan tram|so luong|dat \d)"),
    "task": re.compile(r"\b(?:lam gi|nhiem vu gi|yeu cau gi|giao .{0,40}\bgi\b|trach nhiem gi|can lam|phai lam|noi dung gi|de nghi gi|chi dao gi)"),
    # "đơn không ký tên", "không có chữ ký": unsigned (anonymous), not a question about a signer.
    "signer": re.compile(r"\b(?:ai ky|nguoi ky|ky ban hanh|ky van ban|(?<!khong )(?<!khong co )(?:ky ten|chu ky))\b"),
    "date": re.compile(r"\bngay (?:ban hanh|ky)\b|\bban hanh (?:vao )?(?:ngay|khi nao|luc nao)\b"
                       r"|\bky (?:vao )?(?:ngay nao|khi nao|luc nao|bao gio)\b"),
    "number": re.compile(r"\bso (?:hieu|ky hieu|van ban)\b|\bky hieu\b"),
    # "cơ quan nào ban hành …", "ai ban hành", "do ai lập", "Công văn 5973 là của cơ quan nào?": who
    # issued a document (not "nhiệm vụ của cơ quan nào", a task's unit).
    "issuer": re.compile(r"\b(?:co quan|don vi|cap) nao ban hanh\b|\bai ban hanh\b|\bdo ai (?:ban hanh|lap|soan)\b"
                         r"|\bco quan ban hanh\b|\b(?:cong van|ke hoach|quyet dinh|chi thi|thong bao|van ban|to trinh|"
                         r"chuong trinh|thong tu|nghi quyet|huong dan)\b[^?]{0,80}\bcua (?:co quan|don vi|cap) nao\b"),
    # "gửi đến những ai", "gửi cho những cơ quan nào", "được gửi những cục nào": whom a document goes to.
    "recipients": re.compile(r"\bnoi nhan\b|\bkinh gui\b|\bgui (?:cho |den |toi )?(?:nhung ai|ai|(?:nhung |cac )?"
                             r"(?:don vi|co quan|cuc|vu|so|bo|noi|ban|nganh)(?: \S+){0,3}? nao)\b"),
    # Which document a document carries out, rests on or replaces ("triển khai chỉ thị nào",
    # "dựa trên kế hoạch nào", "căn cứ văn bản gì"): answered by its preamble, which cites it.
    "basis": re.compile(r"\b(?:trien khai|thuc hien|dua (?:tren|theo)|can cu|theo|thay the|cu the hoa)\s+"
                        r"(?:\S+\s+){0,3}?(?:chi thi|ke hoach|van ban|quyet dinh|cong van|thong tu|nghi dinh|"
                        r"nghi quyet|chuong trinh|luat)\s+(?:\S+\s+){0,3}?(?:nao|gi|so may)\b"),
}

# "mấy lần một ngày", "mấy đơn vị", "lần thứ mấy": "mấy" asks how many, as "bao nhiêu" does. Folded it
# is also "máy" (a machine) and "mây", so it is read as written; a question typed without any
# diacritics counts it only before a measure word. "mấy giờ" asks when, "số mấy" which number.
_HOW_MANY = re.compile(r"(?<!\w)(?<!số )mấy(?!\w)(?!\s+giờ)")
_HOW_MANY_UNACCENTED = re.compile(r"\bmay\s+(?:lan|ngay|tuan|thang|nam|don vi|nguoi|buoi|dot|lop|tieng|phut|ho|xa|"
                                  r"co quan|loai|nhom|muc|tram|diem)\b")

# The measure a "how many" question counts in, folded: "mấy lần một ngày" → "lan", "bao nhiêu
# đơn vị" → "don vi"; "bao lâu" asks a duration, "bao nhiêu tiền" / "kinh phí" an amount of money,
# "tỷ lệ" / "bao nhiêu phần trăm" a share (``_MEASURE_CLASSES``).
# "lần thứ mấy" asks which time, and the word after it is no measure.
_MEASURE_WORD = re.compile(r"(?<!\bthu )\b(?:bao nhieu|may)\s+((?:don vi|co quan|ho gia dinh|[a-z]+))\b")
_MEASURE_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("duration", re.compile(r"\bbao lau\b")),
    ("share", re.compile(r"\b(?:phan tram|ty le|ti le)\b")),
    ("money", re.compile(r"\b(?:bao nhieu|may) (?:tien|dong|ty|trieu)\b|\b(?:kinh phi|chi phi|ngan sach|so tien|tri gia)\b")),
)

# "Các xã báo cáo gửi cho cơ quan nào?" asks where a report goes (answered from the text), not
# whom the document is addressed to, unless it names the document's list ("Nơi nhận", "Kính gửi").
_ABOUT_A_REPORT = re.compile(r"\bbao cao\b")
_NAMES_A_LIST = re.compile(r"\bnoi nhan\b|\bkinh gui\b")


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
    """What kind of answer is wanted: who, destination, when, figure, task, signer, date, number,
    issuer, recipients, basis (the keys of ``_INTENT_PATTERNS``)."""
    names: tuple[str, ...] = ()
    """Folded places and bodies named in capitals ("kien giang", "bac son")."""
    codes: tuple[str, ...] = ()
    """Folded number codes with a digit ("3452/ubnd-vx", "61-ctr/tu", "10/11"): the document
    numbers (and dates) the question names. Also among ``terms``."""
    ordinals: tuple[tuple[str, int], ...] = ()
    """Which occurrence the question asks about, as (folded head, number): "lần thứ tư" →
    ("lan", 4), "đợt 2" → ("dot", 2) (``ordinals``)."""
    english: bool = False
    """The question as typed is in English (``is_english``): the documents are Vietnamese, so
    an abstention tells the user to ask in Vietnamese instead of a bare "not found"."""
    measure: str | None = None
    """For a "how many" question, what it counts in (``asked_measure``): "duration", "share",
    "money", or the folded measure word ("lan", "nguoi", "don vi")."""

    @classmethod
    def parse(cls, asked: str, history: Sequence[str] = ()) -> Question:
        """``asked`` (a follow-up of ``history``, the user's earlier questions, oldest first)
        made standalone, its abbreviations spelled out, and analysed. A long question is first
        reduced to its content (``reduce_question``); ``asked`` keeps the text as typed."""
        standalone = standalone_question(reduce_question(asked), [reduce_question(h) for h in history])
        expanded = expand_abbreviations(standalone)
        folded = fold_match(expanded)
        syllables, written = written_syllables(expanded)
        # With diacritics a syllable is judged as written ("tại" is a function word, "Tài" is not).
        stop = [w in STOPWORDS for w in written] if written else [s in FOLDED_STOPWORDS for s in syllables]
        _drop_question_phrases(written or syllables, stop)
        content = [s for s, dropped in zip(syllables, stop) if not dropped]
        bigrams = [f"{a} {b}" for a, b, x, y in zip(syllables, syllables[1:], stop, stop[1:]) if not (x or y)]
        codes = tuple(dict.fromkeys(c for c in _CODE.findall(folded) if any(ch.isdigit() for ch in c)))
        terms = tuple(dict.fromkeys(content + bigrams + list(codes)))
        intents = frozenset(name for name, pattern in _INTENT_PATTERNS.items() if pattern.search(folded))
        typed_bare = fold(standalone).lower() == standalone.lower()  # no diacritic at all
        if _HOW_MANY.search(standalone.lower()) or (typed_bare and _HOW_MANY_UNACCENTED.search(folded)):
            intents |= {"figure"}
        if "recipients" in intents and _ABOUT_A_REPORT.search(folded) and not _NAMES_A_LIST.search(folded):
            intents -= {"recipients"}
        # Names are read from the text as typed (rewritten), where capitals mark them; the
        # spelled-out abbreviations appended to ``expanded`` are lower case and name nothing.
        return cls(asked, standalone, expanded, folded, terms, intents, _proper_names(standalone), codes,
                   tuple(sorted(ordinals(folded).items())), is_english(asked),
                   asked_measure(folded) if "figure" in intents else None)

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


@lru_cache(maxsize=256)
def spelled_out_words(text: str) -> str:
    """``text`` folded, its abbreviations spelled out in place and its syllables joined by single
    spaces ("UBND các xã" → "uy ban nhan dan cac xa"): a form in which a name can be looked up
    whole in a question, however it was typed."""
    spelled = _ABBREVIATION.sub(lambda m: fold(_ABBREVIATIONS[m.group(1)]), fold_match(text))
    return " ".join(_SYLLABLE.findall(spelled))


# Two-syllable question words, as written and as typed without diacritics: "bao nhiêu" asks how
# many, it is about nothing. Their syllables alone are content ("bảo vệ", "nhiều", "giờ làm
# việc"), so only the pair is dropped. As terms they matched any sentence with "bảo ... nhiều":
# "Giá vàng hôm nay là bao nhiêu?" was answered from a passage about child protection.
_QUESTION_PHRASES = frozenset({("bao", "nhiêu"), ("bao", "lâu"), ("bao", "giờ"),
                               ("bao", "nhieu"), ("bao", "lau"), ("bao", "gio")})


def _drop_question_phrases(syllables: list[str], stop: list[bool]) -> None:
    """Mark in ``stop`` the syllables of two-syllable question words ("bao nhiêu")."""
    for i in range(len(syllables) - 1):
        if (syllables[i], syllables[i + 1]) in _QUESTION_PHRASES:
            stop[i] = stop[i + 1] = True


def asked_measure(folded: str) -> str | None:
    """What a "how many" question (folded) counts in: "duration", "share", "money", the measure
    word after "bao nhiêu" / "mấy", or None ("Kế hoạch có bao nhiêu?")."""
    folded = folded.lower()
    for name, pattern in _MEASURE_CLASSES:
        if pattern.search(folded):
            return name
    m = _MEASURE_WORD.search(folded)
    return m.group(1) if m and m.group(1) not in FOLDED_STOPWORDS else None


_ROLES = "|".join(TEAM_ROLES)
# "Ai làm tổ trưởng Tổ tiếp công dân?", "ai la truong doan kiem tra ...", "Ai được phân công làm thư
# ký?", "Trưởng đoàn kiểm tra là ai?": who holds a place in a team.
_ROLE_ASKED = re.compile(rf"\bai\b(?:\s+\S+){{0,3}}?\s+(?:la|lam|giu)\s+(?:vai tro\s+|chuc\s+|vi tri\s+)?({_ROLES})\b"
                         rf"|\b({_ROLES})\b(?:\s+\S+){{0,10}}?\s+la ai\b")


def asked_role(folded: str) -> str | None:
    """The place in a team a question (folded) asks the holder of ("tổ trưởng" in "Ai làm tổ
    trưởng Tổ tiếp công dân?"), as ``ingest.text.members.TEAM_ROLES`` spells it; None otherwise."""
    m = _ROLE_ASKED.search(folded.lower())
    return (m.group(1) or m.group(2)) if m else None


# "Chỉ thị giao Sở Tài chính làm gì?", "Sở Y tế có nhiệm vụ gì?": what a named body is to do.
_DUTIES_ASKED = re.compile(r"\b(?:lam gi|lam nhung gi|viec gi|nhiem vu gi|nhiem vu nao|trach nhiem gi|cong viec gi|"
                           r"chuan bi gi|chuan bi nhung gi)\b")


def asks_duties(folded: str) -> bool:
    """The question (folded) asks what a body is to do ("… giao Sở Tài chính làm gì?")."""
    return _DUTIES_ASKED.search(folded.lower()) is not None


# What follows the body a duties question asks about: "Sở Tài chính phải làm gì", "UBND huyện X được
# giao nhiệm vụ gì", "Công an tỉnh có nhiệm vụ gì"; or precedes it: "giao Sở Tài chính làm gì".
_DUTY_AFTER_BODY = re.compile(r" (?:duoc giao|duoc yeu cau|phai|can|co nhiem vu|co trach nhiem|lam gi|lam nhung gi) ")
_DUTY_BEFORE_BODY = re.compile(r" giao (.+?) (?:lam gi|lam nhung gi|nhiem vu gi|viec gi|cong viec gi|trach nhiem gi) ")
_BODY_START = re.compile(rf"^{UNIT_HEAD}")
_BODY_MAX_WORDS = 10


def asked_body(standalone: str) -> str | None:
    """The body a duties question asks about, spelled out ("uy ban nhan dan huyen bac son" for
    "UBND huyện Bắc Sơn được giao nhiệm vụ gì?"): right after "giao", or opening the clause that
    goes on "phải / được giao / có nhiệm vụ / làm gì" (or following "của / cho / và" in it). A
    body's first word inside a phrase is not one ("Ngày Công tác xã hội" holds "hội", "cơ sở"
    holds "sở"). None when the question names none, or only asks which one ("đơn vị nào")."""
    for clause in _CLAUSE.split(standalone):
        spelled = f" {spelled_out_words(clause)} "
        m = _DUTY_BEFORE_BODY.search(spelled)
        if m and _BODY_START.match(m.group(1)):
            body = m.group(1)
        else:
            m = _DUTY_AFTER_BODY.search(spelled)
            if not m:
                continue
            before = spelled[:m.start()].split()
            starts = [k for k in range(len(before)) if (k == 0 or before[k - 1] in _BEFORE_BODY)
                      and _BODY_START.match(" ".join(before[k:]))]
            if not starts or len(before) - starts[-1] > _BODY_MAX_WORDS:
                return None
            body = " ".join(before[starts[-1]:])
        # "đơn vị nào" asks which; "Sở X yêu cầu các công ty làm gì" asks about those it directs.
        return None if _NOT_A_BODY.search(f" {body} ") else body
    return None


_CLAUSE = re.compile(r"[,;:?!.()]")
# Words a body's name may follow inside a clause: "… của Sở X", "giao cho Sở X", "Sở X và Sở Y".
_BEFORE_BODY = frozenset({"giao", "cua", "cho", "va", "voi", "thi", "la"})
_NOT_A_BODY = re.compile(r" nao | (?:yeu cau|de nghi|chi dao|huong dan) ")


# "So sánh hạn … của Quảng Trị và Lào Cai", "… khác nhau thế nào?" ("giữa A và B" alone may be a
# relation: "phối hợp giữa tỉnh A và tỉnh B").
_COMPARISON_ASKED = re.compile(r"\b(?:so sanh|khac nhau|giong nhau)\b")


def asks_comparison(folded: str) -> bool:
    """The question (folded) asks to compare ("So sánh …", "… khác nhau thế nào?")."""
    return _COMPARISON_ASKED.search(folded.lower()) is not None


# "Những văn bản nào triển khai Chỉ thị số 28-CT/TW?", "Chỉ thị 28-CT/TW được thực hiện bằng kế hoạch
# nào?": which documents carry out the one named (the other way round from "basis").
_IMPLEMENTERS_ASKED = re.compile(
    r"\b(?:van ban|ke hoach|cong van|quyet dinh|chuong trinh|chi thi|thong bao)\s+nao\s+(?:da\s+)?"
    r"(?:trien khai|thuc hien|cu the hoa|can cu)\b"
    r"|\bduoc\s+(?:\S+\s+){0,2}?(?:trien khai|thuc hien|cu the hoa)\s+(?:bang|qua|tai|trong|theo)\s+"
    r"(?:nhung\s+|cac\s+)?(?:van ban|ke hoach|cong van|quyet dinh|chuong trinh)\s+nao\b")


def asks_implementers(folded: str) -> bool:
    """The question (folded) asks which documents carry out a document it names by number."""
    return _IMPLEMENTERS_ASKED.search(folded.lower()) is not None


# What asks to compare, as written, and the word before a place's name that goes with it.
_COMPARING_WORDS = re.compile(r"(?i)\bso sánh\b|\bkhác nhau(?: (?:thế|như thế) nào)?|\bgiống nhau\b|\bgiữa\b")
_LEVEL_WORD = re.compile(r"(?i)(?:tỉnh|thành phố|huyện|quận|thị xã|xã|phường|TP\.?)\s*$")


def comparison_sides(question: str, names: Sequence[str]) -> list[tuple[str, str]]:
    """A comparison between named places cut into one question per place: (name, the question
    without the comparing words and without the other places' names). "So sánh mục tiêu … giữa
    tỉnh Sóc Trăng và huyện Bắc Sơn." → ("soc trang", "mục tiêu … tỉnh Sóc Trăng và"), …"""
    words = list(_WORD.finditer(question))
    spans: dict[str, list[tuple[int, int]]] = {}
    for name in names:
        size = len(name.split())
        for i in range(len(words) - size + 1):
            run = words[i:i + size]
            if fold_match(" ".join(m.group(0) for m in run)).lower() == name:
                start = run[0].start()
                level = _LEVEL_WORD.search(question, 0, start)
                spans.setdefault(name, []).append((level.start() if level else start, run[-1].end()))
    sides = []
    for name in names:
        cut = sorted(span for other, found in spans.items() if other != name for span in found)
        text, pos = [], 0
        for a, b in cut:
            text.append(question[pos:a])
            pos = b
        text.append(question[pos:])
        sides.append((name, " ".join(_COMPARING_WORDS.sub(" ", "".join(text)).split())))
    return sides


# The words an occurrence is numbered after ("lần thứ tư", "đợt 2", "giai đoạn II"), folded, with
# how an answer writes them.
ORDINAL_HEADS = {"lan": "Lần", "dot": "Đợt", "giai doan": "Giai đoạn", "phien": "Phiên", "vong": "Vòng"}
# "Năm 2024 là lần thứ mấy tổ chức …?": which occurrence, by its head word (as ``ordinals`` reads it).
_ORDINAL_ASKED = re.compile(rf"\b({'|'.join(ORDINAL_HEADS)})\s+thu\s+may\b")


def asked_ordinal(folded: str) -> str | None:
    """The head word of the occurrence a question (folded) asks the number of ("lần thứ mấy" →
    "lan"); None when it asks none."""
    m = _ORDINAL_ASKED.search(folded.lower())
    return m.group(1) if m else None


# "hạn báo cáo của doanh nghiệp khai thác và của các sở, ngành khác nhau thế nào?": two parties compared.
_PARTIES = re.compile(r"(?i)\bcủa\s+(?P<a>[^,?]+?)\s+và\s+(?:của\s+)?(?P<b>[^?]+?)\s+(?=khác nhau|giống nhau)")


def compared_parties(question: str) -> list[str]:
    """A comparison between two parties named after "của" cut into one question per party ("hạn
    báo cáo của A và của B khác nhau thế nào?" → "hạn báo cáo của A", "hạn báo cáo của B"); none
    when the question compares no such pair."""
    m = _PARTIES.search(question)
    if m is None:
        return []
    return [" ".join(_COMPARING_WORDS.sub(" ", f"{question[:m.start()]}của {party} {question[m.end():]}").split())
            for party in (m["a"], m["b"])]


def analyze(question: str) -> Question:
    """``question`` analysed on its own, outside any conversation: ``Question.parse(question)``."""
    return Question.parse(question)


# "lần thứ tư", "đợt 2", "giai đoạn II", folded: a word numeral only after "thứ", so that "đợt
# năm 2025" is no fifth round.
_NUMERALS = {"nhat": 1, "nhi": 2, "hai": 2, "ba": 3, "tu": 4, "bon": 4, "nam": 5, "sau": 6, "bay": 7,
             "tam": 8, "chin": 9, "muoi": 10}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
_ORDINAL = re.compile(r"\b(%s)\s+(?:thu\s+(%s)\b|(?:thu\s+)?(\d{1,2}|%s)\b)"
                      % ("|".join(ORDINAL_HEADS), "|".join(_NUMERALS),
                         "|".join(sorted(_ROMAN, key=len, reverse=True))))


def ordinals(folded: str) -> dict[str, int]:
    """Folded text's numbered occurrences by their head word: "hiệp thương lần thứ nhất" →
    {"lan": 1}. A head numbered twice keeps its first number."""
    found: dict[str, int] = {}
    for m in _ORDINAL.finditer(folded.lower()):
        word, number = m.group(2), m.group(3)
        value = _NUMERALS[word] if word else int(number) if number.isdigit() else _ROMAN[number]
        found.setdefault(m.group(1), value)
    return found


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Capitalised words that are not names: titles of document types, bodies and ranks, dates.
# Compared with diacritics, so "Nam" (Việt Nam) is not "năm" (year).
_NOT_NAME_WORDS = frozenset(
    "theo trong tại về của và các những kế hoạch công văn chương trình chỉ thị quyết định nghị quyết "
    "thông báo tư hướng dẫn tờ báo cáo ban thường vụ tỉnh ủy uỷ huyện xã phường thị trấn thành phố sở "
    "phòng bộ chủ tịch phó giám đốc ngày tháng năm hội nhân dân mặt trận tổ quốc đảng đoàn "
    "chính phủ thủ tướng văn bản điều khoản mục phần chương ai đơn vị cơ quan hãy cho biết".split()
)


def _proper_names(question: str) -> tuple[str, ...]:
    """Folded runs of two or more capitalised words in the question ("Kiên Giang", "Bắc Sơn").

    A name the documents never mention is the surest sign that a question is out of scope.
    Vietnamese names are several syllables, each capitalised; one capitalised word is usually
    just the start of the sentence.
    """
    names, run = [], []
    previous_end = 0
    words = list(_WORD.finditer(question + " end"))  # a lower-case word closes the last run
    sector = _sector_words([fold_match(m.group(0)).lower() for m in words])
    for i, m in enumerate(words):
        word = m.group(0)
        if question[previous_end:m.start()].strip():  # punctuation ends a name: "Đắk Lắk, Trung tâm …"
            if len(run) >= 2:
                names.append(fold_match(" ".join(run)))
            run = []
        previous_end = m.end()
        if (word[0].isupper() and not word.isupper() and i not in sector
                and canonical_tones(word.lower()) not in _NOT_NAME_WORDS):
            run.append(word)
            continue
        if len(run) >= 2:
            names.append(fold_match(" ".join(run)))
        run = []
    return tuple(dict.fromkeys(names))


_SECTORS = tuple(tuple(name.split()) for name in SECTOR_NAMES)


def _sector_words(folded: list[str]) -> set[int]:
    """Indexes of the words that spell a department's field ("Công Thương", "Tài Chính"): they
    belong to the body's title, so "Sở Công Thương Đắk Lắk" names the place "Đắk Lắk", which the
    documents write, not "Thương Đắk Lắk", which they need not."""
    found: set[int] = set()
    for i in range(len(folded)):
        for sector in _SECTORS:
            if tuple(folded[i:i + len(sector)]) == sector:
                found.update(range(i, i + len(sector)))
    return found


# --- Long questions -------------------------------------------------------------------------
# A question of a few sentences is left alone: every ordinary question is one sentence, and
# reducing is only for the 100-word message with a greeting, the asker's situation, then the
# question, whose background words would otherwise outweigh the question's in retrieval.
_LONG_QUESTION_WORDS = 40
_SENTENCE_END = re.compile(r"(?<=[.?!;…])\s+|\s*\n+\s*")
_PLEASANTRY = re.compile(
    r"^(?:xin chao|chao|kinh chao|kinh gui|cam on|xin cam on|tran trong|em xin cam on|toi xin cam on|"
    r"rat mong|mong (?:anh|chi|ban|quy)|nho (?:anh|chi|ban)|xin loi|em xin phep|toi xin phep)\b"
)
# Words that make a sentence a question even without a question mark ("cho tôi biết …").
_ASKS = re.compile(
    r"\b(?:nao|gi|bao nhieu|bao gio|khi nao|o dau|the nao|ra sao|la ai|co phai)\b"
    r"|^(?:cho (?:toi|em|minh) (?:hoi|biet)|hay cho biet|xin hoi|toi muon hoi|em muon hoi|vui long cho biet)\b"
)
# What a context sentence must carry to be kept: a document number, a date or a figure.
_ANCHOR = re.compile(r"\d")


def reduce_question(text: str) -> str:
    """``text`` reduced to its content when it is long (over ``_LONG_QUESTION_WORDS`` words):
    the sentences that ask (those ending in a question mark, or, when none does, those with a
    question word or an intent) and the context
    sentences that carry a number, a date, a document code or a named place or body, in their
    order; greetings and thanks are dropped. A short text, or one where no sentence asks, is
    returned unchanged."""
    if len(text.split()) <= _LONG_QUESTION_WORDS:
        return text
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    # With a question mark somewhere, it alone marks the question: background sentences use
    # question words too ("không biết hỏi ai", "trong thời gian qua").
    marked = any(s.endswith("?") for s in sentences)
    kept, asks = [], False
    for sentence in sentences:
        folded = fold_match(sentence)
        asking = sentence.endswith("?") if marked else (
            bool(_ASKS.search(folded)) or any(p.search(folded) for p in _INTENT_PATTERNS.values()))
        if _PLEASANTRY.match(folded) and not asking:
            continue
        if asking or _ANCHOR.search(sentence) or _proper_names(sentence) or ENTITY.search(sentence):
            kept.append(sentence)
            asks = asks or asking
    return " ".join(kept) if asks else text


# --- English questions ----------------------------------------------------------------------
# Function words, not content words: "report" or "deadline" say nothing about the language of a
# question typed in Vietnamese without diacritics, "the", "which", "must" do.
_ENGLISH_WORDS = frozenset(
    "the a an of to in on for from with by at about is are was were be been has have had does do did "
    "what which who whom whose when where why how must should shall will would can could this that "
    "these those it its and or not any all there their they we i you my our please".split()
)
# Folded Vietnamese function words that English never uses; "to", "do", "an", "the" are
# Vietnamese too once diacritics are gone, so they are English only among English neighbours.
_VIETNAMESE_WORDS = frozenset(
    "nao gi ai cua cac nhung duoc trong khong la va ve cho phai bao nhieu thi sao khi nay vien "
    "nhu voi tai theo cua don vi co quan ngay thang nam huyen tinh xa so phong ubnd".split()
)
_LATIN_WORD = re.compile(r"[A-Za-z']+")


def is_english(text: str) -> bool:
    """True when ``text`` reads as English: no Vietnamese letters (diacritics, đ), and at least
    two common English function words making up a quarter of its words and outnumbering the
    Vietnamese function words by two to one (a question typed without diacritics shares
    "to", "do", "an", "the" with English)."""
    if any(ord(ch) > 0x7F and ch.isalpha() for ch in text):
        return False
    words = [w.lower().strip("'") for w in _LATIN_WORD.findall(text)]
    if not words:
        return False
    english = sum(w in _ENGLISH_WORDS for w in words)
    vietnamese = sum(w in _VIETNAMESE_WORDS for w in words)
    return english >= 2 and english / len(words) >= 0.25 and english > 2 * vietnamese


ENGLISH_HINT = ("Văn bản trong kho bằng tiếng Việt; hãy đặt câu hỏi bằng tiếng Việt, ví dụ: "
                "“Đơn vị nào phải báo cáo trước ngày 10/11?” hoặc “Ai ký Kế hoạch số 45/KH-UBND?”.")
"""What an abstention on an English question says besides "not found"."""
