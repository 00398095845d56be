"""The answer without an LLM: the sentences that answer the question, grouped by document,
each with a citation marker, and the acting units when the question asks "who".

Candidate sentences and their probability of answering come from ``rag.selection`` (a logistic
model fitted on labelled questions). Three outcomes: the best sentence is likely enough, and it
is quoted with any other likely sentence; it is only plausible, and the answer says no certain
answer was found and offers the best passages as ``related``; or nothing is plausible, or the
question names a place or body that no retrieved document mentions: not found.

Every other value (OCR tolerance, sentence limits, metadata lookups) is read from the settings'
``Tuning`` (``CONGVAN_TUNING__<NAME>``), so an evaluation can sweep it."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

from ingest.chunking import section_extents
from ingest.models import Document
from ingest.schema import DocumentSummary
from ingest.settings import Settings, Tuning, get_settings
from ingest.sparse import tokenize
from ingest.text.actors import Actors, directs_addressees, heading_units, resolve_actors
from ingest.text.labels import document_title, format_date, page_at, quote_window
from ingest.text.lists import TitledList, titled_lists
from ingest.text.members import members_with_role, role_as_written
from ingest.text.pipe_tables import who_cell
from ingest.text.normalize import fold, fold_match
from ingest.text.sentences import sentence_spans
from ingest.register.deadlines import deadlines_in
from ingest.register.exports import deadline_label
from ingest.register.obligations import role_lines
from ingest.register.models import Relation
from ingest.register.relations import DOCUMENT_KINDS, extract_references, number_key, opens_with_basis_verb
from ingest.register.spans import matching_view, tidy
from rag.models import Answer, Citation, RetrievedChunk
from rag.query import (ORDINAL_HEADS, Question, asked_body, asked_ordinal, asked_role, asks_comparison, asks_duties,
                       asks_implementers, ordinals, spelled_out_words)
from rag.retrieve import Retrieval
from rag.selection import (Candidate, SelectionModel, candidates, counts_in, has_quantity, holds_date, holds_day,
                           load_model, of_another_year, says_whole, score)

NOT_FOUND = "Không tìm thấy trong các văn bản đã nạp."
UNCERTAIN = ("Không tìm thấy câu trả lời chắc chắn trong các văn bản đã nạp. "
             "Các đoạn dưới đây có thể liên quan; hãy đọc để tự đánh giá.")

# Citation markers are "[n]". Document text embedded in an answer may hold bracketed numbers of
# its own (footnotes "[99]", "Điều [2]"), which a reader, the web's source list and every marker
# parser would take for citations that point nowhere or to the wrong source. Its square brackets
# become full-width ones: they look the same in the chat's Markdown and in `congvan ask` output,
# unlike a Markdown backslash escape (\[99\]), which the terminal and --json would show
# verbatim; and no marker pattern reads them. Citation quotes keep the exact source text.
_ASCII_BRACKETS = str.maketrans({"[": "\uff3b", "]": "\uff3d"})
# "theo" (according to) followed by a few words and then, at the end of this prefix, the number.
_ACCORDING = re.compile(r"\btheo(?:\s+\S+){0,4}\s*$")
# A quantity in a matching view: a number (not part of a date or code) and the word after it.
_QUANTITY = re.compile(r"(?<![\d/.,-])\d+(?:[.,]\d+)*\s*(?:%|[a-z]+)?(?![\d/])")

D = TypeVar("D", Document, DocumentSummary)


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


def extractive_answer(q: Question, retrieval: Retrieval, stats: TermStats, *,
                      documents: dict[str, Document] | None = None, named: list[Document] | None = None,
                      mentioning: Callable[[Document], Iterable[Document]] | None = None,
                      settings: Settings | None = None) -> Answer:
    """Compose a cited Vietnamese answer to ``q`` from retrieved chunks, or abstain.

    A question that names a document by its number ("Ai ký Công văn 3452/UBND-VX?") is answered
    from that document even when other documents that merely cite the number rank higher:
    ``named`` gives those documents (full texts; ``Retriever.named`` finds them), or else they
    are looked up in ``documents`` (default: the retrieved ones). An attachment without a date
    line of its own is dated by the sentence of another document that writes its number and
    date: ``mentioning(doc)`` gives the documents to look in, in order, its own file's first
    (``Retriever.mentioning`` finds them through the index, lazily), by default ``documents``
    (or the retrieved ones) — a scan of every text, which only a small set may afford. Scoring
    values come from ``settings.tuning`` (default: the process settings). The answer's
    ``question`` is ``q.standalone``.
    """
    tuning = (settings or get_settings()).tuning
    answer = Answer(question=q.standalone, answer=NOT_FOUND, abstained=True, retrieved=retrieval.chunks)
    everything = documents or retrieval.documents
    if named is None:
        named = named_documents(q, everything)
    if mentioning is None:
        def mentioning(doc: Document) -> Iterable[Document]:
            return sorted(everything.values(), key=lambda d: (d.file != doc.file, d.file, d.part))
    # In order: what a document says of itself (its metadata), what the documents' structure
    # gives away (a section, a member line, a list, preambles), the sentence that writes what is
    # asked, then the sentence model; each step answers or passes.
    found = (_document_answer(q, retrieval, stats, answer, named, mentioning, tuning)
             or _structured_answer(q, retrieval, stats, answer, tuning))
    if found is not None:
        return found
    model = load_model(settings or get_settings())
    ranked = score(answer_candidates(q, retrieval, stats, named=named, tuning=tuning), model)
    found = _written_answer(q, retrieval, ranked, answer, tuning)
    if found is not None:
        return found
    confidence = model.confidence(ranked)
    if not ranked or confidence < model.related_threshold:
        return answer
    found = _plausible_answer(q, retrieval, ranked, confidence, model, answer, tuning)
    if found is not None:
        return found
    if confidence < model.answer_threshold:
        return _uncertain(ranked, answer, tuning)
    chosen = _chosen(q, ranked, model, tuning)
    if not _answers_what_is_asked(q, chosen):
        return _uncertain(ranked, answer, tuning)
    answer = answer.model_copy(update={"retrieved": quoted_first(retrieval.chunks, chosen)})
    return _compose(q, chosen, answer, tuning)


def _document_answer(q: Question, retrieval: Retrieval, stats: TermStats, answer: Answer, named: list[Document],
                     mentioning: Callable[[Document], Iterable[Document]], tuning: Tuning) -> Answer | None:
    """Questions about a document itself (signer, date, number, basis, recipients) answered from
    its metadata, pointing at where the text states it; "the Chương trình of Ban Thường vụ Tỉnh
    ủy on Chỉ thị 28" names a document by its description rather than its number. None when the
    question asks none of these or no such document answers."""
    if not (q.wants("signer") or q.wants("date") or q.wants("number") or q.wants("basis") or q.wants("recipients")
            or q.wants("issuer")):
        return None
    if q.wants("date") and not named:
        cited = _compose_cited_dates(q, retrieval.documents.values(), answer)
        if not cited.abstained:
            return cited
    targets = named or _described_documents(q, retrieval, stats, tuning)
    if not targets:
        return None
    if q.wants("signer"):
        return _compose_signers(targets, answer)
    if q.wants("issuer"):
        issued = _compose_issuers(targets, answer)
        if not issued.abstained:
            # "… là của cơ quan nào và gửi cho ai?": the recipients after the issuer.
            sent = _compose_recipients(q, targets, answer) if q.wants("recipients") else answer
            if sent.abstained:
                return issued
            # Its first line only: the recipients' part names the document again.
            first = issued.model_copy(update={"answer": issued.answer.split("\n")[0]})
            return merge_answers(q.standalone, [first, sent])
    composers: list[Callable[[], Answer]] = []
    if q.wants("recipients"):
        composers.append(lambda: _compose_recipients(q, targets, answer))
    if q.wants("basis"):
        composers.append(lambda: _compose_basis(q, targets, answer))
    if q.wants("number") and not q.wants("date"):
        composers.append(lambda: _compose_numbers(targets, answer))
    if q.wants("date") or q.wants("number"):
        composers.append(lambda: _compose_dates(targets, mentioning, answer))
    return _first_answered(composers)


def _structured_answer(q: Question, retrieval: Retrieval, stats: TermStats, answer: Answer,
                       tuning: Tuning) -> Answer | None:
    """What the documents' structure gives away: the documents whose preambles carry out the one
    named, a team member's line, the section a body heads, a titled list's entries. None when
    the question asks none of these or the structure is not there."""
    composers: list[Callable[[], Answer]] = []
    if asks_implementers(q.folded) and q.codes:
        composers.append(lambda: _compose_implementers(q, retrieval, answer))
    role = asked_role(q.folded)
    if role:
        composers.append(lambda: _compose_role_holder(q, role, retrieval, stats, answer, tuning))
    if asks_duties(q.folded):
        composers.append(lambda: _compose_unit_duties(q, retrieval, stats, answer, tuning))
    if q.wants("figure") and "danh sach" in q.folded and q.measure not in _NOT_COUNTS:
        composers.append(lambda: _compose_list_count(q, retrieval, stats, answer, tuning))
    return _first_answered(composers)


def _first_answered(composers: list[Callable[[], Answer]]) -> Answer | None:
    """The first of the composers' answers that is not an abstention, trying them in order."""
    for compose in composers:
        found = compose()
        if not found.abstained:
            return found
    return None


