"""The answer without an LLM: the sentences that answer the question, grouped by document,
each with a citation marker, and the acting units when the question asks "who".

A sentence is scored by how much of the question's weighted content (IDF over the corpus) it
covers, with its section path and document header as context. When no sentence covers enough,
or the question names a place or body that no retrieved document mentions, the answer says so
instead of returning loosely related text.

Every scoring value (thresholds, bonuses, penalties, OCR tolerance) is read from the settings'
``Tuning`` (``CONGVAN_TUNING__<NAME>``), so an evaluation can sweep it; none is a constant here.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ingest.models import Document
from ingest.settings import Settings, Tuning, get_settings
from ingest.sparse import tokenize
from ingest.text.actors import Actors, resolve_actors
from ingest.text.labels import document_title, format_date, page_at, shorten
from ingest.text.normalize import fold, fold_match
from ingest.text.sentences import sentence_spans
from rag.models import Answer, Citation, RetrievedChunk
from rag.query import Question
from rag.retrieve import Retrieval

NOT_FOUND = "Không tìm thấy trong các văn bản đã nạp."

# Citation markers are "[n]". Document text embedded in an answer may hold bracketed numbers of
# its own (footnotes "[99]", "Điều [2]"), which a reader, the web's source list and every marker
# parser would take for citations that point nowhere or to the wrong source. Its square brackets
# become full-width ones: they look the same in the chat's Markdown and in `congvan ask` output,
# unlike a Markdown backslash escape (\[99\]), which the terminal and --json would show
# verbatim; and no marker pattern reads them. Citation quotes keep the exact source text.
_ASCII_BRACKETS = str.maketrans({"[": "\uff3b", "]": "\uff3d"})

_DATE = re.compile(r"\b(?:ngay|truoc ngay|thang)\s*\d{1,2}(?:/\d{1,2})?(?:/\d{2,4})?|\b\d{1,2}/\d{1,2}\b")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s*%|\b\d+/\d+\b")
# "Thực hiện Công văn số ..." / "Căn cứ ...": the basis of a document, not what it requires.
_PREAMBLE = re.compile(r"^\W*(?:thuc hien|can cu|trien khai thuc hien (?:van ban|cong van|ke hoach))\b")
_ASSIGNING = re.compile(r"\b(?:chu tri|giao|de nghi|yeu cau|co trach nhiem|phoi hop)\b")


class TermStats:
    """Document frequencies of terms over the indexed chunks, for IDF weights."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.df: Counter[str] = Counter()
        self.n = 0
        for text in texts:
            self.n += 1
            self.df.update(set(tokenize(text)))

    def idf(self, term: str) -> float:
        """BM25's IDF; a term the corpus never uses weighs most."""
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))


@dataclass
class _Scored:
    chunk: RetrievedChunk
    doc: Document
    start: int
    end: int
    score: float
    coverage: float


