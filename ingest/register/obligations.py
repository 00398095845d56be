"""Obligation extraction: requirement sentences that carry a deadline ("trước ngày 10/11",
"trong tháng 11/2024", "định kỳ 6 tháng (trước ngày 15/5)"), with the acting units, the units
they coordinate with, what must be done, to whom the result goes, and the deadline as data.

A wrong unit or date in a register is a defect, a missing one is a gap that passage retrieval
still covers: every rule here would rather leave a field empty than guess it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.models import Chunk, Document
from ingest.register.deadlines import deadlines_in, labelled_deadlines, value_deadline
from ingest.register.models import Deadline, Obligation
from ingest.register.tables import TableRow, row_roles, table_rows
from ingest.register.spans import chunk_sentences, in_recipients_list, matching_view, source_ref, split_clauses, tidy
from ingest.text.actors import (
    UNIT_HEAD,
    coordinating_units,
    is_unit_name,
    resolve_actors,
    sentence_units,
    split_units,
    tidy_unit,
)
from ingest.text.normalize import fold, repair_ocr_codes

# A deadline sentence asks for something to be done.
_OBLIGATION_VERB = re.compile(
    r"\b(?:bao cao|gui|trinh|hoan thanh|hoan thien|xay dung|to chuc|trien khai|thuc hien|nop|tham muu|"
    r"de xuat|cap nhat|tong hop|ban hanh|ra soat|chuan bi|du thao|phe duyet|ket thuc|bao ceo|ban giao|"
    r"hoan tat|xong)\b"
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
    own = sorted((c for c in chunks if c.doc_id == doc.doc_id), key=lambda c: c.start)
    out: list[Obligation] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return not any(a < end and start < b for a, b in taken)

    # Table rows first: a row's deadline cell would otherwise be read as a sentence without its unit.
    for row in table_rows(doc):
        ob = _row_obligation(doc, view, row, _chunk_at(own, row.cells[0][0]))
        if ob is not None and free(ob.deadline.start, ob.deadline.end):
            taken.append((ob.deadline.start, ob.deadline.end))
            out.append(ob)
    # Then labelled values ("- Thời hạn hoàn thành: Quý I/2026"), whose units sit in the item.
    for found in labelled_deadlines(doc, view):
        if not free(found.start, found.end) or _in_recipients_block(view, found.start):
            continue
        taken.append((found.start, found.end))
        out.append(_labelled_obligation(doc, view, _chunk_at(own, found.start), found.deadline))
    for chunk, sentences in chunk_sentences(doc, chunks):
        if in_recipients_list(chunk):
            continue
        for i, (s_start, s_end) in enumerate(sentences):
            if not _OBLIGATION_VERB.search(view, s_start, s_end) or _NARRATED.match(view, s_start, s_end):
                continue
            following = sentences[i + 1] if i + 1 < len(sentences) else None
            for clause in split_clauses(view, s_start, s_end):
                for found in deadlines_in(doc, view, clause):
                    d = found.deadline
                    if not free(min(found.start, d.start), max(found.end, d.end)):
                        continue
                    taken.append((min(found.start, d.start), max(found.end, d.end)))
                    out.append(_obligation(doc, view, chunk, (s_start, s_end), clause, d, following, "",
                                           previous=sentences[max(0, i - _PREVIOUS_REACH):i]))
    out.sort(key=lambda o: (o.deadline.start, o.source.start))
    return [o.model_copy(update={"id": f"{doc.doc_id}:o{i}"}) for i, o in enumerate(out)]


# --- tables, labelled items, numbered headings ---------------------------------------------------

# "Ngày 19 tháng 12 năm 2025, Sở X có văn bản ... trước ngày ...": an earlier letter's deadline, told.
_NARRATED = re.compile(
    r"[\s\-+•*]*ngay\s+\d{1,2}(?:\s*/\s*\d{1,2}\s*/\s*\d{4}|\s+thang\s+\d{1,2}\s+nam\s+\d{4})\s*,"
)
_NOI_NHAN = re.compile(r"\bnoi nhan\s*:")
_SIGN_OFF = re.compile(r"\b(?:phu luc|luu\s*:\s*vt)\b")


def _in_recipients_block(view: str, pos: int) -> bool:
    """Whether ``pos`` lies in a "Nơi nhận:" list (up to "Lưu: VT" or an appendix)."""
    start = view.rfind("noi nhan", max(0, pos - 1500), pos)
    if start < 0 or not _NOI_NHAN.match(view, start):
        return False
    return _SIGN_OFF.search(view, start, pos) is None


def _chunk_at(chunks: list[Chunk], pos: int) -> Chunk | None:
    chosen = None
    for c in chunks:
        if c.start <= pos:
            chosen = c
        else:
            break
    return chosen


def _cell_units(doc: Document, start: int, end: int, *, checked: bool) -> list[str]:
    """Units of a table cell or labelled value: split on ";" (and on "," or "và" when every part
    names a body); ``checked`` keeps only parts that read as a body's name."""
    out: list[str] = []
    for part in re.split(r";|\n(?=\s*[-+•])", doc.text[start:end]):
        part = " ".join(part.split()).strip(" -+•*.,:")
        if not part:
            continue
        commas = [p.strip() for p in part.split(",")]
        if len(commas) > 1 and all(is_unit_name(p) for p in commas):
            pieces = commas
        else:
            pieces = list(split_units(part))
        for piece in pieces:
            piece = _display_unit(piece)
            if piece and (not checked or is_unit_name(piece)) and len(piece) <= 200:
                out.append(piece)
    return list(dict.fromkeys(out))