def _written_answer(q: Question, retrieval: Retrieval, ranked: list[Candidate], answer: Answer,
                    tuning: Tuning) -> Answer | None:
    """The likeliest sentence that writes what is asked, however unsure the question model: from
    when a named document applies, which occurrence ("lần thứ mấy"), how many of a measure. None
    when the question asks none of these or no sentence holding most of it writes it."""
    if _EFFECT_ASKED.search(q.folded):
        effective = _effective_sentence(q, ranked, tuning)
        if effective is not None:
            answer = answer.model_copy(update={"retrieved": quoted_first(retrieval.chunks, [effective])})
            return _compose(q, [effective], answer, tuning)
    head = asked_ordinal(q.folded)
    if head:
        # "lần thứ mấy": the likeliest sentence holding most of the question that numbers it.
        numbered = next((c for c in ranked if c.features["coverage"] >= tuning.structured_min_coverage
                         and head in ordinals(fold(c.text))), None)
        if numbered is not None:
            return _compose_ordinal(numbered, head, answer)
    if q.measure and q.measure != "share":
        # "mấy đơn vị", "bao lâu", "mấy lần một ngày", "bao nhiêu tiền": likewise the likeliest
        # sentence holding most of the question that counts in the measure asked. Not a share: a
        # rate asked of another year or place is the usual trap, left to the model and the register.
        counted = next((c for c in ranked if c.features["coverage"] >= tuning.structured_min_coverage
                        and counts_in(q.measure, fold(c.text))
                        and not of_another_year(q, c.chunk.section, c.text)), None)
        if counted is not None:
            answer = answer.model_copy(update={"retrieved": quoted_first(retrieval.chunks, [counted])})
            return _compose(q, [counted], answer, tuning)
    return None


def _plausible_answer(q: Question, retrieval: Retrieval, ranked: list[Candidate], confidence: float,
                      model: SelectionModel, answer: Answer, tuning: Tuning) -> Answer | None:
    """Answers a plausible question (confidence at least ``related_threshold``) may get before
    the answer threshold is applied: the role line of the likeliest task's item, the signer of
    the likeliest document, the sentence citing a decision by number, the likeliest sentence when
    it counts in the measure asked. None otherwise."""
    top = ranked[0]
    if q.measure and q.measure != "share" and counts_in(q.measure, fold(top.text)) \
            and not of_another_year(q, top.chunk.section, top.text):
        # "Đoàn làm việc bao lâu ở mỗi đơn vị?" and the likeliest sentence of all says "02 ngày
        # làm việc/01 đơn vị": it answers, however few of the question's words it repeats (a
        # sentence counting in the measure asked that the model does not rank first needs half
        # of them, ``_written_answer``).
        answer = answer.model_copy(update={"retrieved": quoted_first(retrieval.chunks, [top])})
        return _compose(q, [top], answer, tuning)
    if q.wants("who") and ranked[0].features["coverage"] >= tuning.structured_min_coverage:
        # "Những sở nào chủ trì tập huấn …?" and the task's item says it in a line of its own.
        led = _compose_role_line(q, ranked[0], answer)
        if not led.abstained:
            return led
        # "Ai lo chấm bài?" and the likeliest sentence is a row of a table of who does what.
        held = _compose_table_holder(q, ranked[0], answer)
        if not held.abstained:
            return held
    if q.wants("signer") and ranked[0].doc.metadata.signer_name:
        # Who signed is the document's, not a sentence's: a plausible document is enough.
        return _compose_signers([ranked[0].doc], answer)
    kind = _RESULTING_KIND.search(q.folded)
    if kind:
        # "… cuối cùng ra quyết định nào?" is answered by a sentence citing a decision by number:
        # unless the likeliest sentences already do, the likeliest one holding most of the question
        # that does, its number first.
        chosen = [] if confidence < model.answer_threshold else _one_per_passage(_select(ranked, model, tuning))
        references: dict[str, list[Relation]] = {}  # each document's, read once
        if not any(_cited_of_kind(q, c, kind.group(1), references) for c in chosen):
            cited = next(((c, ref) for c in ranked if c.features["coverage"] >= tuning.structured_min_coverage
                          for ref in _cited_of_kind(q, c, kind.group(1), references)), None)
            if cited is not None:
                s, ref = cited
                answer = answer.model_copy(update={"retrieved": quoted_first(retrieval.chunks, [s])})
                composed = _compose(q, [s], answer, tuning)
                first = f"{escape_markers(ref.target_number)} [1]"
                return composed.model_copy(update={"answer": f"{first}\n\n{composed.answer}"})
    return None


def _chosen(q: Question, ranked: list[Candidate], model: SelectionModel, tuning: Tuning) -> list[Candidate]:
    """The sentences to quote: the likeliest and those likely enough beside it, then what the
    question's shape asks for besides (a count in the measure asked, each place compared, every
    document writing what the question gives)."""
    chosen = _one_per_passage(_select(ranked, model, tuning))
    if q.measure and not any(counts_in(q.measure, fold(c.text)) for c in chosen):
        # "thiệt hại bao nhiêu tiền" is answered by the sum in đồng, not by the sentence counting
        # houses and hectares the model preferred: the likeliest one that counts in the measure
        # asked, when it is at least plausible.
        counted = next((c for c in ranked if c.probability >= model.related_threshold
                        and counts_in(q.measure, fold(c.text))), None)
        if counted is not None:
            chosen = [counted]
    if len(q.names) > 1 and asks_comparison(q.folded):
        chosen = _each_side(q, ranked, chosen)
    if q.codes and _DOCUMENTS_ASKED.search(q.folded):
        chosen = _each_document(q, ranked, chosen, model)
    return chosen


def _answers_what_is_asked(q: Question, chosen: list[Candidate]) -> bool:
    """Whether the chosen sentences can answer at all, however probable: not the goals of a
    section about another year, a number for "bao nhiêu", a date for "khi nào", a day for
    "trước ngày nào"."""
    if all(of_another_year(q, c.chunk.section, c.text) for c in chosen):
        return False  # "… cho năm 2025?" is not answered by the goals of a section "đến năm 2030"
    if q.wants("figure") and not any(has_quantity(c.text) for c in chosen):
        return False
    if _asks_only_when(q) and not any(holds_date(c.text) for c in chosen):
        return False
    # Nor "trước ngày nào" by a year ("… công tác bảo vệ bí mật nhà nước năm 2025").
    if _asks_only_when(q) and _DAY_ASKED.search(q.folded) and not any(holds_day(c.text) for c in chosen):
        return False
    # Nor "UBND huyện X được giao nhiệm vụ gì?" by a sentence no unit of which is that body (one
    # naming "huyện X" as a former address, "trước đây là … huyện X", says nothing it must do).
    body = asked_body(q.standalone) if asks_duties(q.folded) else None
    return body is None or any(_acted_on_by(c, body) for c in chosen)


def _actors_of(s: Candidate) -> Actors | None:
    """The units acting on the sentence ``s``, resolved outwards from it (``resolve_actors``)."""
    return resolve_actors(s.doc, (s.start, s.end), s.chunk.section.split(" > ") if s.chunk.section else [])


def _acted_on_by(s: Candidate, body: str) -> bool:
    """Whether ``body`` (spelled out) is named in the sentence ``s`` or is one of the units acting
    on it (the heading or lead-in above it, the letter's addressees)."""
    if f" {body} " in f" {spelled_out_words(s.text)} ":
        return True
    actors = _actors_of(s)
    units = [spelled_out_words(u) for u in (actors.units if actors else ())]
    return any(f" {body} " in f" {u} " or f" {u} " in f" {body} " for u in units if u)


def merge_answers(question: str, parts: list[Answer]) -> Answer:
    """Answers to the parts of one question (a comparison's sides) one after the other, as one
    answer to ``question``: markers and citations renumbered, the parts' sources in turn."""
    lines: list[str] = []
    citations: list[Citation] = []
    for part in parts:
        offset = len(citations)
        citations += [c.model_copy(update={"n": c.n + offset}) for c in part.citations]
        lines += [_MARKER.sub(lambda m: f"[{int(m.group(1)) + offset}]", part.answer), ""]
    # The parts' sources taken in turn, so that each part's best come first among those shown.
    retrieved: list[RetrievedChunk] = []
    for rank in range(max(len(part.retrieved) for part in parts)):
        for part in parts:
            if rank < len(part.retrieved) and all(part.retrieved[rank].chunk_id != r.chunk_id for r in retrieved):
                retrieved.append(part.retrieved[rank])
    return parts[0].model_copy(update={"question": question, "answer": "\n".join(lines).strip(), "abstained": False,
                                       "citations": citations, "retrieved": retrieved, "related": []})


