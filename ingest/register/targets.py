"""Targets and baselines: percentages a document sets as a goal (a MỤC TIÊU section, "phấn
đấu") or reports as the current level ("Đến nay ...", "đã đạt năm 2023").

A percentage counts only with a target or baseline signal, and a change ("tăng 10%") never does:
a register figure without its meaning would be worse than none.
"""

from __future__ import annotations

import itertools
import re

from ingest.models import Chunk, Document
from ingest.register.deadlines import plan_year
from ingest.register.models import Target
from ingest.register.spans import chunk_sentences, matching_view, source_ref, split_clauses, tidy
from ingest.text.normalize import fold

_PERCENT = re.compile(r"(?<![\d,.])(?P<num>\d{1,3}(?:[.,]\d{1,3})?)\s*%")
# Words right before a figure that say how it compares; "giảm còn dưới 6%" → "<".
_COMPARATOR = re.compile(
    r"(?:\b(?:giam|tang|ha)\s+(?:con|len|xuong)\s+|\b(?:dat|con|la|o muc|muc)\s+)?"
    r"(?:(?P<op>duoi|tren|hon|it nhat|toi thieu|toi da|khong qua|khong vuot qua|khong duoi|tu)\s+)?$"
)
# "tăng 10%", "giảm 5% so với": a change, not a level.
_CHANGE = re.compile(r"\b(?:tang|giam)\s+(?:them\s+)?$")
_VERSUS = re.compile(r"^\s*(?:so voi|tro len so)")
_OPS = {"duoi": "<", "tren": ">", "hon": ">", "it nhat": ">=", "toi thieu": ">=", "khong duoi": ">=",
        "tu": ">=", "toi da": "<=", "khong qua": "<=", "khong vuot qua": "<="}
_BASELINE = re.compile(r"\b(?:den nay|hien nay|tinh den|da dat|dat duoc|nam qua|ket qua dat)\b")
_TARGET_WORD = re.compile(r"\b(?:phan dau|muc tieu|chi tieu)\b")
_TARGET_SECTION = re.compile(r"\b(?:muc tieu|chi tieu)\b")
_YEAR = re.compile(r"\b(?:den |trong |vao )?nam\s+((?:19|20)\d{2})\b")
_FRACTION = re.compile(r"(?<![\d/])(\d{1,5})\s*/\s*(\d{1,5})(?![\d/])")
# Lead words of a subject: item numbers, "phấn đấu", "duy trì", "đến nay, toàn tỉnh có", ...
_SUBJECT_LEAD = re.compile(
    r"(?:[\s,;:.\-+•]|\(\d{1,2}\)|\d{1,2}(?:\.\d{1,2})*[.)]\s|[a-zđ]\)\s|"
    r"(?:va|phan dau|duy tri|bao dam|dam bao|den nay|hien nay|tinh den|toan (?:tinh|huyen|xa) co|dat|"
    r"trong nam|den nam|nam|giai doan)\b|(?:19|20)\d{2}\b)+"
)
_BARE_RATE = re.compile(r"^(?:ty le|ti le)$")
_MAX_SUBJECT = 200


def extract_targets(doc: Document, chunks: list[Chunk]) -> list[Target]:
    """Percentages set as targets or reported as baselines in ``doc``, in text order.

    A figure is a target inside a MỤC TIÊU / CHỈ TIÊU section or after "phấn đấu" ("phần đầu",
    "phân đầu" as typed); a baseline after "đến nay", "hiện nay", "đã đạt", or a past year.
    Figures with neither signal, and changes ("tăng 10%"), are left out.
    """
    view = matching_view(doc.text)
    doc_year = plan_year(doc)
    out: list[Target] = []
    for chunk, sentences in chunk_sentences(doc, chunks):
        target_section = bool(_TARGET_SECTION.search(matching_view(chunk.section_path)))
        for s_start, s_end in sentences:
            for clause in split_clauses(view, s_start, s_end):
                values = [m for m in _PERCENT.finditer(view, *clause)]
                if not values:
                    continue
                bounds = _value_bounds(view, clause, values)
                for i, m in enumerate(values):
                    target = _target(doc, view, chunk, (s_start, s_end), m, bounds[i], bounds[i + 1],
                                     target_section, doc_year, f"{doc.doc_id}:t{len(out)}")
                    if target:
                        out.append(target)
    return out