def _row_obligation(doc: Document, view: str, row: TableRow, chunk: Chunk | None) -> Obligation | None:
    roles = row_roles(doc, view, row, lambda a, b: value_deadline(doc, view, a, b))
    if roles is None:
        return None
    k, cells = roles
    deadline = value_deadline(doc, view, *row.cells[k])
    unit_cell = cells["unit"]
    if deadline is None or unit_cell is None:
        return None
    units = _cell_units(doc, *unit_cell, checked=False)
    if not units or not any(is_unit_name(u) or u[:1].isupper() for u in units):
        return None
    coordinating = _cell_units(doc, *cells["coord"], checked=False) if cells["coord"] else []
    task = cells["task"]
    start = min(a for a, _ in row.cells)
    end = row.cells[k][1]
    action = tidy(doc.text[task[0]:task[1]]) if task else tidy(doc.text[unit_cell[0]:unit_cell[1]])
    return Obligation(
        id="", units=units, units_from="table", coordinating=[u for u in coordinating if u not in units],
        action=action.rstrip("./ "), deadline=deadline, source=source_ref(doc, chunk, start, end),
    )


_ROLE_LINE = re.compile(
    r"[\s\-+•*]*(?:(?:don vi|co quan|bo phan|nguoi)\s+)?(?P<role>chu tri|thuc hien|phoi hop|chiu trach nhiem|"
    r"trach nhiem thuc hien)(?:\s+thuc hien)?\s*:\s*(?P<units>\S.*)$"
)
_HEADING_LINE = re.compile(r"^[\s*_]*(?P<num>[IVXLC]{1,5}|\d{1,2}(?:\.\d{1,2})*)[.)]\s*[*_]*\s*(?P<rest>.*)$")
_ASSIGNING = re.compile(r"(?:giao|de nghi|yeu cau)\s+")
_RESPONSIBLE = re.compile(r"^(?:trach nhiem|nhiem vu)\s+(?:cua\s+)?")
_ITEM_REACH = 1500
# A heading line that stops mid-phrase ("1. Sở Nông nghiệp và", "..., Sở Tài chính,") wraps on.
_WRAPS_ON = re.compile(r"(?:[,\-–]|\b(?:va|cua|cac|voi|thuoc))\s*[*_]*\s*$")


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    while pos <= end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        spans.append((pos, stop))
        if nl < 0:
            break
        pos = nl + 1
    return spans


def _item_bounds(doc: Document, pos: int) -> tuple[int, int]:
    """The numbered item around ``pos``: from the numbered line above to the next one."""
    text = doc.text
    lo, hi = max(0, pos - _ITEM_REACH), min(len(text), pos + _ITEM_REACH)
    start = lo
    for a, b in reversed(_line_spans(text, lo, pos)):
        if _HEADING_LINE.match(text[a:b]) and a < pos:
            start = a
            break
    end = hi
    first_nl = text.find("\n", pos, hi)
    if first_nl >= 0:
        for a, b in _line_spans(text, first_nl + 1, hi):
            if _HEADING_LINE.match(text[a:b]):
                end = a
                break
    return start, end


@dataclass(frozen=True)
class RoleLine:
    """A labelled line of a numbered item naming who acts ("- Cơ quan chủ trì: Sở Nội vụ, Sở Giáo
    dục và Đào tạo."), wrapped lines included: ``role`` folded ("chu tri", "thuc hien", "phoi hop",
    ...), ``label`` as written ("Cơ quan chủ trì"), offsets into ``Document.text``."""

    role: str
    label: str
    units: str
    start: int
    end: int


