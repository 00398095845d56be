"""The directive register as read from the index: obligations (who must do what by when),
numeric targets, and the graph of documents implementing and citing each other.

Obligations, targets and each document's outgoing references are extracted at ingest
(``ingest.obligations``) and stored as payload-only points (``kind`` 'obligation', 'target',
'relation') carrying ``file``, so re-ingesting or pruning a file replaces them with its chunks.
Which indexed document a cited number belongs to can change whenever any file is ingested, so
references are resolved here, at read time, against the documents present now.

Everything returns typed records whose fields map one-to-one onto a table row
(``obligation_row``), a CSV line, or a calendar event (``to_ics``).
"""

from __future__ import annotations

import calendar
import re
from functools import lru_cache
from collections import deque
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, Field

from ingest.index import Index
from ingest.models import Document
from ingest.text.normalize import fold, fold_match
from ingest.obligations import (
    REGISTER_KINDS,
    Deadline,
    Obligation,
    Relation,
    SourceRef,
    Target,
    number_key,
    resolve_relations,
)
from ingest.sparse import tokenize
from ingest.store import Condition
from rag.query import analyze


class Register(BaseModel):
    """Every obligation, target and reference of an index (references not yet resolved)."""

    obligations: list[Obligation] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)


def load_register(index: Index) -> Register:
    """Read the register points of ``index``, in document and text order."""
    found: dict[str, list] = {kind: [] for kind in REGISTER_KINDS}
    for payload in index.store.scroll([Condition("kind", any_of=REGISTER_KINDS)]):
        kind = payload["kind"]
        found[kind].append(payload[kind])
    def order(item: Obligation | Target | Relation) -> tuple:
        return item.source.file, item.source.doc_id, item.source.start, item.id

    return Register(
        obligations=sorted((Obligation.model_validate(p) for p in found["obligation"]), key=order),
        targets=sorted((Target.model_validate(p) for p in found["target"]), key=order),
        relations=sorted((Relation.model_validate(p) for p in found["relation"]), key=order),
    )


def _register(source: Index | Register) -> Register:
    return source if isinstance(source, Register) else load_register(source)


# --- obligations --------------------------------------------------------------------------------