def extractive_answer(q: Question, retrieval: Retrieval, stats: TermStats, *,
                      documents: dict[str, Document] | None = None, settings: Settings | None = None) -> Answer:
    """Compose a cited Vietnamese answer to ``q`` from retrieved chunks, or abstain.

    ``documents`` (every indexed document) lets a question that names a document by its number
    ("Ai ký Công văn 3452/UBND-VX?") be answered from that document even when other documents
    that merely cite the number rank higher. Scoring values come from ``settings.tuning``
    (default: the process settings). The answer's ``question`` is ``q.standalone``.
    """
    tuning = (settings or get_settings()).tuning
    answer = Answer(question=q.standalone, answer=NOT_FOUND, abstained=True, retrieved=retrieval.chunks)
    everything = documents or retrieval.documents
    named = named_documents(q, everything)
    if q.wants("signer") or q.wants("date"):
        # Questions about a document itself are answered from its metadata, pointing at where
        # the text states it; "the Chương trình of Ban Thường vụ Tỉnh ủy on Chỉ thị 28" names
        # a document by its description rather than its number.
        targets = named or _described_documents(q, retrieval, stats, tuning)
        if targets and q.wants("signer"):
            return _compose_signers(targets, answer)
        if targets:
            dated = _compose_dates(targets, everything, answer)
            if not dated.abstained:
                return dated
    if not q.terms or not retrieval.chunks:
        return answer
    # Places and bodies named in the question ("huyện Bắc Sơn") limit the answer to documents
    # that mention one of them; a name no retrieved document mentions means the question is
    # about something not loaded.
    texts = {d.doc_id: _folded(d.text) for d in retrieval.documents.values()}
    if any(not any(n in t for t in texts.values()) for n in q.names):
        return answer
    about = {doc_id for doc_id, t in texts.items() if not q.names or any(n in t for n in q.names)}

    scored = [s for s in _score_sentences(q, retrieval, stats, {d.doc_id for d in named}, tuning)
              if s.doc.doc_id in about]
    if not scored or scored[0].coverage < tuning.min_coverage:
        return answer
    chosen = _one_per_passage(_select(scored, tuning))
    if q.wants("figure") and not any(_has_figure(s.doc.text[s.start:s.end]) for s in chosen):
        return answer  # "bao nhiêu" answered by a sentence without a number is not an answer
    if q.wants("signer"):
        chosen = chosen[:1]
    return _compose(q, chosen, answer)


def escape_markers(text: str) -> str:
    """Document text made safe to embed in an answer or a prompt: its ASCII square brackets
    become full-width ones ("[99]" → "［99］"), so nothing in it reads as a ``[n]`` citation
    marker (nor as a Markdown link)."""
    return text.translate(_ASCII_BRACKETS)


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    # Document texts and numbers are the same objects query after query: fold each once.
    return fold(text)


@lru_cache(maxsize=8192)
def _folded_match(text: str) -> str:
    return fold_match(text)


def named_documents(q: Question, documents: dict[str, Document]) -> list[Document]:
    """Indexed documents whose own number the question names ("Công văn 3452/UBND-VX")."""
    # A document number always has a "/" or "-" and, to be named, a digit: among the question's
    # terms only its codes can equal one.
    codes = set(q.codes)
    return [d for d in documents.values() if d.metadata.number and _folded_match(d.metadata.number) in codes]


def _described_documents(q: Question, retrieval: Retrieval, stats: TermStats, tuning: Tuning) -> list[Document]:
    """The retrieved document whose description (type, number, issuer, subject) covers the
    question best, if it covers enough of it (``described_min_coverage``) and clearly beats the
    runner-up (``described_runner_up_ratio``)."""
    weights = {t: stats.idf(t) for t in q.terms}
    total = sum(weights.values()) or 1.0
    ranked = []
    for doc in retrieval.documents.values():
        described = set(tokenize(_doc_label(doc, with_issuer=True) + " " + (doc.metadata.subject or "")))
        ranked.append((sum(w for t, w in weights.items() if t in described) / total, doc))
    ranked.sort(key=lambda pair: -pair[0])
    if not ranked or ranked[0][0] < tuning.described_min_coverage:
        return []
    if len(ranked) > 1 and ranked[1][0] > tuning.described_runner_up_ratio * ranked[0][0]:
        return []
    return [ranked[0][1]]


_DATE_LINE = re.compile(r"ngay\s*(\d{1,2})?\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")


def _compose_dates(docs: list[Document], everything: dict[str, Document], answer: Answer) -> Answer:
    """"Văn bản X ban hành ngày nào?": the date line of the document, or, for an attachment
    dated by its cover letter, the cover letter's sentence that dates it."""
    citations: list[Citation] = []
    lines = []
    for doc in docs:
        m = doc.metadata
        if not m.date:
            continue
        span = _date_line(doc)
        source = doc
        if span is None and m.number:
            source, span = _dated_mention(m.number, doc, everything)
        if span is None:
            continue
        n = _cite(citations, source, "Ngày ban hành", *span)
        lines.append(_heading(doc))
        lines.append(f"- Ngày ban hành: {format_date(m.date)} [{n}]")
    if not citations:
        return answer
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations})


