"""Which retrieved sentences answer a question: features of each candidate sentence, and a
logistic model over them whose weights were fitted on labelled questions.

Every sentence of every retrieved chunk is a candidate. Its features describe how much of the
question's IDF-weighted content it holds (in the sentence, or only in its section path or
document header), whether it offers what the question asks (a date, a figure, an assignment),
its shape (heading, lead-in, header block), and where retrieval put its chunk. A logistic model
turns them into the probability that the sentence is the one a person would quote; that
probability decides the outcome (answered, uncertain, not found) with thresholds fitted with
the weights.

The weights and thresholds live in ``rag/selection_model.json``, written by
``evals/fit_selection.py`` (cross-validated by document over the gold set and the development
set; the file records how). ``CONGVAN_SELECTION_MODEL`` points at another file.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ingest.models import Document
from ingest.settings import Settings, Tuning
from ingest.sparse import tokenize
from ingest.text.actors import heading_units
from ingest.text.labels import document_title
from ingest.text.normalize import fold
from ingest.text.sentences import sentence_spans
from rag.models import RetrievedChunk
from rag.query import Question, spelled_out_words
from rag.retrieve import Retrieval

DEFAULT_MODEL = Path(__file__).with_name("selection_model.json")

_DATE = re.compile(
    r"\b(?:ngay|truoc ngay|thang|quy|nam)\s*\d{1,4}(?:/\d{1,2})?(?:/\d{2,4})?|\b\d{1,2}/\d{1,2}\b"
    r"|\bquy\s+(?:i{1,3}|iv)\b|\b\d{1,2}\s?h\s?\d{2}\b|\b\d{1,2}\s+gio\b")  # "19h00", "8 giờ": a time of day
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s*%|\b\d+/\d+\b")
# "Thực hiện Công văn số ..." / "Căn cứ ..." / "Theo đề nghị của ..." (a decision's last basis line,
# naming who proposed it): the basis of a document, not what it requires.
_PREAMBLE = re.compile(r"^\W*(?:thuc hien|can cu|theo de nghi cua|trien khai thuc hien (?:van ban|cong van|ke hoach))\b")
# A document cited by its number: "Chỉ thị số 32/CT-TTg", "Kế hoạch 218/KH-UBND", "11-CT/TU".
_CITED_NUMBER = re.compile(r"\b\d+(?:/\d{4})?[/-][a-z]{1,6}(?:[/-][a-z0-9]+)*\b")
# A cited document with its date ("Kế hoạch số 77/KH-UBND ngày 17 tháng 9 năm 2025", "Quyết định
# 1050/QĐ-SCT ngày 06/3/2026", "Luật số 85/2015/QH13, ngày 25/6/2015"): that date says when the
# document was signed, never when anything asked about happens, so it offers no answer to "khi
# nào" (a preamble is full of them). Only a space, a line break or a comma between them:
# "9/pixel.png) trước ngày 15/12" is a path and a deadline, not a document and its date.
_DOCUMENT_DATE = re.compile(r"\b\d+(?:/\d{4})?[/-][a-z]{1,6}\d*(?:[/-][a-z0-9]+)*\b[\s,]{0,4}ngay\s*\d{1,2}\s*(?:/|thang)\s*\d{1,2}\s*(?:/|nam)\s*\d{4}")
_ASSIGNING = re.compile(r"\b(?:chu tri|giao|de nghi|yeu cau|co trach nhiem|phoi hop)\b")
# A number standing alone, or with a unit written against it ("300m", "8.400kg", "12h00", "95%").
_NUMBER = re.compile(r"(?<!\w)\d+(?:[.,]\d+)*(?:%|m2|m3|km|kg|ha|m|h\d*)?(?!\w)")
_QUESTION_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_YEAR_OR_DATE = re.compile(r"\b(?:19|20)\d\d\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d+[-/][A-ZĐa-zđ]")
# A well-formed Vietnamese syllable, accent-folded: onset, one to three vowels, coda.
_SYLLABLE_SHAPE = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$")

FEATURES: tuple[str, ...] = (
    "coverage",          # share of the question's weight in the sentence, context terms at their credit
    "own",               # share of the question's weight in the sentence itself
    "context",           # share found only in the section path or document header
    "neighbours",        # share found not in the sentence but in the one before or after it
    "bigrams",           # share of the question's two-syllable terms' weight in the sentence
    "own_gap",           # own minus the best own of the question's candidates (0 for the best)
    "own_local",         # own, each term weighed again by how few of the question's candidates hold it:
                         # a name every sentence of the retrieved documents repeats tells none apart
    "chunk_rank",        # 1 / (rank of the chunk + 1)
    "chunk_score",       # the chunk's fused retrieval score over the first chunk's
    "top_document",      # the sentence's document is the first chunk's
    "named_document",    # the question names the sentence's document by number
    "asks_when_date",    # the question asks when and the sentence holds a date
    "asks_when_no_date",
    "asks_figure_number",  # the question asks how many and the sentence holds a quantity
    "asks_figure_no_number",
    "asks_figure_measure",  # the question asks how many of a measure and the sentence counts in it
                            # ("mấy lần một ngày": "báo cáo 02 lần/ngày"; "bao lâu": "02 ngày làm việc")
    "asks_who_assigning",  # the question asks who / what to do and the sentence assigns
    "asks_who_preamble",   # ... and the sentence is a preamble ("Thực hiện Công văn ...")
    "asks_basis_cites",    # the question asks which document another carries out or rests on, and the
                           # sentence cites a document by number
    "asks_basis_preamble", # ... and the sentence is a preamble ("Thực hiện Chỉ thị số ...", "Căn cứ ...")
    "section_names_unit",  # the question names the unit whose section holds the sentence
    "offers_new",        # the question asks when / how many / who / on what basis, and the sentence holds a
                         # date / quantity / named body / document number the question does not already say
    "fragment",          # a heading, an agency line, a capitalised line or a short fragment
    "lead_in",           # ends with ":" (introduces a list)
    "header_block",      # sits in the document's header chunk
    "log_words",         # log(1 + words)
    # Not a feature: whether the document lost its diacritics (careless OCR). One document of the
    # two sets did, so out of fold a model never sees it; in fold, a rare standardised flag took a
    # weight that sank every sentence of such a document (README, Q&A). Matching still tolerates
    # its OCR errors.
    "missing_rare",      # weight of the rarest question term found neither in the sentence nor its context,
                         # over the rarest term's weight ("tuổi thọ" asked, never written)
    "missing_year",      # the question names a year its document never writes
)


QUESTION_FEATURES: tuple[str, ...] = (
    "best_logit",        # log-odds of the most probable sentence
    "second_logit",      # log-odds of the runner-up (-10 when there is none)
    "best_coverage",     # the highest coverage of any candidate
    "best_own",          # the highest in-sentence coverage of any candidate
    # Not features: the best sentence's flags (offers what is asked, offers something new, lacks the
    # rarest word) and the retrieval score. The sentence model already weighs the flags; here a
    # flag nearly always set got a standardised leverage of several logits from the few questions
    # without it (a "bao nhiêu ngày" question went from 0.43 to 0.96 because its best sentence held
    # no number). Without the four, out of fold over 5 splits: devset fact recall 0.599 -> 0.602,
    # abstention accuracy 0.800 -> 0.812; gold fact recall 0.837 -> 0.841 (README, Q&A).
)


@dataclass
class Candidate:
    """One sentence of a retrieved chunk, with its features and (once scored) probability."""

    chunk: RetrievedChunk
    doc: Document
    start: int
    end: int
    features: dict[str, float]
    probability: float = 0.0

    @property
    def text(self) -> str:
        return self.doc.text[self.start:self.end]


@dataclass(frozen=True)
class SelectionModel:
    """Logistic weights over ``FEATURES`` and the thresholds fitted with them.

    ``answer_threshold``: the best sentence's probability at which the question is answered.
    ``related_threshold``: below the answer threshold but at least this, the answer is uncertain
    (abstained, with the best passages offered as related). ``extra_threshold``: a further sentence
    is quoted when its probability reaches it (lists, one answer per document).
    """

    weights: dict[str, float]
    bias: float
    answer_threshold: float
    related_threshold: float
    extra_threshold: float
    mean: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)
    question: Logistic | None = None
    provenance: str = ""

    def probability(self, features: dict[str, float]) -> float:
        """Probability that a sentence with ``features`` is one a person would quote."""
        return _sigmoid(_linear(self.weights, self.bias, self.mean, self.scale, features))

    def confidence(self, ranked: list[Candidate]) -> float:
        """Probability that the question is answered by its candidates (``ranked``, scored), from
        the question-level model; without one, the best sentence's probability."""
        if not ranked:
            return 0.0
        if self.question is None:
            return ranked[0].probability
        return self.question.probability(question_features(ranked))

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "weights": self.weights, "bias": self.bias, "mean": self.mean,
                "scale": self.scale, "answer_threshold": self.answer_threshold,
                "related_threshold": self.related_threshold, "extra_threshold": self.extra_threshold,
                "question": self.question.to_json() if self.question else None, "provenance": self.provenance}

    @classmethod
    def from_json(cls, data: dict) -> SelectionModel:
        unknown = set(data.get("weights", {})) - set(FEATURES)
        if unknown:
            raise ValueError(f"selection model names unknown features: {', '.join(sorted(unknown))}")
        return cls(weights=dict(data["weights"]), bias=float(data["bias"]),
                   answer_threshold=float(data["answer_threshold"]),
                   related_threshold=float(data["related_threshold"]),
                   extra_threshold=float(data["extra_threshold"]),
                   mean=dict(data.get("mean", {})), scale=dict(data.get("scale", {})),
                   question=Logistic.from_json(data["question"]) if data.get("question") else None,
                   provenance=str(data.get("provenance", "")))


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic model over ``QUESTION_FEATURES``: is the question answered?"""

    weights: dict[str, float]
    bias: float
    mean: dict[str, float]
    scale: dict[str, float]

    def probability(self, features: dict[str, float]) -> float:
        return _sigmoid(_linear(self.weights, self.bias, self.mean, self.scale, features))

    def to_json(self) -> dict:
        return {"weights": self.weights, "bias": self.bias, "mean": self.mean, "scale": self.scale}

    @classmethod
    def from_json(cls, data: dict) -> Logistic:
        unknown = set(data.get("weights", {})) - set(QUESTION_FEATURES)
        if unknown:
            raise ValueError(f"selection model names unknown question features: {', '.join(sorted(unknown))}")
        return cls(dict(data["weights"]), float(data["bias"]), dict(data.get("mean", {})), dict(data.get("scale", {})))


def question_features(ranked: list[Candidate]) -> dict[str, float]:
    """What the question-level model reads of a question's scored candidates (best first)."""
    return summarize([c.probability for c in ranked], [c.features for c in ranked])