def next_due(deadline: Deadline, today: date | None = None) -> date | None:
    """When the deadline next falls: its date (even if past) for one-off deadlines, the month's
    last day for 'trong tháng', and the next occurrence on or after ``today`` for recurring ones."""
    today = today or date.today()
    if deadline.kind == "date":
        return date.fromisoformat(deadline.date) if deadline.date else None
    if deadline.kind == "month" and deadline.month:
        year, month = (int(p) for p in deadline.month.split("-"))
        return date(year, month, calendar.monthrange(year, month)[1])
    if deadline.recurrence == "monthly" and deadline.day:
        year, month = today.year, today.month
        for _ in range(2):
            day = min(deadline.day, calendar.monthrange(year, month)[1])
            if date(year, month, day) >= today:
                return date(year, month, day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None
    if deadline.month_day:
        month, day = (int(p) for p in deadline.month_day.split("-"))
        for year in range(today.year, today.year + 5):  # 29/2 needs a leap year
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    return None


def list_obligations(
    index: Index | Register,
    unit: str | None = None,
    before: date | str | None = None,
    doc_id: str | None = None,
    *,
    today: date | None = None,
) -> list[Obligation]:
    """Obligations, soonest due first.

    ``unit``: accent-insensitive, abbreviation-aware match on the acting or coordinating units
    ("Sở LĐTBXH" finds "Sở Lao động - Thương binh và Xã hội"). ``before``: due on or before that
    day (recurring ones by their next occurrence after ``today``; past one-off dates stay in,
    as overdue). ``doc_id``: one document's.
    """
    cutoff = date.fromisoformat(before) if isinstance(before, str) else before
    wanted = unit_key(unit) if unit else None
    out = []
    for o in _register(index).obligations:
        if doc_id and o.source.doc_id != doc_id:
            continue
        if wanted and not any(wanted in unit_key(u) for u in [*o.units, *o.coordinating]):
            continue
        due = next_due(o.deadline, today)
        if cutoff and (due is None or due > cutoff):
            continue
        out.append((due or date.max, o.source.doc_id, o.deadline.start, o))
    return [o for *_, o in sorted(out, key=lambda row: row[:3])]


# Abbreviations in unit names, spelled out so that "UBND" meets "Ủy ban nhân dân".
_UNIT_ABBREVIATIONS = [
    (re.compile(r"\bs(?:o\s*)?ld\s*[-,]?\s*tb\s*(?:&|va)?\s*xh\b"), "so lao dong thuong binh xa hoi"),
    (re.compile(r"\bsldtbxh\b"), "so lao dong thuong binh xa hoi"),
    (re.compile(r"\bld\s*[-,]?\s*tb\s*(?:&|va)?\s*xh\b|\bldtbxh\b"), "lao dong thuong binh xa hoi"),
    (re.compile(r"\bubnd\b"), "uy ban nhan dan"),
    (re.compile(r"\bhdnd\b"), "hoi dong nhan dan"),
    (re.compile(r"\bubmttq(?:vn)?\b"), "uy ban mat tran to quoc"),
    (re.compile(r"\bmttq(?:vn)?\b"), "mat tran to quoc"),
    (re.compile(r"\bgd\s*&\s*dt\b|\bgddt\b"), "giao duc dao tao"),
]
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def unit_key(unit: str) -> str:
    """A unit name reduced for matching: folded, abbreviations spelled out, punctuation and "và" gone."""
    text = fold_match(unit)
    for pattern, spelled in _UNIT_ABBREVIATIONS:
        text = pattern.sub(spelled, text)
    words = [w for w in _NOT_WORD.split(text) if w and w != "va"]
    return " ".join(words)


def deadline_label(deadline: Deadline) -> str:
    """The deadline as written, with what the text leaves implicit (an inferred year, the period)."""
    text = deadline.text
    folded = fold(text)
    if deadline.kind == "date" and deadline.year_inferred and deadline.date:
        return f"{text} (năm {deadline.date[:4]}, suy ra từ văn bản)"
    if deadline.recurrence == "yearly" and "hang nam" not in folded:
        return f"{text}, hằng năm"
    if deadline.recurrence == "semiannual" and "6 thang" not in folded:
        return f"{text}, định kỳ 6 tháng"
    if deadline.recurrence == "monthly" and "thang" not in folded:
        return f"{text}, hằng tháng"
    return text


OBLIGATION_COLUMNS = ("due", "deadline", "kind", "units", "action", "coordinating", "recipients", "via",
                      "number", "doc_type", "issuer", "section", "file", "doc_id", "start", "end")
"""Columns of ``obligation_row``, in display order (a UI table, a CSV header)."""


def obligation_row(o: Obligation, today: date | None = None) -> dict[str, str | int]:
    """One flat row per obligation: lists joined with '; ', the next due date as ISO."""
    due = next_due(o.deadline, today)
    s = o.source
    return {
        "due": due.isoformat() if due else "", "deadline": deadline_label(o.deadline),
        "kind": o.deadline.recurrence or o.deadline.kind, "units": "; ".join(o.units), "action": o.action,
        "coordinating": "; ".join(o.coordinating), "recipients": "; ".join(o.recipients), "via": o.via or "",
        "number": s.number or "", "doc_type": s.doc_type or "", "issuer": s.issuer or "", "section": s.section,
        "file": s.file, "doc_id": s.doc_id, "start": s.start, "end": s.end,
    }


# --- calendar -----------------------------------------------------------------------------------


def _event_start(deadline: Deadline, today: date | None) -> date | None:
    """First day of the calendar event: the due date, the month's last day, or the first
    occurrence of a recurring deadline (on or after the document's date when known)."""
    if deadline.kind == "recurring" and deadline.due:
        return date.fromisoformat(deadline.due)
    return next_due(deadline, today)


def to_ics(obligations: list[Obligation], *, stamp: datetime | None = None, today: date | None = None) -> bytes:
    """An iCalendar file with one all-day VEVENT per deadline.

    Recurring deadlines carry an RRULE: 'hằng năm trước ngày 10/11' → FREQ=YEARLY;BYMONTH=11;
    BYMONTHDAY=10. A semiannual report ("báo cáo 6 tháng (trước ngày 15/5)") is one report a year
    due on the date written, so it is FREQ=YEARLY on that date too; the annual report the same
    documents ask for is its own obligation and its own event. 'Trong tháng 11/2024' is an event
    on 30/11/2024. Deadlines without a usable date (a year that could not be inferred) are left out.
    """
    from icalendar import Calendar, Event

    stamp = stamp or datetime.now(timezone.utc)
    cal = Calendar()
    cal.add("prodid", "-//congvan//so theo doi nhiem vu//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "congvan: thời hạn thực hiện")
    for o in obligations:
        start = _event_start(o.deadline, today)
        if start is None:
            continue
        event = Event()
        event.add("uid", f"{o.id}@congvan")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(days=1))
        event.add("summary", _shorten(o.action, 120))
        event.add("description", _event_description(o))
        event.add("categories", [o.deadline.recurrence or o.deadline.kind])
        rule = _rrule(o.deadline)
        if rule:
            event.add("rrule", rule)
        cal.add_component(event)
    return cal.to_ical()


def _rrule(deadline: Deadline) -> dict | None:
    if deadline.kind != "recurring":
        return None
    if deadline.recurrence == "monthly" and deadline.day:
        return {"freq": "monthly", "bymonthday": deadline.day}
    if deadline.month_day:
        month, day = (int(p) for p in deadline.month_day.split("-"))
        return {"freq": "yearly", "bymonth": month, "bymonthday": day}
    return None


def _event_description(o: Obligation) -> str:
    s = o.source
    lines = [f"Thời hạn: {deadline_label(o.deadline)}"]
    if o.units:
        lines.append(f"Đơn vị thực hiện: {'; '.join(o.units)}")
    if o.coordinating:
        lines.append(f"Phối hợp: {'; '.join(o.coordinating)}")
    if o.recipients:
        lines.append(f"Gửi/trình: {'; '.join(o.recipients)}" + (f" (qua {o.via})" if o.via else ""))
    lines.append(f"Nhiệm vụ: {o.action}")
    label = " ".join(p for p in ((s.doc_type or "văn bản").capitalize(), s.number or "") if p)
    lines.append(f"Nguồn: {label}" + (f" - {s.issuer}" if s.issuer else "") + (f" - {s.section}" if s.section else ""))
    lines.append(f"“{_shorten(s.quote, 600)}”")
    lines.append(f"{s.file}:{s.start}-{s.end}")
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text.replace("*", "")).strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"


