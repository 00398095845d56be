"""Obligation extraction: requirement sentences that carry a deadline ("trước ngày 10/11",
"trong tháng 11/2024", "định kỳ 6 tháng (trước ngày 15/5)"), with the acting units, the units
they coordinate with, what must be done, to whom the result goes, and the deadline as data.

A wrong unit or date in a register is a defect, a missing one is a gap that passage retrieval
still covers: every rule here would rather leave a field empty than guess it.
"""

from __future__ import annotations

import re

from ingest.models import Chunk, Document
from ingest.register.deadlines import deadlines_in
from ingest.register.models import Deadline, Obligation
from ingest.register.spans import chunk_sentences, in_recipients_list, matching_view, source_ref, split_clauses, tidy
from ingest.text.actors import UNIT_HEAD, coordinating_units, is_unit_name, resolve_actors, split_units, tidy_unit
from ingest.text.normalize import fold, repair_ocr_codes

# A deadline sentence asks for something to be done.
_OBLIGATION_VERB = re.compile(
    r"\b(?:bao cao|gui|trinh|hoan thanh|hoan thien|xay dung|to chuc|trien khai|thuc hien|nop|tham muu|"
    r"de xuat|cap nhat|tong hop|ban hanh|ra soat|chuan bi|du thao|phe duyet|ket thuc|bao ceo)\b"
)

# --- recipients and collecting units ------------------------------------------------------------

_UNIT_BODY = r"[^;()]{0,120}?"
_UNIT_STOP = (
    r"(?=\s*(?:[;.,(:]|$)|\s+(?:tru\w{1,2}c|cham nhat|trong|de|theo|xem xet|phe duyet|dong thoi|"
    r"truoc khi|va (?:bao cao|gui|de xuat|dong gui))\b)"
)
# "... về Sở X (thông qua Phòng Y) để tổng hợp": the unit that collects the reports.
_COLLECT = re.compile(
    rf"\b(?:ve|den|cho)\s+(?P<to>{UNIT_HEAD}{_UNIT_BODY})\s*"
    rf"(?:\(?\s*(?:thong\s+)?qua\s*\(?\s*(?P<via>{UNIT_HEAD}{_UNIT_BODY})\s*\)?\s*)?\(?\s*de\s+(?P<collect>tong\s+hop)\b"
)
# "... để tổng hợp(,) báo cáo UBND tỉnh và Sở ...": where the collected reports go next.
_ONWARD = re.compile(rf"\s*,?\s*(?:va\s+)?(?:bao cao|gui)\s+(?:ve\s+)?(?P<to>{UNIT_HEAD}{_UNIT_BODY}){_UNIT_STOP}")
# "trình UBND tỉnh", "gửi báo cáo kết quả ... về Sở X", "báo cáo Ủy ban nhân dân tỉnh".
_SUBMIT = re.compile(
    rf"\b(?:trinh|gui|bao cao|nop)\b(?:[^;.()]{{0,80}}?\s(?:ve|den|cho|len)|(?:\s+(?:ve|den|cho|len))?)\s+"
    rf"(?P<to>{UNIT_HEAD}{_UNIT_BODY}){_UNIT_STOP}"
    rf"(?:\s*\(?\s*(?:thong\s+)?qua\s*\(?\s*(?P<via>{UNIT_HEAD}{_UNIT_BODY})\s*\)?)?"
)
# Used with .match(text, pos), which anchors at pos (a "^" would not match there).
_LEADING_ITEM = re.compile(r"[\s\-+•]*(?:\(?\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ]\))?\s*")


def _units(doc: Document, start: int, end: int) -> list[str]:
    """The bodies named in ``doc.text[start:end]``, split on "và" and checked."""
    phrase = doc.text[start:end]
    return [_display_unit(u) for u in split_units(tidy_unit(phrase)) if is_unit_name(u)]


def _display_unit(unit: str) -> str:
    # Units are labels, not quotes: the light OCR repairs of number codes ("S¢" → "Sở") apply.
    return repair_ocr_codes(tidy_unit(unit))


# --- obligations --------------------------------------------------------------------------------