_MARKER = re.compile(r"\[(\d+)\]")


def _each_side(q: Question, ranked: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
    """A comparison between the places a question names ("So sánh hạn … Quảng Trị (…) và Lào Cai
    (…)") quotes each side: for a place none of the chosen sentences' documents is about (by its
    issuer and subject), the likeliest sentence of a document about it that holds what is asked
    (a date when it asks when, a quantity when it asks how many)."""
    out = list(chosen)
    for name in q.names:
        if any(name in _folded(_description(c.doc)) for c in out):
            continue
        side = next((c for c in ranked if name in _folded(_description(c.doc))
                     and (not q.wants("when") or holds_date(c.text))
                     and (not q.wants("figure") or has_quantity(c.text))), None)
        if side is not None:
            out.append(side)
    return out


# "Những văn bản nào yêu cầu báo cáo trước ngày 10/11?": every document that does, not the likeliest.
_DOCUMENTS_ASKED = re.compile(r"\b(?:nhung|cac)\s+(?:van ban|ke hoach|cong van|chi thi|quyet dinh|thong bao)\s+nao\b")


def _each_document(q: Question, ranked: list[Candidate], chosen: list[Candidate],
                   model: SelectionModel) -> list[Candidate]:
    """For "which documents …" naming a date or number ("trước ngày 10/11"): besides the chosen
    sentences, the likeliest sentence of every other document that writes each of them and is at
    least plausible (``related_threshold``)."""
    out = list(chosen)
    for c in ranked:
        if c.probability < model.related_threshold:
            break
        if any(o.doc.doc_id == c.doc.doc_id for o in out):
            continue
        folded = fold(c.text)
        if all(says_whole(folded, code) for code in q.codes):
            out.append(c)
    return out


# "trước ngày nào", "vào ngày nào", "ngày mấy": a day is asked, not a month or a year.
_DAY_ASKED = re.compile(r"\bngay (?:nao|may)\b")


def _asks_only_when(q: Question) -> bool:
    """The question asks when, and not also who, how many or what to do ("Cơ quan nào báo cáo
    định kỳ hằng năm?" asks who, its "định kỳ" says what is reported)."""
    return q.wants("when") and not (q.wants("who") or q.wants("figure") or q.wants("task"))


def quoted_first(chunks: list[RetrievedChunk], chosen: list[Candidate]) -> list[RetrievedChunk]:
    """``chunks`` with those holding a quoted sentence first (most probable first), the others
    after them in search order: the sources shown are the passages the answer uses."""
    order: dict[str, int] = {}
    for c in chosen:
        order.setdefault(c.chunk.chunk_id, len(order))
    return sorted(chunks, key=lambda ch: order.get(ch.chunk_id, len(order)))


def answer_candidates(q: Question, retrieval: Retrieval, stats: TermStats, *, named: list[Document],
                      tuning: Tuning) -> list[Candidate]:
    """The sentences that may answer ``q``: those of retrieved documents that mention every place
    or body the question names ("huyện Bắc Sơn"); none when a name is in no retrieved document
    (the question is about something not loaded). ``named``: documents the question names by
    number. Also what ``evals/fit_selection.py`` fits the selection model on."""
    if not q.terms or not retrieval.chunks:
        return []
    texts = {d.doc_id: _folded(d.text) for d in retrieval.documents.values()}
    if any(not any(n in t for t in texts.values()) for n in q.names):
        return []
    about = {doc_id for doc_id, t in texts.items() if not q.names or any(n in t for n in q.names)}
    found = candidates(q, retrieval, term_weights(q, stats, tuning), {d.doc_id for d in named}, tuning)
    found = [c for c in found if c.doc.doc_id in about and not other_occurrence(q, c.text)]
    # "Theo Công văn 1234/UBND-VX, ...": the question sets its scope to the documents it names.
    according = {d.doc_id for d in named if _according_to(q, d)}
    if not according:
        according = {d.doc_id for d in described_scope(q, retrieval.documents.values(), stats, tuning)}
    scoped = [c for c in found if c.doc.doc_id in according]
    return scoped or found


# "Theo công văn tăng cường quản lý VLNCN của UBND tỉnh Lào Cai, ...": the question opens by
# describing the document it asks about (type, subject, issuer) instead of giving its number.
_DESCRIBED_SCOPE = re.compile(
    r"^\W*theo\s+(?P<scope>(?:cong van|ke hoach|chuong trinh|chi thi|quyet dinh|thong bao|van ban|to trinh|"
    r"thong tu|nghi quyet|huong dan)\b[^,?;:]{3,200}),")


def described_terms(q: Question) -> list[str] | None:
    """The question's terms that describe the document it opens with ("Theo kế hoạch tiêm chủng
    của huyện Bắc Sơn, ..."); None when it opens otherwise."""
    m = _DESCRIBED_SCOPE.match(q.folded)
    if not m:
        return None
    described = set(tokenize(m.group("scope")))
    return [t for t in q.terms if t in described] or None


def description_coverage(doc: Document | DocumentSummary, terms: Iterable[str], stats: TermStats) -> float:
    """Share of ``terms`` (IDF-weighted) that the document's type, number, issuer and subject hold."""
    weights = {t: stats.idf(t) for t in terms}
    return _share(weights, set(tokenize(_description(doc))))


def _description(doc: Document | DocumentSummary) -> str:
    """What describes a document: its type, number, issuer and subject."""
    return f"{_doc_label(doc, with_issuer=True)} {doc.metadata.subject or ''}"


def _share(weights: dict[str, float], held: set[str]) -> float:
    """The share of the question's term weight that ``held`` (a text's terms) holds."""
    return sum(w for t, w in weights.items() if t in held) / (sum(weights.values()) or 1.0)


def described_scope(q: Question, documents: Iterable[Document], stats: TermStats, tuning: Tuning) -> list[Document]:
    """The documents a question opening "Theo <document described>, ..." can be about: the one whose
    description covers the description's words best when it clearly beats the runner-up (as
    ``_described_documents`` chooses), else every one covering enough of them
    (``described_min_coverage``); empty when the question opens otherwise or none covers enough.
    The question is then about those documents only, as with "Theo Công văn 3452/UBND-VX, ..."."""
    terms = described_terms(q)
    if terms is None:
        return []
    ranked = sorted(((description_coverage(d, terms, stats), d) for d in documents), key=lambda p: -p[0])
    enough = [(c, d) for c, d in ranked if c >= tuning.described_min_coverage]
    if len(enough) > 1 and enough[1][0] <= tuning.described_runner_up_ratio * enough[0][0]:
        return [enough[0][1]]
    return [d for _, d in enough]


def other_occurrence(q: Question, sentence: str) -> bool:
    """The sentence numbers the occurrence the question numbers, differently: "lần thứ nhất"
    does not answer a question about "lần thứ tư"."""
    if not q.ordinals:
        return False
    held = ordinals(fold(sentence))
    return any(head in held and held[head] != number for head, number in q.ordinals)


def _according_to(q: Question, doc: Document) -> bool:
    """The question reads "theo <document> <its number>": it asks what that document says."""
    number = _folded_match(doc.metadata.number or "")
    at = q.folded.find(number) if number else -1
    return at >= 0 and bool(_ACCORDING.search(q.folded[:at]))


def _uncertain(ranked: list[Candidate], answer: Answer, tuning: Tuning) -> Answer:
    """No sentence is likely enough to answer: say so, and offer the best passages as related,
    those that hold enough of what was asked (``related_min_coverage``): a passage that holds
    little of it is about something else ("giá vàng" asked, "đánh giá" found). None: not found."""
    related: list[Citation] = []
    for c in _one_per_passage(ranked)[:tuning.max_sentences]:
        if c.features["coverage"] >= tuning.related_min_coverage:
            _cite(related, c.doc, c.chunk.section, c.start, c.end)
    if not related:
        return answer
    return answer.model_copy(update={"answer": UNCERTAIN, "abstained": True, "related": related})


def escape_markers(text: str) -> str:
    """Document text made safe to embed in an answer or a prompt: its ASCII square brackets
    become full-width ones ("[99]" → "［99］"), so nothing in it reads as a ``[n]`` citation
    marker (nor as a Markdown link)."""
    return text.translate(_ASCII_BRACKETS)


@lru_cache(maxsize=256)
def _folded(text: str) -> str:
    # Document texts are the same objects query after query: fold each once. Bounded like the
    # retriever's document cache (it keeps whole texts alive), not by the archive's size.
    return fold(text)


@lru_cache(maxsize=8192)
def _folded_match(text: str) -> str:
    return fold_match(text)


def named_documents(q: Question, documents: dict[str, D]) -> list[D]:
    """The ``documents`` (full or ``DocumentSummary``) whose own number the question names
    ("Công văn 3452/UBND-VX"). A scan of them all: over the whole archive, ``Retriever.named``
    finds the same by a lookup."""
    # A document number always has a "/" or "-" and, to be named, a digit: among the question's
    # terms only its codes can equal one.
    codes = set(q.codes)
    return [d for d in documents.values() if d.metadata.number and _folded_match(d.metadata.number) in codes]


def _described_documents(q: Question, retrieval: Retrieval, stats: TermStats, tuning: Tuning) -> list[Document]:
    """The retrieved document whose description (type, number, issuer, subject) covers the
    question best, if it covers enough of it (``described_min_coverage``) and clearly beats the
    runner-up (``described_runner_up_ratio``)."""
    ranked = [(description_coverage(doc, q.terms, stats), doc) for doc in retrieval.documents.values()]
    ranked.sort(key=lambda pair: -pair[0])
    if not ranked or ranked[0][0] < tuning.described_min_coverage:
        return []
    if len(ranked) > 1 and ranked[1][0] > tuning.described_runner_up_ratio * ranked[0][0]:
        return []
    return [ranked[0][1]]


_DATE_LINE = re.compile(r"ngay\s*(\d{1,2})?\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")


def _compose_dates(docs: list[Document], mentioning: Callable[[Document], Iterable[Document]],
                   answer: Answer) -> Answer:
    """"Văn bản X ban hành ngày nào?": the date line of the document, or, for an attachment
    dated by its cover letter, the sentence of one of ``mentioning(doc)`` that dates it."""
    citations: list[Citation] = []
    lines = []
    for doc in docs:
        m = doc.metadata
        if not m.date:
            continue
        span = _date_line(doc)
        source = doc
        if span is None and m.number:
            source, span = _dated_mention(m.number, doc, mentioning(doc))
        if span is None:
            continue
        n = _cite(citations, source, "Ngày ban hành", *span)
        lines.append(_heading(doc))
        written = " ".join(source.text[span[0]:span[1]].replace("*", "").split())
        lines.append(f"- Ngày ban hành: {format_date(m.date)} — “{escape_markers(written)}” [{n}]")
    if not citations:
        return answer
    return answer.model_copy(update={"answer": "\n".join(_answer_first(lines)), "abstained": False,
                                     "citations": citations})


# What follows a cited number when the citation dates it: "Quyết định số 1183/QĐ-TTg ngày
# 14/10/2024 của Thủ tướng", "Kế hoạch số 211-KH/TU ngày 25 tháng 4 năm 2024" (accent-folded).
_CITED_DATE = r"(?![\w/])[^\n]{0,12}?ngay\s*(\d{1,2})\s*(?:/|thang)\s*(\d{1,2})\s*(?:/|nam)\s*(\d{4})"


def _compose_cited_dates(q: Question, documents: Iterable[Document], answer: Answer) -> Answer:
    """"Quyết định 1183/QĐ-TTg ban hành ngày nào?" about a document that is not loaded: the date
    that the first retrieved document citing it writes after its number, as documents cite one
    another (number, then date, then issuer), quoting that sentence. ``answer`` unchanged when
    the question does not number the document it asks about (``_asked_code``) or no retrieved
    document cites that number with a date."""
    code = _asked_code(q)
    found = _dated_citation(code, documents) if code is not None else None
    if found is None:
        return answer
    doc, m, span = found
    day, month, year = (int(g) for g in m.groups())
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return answer
    citations: list[Citation] = []
    n = _cite(citations, doc, "Ngày ban hành", *span)
    number = doc.text[m.start():m.start() + len(code)]
    written = " ".join(doc.text[span[0]:span[1]].replace("*", "").split())
    lines = [f"Ngày ban hành của văn bản số {escape_markers(number)}: {day:02d}/{month:02d}/{year} [{n}]",
             "", _heading(doc), f"- “{escape_markers(written)}” [{n}]"]
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations})