def summarize(probabilities: list[float], features: list[dict[str, float]]) -> dict[str, float]:
    """``question_features`` from parallel lists, best candidate first (also used when fitting)."""
    return {
        "best_logit": _logit(probabilities[0]),
        "second_logit": _logit(probabilities[1]) if len(probabilities) > 1 else -10.0,
        "best_coverage": max(f["coverage"] for f in features),
        "best_own": max(f["own"] for f in features),
    }


def _linear(weights: dict[str, float], bias: float, mean: dict[str, float], scale: dict[str, float],
            features: dict[str, float]) -> float:
    z = bias
    for name, w in weights.items():
        z += w * (features.get(name, 0.0) - mean.get(name, 0.0)) / (scale.get(name, 1.0) or 1.0)
    return z


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> SelectionModel:
    try:
        return SelectionModel.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read the selection model {path}: {exc}") from exc


def load_model(settings: Settings) -> SelectionModel:
    """The selection model named by ``settings.selection_model`` (default: the packaged one)."""
    path = Path(settings.selection_model or DEFAULT_MODEL)
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise ValueError(f"cannot read the selection model {path}: {exc}") from exc
    return _load(str(path), mtime)


def candidates(q: Question, retrieval: Retrieval, weights: dict[str, float], prefer: set[str],
               tuning: Tuning) -> list[Candidate]:
    """Every sentence of the retrieved chunks that shares a content term with the question,
    with its features; ``weights`` are the question terms' IDF weights, ``prefer`` the ids of
    documents the question names."""
    total = sum(weights.values()) or 1.0
    heaviest = max(weights.values(), default=0.0) or 1.0
    years = set(_QUESTION_YEAR.findall(q.folded))
    bigram_total = sum(w for t, w in weights.items() if " " in t) or 0.0
    out: list[Candidate] = []
    held: list[dict[str, float]] = []  # each candidate's matched terms, for own_local
    top = retrieval.chunks[0] if retrieval.chunks else None
    top_score = top.score if top and top.score > 0 else 1.0
    for rank, chunk in enumerate(retrieval.chunks):
        doc = retrieval.documents.get(chunk.doc_id)
        if doc is None:
            continue
        context = set(tokenize(" ".join(filter(None, [document_title(doc.metadata), chunk.section]))))
        ocr_damaged = lost_diacritics(doc, tuning)
        missing_year = any(y not in doc.text for y in years)
        header_block = chunk.chunk_id.endswith(":0")
        section_unit = bool(chunk.section) and names_section_unit(q, chunk.section)
        spans = sentence_spans(doc.text, chunk.start, chunk.end)
        every = [_matched(doc.text[a:b], weights, ocr_damaged, tuning) for a, b in spans]
        for i, (start, end) in enumerate(spans):
            sentence = doc.text[start:end]
            matched = every[i]
            own = sum(w * matched[t] for t, w in weights.items())
            # "6. Thời gian nổ mìn:" then "Buổi trưa: Từ 12h00 …": the item under a matching
            # lead-in answers, though it repeats none of the question's words.
            under_lead_in = i > 0 and doc.text[spans[i - 1][0]:spans[i - 1][1]].rstrip(" *").endswith(":") \
                and any(every[i - 1].values())
            if own <= 0 and not under_lead_in:
                continue
            # "Thông tư có hiệu lực từ ngày 10/4/2026.": the question's words stand in the sentence
            # before or after, which the short answering sentence continues.
            beside = [every[j] for j in (i - 1, i + 1) if 0 <= j < len(spans)]
            neighbours = sum(w for t, w in weights.items() if not matched[t] and any(m[t] for m in beside))
            near = sum(w for t, w in weights.items() if t in context and not matched[t])
            missing = max((w for t, w in weights.items() if not matched[t] and t not in context), default=0.0)
            bigrams = sum(w * matched[t] for t, w in weights.items() if " " in t)
            folded = fold(sentence)
            stripped = sentence.strip(" *#\n")
            has_date = _dated(folded)
            has_figure = has_quantity(sentence)
            assigning = bool(_ASSIGNING.search(folded))
            features = {
                "coverage": (own + tuning.context_coverage_credit * near) / total,
                "own": own / total,
                "context": near / total,
                "neighbours": neighbours / total,
                "bigrams": bigrams / bigram_total if bigram_total else 0.0,
                "chunk_rank": 1.0 / (rank + 1),
                "chunk_score": max(0.0, chunk.score) / top_score,
                "top_document": float(top is not None and chunk.doc_id == top.doc_id),
                # Only passages search found: those added because the document is named (score 0)
                # are mostly beside the point, and would teach the model that naming hurts.
                "named_document": float(doc.doc_id in prefer and chunk.score > 0),
                "asks_when_date": float(q.wants("when") and has_date),
                "asks_when_no_date": float(q.wants("when") and not has_date),
                "asks_figure_number": float(q.wants("figure") and has_figure),
                "asks_figure_no_number": float(q.wants("figure") and not has_figure),
                "asks_figure_measure": float(q.measure is not None and counts_in(q.measure, folded)),
                "asks_who_assigning": float((q.wants("who") or q.wants("task")) and assigning),
                "asks_who_preamble": float((q.wants("who") or q.wants("task")) and bool(_PREAMBLE.match(folded))),
                "asks_basis_cites": float(q.wants("basis") and bool(_CITED_NUMBER.search(folded))),
                "asks_basis_preamble": float(q.wants("basis") and bool(_PREAMBLE.match(folded))),
                "section_names_unit": float(section_unit),
                "offers_new": float(offers_new(q, sentence, folded)),
                "fragment": float(is_fragment(stripped, chunk, tuning)),
                "lead_in": float(stripped.endswith(":")),
                "header_block": float(header_block and not (q.wants("number") or q.wants("date")
                                                            or q.wants("recipients"))),
                "log_words": math.log1p(len(stripped.split())),
                "missing_rare": missing / heaviest,
                "missing_year": float(missing_year),
            }
            out.append(Candidate(chunk, doc, start, end, features))
            held.append(matched)
    best_own = max((c.features["own"] for c in out), default=0.0)
    local = local_weights(weights, held)
    local_total = sum(local.values()) or 1.0
    for c, matched in zip(out, held):
        c.features["own_gap"] = c.features["own"] - best_own
        c.features["own_local"] = sum(w * matched[t] for t, w in local.items()) / local_total
    return out