def _date_line(doc: Document) -> tuple[int, int] | None:
    head = fold(doc.text[:1500])
    m = _DATE_LINE.search(head)
    if not m:
        return None
    line_start = head.rfind("\n", 0, m.start()) + 1
    return line_start, m.end()


def _dated_mention(number: str, dated: Document,
                   everything: dict[str, Document]) -> tuple[Document, tuple[int, int] | None]:
    """The first sentence that writes ``number`` followed by its date, looking first in the
    file that holds the document (its cover letter)."""
    pattern = re.compile(re.escape(fold(number)) + r"[^\n]{0,12}?ngay\s*\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}")
    for doc in sorted(everything.values(), key=lambda d: (d.file != dated.file, d.file, d.part)):
        m = pattern.search(fold(doc.text))
        if m:
            for start, end in sentence_spans(doc.text):
                if start <= m.start() < end:
                    return doc, (start, end)
    return next(iter(everything.values())), None


def _compose_signers(docs: list[Document], answer: Answer) -> Answer:
    citations: list[Citation] = []
    lines = []
    for doc in docs:
        lines.append(_heading(doc))
        if doc.metadata.signer_name:
            lines.append(_signer_line(doc, citations))
        else:
            lines.append("- Văn bản không ghi rõ người ký (có thể là bản dự thảo hoặc bản bị cắt phần cuối).")
    if not citations:
        return answer
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations})


def _term_weights(q: Question, stats: TermStats, tuning: Tuning) -> dict[str, float]:
    """IDF weights of the question's terms. A two-syllable term the corpus never uses is mostly
    a junction of two words ("năm 2023 huyện" → "2023 huyen"), not a word, so it weighs less
    (``unseen_bigram_weight``)."""
    unseen = tuning.unseen_bigram_weight
    return {t: stats.idf(t) * (unseen if " " in t and stats.df.get(t, 0) == 0 else 1.0) for t in q.terms}


def _score_sentences(q: Question, retrieval: Retrieval, stats: TermStats, prefer: set[str],
                     tuning: Tuning) -> list[_Scored]:
    weights = _term_weights(q, stats, tuning)
    total = sum(weights.values()) or 1.0
    out: list[_Scored] = []
    for rank, chunk in enumerate(retrieval.chunks):
        doc = retrieval.documents.get(chunk.doc_id)
        if doc is None:
            continue
        context = set(tokenize(" ".join(filter(None, [_doc_label(doc), chunk.section]))))
        ocr_damaged = _lost_diacritics(doc, tuning)
        for start, end in sentence_spans(doc.text, chunk.start, chunk.end):
            sentence = doc.text[start:end]
            matcher = _TermMatcher(tokenize(sentence), fuzzy_all=ocr_damaged, credit=tuning.ocr_fuzzy_credit,
                                   min_letters=tuning.ocr_fuzzy_min_letters)
            own = sum(w * matcher.match(t) for t, w in weights.items())
            near = sum(w for t, w in weights.items() if t in context and not matcher.match(t))
            # Coverage decides whether the question is answered at all: terms found in the section
            # path or document header count nearly fully. The score prefers terms in the sentence.
            coverage = (own + tuning.context_coverage_credit * near) / total
            score = ((own + tuning.context_score_credit * near) / total + _intent_bonus(q, fold(sentence), tuning)
                     + tuning.rank_bonus / (rank + 1) + _shape_penalty(sentence, chunk, q, tuning))
            if q.wants("task") and chunk.section and _names_section_unit(q, chunk.section, tuning):
                score += tuning.section_unit_task_bonus
            if doc.doc_id in prefer:
                score += tuning.named_document_bonus
            if own > 0:
                out.append(_Scored(chunk, doc, start, end, score, coverage))
    return sorted(out, key=lambda s: -s.score)


# A well-formed Vietnamese syllable, accent-folded: onset, one to three vowels, coda.
_SYLLABLE_SHAPE = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$")


class _TermMatcher:
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


def _lost_diacritics(doc: Document, tuning: Tuning) -> bool:
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


