"""Register items as evidence for answers: which obligations and targets answer a question, and
the Vietnamese line each is shown as.

The question comes analysed by the answering layer (``rag.query.Question``, built once per
ask): the register sits below answering and reads only the fields ``AnalyzedQuestion`` names.
Coverage thresholds and bonuses are the settings' ``Tuning`` values (``evidence_*``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from ingest.index import Index
from ingest.register.exports import deadline_label
from ingest.register.models import Obligation, Register, SourceRef, Target
from ingest.register.storage import items_by_id, load_register, ranked_match_terms, terms_indexed
from ingest.register.terms import MatchTerms, item_context, obligation_own, question_vector, target_own
from ingest.settings import Settings, get_settings
from ingest.sparse import tokenize
from ingest.text.normalize import fold
from ingest.text.tokens import SYLLABLE as _SYLLABLE, written_syllables


class AnalyzedQuestion(Protocol):
    """What evidence matching reads of a question (``rag.query.Question`` has these)."""

    expanded: str
    folded: str
    terms: tuple[str, ...]
    names: tuple[str, ...]
    codes: tuple[str, ...]

    def wants(self, intent: str) -> bool: ...


class Evidence(BaseModel):
    """A register item that answers a question, ready to be cited like any answer sentence."""

    kind: Literal["obligation", "target"]
    score: float
    line: str = Field(description="What to show, in Vietnamese, without a citation marker.")
    source: SourceRef
    obligation: Obligation | None = None
    target: Target | None = None


_ASKS_DEADLINE = re.compile(r"\b(?:han|thoi han|han chot|truoc ngay|ngay nao|khi nao|bao gio|dinh ky|thang nao|luc nao)\b")
# "Thủ tướng làm việc với tỉnh vào những ngày nào?", "số liệu được chốt vào lúc nào?", "hội nghị diễn
# ra khi nào?": when something happens, which no obligation's deadline answers; nor how long
# something lasts ("Tổ … hoạt động đến khi nào?").
_ASKS_EVENT = re.compile(r"\b(?:dien ra|lam viec voi|den tham|duoc chot|chot so lieu|khai mac|be mac|"
                         r"co hieu luc|"
                         r"(?:hoat dong|keo dai|ton tai|duy tri) den (?:khi nao|bao gio|ngay nao|luc nao))\b")
# Our targets are percentages: a question naming a rate or a goal asks for one; a bare "bao
# nhiêu" may ask for a count or an amount the register does not hold.
_ASKS_RATE = re.compile(r"\b(?:muc tieu|chi tieu|phan dau|ty le|ti le|phan tram)\b|%")
_ASKS_TARGET = re.compile(r"\b(?:muc tieu|chi tieu|phan dau)\b")
# Words that say what kind of answer is wanted; the register item's fields answer them. Listed
# as written: folded, "bao" (bao nhiêu) is also "báo" (báo cáo) and "bảo" (bảo vệ), "đạt" is
# "đất", "chỉ" is "chi", "đâu" is "đầu", which say what the question is about.
_QUESTION_WORDS = frozenset(
    "hạn thời chót chốt trước ngày nào khi giờ bao nhiêu phần trăm mục tiêu chỉ đạt tỷ tỉ lệ đơn vị cơ "
    "quan nhiệm vụ trách phải làm gì ai đâu yêu cầu theo định kỳ".split()
)
_FOLDED_QUESTION_WORDS = frozenset(fold(word) for word in _QUESTION_WORDS)
_LEAD_ROLE = ("chu", "tri")


def register_evidence(q: AnalyzedQuestion, index_or_register: Index | Register, *,
                      settings: Settings | None = None, indexed: bool | None = None) -> list[Evidence]:
    """Obligations and targets that answer the question ``q`` (a ``rag.query.Question``), best
    first, at most ``evidence_limit`` (empty when it asks for neither, which is most questions:
    the caller merges this with passage retrieval). Shares below are the defaults of
    ``settings.tuning`` (default: the process settings).

    * Deadline questions ("trước ngày nào", "khi nào", "hạn") match obligations covering 65 % of
      the question's content words (an item's own fields count fully, its sentence and document
      label at 0.7). A "which unit / what task" question without a deadline word needs 80 %, and
      a document number it names must be the obligation's own document.
    * Rate and goal questions ("tỷ lệ", "mục tiêu", "phấn đấu") match targets and baselines at
      75 %; a bare "bao nhiêu" at 85 % (it may ask for a count the register does not hold).
    * Questions about a document's issue date ("ban hành ngày nào") match nothing here.
    * Every place or body the question names, and any number or date it gives ("2577",
      "10/11"), must be found in the item or its document.

    Given an index whose items carry their ``terms`` and vectors (``indexed``, default:
    checked), the index ranks the items holding every syllable of the names the question gives
    (and one of its codes) by the question's words, rarer words first, and gives the first
    ``evidence_candidates``; those are scored exactly from the terms stored with them
    (``MatchTerms``), and only the ones that can still be offered are read whole, best first.
    Where the register holds no more items of a kind than that, this is the result of a scan of
    the whole register; on a large archive, the cost is bounded whatever its size. Otherwise
    (an index written before the vectors) the register is scanned.
    """
    if q.wants("date") or q.wants("signer"):
        return []
    tuning = (settings or get_settings()).tuning
    asks_deadline = (q.wants("when") or bool(_ASKS_DEADLINE.search(q.folded))) and not _ASKS_EVENT.search(q.folded)
    asks_duty = q.wants("who") or q.wants("task")
    asks_rate = bool(_ASKS_RATE.search(q.folded))
    asks_figure = asks_rate or q.wants("figure")
    if not (asks_deadline or asks_duty or asks_figure):
        return []
    asking = asking_words(q.expanded)
    words = [t for t in q.terms if " " not in t and t not in asking and not _is_code(t)]
    codes = [c for c in q.codes if _is_code(c)]
    source = index_or_register
    if isinstance(source, Index) and not (terms_indexed(source) if indexed is None else indexed):
        source = load_register(source)

    name_syllables = [t for n in q.names for t in _terms(n) if " " not in t]
    query = question_vector(words, codes, q.names)

    def matching(kind: str, threshold: float, with_references: bool) -> list[tuple[float, Obligation | Target]]:
        """(coverage, item) of the items of ``kind`` at ``threshold`` or above, in register order.

        Read from an index, each candidate's coverage is computed from its stored ``MatchTerms``;
        only the candidates that can be offered are read whole, best first."""

        def bound(m: MatchTerms) -> float:
            # Exact, except that a name's syllables might stand apart (then the item scores 0).
            return _coverage(name_syllables, words, codes, m, with_references, tuning.evidence_context_credit)

        def exact(item: Obligation | Target, upper: float) -> float:
            return upper if not q.names or _names_in(q.names, item, with_references) else 0.0

        found: list[tuple[float, Obligation | Target]] = []
        if isinstance(source, Register):
            for item in source.obligations if kind == "obligation" else source.targets:
                score = exact(item, bound(MatchTerms.of(item)))
                if score >= threshold:
                    found.append((score, item))
            return found
        if not (words or codes or name_syllables):
            return found  # nothing to look for
        # Every item that can match holds each syllable of each name: asked of the index too, a
        # question naming a province reads that province's items only. Of those, the index ranks
        # the ones holding the question's rarer words first and gives at most
        # ``evidence_candidates``.
        bounds = {item_id: bound(m) for item_id, m in
                  ranked_match_terms(source, kind, query, tuning.evidence_candidates, all_of=name_syllables,
                                     any_of=codes).items()}
        ranked = sorted((i for i, b in bounds.items() if b >= threshold), key=lambda i: (-bounds[i], i))
        # An item scoring below the best less the margin and the largest bonus cannot be offered
        # (0.001 more for the rounding of scores to three decimals): read no further.
        slack = (tuning.evidence_near_best_margin + 0.001
                 + max(tuning.evidence_deadline_words_bonus, tuning.evidence_target_kind_bonus))
        best = 0.0
        for start in range(0, len(ranked), _READ_BATCH):
            floor = max(threshold, best - slack)
            batch = [i for i in ranked[start:start + _READ_BATCH] if bounds[i] >= floor]
            if not batch:
                break
            read = items_by_id(source, kind, batch)
            for item in read.obligations if kind == "obligation" else read.targets:
                score = exact(item, bounds[item.id])
                if score >= threshold:
                    best = max(best, score)
                    found.append((score, item))
        found.sort(key=lambda t: (t[1].source.file, t[1].source.doc_id, t[1].source.start, t[1].id))
        return found

    candidates: list[Evidence] = []
    if asks_deadline or asks_duty:
        threshold = tuning.evidence_deadline_coverage if asks_deadline else tuning.evidence_duty_coverage
        for score, o in matching("obligation", threshold, with_references=asks_deadline):
            # "báo cáo 6 tháng" vs "báo cáo năm": the words of the deadline itself decide ties.
            said = _terms(o.deadline.text)
            score += tuning.evidence_deadline_words_bonus * sum(1 for w in words if w in said) / max(1, len(words))
            candidates.append(Evidence(kind="obligation", score=round(score, 3), line=obligation_line(o),
                                       source=o.source, obligation=o))
    if asks_figure:
        threshold = tuning.evidence_rate_coverage if asks_rate else tuning.evidence_figure_coverage
        for score, t in matching("target", threshold, with_references=True):
            # A question about a goal prefers targets to the baselines stated beside them.
            goal = (t.kind == "target") == bool(_ASKS_TARGET.search(q.folded))
            score += tuning.evidence_target_kind_bonus if goal else 0.0
            candidates.append(Evidence(kind="target", score=round(score, 3), line=target_line(t),
                                       source=t.source, target=t))
    candidates.sort(key=lambda e: (-e.score, e.source.doc_id, e.source.start))
    if not candidates:
        return []
    best = candidates[0].score
    return [e for e in candidates if e.score >= best - tuning.evidence_near_best_margin][:tuning.evidence_limit]


def asking_words(question: str) -> frozenset[str]:
    """The folded syllables of ``question`` that only ask what kind of answer is wanted: those
    written as a question word every time they occur ("bao nhiêu", not "báo cáo"), or, in a
    question typed without diacritics, folding like one."""
    syllables, written = written_syllables(question)
    forms = written if written is not None else syllables
    # "Đơn vị nào chủ trì …?": an obligation's units are the ones leading it, so the role asked is
    # no word its task must hold; "chủ" and "trì" elsewhere ("chủ rừng", "duy trì") still are.
    role = {i + k for i in range(len(forms) - 1) if tuple(fold(f) for f in forms[i:i + 2]) == _LEAD_ROLE
            for k in (0, 1)}
    if written is None:
        about = {s for i, s in enumerate(syllables) if s not in _FOLDED_QUESTION_WORDS and i not in role}
        return frozenset(s for s in syllables if s not in about)
    about = {s for i, (s, w) in enumerate(zip(syllables, written)) if w not in _QUESTION_WORDS and i not in role}
    return frozenset(s for s in syllables if s not in about)


def _is_code(term: str) -> bool:
    return any(ch.isdigit() for ch in term) and any(ch in "/-" for ch in term)


_READ_BATCH = 64  # candidates read whole at a time, best first


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    # Names, deadlines and the texts of items read whole repeat across questions: cut once.
    return frozenset(tokenize(text))


def _coverage(name_syllables: list[str], words: list[str], codes: list[str], terms: MatchTerms,
              with_references: bool, context_credit: float) -> float:
    """Share of ``words`` found among an item's terms (its own fully, its context at
    ``context_credit``); 0 when a syllable of a name, or every code, the question gives is
    missing from both."""
    if any(not terms.holds(s, references=with_references) for s in name_syllables):
        return 0.0
    if codes and not any(terms.holds(c, references=with_references) for c in codes):
        return 0.0
    if not words:
        return 1.0 if codes or name_syllables else 0.0
    got = sum(1.0 if terms.in_own(w) else context_credit if terms.holds(w, references=with_references) else 0.0
              for w in words)
    return got / len(words)


def _names_in(names: tuple[str, ...], item: Obligation | Target, with_references: bool) -> bool:
    """Every name stands in the item as whole syllables in a row ("lao cai", not "lao" and "cai"
    apart), in its own fields or in its context."""
    own = obligation_own(item) if isinstance(item, Obligation) else target_own(item)
    # Folded only, not tokenized: this runs on every candidate read whole (1,500 of them for one
    # question at 258k chunks), where tokenizing their texts was half of the answer's time. The
    # repairs ``fold_match`` adds touch number codes and spacing, not the letters of a name.
    texts = (fold(" ".join(own)), fold(" ".join(item_context(item.source, with_references))))
    return all(any(_in_a_row(name).search(t) for t in texts) for name in names)


@lru_cache(maxsize=1024)
def _in_a_row(name: str) -> re.Pattern[str]:
    """Matches the syllables of the folded ``name`` as whole syllables, one after another."""
    syllables = [re.escape(s) for s in _SYLLABLE.findall(name)]
    return re.compile(r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(syllables) + r"(?![a-z0-9])")


def obligation_line(o: Obligation) -> str:
    """"<units>: <action> — thời hạn: <deadline>; gửi <recipients>" in Vietnamese."""
    who = "; ".join(o.units) if o.units else "Đơn vị thực hiện không ghi rõ"
    line = f"{who}: {o.action} — thời hạn: {deadline_label(o.deadline)}"
    if o.coordinating:
        line += f"; phối hợp: {'; '.join(o.coordinating)}"
    if o.recipients:
        line += f"; gửi/trình: {'; '.join(o.recipients)}" + (f" (qua {o.via})" if o.via else "")
    return line


def target_line(t: Target) -> str:
    """"Mục tiêu: <subject> <value>" or "Hiện trạng: ..." in Vietnamese."""
    label = "Mục tiêu" if t.kind == "target" else "Hiện trạng"
    line = f"{label}: {t.subject} {t.value_text}"
    if t.year:
        line += f" (năm {t.year})"
    return line