# --- targets ------------------------------------------------------------------------------------


def list_targets(index: Index | Register, doc_id: str | None = None,
                 kind: Literal["target", "baseline"] | None = None) -> list[Target]:
    """Targets and baselines in document and text order, optionally of one document or kind."""
    return [t for t in _register(index).targets
            if (doc_id is None or t.source.doc_id == doc_id) and (kind is None or t.kind == kind)]


# --- relations ----------------------------------------------------------------------------------


class GraphNode(BaseModel):
    """A document in the graph: indexed (``doc_id`` set) or only known by the number cited."""

    key: str = Field(description="Folded number ('61-ctr/tu'), or 'doc:<doc_id>' for a document without one.")
    number: str | None = None
    doc_id: str | None = None
    label: str
    in_corpus: bool


class GraphEdge(BaseModel):
    """``source`` implements / is based on / encloses / cites ``target``."""

    source: str
    target: str
    kind: Literal["implements", "based_on", "encloses", "cites"]
    relation: Relation


class RelationGraph(BaseModel):
    """Documents and the references between them."""

    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)

    def node(self, key: str) -> GraphNode | None:
        return next((n for n in self.nodes if n.key == key), None)

    def upstream(self, key: str, kinds: tuple[str, ...] = ("implements",)) -> list[str]:
        """Keys reached from ``key`` along edges of ``kinds``, nearest first: for a công văn
        implementing a chương trình that implements a chỉ thị, [chương trình, chỉ thị]."""
        seen, order, queue = {key}, [], deque([key])
        while queue:
            current = queue.popleft()
            for e in self.edges:
                if e.source == current and e.kind in kinds and e.target not in seen:
                    seen.add(e.target)
                    order.append(e.target)
                    queue.append(e.target)
        return order

    def downstream(self, key: str, kinds: tuple[str, ...] = ("implements",)) -> list[str]:
        """Keys of the documents that (transitively) implement ``key``, nearest first."""
        reversed_graph = RelationGraph(nodes=self.nodes, edges=[
            e.model_copy(update={"source": e.target, "target": e.source}) for e in self.edges])
        return reversed_graph.upstream(key, kinds)


