"""Who must act on a requirement: resolved from the sentence, its section heading, a lead-in
sentence ("... yêu cầu X thực hiện một số nội dung như sau:") or the document's addressees.

Deadline sentences rarely name their actors ("Báo cáo kết quả thực hiện hằng năm trước ngày
10/11"), so answering "which units" means walking outwards from the sentence, as a reader does.
Matching runs on accent-folded text, whose offsets equal the display text's (folding NFC text
maps each character to one character), so every unit is returned as written in the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.models import Document
from ingest.normalize import fold

# Words that open the name of an acting body, folded.
_UNIT_HEAD = (
    r"(?:cac\s+)?(?:so|phong|uy ban|ubnd|ban|cong an|doan|hoi|mat tran|trung tam|bo|van phong|"
    r"co quan|don vi|giam doc|chu tich|thu truong|huyen uy|tinh uy|thi uy|thanh uy|dang uy|dang doan|"
    r"ban can su|nganh|dia phuong|truong|benh vien|cuc|chi cuc|to chuc|lien doan)\b"
)
# Verbs that end the unit phrase after "giao / đề nghị / yêu cầu".
_ACTION = (
    r"(?:chu tri|phoi hop|thuc hien|trien khai|tham muu|co trach nhiem|xay dung|theo doi|to chuc|"
    r"dinh ky|can cu|chu dong|khan truong|bao cao|tang cuong|quan tam|huong dan|nghien cuu|ra soat|"
    r"chiu trach nhiem|theo chuc nang|tiep tuc|day manh|lanh dao|chi dao|bo tri|gui)"
)
_ASSIGNMENT = re.compile(
    rf"\b(?:giao|de nghi|yeu cau|dang ky)\s+(?P<unit>{_UNIT_HEAD}.{{2,220}}?)\s+{_ACTION}\b"
)
_SUBJECT = re.compile(rf"^\W*(?:\d+[.)]\s*)?(?P<unit>{_UNIT_HEAD}.{{2,160}}?)\s+(?:chu tri|co trach nhiem|phoi hop voi|chiu trach nhiem)\b")
_HEADING_UNIT = re.compile(rf"^(?:[IVXLC]+[.\-]|\d+(?:\.\d+)*[.)]?)?\s*(?:de nghi\s+)?(?P<unit>{_UNIT_HEAD}.*)$")
_LEAD_IN = re.compile(r"(?:nhu sau|sau day)\s*:")
_SPLIT_UNITS = re.compile(r";\s*|\s+va de nghi\s+")


@dataclass(frozen=True)
class Actors:
    """The acting units for a sentence, as written, and where they were found."""

    units: tuple[str, ...]
    source: str  # 'sentence', 'heading', 'lead-in' or 'addressees'


def resolve_actors(doc: Document, sentence: tuple[int, int], section: list[str]) -> Actors | None:
    """The units that must carry out the sentence ``doc.text[start:end]``, or None if unknown."""
    start, end = sentence
    units = _units_in(doc.text, start, end, _SUBJECT) or _units_in(doc.text, start, end, _ASSIGNMENT)
    if units:
        return Actors(units, "sentence")
    for label in reversed(section):
        m = _HEADING_UNIT.match(fold(label))
        if m and not _is_generic_heading(m.group("unit")):
            offset = m.start("unit")
            return Actors((_tidy(label[offset:]),), "heading")
    lead = _lead_in(doc.text, start)
    if lead:
        units = _units_in(doc.text, lead[0], lead[1], _ASSIGNMENT)
        if units:
            return Actors(units, "lead-in")
    if doc.metadata.addressees:
        return Actors(tuple(doc.metadata.addressees), "addressees")
    return None


def _units_in(text: str, start: int, end: int, pattern: re.Pattern[str]) -> tuple[str, ...]:
    folded = fold(text[start:end])
    m = pattern.search(folded)
    if not m:
        return ()
    a, b = m.span("unit")
    phrase_folded, phrase = folded[a:b], text[start + a:start + b]
    units, cursor = [], 0
    for sep in _SPLIT_UNITS.finditer(phrase_folded):
        units.append(phrase[cursor:sep.start()])
        cursor = sep.end()
    units.append(phrase[cursor:])
    return tuple(u for u in (_tidy(u) for u in units) if u)


def _lead_in(text: str, start: int, reach: int = 2500) -> tuple[int, int] | None:
    """The paragraph before ``start`` that introduces a list ("... như sau:"), within ``reach``."""
    window_start = max(0, start - reach)
    folded = fold(text[window_start:start])
    last = None
    for last in _LEAD_IN.finditer(folded):
        pass
    if last is None:
        return None
    paragraph = folded.rfind("\n\n", 0, last.start())
    return window_start + (paragraph + 2 if paragraph >= 0 else 0), window_start + last.end()


def _is_generic_heading(folded_unit: str) -> bool:
    # "Tổ chức thực hiện" opens with "to chuc" but names an activity, not a body.
    return folded_unit.startswith(("to chuc thuc hien", "to chuc trien khai", "to chuc cac", "nganh nghe"))


def _tidy(unit: str) -> str:
    unit = re.sub(r"\s+", " ", unit.replace("*", "")).strip(" -–;,.:\n")
    return unit