def extract_obligations(doc: Document, chunks: list[Chunk]) -> list[Obligation]:
    """Requirements with a deadline in ``doc``, in text order.

    The acting units come from the sentence ("Giao Sở ... chủ trì", "Đề nghị UBND các xã ..."),
    the section heading that names a unit, a lead-in ("... thực hiện một số nội dung như sau:"),
    or Kính gửi, in that order. A deadline that follows "về X (qua Y) để tổng hợp báo cáo Z"
    belongs to the collecting unit (Y, else X), whose result goes to Z.
    """
    view = matching_view(doc.text)
    out: list[Obligation] = []
    seen: set[int] = set()
    for chunk, sentences in chunk_sentences(doc, chunks):
        if in_recipients_list(chunk):
            continue
        for i, (s_start, s_end) in enumerate(sentences):
            if not _OBLIGATION_VERB.search(view, s_start, s_end):
                continue
            following = sentences[i + 1] if i + 1 < len(sentences) else None
            for clause in split_clauses(view, s_start, s_end):
                for found in deadlines_in(doc, view, clause):
                    if found.start in seen:
                        continue
                    seen.add(found.start)
                    ob = _obligation(doc, view, chunk, (s_start, s_end), clause, found.deadline, following,
                                     f"{doc.doc_id}:o{len(out)}")
                    out.append(ob)
    return out


def _obligation(doc: Document, view: str, chunk: Chunk, sentence: tuple[int, int], clause: tuple[int, int],
                deadline: Deadline, following: tuple[int, int] | None, ob_id: str) -> Obligation:
    s_start, s_end = sentence
    actors = resolve_actors(doc, sentence, chunk.section, strict=True)
    units = [_display_unit(u) for u in actors.units] if actors else []
    units_from = actors.source if actors else None
    action_start = _action_start(doc, view, clause, units if units_from == "sentence" else [])
    recipients: list[str] = []
    via: str | None = None

    collect = _COLLECT.search(view, s_start, s_end)
    onward = _ONWARD.match(view, collect.end()) if collect else None
    collector = _units(doc, *collect.span("via" if collect["via"] else "to")) if collect else []
    if collect and onward and deadline.start >= onward.end() and collector:
        # "... về UBND huyện qua Phòng X để tổng hợp báo cáo UBND tỉnh ... trước ngày 25/5": the
        # date is the collecting unit's, for its own report onward.
        units, units_from = collector, "collecting"
        recipients = _units(doc, *onward.span("to"))
        action_start = collect.start("collect")
    elif collect and deadline.start < collect.start():
        # "Báo cáo ... trước ngày 10/11; ... về Sở X để tổng hợp": the reports go to Sở X.
        recipients, via = _to_and_via(doc, collect)
    if not recipients and units_from != "collecting":
        recipients, via = _submitted_to(doc, view, clause, deadline)
    if not recipients and following and view.startswith("gui", following[0]):
        # "Đề nghị ... định kỳ báo cáo ... (trước ngày 15/5). Gửi báo cáo ... về UBND huyện qua ..."
        nxt = _COLLECT.search(view, *following) or _SUBMIT.search(view, *following)
        if nxt:
            recipients, via = _to_and_via(doc, nxt)

    coordinating = [_display_unit(u) for u in coordinating_units(doc.text, s_start, s_end)]
    return Obligation(
        id=ob_id,
        units=list(dict.fromkeys(units)),
        units_from=units_from,
        coordinating=[u for u in dict.fromkeys(coordinating) if u not in units],
        action=tidy(doc.text[action_start:clause[1]]).rstrip("./ ") or tidy(doc.text[clause[0]:clause[1]]),
        recipients=list(dict.fromkeys(r for r in recipients if r not in units)),
        via=via,
        deadline=deadline,
        source=source_ref(doc, chunk, s_start, s_end),
    )


def _submitted_to(doc: Document, view: str, clause: tuple[int, int], deadline: Deadline) -> tuple[list[str], str | None]:
    """The unit the clause sends its result to: the last one named before the deadline, else the first after."""
    matches = list(_SUBMIT.finditer(view, clause[0], clause[1]))
    before = [m for m in matches if m.start() < deadline.start]
    chosen = before[-1] if before else (matches[0] if matches else None)
    return _to_and_via(doc, chosen) if chosen else ([], None)


def _to_and_via(doc: Document, m: re.Match[str]) -> tuple[list[str], str | None]:
    via = _units(doc, *m.span("via")) if m["via"] else []
    return _units(doc, *m.span("to")), (via[0] if via else None)


def _action_start(doc: Document, view: str, clause: tuple[int, int], sentence_units: list[str]) -> int:
    """Where the action begins: after an item number and after "Giao/Đề nghị <units>"."""
    start = _LEADING_ITEM.match(view, clause[0], clause[1]).end()
    if sentence_units:
        last = fold(sentence_units[-1])
        at = view.find(last, start, clause[1])
        if at >= 0 and at - start < 0.6 * (clause[1] - start):
            start = at + len(last)
    while start < clause[1] and view[start] in " ,:;-*":
        start += 1
    return start