def node_key(doc: Document) -> str:
    """The graph key of an indexed document: its number, or its id when it has none."""
    number = doc.metadata.number
    return number_key(number) if number and number[:1].isdigit() else f"doc:{doc.doc_id}"


def build_graph(documents: list[Document], relations: list[Relation]) -> RelationGraph:
    """The graph of ``relations`` (resolved here) over ``documents`` plus the numbers they cite."""
    resolved = resolve_relations(relations, documents)
    by_id = {d.doc_id: d for d in documents}
    nodes: dict[str, GraphNode] = {}
    for d in documents:
        key = node_key(d)
        nodes.setdefault(key, GraphNode(key=key, number=d.metadata.number, doc_id=d.doc_id,
                                        label=_doc_label(d), in_corpus=True))
    edges = []
    for r in resolved:
        source_doc = by_id.get(r.source_doc_id)
        if source_doc is None:
            continue
        target = node_key(by_id[r.target_doc_id]) if r.target_doc_id in by_id else r.target_key
        nodes.setdefault(target, GraphNode(key=target, number=r.target_number, label=r.target_number,
                                           in_corpus=False))
        edges.append(GraphEdge(source=node_key(source_doc), target=target, kind=r.kind, relation=r))
    return RelationGraph(nodes=list(nodes.values()), edges=edges)


def relation_graph(index: Index) -> RelationGraph:
    """The reference graph of everything indexed now."""
    return build_graph(index.documents(), _register(index).relations)


def _doc_label(doc: Document) -> str:
    m = doc.metadata
    kind = (m.doc_type or "văn bản").capitalize()
    number = m.number if m.number and m.number[:1].isdigit() else None
    who = f" ({m.issuer})" if m.issuer else ""
    return f"{kind} {number}{who}" if number else f"{kind}{who}"


# --- evidence for answers -----------------------------------------------------------------------


class Evidence(BaseModel):
    """A register item that answers a question, ready to be cited like any answer sentence."""

    kind: Literal["obligation", "target"]
    score: float
    line: str = Field(description="What to show, in Vietnamese, without a citation marker.")
    source: SourceRef
    obligation: Obligation | None = None
    target: Target | None = None


_ASKS_DEADLINE = re.compile(r"\b(?:han|thoi han|han chot|truoc ngay|ngay nao|khi nao|bao gio|dinh ky|thang nao|luc nao)\b")
# Our targets are percentages: a question naming a rate or a goal asks for one; a bare "bao
# nhiêu" may ask for a count or an amount the register does not hold.
_ASKS_RATE = re.compile(r"\b(?:muc tieu|chi tieu|phan dau|ty le|ti le|phan tram)\b|%")
_ASKS_TARGET = re.compile(r"\b(?:muc tieu|chi tieu|phan dau)\b")
# Words that say what kind of answer is wanted; the register item's fields answer them.
_QUESTION_WORDS = frozenset(
    "han thoi chot truoc ngay nao khi gio bao nhieu phan tram muc tieu chi dat ty ti le don vi co quan "
    "nhiem vu trach nhiem phai lam gi ai dau yeu cau theo dinh ky".split()
)