def _matched(sentence: str, weights: dict[str, float], ocr_damaged: bool, tuning: Tuning) -> dict[str, float]:
    """How far the sentence holds each question term (1, a fuzzy OCR match's credit, or 0)."""
    matcher = TermMatcher(tokenize(sentence), fuzzy_all=ocr_damaged, credit=tuning.ocr_fuzzy_credit,
                          min_letters=tuning.ocr_fuzzy_min_letters)
    return {t: matcher.match(t) for t in weights}


def local_weights(weights: dict[str, float], held: list[dict[str, float]]) -> dict[str, float]:
    """The question terms' weights times their rarity among the candidate sentences
    (``held``: what each matched, 0 to 1): log((n + 1) / (df + 0.5)) over the n candidates."""
    n = len(held)
    return {t: w * math.log((n + 1) / (sum(1 for m in held if m[t] > 0) + 0.5)) for t, w in weights.items()}


def score(found: list[Candidate], model: SelectionModel) -> list[Candidate]:
    """``found`` with probabilities, most probable first."""
    for c in found:
        c.probability = model.probability(c.features)
    return sorted(found, key=lambda c: -c.probability)


# What each kind of question asks for, as found in a folded sentence: a date, time or period;
# a named body or person ("Sở Tư pháp", "Ông Hoàng Văn A"); a document number.
_WHEN_ITEM = re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\bngay\s+\d{1,2}\s+thang\s+\d{1,2}|\bthang\s+\d{1,2}\b"
                        r"|\bquy\s+(?:i{1,3}|iv|\d)\b|\b\d{1,2}\s*h\s*\d{0,2}\b|\bhang\s+(?:ngay|tuan|thang|quy|nam)\b"
                        r"|\bnam\s+(?:19|20)\d\d\b")