_KIND_WORD = re.compile(r"\b(?:" + "|".join(DOCUMENT_KINDS) + r")\b")
_NUMBER_AFTER_KIND = re.compile(r"\s+(?:so\s+)?(\S+?)[.,;:?]*(?:\s|$)")


def _asked_code(q: Question) -> str | None:
    """The number of the document a question is about: the one written right after the first
    kind of document it names ("Quyết định 1183/QĐ-TTg ban hành ngày nào?"). None when that
    first document is described, not numbered: in "Kế hoạch của tỉnh triển khai Chỉ thị
    11-CT/TU ban hành ngày nào?" the date asked is the plan's, not the directive's."""
    kind = _KIND_WORD.search(q.folded)
    if kind is None:
        return None
    m = _NUMBER_AFTER_KIND.match(q.folded, kind.end())
    return m.group(1) if m and m.group(1) in q.codes and any(ch.isalpha() for ch in m.group(1)) else None


def _date_line(doc: Document) -> tuple[int, int] | None:
    head = fold(doc.text[:1500])
    m = _DATE_LINE.search(head)
    if not m:
        return None
    line_start = head.rfind("\n", 0, m.start()) + 1
    return line_start, m.end()


def _dated_mention(number: str, dated: Document,
                   candidates: Iterable[Document]) -> tuple[Document, tuple[int, int] | None]:
    """The first sentence that writes ``number`` followed by its date in ``candidates``, taken
    in their order (the file that holds the document, its cover letter, first) and no further
    than the first that has one; ``dated`` and no span when none does."""
    found = _dated_citation(fold(number), candidates)
    return (found[0], found[2]) if found else (dated, None)


def _dated_citation(number: str, documents: Iterable[Document]
                    ) -> tuple[Document, re.Match[str], tuple[int, int]] | None:
    """The first of ``documents`` that writes the folded ``number`` followed by its date
    (``_CITED_DATE``): that document, the match (groups day, month, year) in its folded text,
    and the span of the sentence that holds it; None when none does."""
    pattern = re.compile(r"(?<![\w/])" + re.escape(number) + _CITED_DATE)
    for doc in documents:
        m = pattern.search(_folded(doc.text))
        if m is None:
            continue
        span = next(((a, b) for a, b in sentence_spans(doc.text) if a <= m.start() < b), None)
        if span is not None:
            return doc, m, span
    return None


# The kind of document a basis question asks for ("triển khai chỉ thị nào" → chỉ thị), matched
# against the words a reference writes before its number ("Chỉ thị số 32/CT-TTg").
_PASSIVE_BASIS = re.compile(r"\bduoc\s+(?:\S+\s+){0,2}?(?:trien khai|thuc hien|cu the hoa|thay the)\b")
_ASKED_KIND = re.compile(r"\b(" + "|".join(DOCUMENT_KINDS) + r")\b(?:\s+\S+){0,3}?\s+(?:nao|gi|so may)\b")


def _compose_basis(q: Question, docs: list[Document], answer: Answer) -> Answer:
    """"Kế hoạch X triển khai chỉ thị nào?": the documents X says it carries out or rests on
    ("Thực hiện Chỉ thị số …", "Căn cứ …"), read from its own sentences, of the kind asked when
    the question names one ("văn bản" names any), each with the sentence that says so."""
    if _PASSIVE_BASIS.search(q.folded):
        return answer  # "Chỉ thị X được triển khai bằng kế hoạch nào?": asks the other way round
    asked = _ASKED_KIND.search(q.folded)
    kind = asked.group(1) if asked and asked.group(1) != "van ban" else None
    citations: list[Citation] = []
    lines = []
    for doc in docs:
        refs = extract_references(doc)
        found = [ref for ref in refs if ref.kind in ("implements", "based_on") and _of_kind(ref, kind)]
        if not found and kind:
            # "Thực hiện Quyết định số A … về việc kiểm tra … và Kế hoạch kiểm tra số B …": B is
            # joined to the preamble's own object after its description, which reads as merely
            # cited; asked for the plan it rests on, the preamble's plan is the answer.
            found = [ref for ref in refs if ref.kind == "cites" and _of_kind(ref, kind)
                     and opens_with_basis_verb(ref.source.quote)]
        found.sort(key=lambda r: (r.kind != "implements", r.source.start))
        if not found:
            continue
        lines.append(_heading(doc))
        for ref in found[:3]:
            n = _cite(citations, doc, ref.source.section, ref.source.start, ref.source.end)
            verb = "Căn cứ" if ref.kind == "based_on" else "Thực hiện"
            lines.append(f"- {verb}: {escape_markers(ref.target_number)} — “{escape_markers(tidy(ref.source.quote))}” [{n}]")
    if not citations:
        return answer
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations})