def register_evidence(question: str, index_or_register: Index | Register, *, limit: int = 4) -> list[Evidence]:
    """Obligations and targets that answer ``question``, best first (empty when it asks for
    neither, which is most questions: the caller merges this with passage retrieval).

    * Deadline questions ("trước ngày nào", "khi nào", "hạn") match obligations covering 65 % of
      the question's content words (an item's own fields count fully, its sentence and document
      label at 0.7). A "which unit / what task" question without a deadline word needs 80 %, and
      a document number it names must be the obligation's own document.
    * Rate and goal questions ("tỷ lệ", "mục tiêu", "phấn đấu") match targets and baselines at
      75 %; a bare "bao nhiêu" at 85 % (it may ask for a count the register does not hold).
    * Questions about a document's issue date ("ban hành ngày nào") match nothing here.
    * Every place or body the question names, and any number or date it gives ("2577",
      "10/11"), must be found in the item or its document.
    """
    q = analyze(question)
    if q.wants("date") or q.wants("signer"):
        return []
    asks_deadline = q.wants("when") or bool(_ASKS_DEADLINE.search(q.folded))
    asks_duty = q.wants("who") or q.wants("task")
    asks_rate = bool(_ASKS_RATE.search(q.folded))
    asks_figure = asks_rate or q.wants("figure")
    if not (asks_deadline or asks_duty or asks_figure):
        return []
    words = [t for t in q.terms if " " not in t and t not in _QUESTION_WORDS and not _is_code(t)]
    codes = [t for t in q.terms if _is_code(t)]
    register = _register(index_or_register)
    candidates: list[Evidence] = []
    if asks_deadline or asks_duty:
        threshold = 0.65 if asks_deadline else 0.8
        for o in register.obligations:
            own = [*o.units, *o.coordinating, *o.recipients, o.via or "", o.action, o.deadline.text]
            score = _match(q.names, words, codes, own, _context(o.source, with_references=asks_deadline))
            if score >= threshold:
                # "báo cáo 6 tháng" vs "báo cáo năm": the words of the deadline itself decide ties.
                said = _terms(o.deadline.text)
                score += 0.05 * sum(1 for w in words if w in said) / max(1, len(words))
                candidates.append(Evidence(kind="obligation", score=round(score, 3), line=obligation_line(o),
                                           source=o.source, obligation=o))
    if asks_figure:
        threshold = 0.75 if asks_rate else 0.85
        for t in register.targets:
            score = _match(q.names, words, codes, [t.subject, t.value_text], _context(t.source))
            if score >= threshold:
                # A question about a goal prefers targets to the baselines stated beside them.
                score += 0.05 if (t.kind == "target") == bool(_ASKS_TARGET.search(q.folded)) else 0.0
                candidates.append(Evidence(kind="target", score=round(score, 3), line=target_line(t),
                                           source=t.source, target=t))
    candidates.sort(key=lambda e: (-e.score, e.source.doc_id, e.source.start))
    if not candidates:
        return []
    best = candidates[0].score
    return [e for e in candidates if e.score >= best - 0.1][:limit]


def _is_code(term: str) -> bool:
    return any(ch.isdigit() for ch in term) and any(ch in "/-" for ch in term)


def _context(s: SourceRef, with_references: bool = True) -> list[str]:
    # The numbers a document cites can count as context: "kế hoạch thực hiện Chương trình
    # 61-CTr/TU" is asked of the letter that carries the programme out, whose task sentence only
    # says "Chương trình nêu trên".
    refs = s.references if with_references else []
    return [s.quote, s.section, s.doc_type or "", s.number or "", s.issuer or "", s.subject or "", *refs]


@lru_cache(maxsize=65536)
def _terms(text: str) -> frozenset[str]:
    # Register items are matched against every deadline question: their terms are computed once
    # per process, not once per question (the register of a 10,000-chunk archive has thousands).
    return frozenset(tokenize(text))


@lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    return fold_match(text)


def _match(names: tuple[str, ...], words: list[str], codes: list[str], own: list[str], context: list[str]) -> float:
    own_text, context_text = " ".join(own), " ".join(context)
    own_terms = _terms(own_text)
    all_terms = own_terms | _terms(context_text)
    folded_all = _folded(own_text) + " " + _folded(context_text)
    if any(n not in folded_all for n in names):
        return 0.0
    if codes and not any(c in all_terms for c in codes):
        return 0.0
    if not words:
        return 1.0 if codes or names else 0.0
    got = sum(1.0 if w in own_terms else 0.7 if w in all_terms else 0.0 for w in words)
    return got / len(words)


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