_BODY_ITEM = re.compile(r"(?:Sở|Ban|Bộ|Ủy ban|UBND|Công an|Phòng|Trung tâm|Văn phòng|Hội|Đoàn|Cục|Chi cục|Ngân hàng|"
                        r"Bảo hiểm|Mặt trận|Bộ Chỉ huy|Công ty|Trường|Ông|Bà|Đồng chí)\.?\s+[A-ZĐ]\w*(?:\s+[A-ZĐ]\w*)*")
# "báo cáo về UBND tỉnh", "trình Hội đồng nhân dân huyện": a council or committee is named by its level,
# in lower case, so it is read folded (a scan that lost its diacritics writes "UBND tinh").
_LEVEL_BODY_ITEM = re.compile(r"\b(?:ubnd|uy ban nhan dan|hdnd|hoi dong nhan dan)\s+(?:cap\s+)?"
                              r"(?:tinh|huyen|xa|phuong|quan|thi xa|thi tran|thanh pho)\b")
_NUMBER_ITEM = re.compile(r"(?<![\w/])\d+(?:[.,]\d+)*(?![\w/])")


def offers_new(q: Question, sentence: str, folded: str) -> bool:
    """The sentence holds what the question asks for and does not itself say: a date or period
    for "when", a quantity for "how many", a named body for "who", a document number for
    "which document" (a sentence repeating the question's own date answers nothing)."""
    found: set[str] = set()
    if q.wants("when"):
        found |= {m.group(0) for m in _WHEN_ITEM.finditer(without_document_dates(folded))}
    if q.wants("figure") and has_quantity(sentence):
        found |= {m.group(0) for m in _NUMBER_ITEM.finditer(folded)}
    if q.wants("who") or q.wants("task") or q.wants("destination"):
        # By its first three syllables: "Sở Công Thương Lào Cai" is the question's "Sở Công Thương".
        found |= {" ".join(fold(m.group(0)).lower().replace(".", " ").split()[:3]) for m in _BODY_ITEM.finditer(sentence)}
        found |= {m.group(0) for m in _LEVEL_BODY_ITEM.finditer(folded)}
    if q.wants("basis"):
        found |= {m.group(0) for m in _CITED_NUMBER.finditer(folded)}
    return any(not says_whole(q.folded, item) for item in found)