def _compose_implementers(q: Question, retrieval: Retrieval, answer: Answer) -> Answer:
    """"Những văn bản nào triển khai Chỉ thị số 28-CT/TW?": the retrieved documents whose own
    sentences say they carry it out or rest on it ("Thực hiện Chỉ thị số 28-CT/TW …", "Căn cứ
    …"), then those carrying out one of these in turn (a province's letter carrying out the
    programme that carries out the directive), each with the sentence that says so. ``answer``
    unchanged when none does."""
    asked = {number_key(c) for c in q.codes if "/" in c or "-" in c}
    citations: list[Citation] = []
    lines: list[str] = []
    written: list[str] = []
    done = {doc_id for doc_id, doc in retrieval.documents.items()
            if doc.metadata.number and number_key(doc.metadata.number) in asked}  # not carrying itself out
    for level in range(2):
        carrying: set[str] = set()
        for doc in retrieval.documents.values():
            if doc.doc_id in done:
                continue
            found = [ref for ref in extract_references(doc) if ref.target_key in asked
                     and (ref.kind in ("implements", "based_on") or opens_with_basis_verb(ref.source.quote))]
            if not found:
                continue
            done.add(doc.doc_id)
            ref = min(found, key=lambda r: (r.kind != "implements", r.source.start))
            if level == 0 and ref.target_number not in written:
                written.append(ref.target_number)
            if doc.metadata.number:
                carrying.add(number_key(doc.metadata.number))
            n = _cite(citations, doc, ref.source.section, ref.source.start, ref.source.end)
            through = "" if level == 0 else f" (thực hiện {escape_markers(ref.target_number)})"
            lines.append(f"- {escape_markers(_doc_label(doc, with_issuer=True))}{through}: "
                         f"“{escape_markers(tidy(ref.source.quote))}” [{n}]")
        asked = carrying
    if not citations:
        return answer
    first = f"Các văn bản thực hiện {escape_markers(', '.join(written))}:"
    return answer.model_copy(update={"answer": "\n".join([first, ""] + lines), "abstained": False,
                                     "citations": citations})


# "ra quyết định nào", "bằng quyết định số mấy", "theo thông tư nào": a document of that kind, by number.
_RESULTING_KIND = re.compile(r"\b(?:ra|ban hanh|co|bang|theo|la)\s+(quyet dinh|ke hoach|chi thi|thong tu|nghi dinh|"
                             r"nghi quyet|cong van|chuong trinh|thong bao)\s+(?:nao|gi|so may)\b")


def _cited_of_kind(q: Question, c: Candidate, kind: str, references: dict[str, list[Relation]]) -> list[Relation]:
    """The references of ``kind`` the sentence makes by a number the question does not give;
    ``references`` keeps each document's references, read once for all its sentences."""
    if c.doc.doc_id not in references:
        references[c.doc.doc_id] = extract_references(c.doc)
    return [ref for ref in references[c.doc.doc_id]
            if c.start <= ref.source.start < c.end and _of_kind(ref, kind) and not says_whole(q.folded, ref.target_key)]


def _of_kind(ref: Relation, kind: str | None) -> bool:
    """The reference names a document of ``kind`` ("ke hoach") right before its number; any
    reference when no kind is asked."""
    if not kind:
        return True
    return kind in fold(ref.source.quote[:max(0, ref.source.quote.find(ref.target_number))])[-40:]


def _compose_numbers(docs: list[Document], answer: Answer) -> Answer:
    """"Văn bản X số mấy?": the document's number, citing where its header writes it."""
    citations: list[Citation] = []
    lines = []
    for doc in docs:
        number = doc.metadata.number
        if not number or number.startswith("/"):  # "/KH-UBND": an unsigned copy, number left blank
            continue
        at = doc.text.find(number)
        if at < 0:
            continue
        n = _cite(citations, doc, "Số hiệu", at, at + len(number))
        lines += [_heading(doc), f"- Số hiệu: {escape_markers(number)} [{n}]"]
    if not citations:
        return answer
    return answer.model_copy(update={"answer": "\n".join(_answer_first(lines)), "abstained": False,
                                     "citations": citations})


def _answer_first(lines: list[str]) -> list[str]:
    """One document's heading and its "- Người ký: … [n]" lines turned round: the first of them
    on the first line ("Người ký: … [n]"), then the document it is from (with the others under
    it). Several documents keep their lines under their own headings."""
    headings = [line for line in lines if line.startswith("Theo ")]
    if len(lines) < 2 or headings != [lines[0]] or not lines[1].startswith("- "):
        return lines
    rest = lines[2:]
    return [lines[1].removeprefix("- "), "", lines[0] if rest else lines[0].removesuffix(":") + "."] + rest


def _compose_issuers(docs: list[Document], answer: Answer) -> Answer:
    """"Công văn X do cơ quan nào ban hành?": the body that issued the document (and the one it
    belongs to), citing where its header names it (who signed it is another question, "ai ký").
    ``answer`` unchanged when no document's header names its issuer."""
    citations: list[Citation] = []
    lines = []
    for doc in docs:
        m = doc.metadata
        span = _issuer_span(doc)
        if span is None:
            continue
        n = _cite(citations, doc, "Cơ quan ban hành", *span)
        issuer = m.issuer or ""
        if m.parent_issuer and fold(m.parent_issuer) not in fold(issuer):
            issuer += f" (thuộc {m.parent_issuer})"
        lines += [_heading(doc), f"- Cơ quan ban hành: {escape_markers(issuer)} [{n}]"]
    if not citations:
        return answer
    return answer.model_copy(update={"answer": "\n".join(_answer_first(lines)), "abstained": False,
                                     "citations": citations})


def _issuer_span(doc: Document) -> tuple[int, int] | None:
    """Where the document's header names its issuer ("ỦY BAN NHÂN DÂN\nTỈNH LÀO CAI" for "Ủy ban
    nhân dân tỉnh Lào Cai"), line breaks and case aside; in a header of two columns read line by
    line, where the motto splits the name, its longest opening run of two words or more
    ("ỦY BAN NHÂN DÂN"). None when the header does not name it."""
    words = matching_view(doc.metadata.issuer or "").split()
    head = _view(doc.text)[:_HEADER_REACH]
    found = [m.span() for n in range(len(words), 1, -1)
             if (m := re.search(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words[:n]) + r"(?!\w)", head))]
    # The header comes first: the earliest place, and there the longest run.
    return min(found, key=lambda span: (span[0], -span[1])) if found else None


_HEADER_REACH = 2000  # characters from a document's start its issuer is looked for in


def _compose_role_holder(q: Question, role: str, retrieval: Retrieval, stats: TermStats, answer: Answer,
                         tuning: Tuning) -> Answer:
    """"Ai làm tổ trưởng Tổ tiếp công dân?": the member line of the first retrieved passage that
    gives someone the place asked ("1. Bà Khúc Thị Hòa - … - Tổ trưởng."), its name first, the line
    quoted. Only from a document that holds the question's names and most of its words
    (``structured_min_coverage``): another team's leader is no answer. ``answer`` unchanged when no
    passage qualifies."""
    weights = term_weights(q, stats, tuning)
    about: dict[str, bool] = {}  # by document: it holds the question's names and enough of its words
    for chunk in retrieval.chunks:
        doc = retrieval.documents.get(chunk.doc_id)
        if doc is None:
            continue
        member = next(members_with_role(doc.text, role, chunk.start, chunk.end), None)
        if member is None:
            continue
        if doc.doc_id not in about:
            folded = _folded(doc.text)
            about[doc.doc_id] = (all(n in folded for n in q.names)
                                 and _share(weights, set(tokenize(doc.text))) >= tuning.structured_min_coverage)
        if not about[doc.doc_id]:
            continue
        citations: list[Citation] = []
        n = _cite(citations, doc, chunk.section, member.start, member.end)
        line = doc.text[member.start:member.end]
        written = role_as_written(line, role) or role
        lines = [f"{escape_markers(written[0].upper() + written[1:])}: {escape_markers(member.name)} [{n}]", "",
                 _heading(doc), f"- “{escape_markers(tidy(line))}” [{n}]"]
        first = [chunk] + [c for c in retrieval.chunks if c is not chunk]
        return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations,
                                         "retrieved": first})
    return answer