def role_lines(doc: Document, view: str, pos: int) -> list[RoleLine]:
    """The role lines of the numbered item around ``pos`` (``view``: ``matching_view(doc.text)``),
    in order; a line goes on over the lines below it up to a blank line or the next item line."""
    start, end = _item_bounds(doc, pos)
    spans = _line_spans(doc.text, start, end)
    found: list[RoleLine] = []
    for i, (a, b) in enumerate(spans):
        m = _ROLE_LINE.match(view, a, b) if b > a else None
        if not m:
            continue
        stop = b
        for c, d in spans[i + 1:]:
            if not doc.text[c:d].strip() or re.match(r"\s*[-+•*]|\s*[a-zđ]\)|\s*\d", doc.text[c:d]):
                break
            stop = d
        label = doc.text[a:m.start("units")].strip(" -+•*:\t")
        found.append(RoleLine(m["role"], label, " ".join(doc.text[m.start("units"):stop].split()), a, stop))
    return found


def _role_units(doc: Document, view: str, pos: int) -> tuple[list[str], list[str]]:
    """Acting and coordinating units from the item's role lines ("- Đơn vị chủ trì: ...")."""
    start, end = _item_bounds(doc, pos)
    lead: list[tuple[int, list[str]]] = []
    coord: list[tuple[int, list[str]]] = []
    for a, b in _line_spans(doc.text, start, end):
        m = _ROLE_LINE.match(view, a, b) if b > a else None
        if not m:
            continue
        units = _cell_units(doc, m.start("units"), b, checked=False)
        if units:
            (coord if m["role"] == "phoi hop" else lead).append((abs(a - pos), units))
    pick = lambda found: min(found)[1] if found else []  # noqa: E731 - nearest to the deadline
    return pick(lead), pick(coord)


def heading_units(doc: Document, pos: int, reach: int = 8000) -> list[str]:
    """Units named by the nearest numbered heading above ``pos`` ("3. Bộ Công an: ...",
    "1.2. Sở Tài chính - cơ quan thường trực", "1.5. Trách nhiệm của đối tượng kiểm kê:").

    Walking up, a heading that names no unit closes its siblings: only its parents (fewer
    number parts) are read further, and a Roman-numeral section ends the walk.
    """
    text = doc.text
    lo = max(0, pos - reach)
    lines = _line_spans(text, lo, pos)
    ceiling: int | None = None
    for idx in range(len(lines) - 1, -1, -1):
        a, b = lines[idx]
        m = _HEADING_LINE.match(text[a:b])
        if not m or a >= pos:
            continue
        num = m["num"]
        level = 0 if num[0] in "IVXLC" else num.count(".") + 1
        if ceiling is not None and level >= ceiling:
            continue
        rest = first = m["rest"]
        follow = idx + 1
        while follow < len(lines) and follow <= idx + 3 and ":" not in rest and not rest.rstrip(" *_").endswith("."):
            c, d = lines[follow]
            if not text[c:d].strip() or _HEADING_LINE.match(text[c:d]):
                break
            if rest.strip(" *_") and text[c:d].lstrip(" *_")[:1].isupper() and not _WRAPS_ON.search(fold(rest)):
                break  # a capital after a finished phrase opens the body, not the heading's next line
            rest = f"{rest} {text[c:d]}"
            follow += 1
        # A wrapped heading reads on; a heading line followed by its body reads alone.
        units = _heading_unit(rest) or (_heading_unit(first) if rest != first else [])
        if units:
            return units
        if level == 0:
            return []
        ceiling = level
    return []


def _heading_unit(rest: str) -> list[str]:
    rest = " ".join(rest.replace("*", " ").replace("_", " ").split())
    folded = fold(rest)
    responsible = _RESPONSIBLE.match(folded)
    if responsible:
        phrase = rest[responsible.end():].split(":")[0].strip(" .")
        bare = re.sub(r"\([^()]*\)", " ", phrase)  # a parenthesis explains the unit, it does not lengthen it
        return [phrase] if phrase and len(bare.split()) <= 16 and not fold(phrase).startswith(
            ("thuc hien", "trien khai", "to chuc thuc")) else []
    phrase = rest.split(":")[0]
    phrase = re.split(r"\s[-–]\s", phrase)[0].strip(" .")
    assigned = _ASSIGNING.match(fold(phrase))
    if assigned:  # "2. Giao Sở X" / "3. Đề nghị Bộ Y": the unit assigned by the heading
        phrase = phrase[assigned.end():]
    if not phrase or len(phrase.split()) > 16:
        return []
    units = [u for u in split_units(tidy_unit(phrase)) if is_unit_name(u)]
    return [_display_unit(u) for u in units]