def says_whole(folded: str, item: str) -> bool:
    """``item`` stands in ``folded`` whole: the "02" of "02 lần/ngày" is not in "11/2025" (its
    "11" and "2025" are)."""
    return re.search(rf"(?<!\w){re.escape(item)}(?!\w)", folded) is not None


def of_another_year(q: Question, section: str, sentence: str) -> bool:
    """The question names a year, the sentence's section path heads another one ("1. Phát triển
    kinh tế số đến năm 2030 > a) Mục tiêu chung") and the sentence itself does not name the year
    asked: a goal for 2030 does not answer "… cho năm 2025?"."""
    asked = set(_QUESTION_YEAR.findall(q.folded))
    headed = set(_QUESTION_YEAR.findall(section or ""))
    own = set(_QUESTION_YEAR.findall(without_document_dates(fold(sentence))))
    return bool(asked) and bool(headed) and not asked & headed and not asked & own


def holds_day(sentence: str) -> bool:
    """A day ("10/11", "ngày 15 tháng 5", "trước ngày 25", "ngày ký"), not only a month, a
    quarter or a year; not the date of a document it cites."""
    return bool(_DAY.search(without_document_dates(fold(sentence))))


_DAY = re.compile(r"\b\d{1,2}\s*/\s*\d{1,2}\b|\bngay\s+(?:\d{1,2}\b|ky\b)")


