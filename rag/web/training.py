"""Pure helpers for the trainers' tab: per-document summary cards and a quiz built from the register.

Nothing here imports Gradio. Every question keeps the ``SourceRef`` it was made from, so the
page can show the document number, section and quoted sentence once the question is answered.
Quizzes are deterministic per seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from html import escape

from ingest.models import Document
from ingest.text.labels import document_name, format_date, number_label, shorten, type_label
from ingest.register import (
    Deadline,
    Obligation,
    Register,
    SourceRef,
    Target,
    deadline_label,
    obligation_confidence,
    target_confidence,
    unit_key,
)
from rag.web.render import markdown_text, plain_quote, quote_html

# --------------------------------------------------------------------------- summary cards


@dataclass
class SummaryCard:
    """What a trainer needs to present one document."""

    doc_id: str
    doc_type: str
    number: str
    issuer: str
    date: str
    subject: str
    implements: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.doc_type} {self.number}"


def target_text(t: Target) -> str:
    label = "Mục tiêu" if t.kind == "target" else "Hiện trạng"
    text = f"{label}: {t.subject} {t.value_text}"
    return text + (f" (năm {t.year})" if t.year else "")


def task_text(o: Obligation) -> str:
    who = "; ".join(o.units) if o.units else "Đơn vị thực hiện không ghi rõ"
    text = f"{who}: {o.action} — thời hạn: {deadline_label(o.deadline)}"
    if o.recipients:
        text += f"; gửi/trình: {'; '.join(o.recipients)}"
    return text


def summary_cards(documents: list[Document], register: Register,
                  implements: dict[str, list[str]] | None = None) -> list[SummaryCard]:
    """One card per document, in the order given; ``implements`` maps doc_id → numbers it carries out."""
    cards = []
    for d in documents:
        m = d.metadata
        cards.append(SummaryCard(
            doc_id=d.doc_id, doc_type=type_label(m.doc_type), number=number_label(m.number),
            issuer=m.issuer or "", date=format_date(m.date), subject=m.subject or "",
            implements=list((implements or {}).get(d.doc_id, [])),
            targets=[target_text(t) for t in register.targets if t.source.doc_id == d.doc_id],
            tasks=[task_text(o) for o in register.obligations if o.source.doc_id == d.doc_id],
        ))
    return cards


def cards_html(cards: list[SummaryCard], *, max_targets: int = 8) -> str:
    if not cards:
        return '<div class="cv-empty">Chưa có văn bản nào trong kho.</div>'
    out = []
    for c in cards:
        rows = [("Loại văn bản", c.doc_type), ("Số, ký hiệu", c.number), ("Cơ quan ban hành", c.issuer),
                ("Ngày ban hành", c.date), ("Trích yếu", c.subject),
                ("Thực hiện văn bản", ", ".join(c.implements))]
        meta = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows if v)
        tasks = ("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in c.tasks) + "</ul>" if c.tasks
                 else '<div class="cv-empty">Không trích được nhiệm vụ có thời hạn.</div>')
        shown = c.targets[:max_targets]
        more = len(c.targets) - len(shown)
        targets = ("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in shown)
                   + (f"<li><em>… và {more} chỉ tiêu khác</em></li>" if more > 0 else "") + "</ul>"
                   if shown else '<div class="cv-empty">Không có chỉ tiêu định lượng.</div>')
        out.append(
            f'<div class="cv-card" data-doc-id="{escape(c.doc_id)}"><h4>{escape(c.title)}</h4>'
            f'<table class="cv-meta">{meta}</table>'
            f"<div class='cv-card-h'>Nhiệm vụ và thời hạn ({len(c.tasks)})</div>{tasks}"
            f"<div class='cv-card-h'>Chỉ tiêu, số liệu ({len(c.targets)})</div>{targets}</div>"
        )
    return '<div class="cv-cards">' + "".join(out) + "</div>"


# --------------------------------------------------------------------------- quiz


@dataclass
class QuizQuestion:
    """A multiple-choice question; ``answer`` is the index of the right option."""

    kind: str  # 'unit', 'deadline' or 'target'
    prompt: str
    options: list[str]
    answer: int
    source: SourceRef

    def to_dict(self) -> dict:
        return {"kind": self.kind, "prompt": self.prompt, "options": self.options, "answer": self.answer,
                "source": self.source.model_dump()}

    @classmethod
    def from_dict(cls, data: dict) -> QuizQuestion:
        return cls(kind=data["kind"], prompt=data["prompt"], options=list(data["options"]),
                   answer=int(data["answer"]), source=SourceRef.model_validate(data["source"]))


_DATE_IN_TEXT = re.compile(r"\d{1,2}\s*/\s*\d{1,4}(?:\s*/\s*\d{2,4})?")
_FALLBACK_UNITS = ("Sở Tài chính", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Công an tỉnh", "Sở Nội vụ")


def deadline_option(d: Deadline) -> str:
    """A deadline as a short answer: '10/11 hằng năm', '25/05/2024', 'trong tháng 11/2024'."""
    if d.kind == "date" and d.date:
        return f"ngày {format_date(d.date)}"
    if d.kind == "month" and d.month:
        return f"trong tháng {format_date(d.month)}"
    if d.recurrence == "monthly" and d.day:
        return f"ngày {d.day} hằng tháng"
    if d.month_day:
        month, day = d.month_day.split("-")
        return f"ngày {int(day)}/{int(month)} hằng năm"
    return deadline_label(d)


def value_option(t: Target) -> str:
    number = f"{t.value:g}".replace(".", ",") + (t.unit or "")
    word = {"<": "dưới ", ">": "trên ", "<=": "không quá ", ">=": "ít nhất "}.get(t.comparator, "")
    return word + number


def _mask_dates(text: str) -> str:
    return _DATE_IN_TEXT.sub("…", text)


def _shorten(text: str, limit: int = 180) -> str:
    # A quiz prompt quotes a fragment: no Markdown marks, no sentence punctuation at its end.
    return shorten(plain_quote(text), limit, trim_end=".;,")


def _same_sentence(a: SourceRef, b: SourceRef) -> bool:
    return a.doc_id == b.doc_id and a.start == b.start


def _pick_distractors(rng: random.Random, answer: str, pool: list[str], key, k: int) -> list[str]:
    """Up to ``k`` options from ``pool`` that differ from the answer and from each other by ``key``."""
    seen = {key(answer)}
    chosen = []
    candidates = sorted(set(pool))
    rng.shuffle(candidates)
    for c in candidates:
        if key(c) in seen or not c.strip():
            continue
        seen.add(key(c))
        chosen.append(c)
        if len(chosen) == k:
            break
    return chosen


def _finish(rng: random.Random, kind: str, prompt: str, answer: str, distractors: list[str],
            source: SourceRef) -> QuizQuestion | None:
    if len(distractors) < 2:
        return None
    options = [answer, *distractors]
    rng.shuffle(options)
    return QuizQuestion(kind=kind, prompt=prompt, options=options, answer=options.index(answer), source=source)


def _unit_question(rng: random.Random, o: Obligation, register: Register, k: int) -> QuizQuestion | None:
    if not o.units:
        return None
    answer = "; ".join(o.units)
    pool = []
    for other in register.obligations:
        if _same_sentence(other.source, o.source):
            continue
        if other.units:
            pool.append("; ".join(other.units))
        pool.extend(other.recipients + other.coordinating)
    # A unit named with the right answer (its recipient, a coordinating unit) is no distractor.
    taken = {unit_key(u) for u in [*o.units, *o.coordinating, *o.recipients]}
    taken |= {unit_key("; ".join(other.units)) for other in register.obligations
              if _same_sentence(other.source, o.source)}
    pool = [p for p in pool if unit_key(p) not in taken]
    distractors = _pick_distractors(rng, answer, pool, unit_key, k)
    if len(distractors) < k:
        distractors += _pick_distractors(rng, answer, [u for u in _FALLBACK_UNITS
                                                       if unit_key(u) not in taken], unit_key, k - len(distractors))
        distractors = list(dict.fromkeys(distractors))[:k]
    doc = document_name(o.source.doc_type, o.source.number)
    prompt = (f"Theo {doc}, đơn vị nào phải thực hiện nhiệm vụ: “{_shorten(_mask_dates(o.action))}” "
              f"(thời hạn: {deadline_option(o.deadline)})?")
    return _finish(rng, "unit", prompt, answer, distractors, o.source)


def _deadline_question(rng: random.Random, o: Obligation, register: Register, k: int) -> QuizQuestion | None:
    answer = deadline_option(o.deadline)
    siblings = [other for other in register.obligations
                if _same_sentence(other.source, o.source) and other.id != o.id]
    # A deadline the same sentence states (the annual report beside the 6-month one) is no distractor.
    taken = {deadline_option(other.deadline).lower() for other in siblings}
    pool = [opt for other in register.obligations
            if (opt := deadline_option(other.deadline)).lower() not in taken]
    distractors = _pick_distractors(rng, answer, pool, str.lower, k)
    if len(distractors) < k:  # near dates, deterministic, never the answer
        day_month = re.search(r"(\d{1,2})/(\d{1,2})", answer)
        if day_month:
            day, month = int(day_month.group(1)), int(day_month.group(2))
            near = [answer.replace(day_month.group(0), f"{d}/{month}", 1) for d in sorted({
                max(1, day - 5), min(28, day + 5), min(28, day + 10), max(1, day - 10)}) if d != day]
            distractors += _pick_distractors(rng, answer, [n for n in near if n not in distractors],
                                             str.lower, k - len(distractors))
    who = "; ".join(o.units) if o.units else "đơn vị được giao"
    doc = document_name(o.source.doc_type, o.source.number)
    prompt = f"Theo {doc}, {who} phải thực hiện “{_shorten(_mask_dates(o.action))}” trong thời hạn nào?"
    if siblings:  # say which of the sentence's deadlines is asked
        prompt = prompt[:-1] + f" (đối với: “{_shorten(_mask_dates(o.deadline.text), 80)}”)?"
    return _finish(rng, "deadline", prompt, answer, distractors, o.source)


def _target_question(rng: random.Random, t: Target, register: Register, k: int) -> QuizQuestion | None:
    answer = value_option(t)
    pool = [value_option(other) for other in register.targets
            if other.unit == t.unit and not _same_sentence(other.source, t.source) and other.value != t.value]
    distractors = _pick_distractors(rng, answer, pool, str.lower, k)
    doc = document_name(t.source.doc_type, t.source.number)
    year = f" (năm {t.year})" if t.year else ""
    if t.kind == "target":
        prompt = f"Theo {doc}, mục tiêu đặt ra{year} cho chỉ tiêu “{_shorten(t.subject, 160)}” là bao nhiêu?"
    else:
        prompt = f"Theo {doc}, số liệu hiện trạng{year} của “{_shorten(t.subject, 160)}” là bao nhiêu?"
    return _finish(rng, "target", prompt, answer, distractors, t.source)


def quiz_items(register: Register, min_confidence: float = 0.0) -> tuple[list[Obligation], list[Target]]:
    """The obligations and targets sure enough to ask about (``ingest.register.confidence``)."""
    return ([o for o in register.obligations if obligation_confidence(o) >= min_confidence],
            [t for t in register.targets if target_confidence(t) >= min_confidence])


def make_quiz(register: Register, seed: int = 0, count: int = 5, options: int = 4, *,
              min_confidence: float = 0.0) -> list[QuizQuestion]:
    """Up to ``count`` questions with ``options`` choices each (3 or 4), the same for the same seed.

    Only items with a confidence of at least ``min_confidence`` are asked about (the web tab
    passes ``Settings.quiz_min_confidence``): a unit read from the addressees or a year inferred
    from the plan is not taught as a fact. Kinds alternate (which unit, which deadline, which
    figure) so a short quiz covers all three. Distractors are other units, deadlines and figures
    of the whole register, never ones stated in the same sentence as the answer.
    """
    rng = random.Random(seed)
    k = max(2, min(3, options - 1))
    obligations, targets = quiz_items(register, min_confidence)
    makers = {
        "unit": [(_unit_question, o) for o in obligations],
        "deadline": [(_deadline_question, o) for o in obligations],
        "target": [(_target_question, t) for t in targets],
    }
    for items in makers.values():
        rng.shuffle(items)
    quiz: list[QuizQuestion] = []
    seen_prompts: set[str] = set()
    while len(quiz) < count and any(makers.values()):
        for kind in ("unit", "deadline", "target"):
            while makers[kind]:
                make, item = makers[kind].pop()
                q = make(rng, item, register, k)
                if q is not None and q.prompt not in seen_prompts:
                    seen_prompts.add(q.prompt)
                    quiz.append(q)
                    break
            if len(quiz) == count:
                break
    return quiz


def source_label(source: SourceRef) -> str:
    """"Kế hoạch số 12/KH-UBND · UBND huyện X · Mục: II": where a question was read."""
    return " · ".join(p for p in (document_name(source.doc_type, source.number), source.issuer or "",
                                  f"Mục: {source.section}" if source.section else "") if p)


def question_markdown(q: QuizQuestion, n: int, total: int) -> str:
    """The quiz question as Markdown, with the document it was read from; its prompt quotes
    documents, so it is escaped. The quoted sentence is shown once answered (``check_html``)."""
    return f"**Câu {n}/{total}.** {markdown_text(q.prompt)}\n\n_Nguồn: {markdown_text(source_label(q.source))}_"


def source_html(source: SourceRef) -> str:
    """Where the answer is written: document, section and the quoted sentence."""
    where = source_label(source)
    return (f'<div class="cv-quiz-source"><div class="cv-head">Nguồn: {escape(where)}</div>'
            f'<div class="cv-quote">“{quote_html(source.quote)}”</div></div>')


def check_html(q: QuizQuestion, chosen: str | None) -> str:
    """The verdict on ``chosen`` and, once answered, the source."""
    if not chosen:
        return '<div class="cv-empty">Hãy chọn một phương án rồi bấm “Kiểm tra”.</div>'
    right = q.options[q.answer]
    if chosen == right:
        verdict = '<div class="cv-quiz-ok">✔ Đúng.</div>'
    else:
        verdict = (f'<div class="cv-quiz-bad cv-bad">✘ Chưa đúng. Đáp án đúng: '
                   f"<strong>{escape(right)}</strong></div>")
    return verdict + source_html(q.source)


# --------------------------------------------------------------------------- quiz score


def record_answer(score: dict | None, index: int, correct: bool) -> dict:
    """The score after question ``index`` was checked: a question's first check is what counts
    (checking it again after seeing the right answer changes nothing). Keys are str(index)."""
    score = dict(score or {})
    score.setdefault(str(index), bool(correct))
    return score


def score_html(score: dict | None, total: int) -> str:
    """'Điểm: 3/4 câu đúng (đã trả lời 4/5 câu)'; a hint before the first answer."""
    if not total:
        return ""
    score = score or {}
    answered = len(score)
    right = sum(1 for v in score.values() if v)
    if not answered:
        return f'<div class="cv-quiz-score">Điểm: chưa trả lời câu nào (bộ {total} câu).</div>'
    done = " Đã trả lời hết, bấm “Tạo bộ câu hỏi” để làm bộ mới." if answered >= total else ""
    return (f'<div class="cv-quiz-score">Điểm: <strong>{right}/{answered}</strong> câu đúng '
            f"(đã trả lời {answered}/{total} câu).{done}</div>")