def _select(scored: list[_Scored], tuning: Tuning) -> list[_Scored]:
    """The best sentence of each document that answers nearly as well as the best overall
    (a question often has one answer per document), then close runners-up."""
    best = scored[0].score
    candidates = [s for s in scored if s.coverage >= tuning.min_coverage]
    chosen: list[_Scored] = []
    for s in candidates:
        if s.score >= tuning.near_best_per_document * best and all(c.doc.doc_id != s.doc.doc_id for c in chosen):
            chosen.append(s)
    for s in candidates:
        if s.score >= tuning.near_best_runner_up * best and s not in chosen:
            chosen.append(s)
    return sorted(chosen, key=lambda s: -s.score)[:tuning.max_sentences]


def _intent_bonus(q: Question, folded: str, tuning: Tuning) -> float:
    """What the sentence offers of what the question asks: a date, a figure, an assignment."""
    bonus = 0.0
    if q.wants("when") and _DATE.search(folded):
        bonus += tuning.date_bonus
    if q.wants("figure") and _FIGURE.search(folded):
        bonus += tuning.figure_bonus
    if (q.wants("who") or q.wants("task")) and _ASSIGNING.search(folded):
        bonus += tuning.who_assignment_bonus if q.wants("who") else tuning.task_assignment_bonus
    if (q.wants("who") or q.wants("task")) and _PREAMBLE.match(folded):
        bonus -= tuning.preamble_penalty
    return bonus


_YEAR_OR_DATE = re.compile(r"\b(?:19|20)\d\d\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d+[-/][A-ZĐa-zđ]")


def _has_figure(sentence: str) -> bool:
    """A quantity: a percentage or a number that is not a year, a date or a document number."""
    return bool(re.search(r"\d", _YEAR_OR_DATE.sub(" ", sentence)))


def _shape_penalty(sentence: str, chunk: RetrievedChunk, q: Question, tuning: Tuning) -> float:
    """Headings, agency lines, lead-ins ("... như sau:") and the header block introduce or name
    things; they rarely answer a question themselves."""
    stripped = sentence.strip(" *#\n")
    words = len(stripped.split())
    penalty = 0.0
    last_heading = chunk.section.split(" > ")[-1] if chunk.section else ""
    echoes_heading = bool(last_heading) and fold(stripped).startswith(fold(last_heading)[:tuning.heading_match_chars])
    if (words < tuning.fragment_max_words or stripped.isupper()
            or (echoes_heading and words < tuning.heading_echo_max_words)):
        penalty -= tuning.fragment_penalty
    if stripped.endswith(":"):
        penalty -= tuning.lead_in_penalty
    if chunk.chunk_id.endswith(":0") and not (q.wants("number") or q.wants("date") or q.wants("recipients")):
        penalty -= tuning.header_chunk_penalty
    return penalty


def _names_section_unit(q: Question, section: str, tuning: Tuning) -> bool:
    """The question names the unit whose section the passage sits in ("Phòng Lao động ..." tasks)."""
    label_terms = set(tokenize(section.split(" > ")[-1]))
    bigrams = [t for t in q.terms if " " in t]
    return sum(1 for t in bigrams if t in label_terms) >= tuning.section_unit_min_bigrams


def _one_per_passage(chosen: list[_Scored]) -> list[_Scored]:
    """Drop sentences that repeat one already chosen (the same text in two documents)."""
    seen: set[str] = set()
    kept = []
    for s in chosen:
        key = fold_match(s.doc.text[s.start:s.end])[:160]
        if key not in seen:
            seen.add(key)
            kept.append(s)
    return kept