def _labelled_obligation(doc: Document, view: str, chunk: Chunk | None, deadline: Deadline) -> Obligation:
    """An item whose deadline is a labelled value: the task is the paragraph before the label."""
    label_line = doc.text.rfind("\n", 0, deadline.start) + 1
    if doc.text[label_line:deadline.start].strip(" -+•*\t"):
        task_start = max(doc.text.rfind(". ", label_line, deadline.start) + 2, label_line)
        task_start = label_line if task_start <= label_line + 1 else task_start
        # the label sits inside a paragraph: the task is the sentence before it
        sent = doc.text.rfind(". ", max(0, deadline.start - 600), deadline.start)
        task_start = sent + 2 if sent >= 0 else label_line
    else:
        # the previous non-empty line block (a wrapped paragraph) is the task
        prev_end = label_line - 1
        while prev_end > 0 and doc.text[prev_end - 1] in " \n\t":
            prev_end -= 1
        para = doc.text.rfind("\n\n", 0, prev_end)
        line = doc.text.rfind("\n", 0, prev_end)
        task_start = (para + 2) if para >= 0 and prev_end - para < 700 else line + 1
        nearest_item = max(doc.text.rfind("\n-", 0, prev_end), doc.text.rfind("\n+", 0, prev_end))
        if nearest_item + 1 > task_start:
            task_start = nearest_item + 1
    task_start = max(0, min(task_start, deadline.start))
    action = tidy(doc.text[task_start:deadline.start]).rstrip("./ ") or deadline.text
    units, coordinating = _role_units(doc, view, deadline.start)
    units_from = "item" if units else None
    if not units:
        units = heading_units(doc, deadline.start)
        units_from = "heading" if units else None
    if not units:
        actors = resolve_actors(doc, (task_start, deadline.start), chunk.section if chunk else [], strict=True)
        if actors and actors.source != "addressees":
            units, units_from = [_display_unit(u) for u in actors.units], actors.source
    if not coordinating:
        coordinating = [_display_unit(u) for u in coordinating_units(doc.text, task_start, deadline.start)]
    return Obligation(
        id="", units=list(dict.fromkeys(units)), units_from=units_from,
        coordinating=[u for u in dict.fromkeys(coordinating) if u not in units], action=action,
        deadline=deadline, source=source_ref(doc, chunk, task_start, _line_end(doc.text, deadline.end)),
    )


def _line_end(text: str, pos: int) -> int:
    """The end of the line ``pos`` is on (a parenthesis after a labelled value belongs to it)."""
    nl = text.find("\n", pos, pos + 300)
    end = nl if nl >= 0 else min(len(text), pos + 300)
    return len(text[:end].rstrip())


_PREVIOUS_REACH = 3
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _previous_units(doc: Document, view: str, sentence: tuple[int, int],
                    previous: list[tuple[int, int]]) -> list[str]:
    """Units named by an earlier sentence of the same paragraph, for a sentence that names none
    ("Giao Sở X chủ trì .... Đồng thời, tổng hợp ... trước ngày ..."): nearest first, stopping at
    a blank line or a new item."""
    for p_start, p_end in reversed(previous):
        opening = view[sentence[0]:_LEADING_ITEM.match(view, sentence[0], sentence[1]).end()]
        if _BLANK_LINE.search(doc.text, p_end, sentence[0]) or opening.strip():
            return []
        units = sentence_units(doc.text, p_start, p_end)
        if units:
            return [_display_unit(u) for u in units]
        sentence = (p_start, p_end)
    return []


def _obligation(doc: Document, view: str, chunk: Chunk, sentence: tuple[int, int], clause: tuple[int, int],
                deadline: Deadline, following: tuple[int, int] | None, ob_id: str, *,
                previous: list[tuple[int, int]] = ()) -> Obligation:
    s_start, s_end = sentence
    actors = resolve_actors(doc, sentence, chunk.section, strict=True)
    units = [_display_unit(u) for u in actors.units] if actors else []
    units_from = actors.source if actors else None
    if units_from != "sentence":
        earlier = _previous_units(doc, view, sentence, list(previous))
        if earlier:
            units, units_from = earlier, "previous"
    if units_from in (None, "addressees"):
        # The item's role lines ("- Đơn vị chủ trì: ...") or a numbered heading above ("3. Sở Y
        # tế: ...") are nearer than the addressees.
        role_units, _ = _role_units(doc, view, deadline.start)
        named = role_units or heading_units(doc, s_start)
        if named:
            units, units_from = named, "item" if role_units else "heading"
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