def _compose_unit_duties(q: Question, retrieval: Retrieval, stats: TermStats, answer: Answer,
                        tuning: Tuning) -> Answer:
    """"Chỉ thị giao Sở Tài chính làm gì?": what stands under the heading that names the body
    asked ("3. Sở Tài chính"), in the first retrieved document that has such a heading and holds
    the question's names and most of its words (``structured_min_coverage``). When the question
    says more than the body and the document ("… làm gì trong quý II?"), only the sentences that
    hold most of that (``duties_min_share_of_best`` of the best one's share); at most
    ``max_sentences``, in order. A body without a heading of its own, or one the question names
    as the one directing ("Sở Công Thương yêu cầu các công ty làm gì?"), is left to the sentence
    model: ``answer`` unchanged then."""
    weights = term_weights(q, stats, tuning)
    asked = f" {_passive(spelled_out_words(q.standalone))} "
    seen: set[str] = set()
    for chunk in retrieval.chunks:
        doc = retrieval.documents.get(chunk.doc_id)
        if doc is None or doc.doc_id in seen:
            continue
        seen.add(doc.doc_id)
        headed = _unit_section(doc.text, asked)
        if headed is None:
            continue
        if not (all(n in _folded(doc.text) for n in q.names)
                and _share(weights, set(tokenize(doc.text))) >= tuning.structured_min_coverage):
            continue
        unit, heading, start, end = headed
        spans = [(a, b) for a, b in sentence_spans(doc.text, start, end)
                 if len(doc.text[a:b].split()) >= tuning.fragment_max_words
                 and not doc.text[a:b].rstrip(" *").endswith("./.")]  # the letter's closing line
        if not spans:
            continue
        said = set(tokenize(f"{unit} {_description(doc)}")) | _DUTY_WORDS
        rest = {t: w for t, w in weights.items() if not set(t.split()) & said}
        shares = {s: _share(rest, set(tokenize(doc.text[s[0]:s[1]]))) for s in spans} if rest else {}
        best = max(shares.values(), default=0.0)
        if best > 0:
            spans = [s for s in spans if shares[s] >= tuning.duties_min_share_of_best * best]
        kept = sorted(sorted(spans, key=lambda s: -shares.get(s, 0.0))[:tuning.max_sentences])
        citations: list[Citation] = []
        whose = "Đối với" if _FOR_PARTY.match(fold(heading)) else "Nhiệm vụ của"
        lines = [f"{whose} {escape_markers(unit)} (mục “{escape_markers(heading)}”):", "", _heading(doc)]
        for a, b in kept:
            n = _cite(citations, doc, heading, a, b)
            quote = quote_window(doc.text[a:b].replace("*", ""), [], tuning.quote_max_chars)
            lines.append(f"- “{escape_markers(quote)}” [{n}]")
        inside = [c for c in retrieval.chunks if c.doc_id == doc.doc_id and c.start < end and c.end > start]
        return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations,
                                         "retrieved": inside + [c for c in retrieval.chunks if c not in inside]})
    return answer


# The words of "giao … làm gì / nhiệm vụ gì / trách nhiệm gì": they ask, they say nothing a duty holds.
_DUTY_WORDS = frozenset({"giao", "nhiem", "vu", "trach"})
# A body the question names before one of these (its place's name between) directs, it is not
# the one directed ("Sở Công Thương Lào Cai yêu cầu các công ty làm gì?"); after "được / bị" the
# verb is passive and the body is the one directed ("Thuế tỉnh Lào Cai được giao làm gì?").
_DIRECTING = re.compile(r"(?:\S+ ){0,3}?(?<!duoc )(?<!bi )"
                        r"(?:yeu cau|giao|de nghi|chi dao|huong dan|dieu dong|phan cong)\b")


def _unit_section(text: str, asked: str) -> tuple[str, str, int, int] | None:
    """The section of ``text`` whose heading names a body the question (``asked``, spelled out,
    space-padded) names: (body as written, heading, start and end of what it heads); the most
    specific name when several headings match."""
    best: tuple[int, tuple[str, str, int, int]] | None = None
    for spelled, headed in _headed_units(text):
        at = asked.find(f" {spelled} ")
        if at < 0 or _DIRECTING.match(asked, at + len(spelled) + 2):
            continue
        if best is None or len(spelled) > best[0]:
            best = (len(spelled), headed)
    return best[1] if best else None


@lru_cache(maxsize=64)
def _headed_units(text: str) -> tuple[tuple[str, tuple[str, str, int, int]], ...]:
    """Every body a section heading of ``text`` names, spelled out, with (the body as written, the
    heading, start and end of what it heads). Parsed once per document text, not per question;
    bounded like the retriever's document cache."""
    found = []
    for section, end in section_extents(text):
        # "3. Sở Tài chính: Chủ trì …": the heading is what stands before its colon.
        heading = section.heading.split(":")[0].strip()
        units = list(heading_units([heading]))
        # "6.2 Đối với đơn vị được kiểm tra", "d) Đối với cha mẹ trẻ em": what the section says
        # applies to the party it names, body or not.
        party = _FOR_PARTY.match(fold(heading))
        if party:
            units.append(heading[party.start("party"):].strip(" *_"))
        # "3. Sở Tài chính: Chủ trì …" goes on after its colon: the line is the first thing it heads
        # (quoted whole, its label with it).
        colon = text.find(":", section.start, section.end)
        body = section.start if colon >= 0 and text[colon + 1:section.end].strip() else section.end
        found += [(_passive(spelled_out_words(unit)), (unit, heading, body, end)) for unit in units]
    return tuple(found)


# A heading naming whom what it heads applies to: "6.2 Đối với đơn vị được kiểm tra".
_FOR_PARTY = re.compile(r"^[\W\d]*(?:[a-zđ]\)|[ivxlc]+[.)])?\s*doi voi\s+(?P<party>\S.*)$")


def _passive(spelled: str) -> str:
    """``spelled`` with the passive marker "được" written as "bị": "đơn vị được kiểm tra" and
    "đơn vị bị kiểm tra" name the same party ("chuẩn bị" is left as it is)."""
    return f" {spelled} ".replace(" duoc ", " bi ").strip()


# What "bao nhiêu" may count in that no list's entries are: a time, a share, a sum of money.
_NOT_COUNTS = frozenset({"duration", "share", "money"})


def _compose_list_count(q: Question, retrieval: Retrieval, stats: TermStats, answer: Answer,
                        tuning: Tuning) -> Answer:
    """"Có bao nhiêu đơn vị trong danh sách …?": the entries of the titled list ("Danh sách …",
    ``ingest.text.lists``) of a retrieved document whose title, with the document's description,
    holds most of the question (at least ``structured_min_coverage``; the best such list),
    counted: no sentence states the number. The whole list is cited. ``answer`` unchanged when
    no list qualifies."""
    weights = term_weights(q, stats, tuning)
    best: tuple[float, Document, TitledList] | None = None
    for doc in retrieval.documents.values():
        described = _description(doc)
        for listed in titled_lists(doc.text):
            if other_occurrence(q, listed.title):
                continue  # "báo cáo lần 1" is not the list of a question about "lần 2"
            share = _share(weights, set(tokenize(f"{listed.title} {described}")))
            if share >= tuning.structured_min_coverage and (best is None or share > best[0]):
                best = (share, doc, listed)
    if best is None:
        return answer
    _, doc, listed = best
    citations: list[Citation] = []
    n = _cite(citations, doc, listed.title, listed.start, listed.end)
    lines = [f"Số lượng: {listed.count} (đếm các mục của “{escape_markers(tidy(listed.title))}”) [{n}]", "",
             _heading(doc), f"- “{escape_markers(tidy(listed.title))}”, mục cuối: “{escape_markers(tidy(listed.last))}” [{n}]"]
    inside = [c for c in retrieval.chunks if c.doc_id == doc.doc_id and c.start < listed.end and c.end > listed.start]
    retrieved = inside + [c for c in retrieval.chunks if c not in inside]
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations,
                                     "retrieved": retrieved})


# "Thông tư … có hiệu lực từ ngày nào?", "Quyết định có hiệu lực khi nào?"
_EFFECT_ASKED = re.compile(r"\bco hieu luc\b(?:\s+\S+){0,4}?\s+(?:nao|khi nao|bao gio|luc nao)\b")
_EFFECT_STATED = re.compile(r"\bco hieu luc\b")


def _effective_sentence(q: Question, ranked: list[Candidate], tuning: Tuning) -> Candidate | None:
    """The sentence saying from when the document asked about applies ("… có hiệu lực từ ngày
    10/4/2026"): the likeliest stating a date or "kể từ ngày ký" that, when the question names
    a document by number, is that document's own or names it in or just before the sentence
    (``effective_reach_chars``);
    otherwise one holding most of the question (``structured_min_coverage``)."""
    codes = [number_key(c) for c in q.codes if "/" in c or "-" in c]
    for c in ranked:
        folded = fold(c.text)
        if not _EFFECT_STATED.search(folded) or not (holds_date(c.text) or "ngay ky" in folded):
            continue
        if codes:
            near = fold(c.doc.text[max(0, c.start - tuning.effective_reach_chars):c.end]).replace(" ", "")
            own = c.doc.metadata.number and number_key(c.doc.metadata.number) in codes
            if own or any(code.replace(" ", "") in near for code in codes):
                return c
        elif c.features["coverage"] + c.features["neighbours"] >= tuning.structured_min_coverage:
            return c
    return None


_LEAD_ROLES = ("chu tri", "thuc hien", "chiu trach nhiem", "trach nhiem thuc hien")