def _compose(q: Question, chosen: list[_Scored], answer: Answer) -> Answer:
    citations: list[Citation] = []
    lines: list[str] = []
    order: list[str] = []
    for s in chosen:
        if s.doc.doc_id not in order:
            order.append(s.doc.doc_id)
    for doc_id in order:
        group = sorted((s for s in chosen if s.doc.doc_id == doc_id), key=lambda s: s.start)
        doc = group[0].doc
        lines.append(_heading(doc))
        if q.wants("signer") and doc.metadata.signer_name:
            lines.append(_signer_line(doc, citations))
        for s in group:
            if q.wants("who"):
                actors = resolve_actors(doc, (s.start, s.end), s.chunk.section.split(" > ") if s.chunk.section else [])
                if actors:
                    lines.append(_actors_line(doc, actors, s, citations))
            n = _cite(citations, doc, s.chunk.section, s.start, s.end)
            lines.append(f"- “{escape_markers(_shorten(doc.text[s.start:s.end]))}” [{n}]")
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations})


def _signer_line(doc: Document, citations: list[Citation]) -> str:
    m = doc.metadata
    who = " ".join(p for p in (m.signing_authority, m.signer_title) if p)
    at = doc.text.rfind(m.signer_name or "")
    ref = ""
    if at >= 0:
        n = _cite(citations, doc, "Người ký", at, at + len(m.signer_name or ""))
        ref = f" [{n}]"
    return escape_markers(f"- Người ký: {m.signer_name}" + (f" ({who})" if who else "")) + ref


def _actors_line(doc: Document, actors: Actors, s: _Scored, citations: list[Citation]) -> str:
    units = escape_markers("; ".join(actors.units))
    if actors.source == "sentence":
        return f"- Đơn vị thực hiện: {units}"
    anchor = doc.text.find(actors.units[0])
    if anchor < 0:
        return f"- Đơn vị thực hiện: {units}"
    label = {"heading": s.chunk.section, "lead-in": s.chunk.section, "addressees": "Kính gửi"}[actors.source]
    n = _cite(citations, doc, label, anchor, anchor + len(actors.units[0]))
    return f"- Đơn vị thực hiện: {units} [{n}]"


def _cite(citations: list[Citation], doc: Document, section: str, start: int, end: int) -> int:
    for c in citations:
        if c.doc_id == doc.doc_id and c.start == start and c.end == end:
            return c.n
    m = doc.metadata
    n = len(citations) + 1
    citations.append(Citation(
        n=n, doc_id=doc.doc_id, number=m.number, doc_type=m.doc_type, issuer=m.issuer, date=m.date,
        file=doc.file, section=section, quote=doc.text[start:end], start=start, end=end, page=page_at(doc.page_starts, start),
    ))
    return n


def _heading(doc: Document) -> str:
    """"Theo Công văn số … (issuer, date):", the line above a document's quotes."""
    return f"Theo {escape_markers(_doc_label(doc, with_issuer=True))}:"


def _doc_label(doc: Document, with_issuer: bool = False) -> str:
    return document_title(doc.metadata, with_issuer=with_issuer)


def _shorten(text: str, limit: int = 400) -> str:
    # A quoted sentence drops the source's Markdown emphasis marks: the answer is plain text.
    return shorten(text.replace("*", ""), limit)


def merge_register_evidence(answer: Answer, evidence: list, documents: dict[str, Document]) -> Answer:
    """Add obligations and targets from the register (``ingest.register.register_evidence``) to an
    answer: each as one line with its own citation, after the passages already quoted. An item
    whose sentence the answer already quotes adds nothing."""
    citations = list(answer.citations)
    lines: list[str] = []
    for doc_id in dict.fromkeys(e.source.doc_id for e in evidence):
        doc = documents.get(doc_id)
        if doc is None:
            continue
        group = [e for e in evidence if e.source.doc_id == doc_id
                 and not any(c.doc_id == doc_id and c.start <= e.source.start < c.end for c in citations)]
        if not group:
            continue
        lines.append(f"Theo {escape_markers(_doc_label(doc, with_issuer=True))} (sổ nhiệm vụ):")
        for e in group:
            n = _cite(citations, doc, e.source.section, e.source.start, e.source.end)
            lines.append(f"- {escape_markers(e.line)} [{n}]")
    if not lines:
        return answer
    text = "\n".join(lines) if answer.abstained else answer.answer + "\n\n" + "\n".join(lines)
    return answer.model_copy(update={"answer": text, "abstained": False, "citations": citations})