def holds_date(sentence: str) -> bool:
    """A date, a month, a quarter, a year or a time of day ("trước ngày 10/11", "quý II",
    "19h00"), as ``asks_when_date`` reads it; not the date of a document it cites."""
    return _dated(fold(sentence))


def _dated(folded: str) -> bool:
    return bool(_DATE.search(without_document_dates(folded)))


def without_document_dates(folded: str) -> str:
    """The folded sentence with each cited document's number and date blanked out."""
    return _DOCUMENT_DATE.sub(" ", folded)


# An item's own numbering opens it ("3. Đối tượng: ...", "2) ...", "4.1. ...", "| 2 | Rà soát ... |"):
# it says where the item stands, not how many of anything there are.
_ITEM_NUMBER = re.compile(r"^[\s*#|]*\d+(?:\.\d+)*\s*(?:[.)]|\|)(?!\d)")


# A number and the measure it counts, folded: "02 lần/ngày", "4.500 tỷ đồng", "15 %", "02 ngày làm việc".
_COUNT = r"(?<![\w/])\d+(?:[.,]\d+)*\s*"
_MEASURE_COUNTS = {
    # Not a date ("15 tháng 3", "ngày 15 tháng 11 năm 2025"): no number follows, unless it counts
    # times ("1 năm 1 lần": how often).
    "duration": re.compile(_COUNT + r"(?:ngay|tuan|thang|nam|gio|phut|buoi)\b(?!\s*\d+(?!\s*lan\b))"),
    "share": re.compile(_COUNT + r"(?:%|phan tram)"),
    # "4.500 tỷ đồng", "1.250 triệu.", not "3,5 triệu con gia súc" (a count of millions of head).
    "money": re.compile(_COUNT + r"(?:(?:(?:ty|trieu|nghin|ngan)\s+)?(?:dong|vnd|usd)\b"
                                 r"|(?:ty|trieu)\b(?=\s*(?:[.,;:()]|$)))"),
}


def counts_in(measure: str, folded: str) -> bool:
    """The folded sentence holds a number counting ``measure`` (``Question.measure``): a class
    ("duration", "share", "money") or the measure word itself ("lan": "02 lần/ngày")."""
    return bool(_measure_pattern(measure).search(folded.lower()))


@lru_cache(maxsize=256)
def _measure_pattern(measure: str) -> re.Pattern[str]:
    return _MEASURE_COUNTS.get(measure) or re.compile(_COUNT + re.escape(measure) + r"\b")