def _compose_role_line(q: Question, s: Candidate, answer: Answer) -> Answer:
    """The units of the role line of the sentence's numbered item ("- Cơ quan chủ trì: Sở Nội vụ,
    Sở Giáo dục và Đào tạo, Sở Tài chính."): the coordinating ones when the question asks who
    coordinates, else the leading ones; the role line first, then the task sentence, both
    quoted. ``answer`` unchanged when the item has no such line."""
    lines_found = role_lines(s.doc, _view(s.doc.text), s.start)
    wanted = ("phoi hop",) if "phoi hop" in q.folded else _LEAD_ROLES
    line = next((r for role in wanted for r in lines_found if r.role == role), None)
    if line is None:
        return answer
    citations: list[Citation] = []
    n = _cite(citations, s.doc, s.chunk.section, line.start, line.end)
    task = _cite(citations, s.doc, s.chunk.section, s.start, s.end)
    lines = [f"{escape_markers(line.label)}: {escape_markers(line.units)} [{n}]", "", _heading(s.doc),
             f"- “{escape_markers(tidy(s.text))}” [{task}]"]
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations,
                                     "retrieved": quoted_first(answer.retrieved, [s])})


def _compose_table_holder(q: Question, s: Candidate, answer: Answer) -> Answer:
    """The cell of the table row ``s`` under the column naming who carries it out ("Người thực
    hiện: Vũ Việt Linh"; who takes part when the question asks who coordinates), then the row's
    cells. ``answer`` unchanged when ``s`` is no such row."""
    cell = who_cell(s.doc.text, s.start, coordinating="phoi hop" in q.folded)
    if cell is None:
        return answer
    citations: list[Citation] = []
    n = _cite(citations, s.doc, s.chunk.section, s.start, s.end)
    row = " | ".join(c for c in (tidy(c) for c in s.text.split("|")) if c)
    lines = [f"{escape_markers(cell.column)}: {escape_markers(tidy(s.doc.text[cell.start:cell.end]))} [{n}]", "",
             _heading(s.doc), f"- Dòng của bảng: {escape_markers(row)} [{n}]"]
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations,
                                     "retrieved": quoted_first(answer.retrieved, [s])})


def _compose_ordinal(s: Candidate, head: str, answer: Answer) -> Answer:
    """"Lần thứ 8 [1]" over the sentence that says so, quoted."""
    citations: list[Citation] = []
    n = _cite(citations, s.doc, s.chunk.section, s.start, s.end)
    written = ORDINAL_HEADS.get(head, head)
    lines = [f"{written} thứ {ordinals(fold(s.text))[head]} [{n}]", "", _heading(s.doc),
             f"- “{escape_markers(tidy(s.text))}” [{n}]"]
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations,
                                     "retrieved": quoted_first(answer.retrieved, [s])})


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
    return answer.model_copy(update={"answer": "\n".join(_answer_first(lines)), "abstained": False,
                                     "citations": citations})


def _compose_recipients(q: Question, docs: list[Document], answer: Answer) -> Answer:
    """"Công văn X gửi đến những ai?": the document's "Kính gửi" list (the bodies that must act),
    then its "Nơi nhận" list (those informed, "để phối hợp", "để báo cáo"), each cited where it
    stands; only "Nơi nhận" when the question names it. ``answer`` unchanged when no document
    has either list."""
    lists = [("Nơi nhận", "recipients")] if "noi nhan" in q.folded else [("Kính gửi", "addressees"),
                                                                        ("Nơi nhận", "recipients")]
    citations: list[Citation] = []
    lines = []
    for doc in docs:
        body = []
        folded = _folded(doc.text)
        for label, field in lists:
            entries = getattr(doc.metadata, field)
            label_at = folded.rfind("noi nhan") if field == "recipients" else folded.find("kinh gui")
            span = _list_span(doc, entries, max(label_at, 0))
            if span is None:
                continue
            n = _cite(citations, doc, label, *span)
            body.append(f"- {label}: {escape_markers('; '.join(entries))} [{n}]")
        if body:
            lines += [_heading(doc), *body]
    if not citations:
        return answer
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations})


def _list_span(doc: Document, entries: list[str], after: int) -> tuple[int, int] | None:
    """From the first of ``entries`` to the last, as the document writes them after ``after``
    (the list's label), each looked for after the previous one."""
    start, end = None, after
    for entry in entries:
        # An entry is stored on one line; the document may wrap it.
        pattern = re.compile(r"\s+".join(re.escape(word) for word in entry.split()))
        m = pattern.search(doc.text, end)
        if m is None:
            continue
        start = m.start() if start is None else start
        end = m.end()
    return None if start is None else (start, end)


def term_weights(q: Question, stats: TermStats, tuning: Tuning) -> dict[str, float]:
    """IDF weights of the question's terms. A two-syllable term the corpus never uses is mostly
    a junction of two words ("năm 2023 huyện" → "2023 huyen"), not a word, so it weighs less
    (``unseen_bigram_weight``)."""
    unseen = tuning.unseen_bigram_weight
    return {t: stats.idf(t) * (unseen if " " in t and stats.df.get(t, 0) == 0 else 1.0) for t in q.terms}


def _select(ranked: list[Candidate], model: SelectionModel, tuning: Tuning) -> list[Candidate]:
    """The most probable sentence, then every other sentence likely enough to be quoted too
    (``extra_threshold``): lists, and one answer per document."""
    chosen = [ranked[0]] + [c for c in ranked[1:] if c.probability >= model.extra_threshold]
    return chosen[:tuning.max_sentences]


def _one_per_passage(chosen: list[Candidate]) -> list[Candidate]:
    """Drop sentences that repeat one already chosen (the same text in two documents)."""
    seen: set[str] = set()
    kept = []
    for s in chosen:
        key = fold_match(s.doc.text[s.start:s.end])[:160]
        if key not in seen:
            seen.add(key)
            kept.append(s)
    return kept


def _compose(q: Question, chosen: list[Candidate], answer: Answer, tuning: Tuning) -> Answer:
    """The answer text: a first line that answers directly when the question asks for a deadline
    or a document number, then per document the quoted sentences (whole, or cut around the words
    that answer), each with its citation."""
    citations: list[Citation] = []
    lines: list[str] = []
    order: list[str] = []
    for s in chosen:
        if s.doc.doc_id not in order:
            order.append(s.doc.doc_id)
    # "Cơ quan nào chủ trì …?": the units acting on the likeliest sentence come first; also when
    # the question gives the day itself ("Đơn vị nào phải báo cáo trước ngày 10/11?").
    asks_units = q.wants("who") and (not q.wants("when") or holds_day(q.standalone))
    units_first = _units_line(chosen[0], citations) if asks_units else None
    for doc_id in order:
        group = sorted((s for s in chosen if s.doc.doc_id == doc_id), key=lambda s: s.start)
        doc = group[0].doc
        lines.append(_heading(doc))
        if q.wants("signer") and doc.metadata.signer_name:
            lines.append(_signer_line(doc, citations))
        for s in group:
            if q.wants("who") and not (units_first and s is chosen[0]):
                actors = _actors_of(s)
                # A letter's addressees act on what it directs them to do, not on what it
                # reports ("Bộ trưởng ... phân cấp cho UBND cấp tỉnh ..."): there the list only
                # answers whom the letter is sent to, when that is asked.
                directive = actors is not None and (actors.source != "addressees"
                                                    or directs_addressees(doc.text, s.start, s.end))
                if actors and (directive or q.wants("recipients")):
                    lines.append(_actors_line(doc, actors, s, citations, acting=directive))
            n = _cite(citations, doc, s.chunk.section, s.start, s.end)
            quote = quote_window(doc.text[s.start:s.end].replace("*", ""), _answering_spans(q, s, tuning),
                                 tuning.quote_max_chars)
            lines.append(f"- “{escape_markers(quote)}” [{n}]")
    direct = units_first or _direct_line(q, chosen, citations, tuning)
    if direct:
        lines = [direct, ""] + lines
    return answer.model_copy(update={"answer": "\n".join(lines), "abstained": False, "citations": citations})


def _answering_spans(q: Question, s: Candidate, tuning: Tuning) -> list[tuple[int, int]]:
    """Where in the sentence the answer stands (offsets into the sentence): its deadlines when the
    question asks when, its figures when it asks how much, else the question's words."""
    text = s.doc.text[s.start:s.end]
    if q.wants("when"):
        found = [(d.start - s.start, d.end - s.start) for d in _deadlines(s)]
        if found:
            return found
    view = matching_view(text)
    spans = _question_spans(q, view)
    if q.wants("figure"):
        best = _asked_quantity(q, view, spans, tuning)
        if best is not None:
            reach = tuning.figure_lead_up_chars
            return [(a, b) for a, b in spans if best[0] - reach <= a < best[0]] + [best]
    return spans