def _value_bounds(view: str, clause: tuple[int, int], values: list[re.Match[str]]) -> list[int]:
    """Where the text of each figure begins and ends inside a clause: between two figures, at the
    last "và" or else the last comma, so "giảm còn 9,8% và thể chiều cao ... 19,6%" splits."""
    bounds = [clause[0]]
    for prev, nxt in itertools.pairwise(values):
        gap = view[prev.end():nxt.start()]
        cut = gap.rfind(" va ")
        if cut < 0:
            cut = gap.rfind(",")
        bounds.append(prev.end() + max(cut, 0))
    bounds.append(clause[1])
    return bounds


def _target(doc: Document, view: str, chunk: Chunk, sentence: tuple[int, int], m: re.Match[str],
            lo: int, hi: int, target_section: bool, doc_year: int | None, target_id: str) -> Target | None:
    before = view[max(lo, m.start() - 40):m.start()]
    if _CHANGE.search(before) or _VERSUS.match(view, m.end(), hi):
        return None
    cmp = _COMPARATOR.search(before)
    cmp_start = m.start() - (len(before) - cmp.start()) if cmp and cmp.group() else m.start()
    local = view[lo:hi]
    year_match = _YEAR.search(local)
    year = int(year_match.group(1)) if year_match else None
    past_year = bool(year and doc_year and year < doc_year)
    if _BASELINE.search(local) or past_year:
        kind = "baseline"
    elif _TARGET_WORD.search(local):
        kind = "target"
    elif _BASELINE.search(view, sentence[0], m.start()):
        kind = "baseline"
    elif target_section or _TARGET_WORD.search(view, sentence[0], m.start()):
        kind = "target"
    else:
        return None
    subject = _subject(doc, view, lo, cmp_start, m.end(), hi)
    if not subject:
        return None
    op = cmp["op"] if cmp and cmp["op"] else None
    return Target(
        id=target_id, kind=kind, subject=subject, value=float(m["num"].replace(",", ".")),
        comparator=_OPS.get(op, "=") if op else "=", value_text=tidy(doc.text[cmp_start:m.end()]),
        fraction=_fraction(view, lo, m.start()),
        year=year, source=source_ref(doc, chunk, *sentence),
    )


def _fraction(view: str, lo: int, hi: int) -> str | None:
    """A count stated with the figure ("77/108 xã ... đạt 71,3%"), never a date ("ngày 10/11")."""
    m = _FRACTION.search(view, lo, hi)
    if not m or view[max(0, m.start() - 6):m.start()].strip().endswith(("ngay", "thang")):
        return None
    part, whole = int(m.group(1)), int(m.group(2))
    return f"{part}/{whole}" if 0 < part <= whole else None


def _subject(doc: Document, view: str, lo: int, cmp_start: int, value_end: int, hi: int) -> str:
    """What a figure measures: the words before it ("Tỷ lệ ... đạt 97,2%"), or after it when it
    leads ("Phấn đấu 95% cơ sở y tế ...")."""
    lead = _SUBJECT_LEAD.match(view, lo, cmp_start)
    pre_start = lead.end() if lead else lo
    pre = tidy(doc.text[pre_start:cmp_start])
    post_end = hi
    colon = view.find(":", value_end, hi)
    if colon >= 0:
        post_end = colon
    post = tidy(doc.text[value_end:post_end]).rstrip(".")
    if pre and not _BARE_RATE.match(fold(pre)) and len(pre.split()) >= 2:
        subject = pre
    elif pre:
        subject = f"{pre} {post}".strip()
    else:
        subject = post
    if len(subject) > _MAX_SUBJECT:
        subject = subject[:subject.rfind(" ", 0, _MAX_SUBJECT)] + " …"
    return subject