def has_quantity(sentence: str) -> bool:
    """A quantity: a percentage or a number that is not a year, a date, a document number or the
    item's own numbering ("3. Đối tượng: ..." holds none). A digit glued inside a word ("16ng",
    "c6": OCR's reading of letters) is not a number."""
    return bool(_NUMBER.search(_YEAR_OR_DATE.sub(" ", _ITEM_NUMBER.sub(" ", sentence, count=1))))


def is_fragment(stripped: str, chunk: RetrievedChunk, tuning: Tuning) -> bool:
    """A heading, an agency line or a fragment: short, in capitals, or repeating its heading."""
    words = len(stripped.split())
    last_heading = chunk.section.split(" > ")[-1] if chunk.section else ""
    echoes_heading = bool(last_heading) and fold(stripped).startswith(fold(last_heading)[:tuning.heading_match_chars])
    return words < tuning.fragment_max_words or stripped.isupper() or (
        echoes_heading and words < tuning.heading_echo_max_words)


def names_section_unit(q: Question, section: str) -> bool:
    """The question names a body that a heading of the passage's section names: "Chỉ thị giao
    Sở Tài chính làm gì?" and a sentence under "IV. TỔ CHỨC THỰC HIỆN > 3. Sở Tài chính"."""
    asked = f" {spelled_out_words(q.standalone)} "
    return any(f" {spelled_out_words(unit)} " in asked for unit in heading_units(section.split(" > ")))


class TermMatcher:
    """Whether a sentence contains a query term, tolerating one OCR error per syllable.

    OCR text ("trudc" for "trước", "céc" for "các") breaks exact matching. A syllable within
    one edit of a query syllable counts, at reduced weight, when the sentence's syllable is not
    a well-formed Vietnamese syllable ("trudc") or the whole document lost its diacritics, so
    that real words one letter apart ("thuộc"/"trước") are not confused in clean text.
    A fuzzy match counts ``credit``; syllables shorter than ``min_letters`` match exactly only.
    """

    def __init__(self, tokens: list[str], *, fuzzy_all: bool, credit: float, min_letters: int) -> None:
        self.exact = set(tokens)
        self.credit = credit
        self.min_letters = min_letters
        self._deletes: dict[str, set[str]] = {}
        for token in self.exact:
            if " " in token or len(token) < min_letters or token.isdigit():
                continue
            if fuzzy_all or not _SYLLABLE_SHAPE.match(token):
                for variant in _deletions(token):
                    self._deletes.setdefault(variant, set()).add(token)

    def match(self, term: str) -> float:
        if term in self.exact:
            return 1.0
        if not self._deletes:
            return 0.0
        parts = term.split(" ")
        if len(parts) == 1:
            return self.credit if self._near(term) else 0.0
        if all(p in self.exact or self._near(p) for p in parts) and " ".join(parts) not in self.exact:
            return self.credit
        return 0.0

    def _near(self, syllable: str) -> bool:
        if len(syllable) < self.min_letters or syllable.isdigit():
            return False
        return any(v in self._deletes for v in _deletions(syllable))


def _deletions(word: str) -> set[str]:
    """The word and every one-letter deletion of it: two words within one edit share one."""
    return {word, *(word[:i] + word[i + 1:] for i in range(len(word)))}


def lost_diacritics(doc: Document, tuning: Tuning) -> bool:
    """True for text that lost its accents (careless OCR): few letters carry a diacritic."""
    return _few_diacritics(doc.text[:tuning.ocr_sample_chars], tuning.ocr_diacritics_ratio)


@lru_cache(maxsize=4096)
def _few_diacritics(sample: str, ratio: float) -> bool:
    # Folding maps each composed letter to one letter, so the two strings align character by
    # character; one fold of the sample, not one per character, and once per document text.
    folded = fold(sample)
    if len(folded) != len(sample):  # a character that folds to two (rare): compare one by one
        folded = "".join(fold(ch)[:1] or ch for ch in sample)
    pairs = [(a, b) for a, b in zip(sample.lower(), folded) if a.isalpha()]
    marked = sum(1 for a, b in pairs if a != b)
    return bool(pairs) and marked / len(pairs) < ratio