def _question_spans(q: Question, view: str) -> list[tuple[int, int]]:
    """Where the question's terms stand in a sentence's matching view, in order."""
    return sorted((m.start(), m.start() + len(term)) for term in q.terms
                  for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", view))


def _unasked_quantities(q: Question, view: str) -> list[re.Match[str]]:
    """The quantities of a sentence's matching view that the question does not give itself ("9 tháng")."""
    return [m for m in _QUANTITY.finditer(view) if not says_whole(q.folded, m.group().strip())]


def _asked_quantity(q: Question, view: str, spans: list[tuple[int, int]], tuning: Tuning) -> tuple[int, int] | None:
    """The quantity of a sentence (``view``, its matching view; ``spans``, where the question's
    words stand in it) that a figure question asks for: of those counting in the measure asked
    ("mấy lần một ngày": "02 lần/ngày", not "9h00") if any, the one with most of the question's
    words in the stretch before it (``figure_lead_up_chars``). A quantity the question gives
    itself ("9 tháng") is not the answer. None when the sentence holds no other quantity."""
    quantities = [m.span() for m in _unasked_quantities(q, view)]
    counted = [qs for qs in quantities if q.measure and counts_in(q.measure, view[qs[0]:qs[0] + 40])]
    quantities = counted or quantities
    if not quantities:
        return None
    reach = tuning.figure_lead_up_chars
    return max(quantities, key=lambda qs: (sum(1 for a, _ in spans if qs[0] - reach <= a < qs[0]), -qs[0]))


# What a figure may go on with: its unit's second word or denominator ("4.500 tỷ đồng", "2,1
# con/phụ nữ", "02 lần/ngày"), or the rest of a range ("24-48 giờ").
_UNIT_TAIL = re.compile(r"(?:\s+(?:đồng|USD)\b|/\s?\w+(?:\s(?!(?:và|của|trong|trên|tại|theo|cho|với|đến|từ|để|là|"
                        r"được)\b)\w+)?|\s?[-–]\s?\d+(?:[.,]\d+)*(?:\s*(?:%|\w+))?)?")


def _figure_line(q: Question, s: Candidate, citations: list[Citation], tuning: Tuning) -> str | None:
    """"Số liệu: 8,19% [n]": the one quantity of the sentence ``s`` that the question does not
    give itself, as written, with its unit, when some of the question's words lead up to it.
    None when the sentence holds several: the quote shows them, and which one the question means
    is not sure enough to state on its own (picked by the words before it, as the quote is cut,
    a third of such first lines named the wrong figure on the gold set and the devset)."""
    text = s.doc.text[s.start:s.end]
    view = matching_view(text)
    spans = _question_spans(q, view)
    quantities = _unasked_quantities(q, view)
    if len(quantities) != 1:
        return None  # which of several the question means is not sure enough to state on its own
    best = quantities[0].span()
    if not any(best[0] - tuning.figure_lead_up_chars <= a < best[0] for a, _ in spans):
        return None
    a, b = best
    while b < len(view) and view[b].isalpha():  # "2,1 con/phụ nữ": the match stopped short of "/"
        b += 1
    b += len(_UNIT_TAIL.match(text, b).group())
    n = _cite(citations, s.doc, s.chunk.section, s.start, s.end)
    return f"Số liệu: {escape_markers(' '.join(text[a:b].split()))} [{n}]"


def _deadlines(s: Candidate) -> list:
    """The register's reading of the deadlines a sentence states (``Deadline`` values)."""
    view = _view(s.doc.text)
    return [f.deadline for f in deadlines_in(s.doc, view, (s.start, s.end)) if f.deadline is not None]


def _units_line(s: Candidate, citations: list[Citation]) -> str | None:
    """"Đơn vị thực hiện: Sở Xây dựng [n]": the units that act on the sentence ``s`` (the heading
    or lead-in above it, or the sentence itself), citing where they are named; None when none
    act on it (a letter's addressees do not act on what it reports)."""
    doc = s.doc
    actors = _actors_of(s)
    if actors is None or (actors.source == "addressees" and not directs_addressees(doc.text, s.start, s.end)):
        return None
    line = _actors_line(doc, actors, s, citations).removeprefix("- ")
    if actors.source == "sentence" or not line.endswith("]"):
        line += f" [{_cite(citations, doc, s.chunk.section, s.start, s.end)}]"
    return line


def _direct_line(q: Question, chosen: list[Candidate], citations: list[Citation], tuning: Tuning) -> str | None:
    """"Thời hạn: …", "Số hiệu: …" or "Số liệu: …", citing the sentence or document it comes from."""
    if q.wants("when"):
        for s in chosen:
            found = _deadlines(s)
            if found:
                n = _cite(citations, s.doc, s.chunk.section, s.start, s.end)
                label = "Hiệu lực" if _EFFECT_ASKED.search(q.folded) else "Thời hạn"
                return f"{label}: {escape_markers('; '.join(_deadline_text(d) for d in found[:3]))} [{n}]"
    if q.wants("number"):
        doc = chosen[0].doc
        if doc.metadata.number and not doc.metadata.number.startswith("/"):
            at = doc.text.find(doc.metadata.number)
            if at >= 0:
                n = _cite(citations, doc, "Số hiệu", at, at + len(doc.metadata.number))
                return f"Số hiệu: {escape_markers(doc.metadata.number)} [{n}]"
    if q.wants("figure"):
        return _figure_line(q, chosen[0], citations, tuning)
    return None


def _deadline_text(d) -> str:
    """A deadline as written, with its normalised form ("trước ngày 25/5 (25/05/2024, năm suy ra)")."""
    if d.kind == "date" and d.date:
        normal = format_date(d.date) + (", năm suy ra từ ngày văn bản" if d.year_inferred else "")
    elif d.kind == "month" and d.month:
        normal = f"tháng {int(d.month[5:7])}/{d.month[:4]}"
    elif d.kind == "quarter" and d.quarter and d.year:
        normal = f"quý {d.quarter}/{d.year}"
    elif d.kind == "year" and d.year:
        normal = f"năm {d.year}"
    else:
        return deadline_label(d)
    return d.text if fold_match(normal) in fold_match(d.text) else f"{d.text} ({normal})"


@lru_cache(maxsize=256)
def _view(text: str) -> str:
    return matching_view(text)


def _signer_line(doc: Document, citations: list[Citation]) -> str:
    m = doc.metadata
    who = " ".join(p for p in (m.signing_authority, m.signer_title) if p)
    at = doc.text.rfind(m.signer_name or "")
    ref = ""
    if at >= 0:
        n = _cite(citations, doc, "Người ký", at, at + len(m.signer_name or ""))
        ref = f" [{n}]"
    return escape_markers(f"- Người ký: {m.signer_name}" + (f" ({who})" if who else "")) + ref


def _actors_line(doc: Document, actors: Actors, s: Candidate, citations: list[Citation], *,
                 acting: bool = True) -> str:
    """"Đơn vị thực hiện: ..." (or, for addressees who do not act on the sentence, "Kính gửi:
    ..."), citing where the units are named."""
    units = escape_markers("; ".join(actors.units))
    title = "Đơn vị thực hiện" if acting else "Kính gửi"
    if actors.source == "sentence":
        return f"- {title}: {units}"
    unit = actors.units[0]
    # A heading or lead-in stands above the sentence: cite the nearest mention before it, not the
    # first in the document (the Kính gửi list or another section may name the same body).
    anchor = doc.text.find(unit) if actors.source == "addressees" else doc.text.rfind(unit, 0, s.start)
    if anchor < 0:
        anchor = doc.text.find(unit)
    if anchor < 0:
        return f"- {title}: {units}"
    label = {"heading": s.chunk.section, "lead-in": s.chunk.section, "addressees": "Kính gửi"}[actors.source]
    n = _cite(citations, doc, label, anchor, anchor + len(actors.units[0]))
    return f"- {title}: {units} [{n}]"


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


def merge_register_evidence(answer: Answer, evidence: list, documents: dict[str, Document]) -> Answer:
    """Add obligations and targets from the register (``ingest.register.register_evidence``) to an
    answer: each as one line with its own citation, after the passages already quoted. An item
    whose sentence the answer already quotes adds nothing, and neither does one matching the
    question less well than that item: the answer holds the register's best, the rest are near
    misses ("tỷ trọng kinh tế số ... 30% GRDP" quoted, "tỷ trọng ... trong từng ngành ... 20%" not
    added)."""
    citations = list(answer.citations)

    def quoted(e) -> bool:
        return any(c.doc_id == e.source.doc_id and c.start <= e.source.start < c.end for c in citations)

    if not answer.abstained:
        floor = max((e.score for e in evidence if quoted(e)), default=None)
        if floor is not None:
            evidence = [e for e in evidence if e.score >= floor]
    lines: list[str] = []
    for doc_id in dict.fromkeys(e.source.doc_id for e in evidence):
        doc = documents.get(doc_id)
        if doc is None:
            continue
        group = [e for e in evidence if e.source.doc_id == doc_id and not quoted(e)]
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
