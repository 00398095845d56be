"""Who must act on a requirement: resolved from the sentence, its section heading, a lead-in
sentence ("... yêu cầu X thực hiện một số nội dung như sau:") or the document's addressees.

Deadline sentences rarely name their actors ("Báo cáo kết quả thực hiện hằng năm trước ngày
10/11"), so answering "which units" means walking outwards from the sentence, as a reader does.
Matching runs on accent-folded text, whose offsets equal the display text's (folding NFC text
maps each character to one character), so every unit is returned as written in the source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.models import Document
from ingest.text.normalize import fold, repair_ocr_codes

# Words that open the name of an acting body, folded.
_UNIT_HEAD = (
    r"(?:cac\s+)?(?:so|phong|uy ban|ubnd|ban|cong an|doan|hoi|mat tran|trung tam|bo|van phong|"
    r"co quan|don vi|giam doc|chu tich|thu truong|huyen uy|tinh uy|thi uy|thanh uy|dang uy|dang doan|"
    r"ban can su|nganh|dia phuong|truong|benh vien|cuc|chi cuc|to chuc|lien doan|tap doan|tong cong ty|"
    # Bodies not named after "Sở / Ban / Cục": the tax office ("Thuế tỉnh", since 2025), the
    # treasury, customs, social insurance, the courts, the procuracy, the inspectorate.
    r"thue (?:tinh|thanh pho|co so)|kho bac|hai quan|bao hiem xa hoi|toa an|vien kiem sat|thanh tra)\b"
)
# The fields departments and ministries are named after ("Sở Công Thương", "Bộ Tài chính"),
# folded: part of a body's title, not of the place that follows it ("Sở Công Thương Đắk Lắk").
SECTOR_NAMES: tuple[str, ...] = (
    "cong thuong", "tai chinh", "noi vu", "tu phap", "xay dung", "y te", "ngoai vu", "cong an",
    "quoc phong", "ngoai giao", "giao thong van tai", "ke hoach va dau tu", "tai nguyen va moi truong",
    "nong nghiep va moi truong", "nong nghiep va phat trien nong thon", "khoa hoc va cong nghe",
    "giao duc va dao tao", "van hoa the thao va du lich", "lao dong thuong binh va xa hoi",
    "thong tin va truyen thong", "dan toc va ton giao",
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
# A leading purpose or basis clause before the subject: "Để xác định vị trí dự án, Sở X phối hợp ...".
_OPENING_CLAUSE = r"(?:de(?!\s+nghi\b)|nham|tren co so|can cu|sau khi|truoc khi)\s[^:;]{0,250}?,\s*"
# The register's subject: a unit opening the sentence, or its part after a topic's colon, then a verb.
_SUBJECT_STRICT = re.compile(
    rf"^\W*(?:\d+(?:\.\d+)*[.)]\s*)?(?:[^:;]{{0,250}}:\s*|{_OPENING_CLAUSE})?(?:giao\s+|de nghi\s+|yeu cau\s+)?"
    rf"(?P<unit>{_UNIT_HEAD}.{{2,160}}?)\s+(?:{_ACTION}|khan truong|lam viec|som|can|phai|co van ban|hoan thanh)\b"
)
# A duty opening with its verb, subject left out (item marks, bullets and a topic first:
# "- Đối với dự án đã phê duyệt, chủ động hướng dẫn ...").
_VERB_OPENING = re.compile(
    r"^[\W\d]*(?:[a-z]\)\s*)?(?:(?:doi voi|truong hop|rieng)\s[^,;:]{0,200},\s*)?"
    r"(?:chu tri|phoi hop|huong dan|tham muu|thuc hien|trien khai|xay dung|theo doi|"
    r"chu dong|tang cuong|ra soat|kiem tra|don doc|tiep tuc|day manh|chi dao|bo tri|nghien cuu)\b"
)
_HEADING_UNIT = re.compile(
    rf"^(?:[IVXLC]+[.\-]|\d+(?:\.\d+)*[.)]?)?\s*(?:(?:giao|de nghi|yeu cau)\s+)?(?P<unit>{_UNIT_HEAD}.*)$"
)
_LEAD_IN = re.compile(r"(?:nhu sau|sau day)\s*:")
_SPLIT_UNITS = re.compile(r";\s*|\s+va de nghi\s+")

UNIT_HEAD = _UNIT_HEAD
"""Folded words that open the name of an acting body (a regex fragment), for other extractors."""

# Heads that also begin ordinary words ("Phòng, chống", "Bố trí", "Ban hành", "Hội nghị", "Số
# liệu", "Trường hợp", "Tổ chức Diễn đàn"): they name a body only when the name goes on with a
# capital ("Phòng Lao động", "Sở Y tế") or the phrase is a known collective.
_AMBIGUOUS_HEAD = re.compile(r"^(?:so|phong|ban|bo|hoi|doan|truong|cuc|trung tam|nganh)\b")
_COLLECTIVES = re.compile(
    r"^(?:cac\s|to chuc,?\s+(?:va\s+)?ca nhan\b|so,\s*ban,?\s*nganh\b|"
    r"ban chi dao|ban can su|ban thuong vu|ban tuyen giao|ban dan van|doan the|doan thanh nien|"
    r"hoi dong|hoi lien hiep|to chuc chinh tri|to chuc xa hoi|to chuc doan the|to chuc hoi)"
)
# " và " followed by another body: "các cơ quan ... và UBND các xã" names two units, while
# "Lao động - Thương binh và Xã hội" does not ("xã hội" opens no body name).
_AND_UNIT = re.compile(rf"\s+va\s+(?={_UNIT_HEAD})")
_COORDINATION = re.compile(
    rf"\bphoi hop(?:\s+chat che)?\s+voi\s+(?P<unit>{_UNIT_HEAD}.{{2,220}}?)"
    rf"(?=\s*[;.:]|\s+{_ACTION}\b|\s+(?:de|nham|trong|tai|ve)\s)"
)
_MAX_UNIT_CHARS = 200
# Verbs that can follow a unit named after "giao / đề nghị" and are missing from _ACTION (which
# the non-strict resolver keeps as it is).
_TRAILING_VERB = re.compile(
    r"\s(?:hoan thanh|hoan thien|nop|gui|cap nhat|chuan bi|de xuat|bao cao|lam viec|khan truong|som|dieu chinh)\b"
)


@dataclass(frozen=True)
class Actors:
    """The acting units for a sentence, as written, and where they were found."""

    units: tuple[str, ...]
    source: str  # 'sentence', 'heading', 'lead-in' or 'addressees'


def resolve_actors(doc: Document, sentence: tuple[int, int], section: list[str], *,
                   strict: bool = False) -> Actors | None:
    """The units that must carry out the sentence ``doc.text[start:end]``, or None if unknown.

    ``strict`` (the obligation register) keeps only phrases that read as a body's name
    (``is_unit_name``), splits "X và Y" into two units, and walks further out when a level
    yields nothing valid, because a wrong unit in a register is worse than an outer one.
    """
    start, end = sentence
    if strict:
        units = sentence_units(doc.text, start, end)
    else:
        units = _checked(_units_in(doc.text, start, end, _SUBJECT), strict) or _checked(
            _units_in(doc.text, start, end, _ASSIGNMENT), strict)
    if units:
        return Actors(units, "sentence")
    for label in reversed(section):
        m = _HEADING_UNIT.match(fold(label))
        if m and not _is_generic_heading(m.group("unit")):
            offset = m.start("unit")
            units = _checked((_tidy(label[offset:]),), strict)
            if units:
                return Actors(units, "heading")
    lead = _lead_in(doc.text, start)
    if lead:
        units = _checked(_units_in(doc.text, lead[0], lead[1], _ASSIGNMENT), strict)
        if units:
            return Actors(units, "lead-in")
    if doc.metadata.addressees:
        return Actors(tuple(doc.metadata.addressees), "addressees")
    return None


def heading_units(section: Sequence[str]) -> tuple[str, ...]:
    """The bodies named by the headings of a section path, innermost first, as written
    ("IV. TỔ CHỨC THỰC HIỆN > 3. Sở Tài chính" → "Sở Tài chính"); read like the register reads
    a heading (``resolve_actors`` with ``strict``), so a heading about an activity names none."""
    units: list[str] = []
    for label in reversed(section):
        m = _HEADING_UNIT.match(fold(label))
        if m and not _is_generic_heading(m.group("unit")):
            units += _checked((_tidy(label[m.start("unit"):]),), True)
    return tuple(units)


def sentence_units(text: str, start: int, end: int) -> tuple[str, ...]:
    """The acting units the sentence ``text[start:end]`` names itself (the register's strict reading).

    Reads across line breaks ("giao Bộ X chủ\ntrì"), takes a subject after a topic ("2. Về dự án
    ...: Bộ X khẩn trương ...") or after a purpose clause ("Để ..., Sở X phối hợp ..."). A sentence
    that opens with its verb ("- Chủ trì, ..., yêu cầu các đơn vị điều chỉnh ...") has left its
    subject out: a unit after "yêu cầu / đề nghị" inside it is whom the actor directs, not the actor.
    """
    assigned = () if _directs_others(text, start, end) else _units_in(text, start, end, _ASSIGNMENT, flat=True)
    return _checked(assigned, True) or _checked(_units_in(text, start, end, _SUBJECT_STRICT, flat=True), True)


# What a letter's readers do not act on: a past act it reports, opening with its full date
# ("Ngày 29/6/2026, Bộ trưởng Bộ Xây dựng ban hành ..."), or a rule it quotes ("Khoản 2 Điều 3 ...
# quy định: ..."). Anything else it says is for them to carry out, however a scan spelled it.
_REPORTED = re.compile(r"^[\W\d]*ngay\s+\d{1,2}(?:[/.-]\d{1,2}[/.-]\d{4}|\s+thang\s+\d{1,2}\s+nam\s+\d{4})\s*,"
                       r"|\bquy dinh\s*:")


def directs_addressees(text: str, start: int, end: int) -> bool:
    """Whether the letter's addressees act on the sentence ``text[start:end]``: "Báo cáo kết quả
    về Sở X trước ngày 10/11." they do; "Ngày 29/6/2026, Bộ trưởng Bộ Xây dựng ban hành Quyết
    định ..." reports and "Khoản 2 Điều 3 ... quy định: ..." quotes a rule, and neither is a task
    of theirs."""
    return not _REPORTED.search(re.sub(r"[\n\t\r\u00a0*]", " ", fold(text[start:end])))

def _directs_others(text: str, start: int, end: int) -> bool:
    """Whether the sentence opens with its verb and its "yêu cầu / đề nghị X" has no subject of its
    own right before it ("..., hướng dẫn, đôn đốc, yêu cầu các đơn vị ...", not "..., Sở X yêu cầu")."""
    folded = re.sub(r"[\n\t\r\u00a0*]", " ", fold(text[start:end]))
    if not _VERB_OPENING.match(folded):
        return False
    m = _ASSIGNMENT.search(folded)
    if m is None:
        return False
    subject = folded[:m.start()].rsplit(",", 1)[-1].strip()
    return not re.match(_UNIT_HEAD, subject)


def is_unit_name(unit: str) -> bool:
    """Whether ``unit`` (as written) reads as the name of a body rather than an activity."""
    unit = repair_ocr_codes(unit.strip())  # OCR "S¢ Lao dong" is "Sở Lao động"
    folded = fold(unit)
    if not folded or len(folded) > _MAX_UNIT_CHARS or not re.match(_UNIT_HEAD, folded):
        return False
    if _COLLECTIVES.match(folded):
        return True
    if folded.startswith("to chuc"):
        return False  # "Tổ chức Tháng hành động ..." is an activity; real ones matched above
    head = _AMBIGUOUS_HEAD.match(folded)
    if head is None:
        return True
    rest = unit[head.end():].lstrip(" (")
    return bool(rest) and rest[0].isupper()


def split_units(unit: str) -> tuple[str, ...]:
    """"các cơ quan ... và UBND các xã, thị trấn" → two units; kept whole unless every part is a body."""
    folded = fold(unit)
    parts, cursor = [], 0
    for m in _AND_UNIT.finditer(folded):
        parts.append(unit[cursor:m.start()])
        cursor = m.end()
    parts.append(unit[cursor:])
    parts = [piece for p in parts for piece in _comma_groups(tidy_unit(p))]
    if len(parts) > 1 and all(is_unit_name(p) for p in parts):
        return tuple(parts)
    return (tidy_unit(unit),)


def _comma_groups(unit: str) -> tuple[str, ...]:
    """"Công an tỉnh, các sở, ban, ngành" → "Công an tỉnh" and "các sở, ban, ngành".

    A comma opens a new unit only when what follows is a body's name that starts afresh (a
    capital, or "các"); lower-case pieces ("ban, ngành", "thị trấn", "cá nhân") continue the
    unit before them. Kept whole unless every group names a body.
    """
    pieces = [p.strip() for p in unit.split(",")]
    if len(pieces) < 2:
        return (unit,)
    groups: list[list[str]] = [[pieces[0]]]
    for piece in pieces[1:]:
        fresh = piece[:1].isupper() or fold(piece).startswith("cac ")
        if piece and fresh and is_unit_name(piece):
            groups.append([piece])
        else:
            groups[-1].append(piece)
    names = tuple(", ".join(g) for g in groups)
    if len(names) > 1 and all(is_unit_name(n) for n in names):
        return names
    return (unit,)


def coordinating_units(text: str, start: int, end: int) -> tuple[str, ...]:
    """Units named after "phối hợp với" in ``text[start:end]``, as written."""
    folded = fold(text[start:end])
    m = _COORDINATION.search(folded)
    if not m:
        return ()
    phrase = text[start + m.start("unit"):start + m.end("unit")]
    return tuple(u for u in split_units(phrase) if is_unit_name(u))


def tidy_unit(unit: str) -> str:
    """A unit phrase as shown: markup, line breaks, edge punctuation and stray parentheses removed."""
    unit = _tidy(unit)
    if unit.startswith("(") and unit.count("(") > unit.count(")"):
        unit = unit[1:].strip(" -–;,.:")
    if unit.endswith(")") and unit.count(")") > unit.count("("):
        unit = unit[:-1].strip(" -–;,.:")
    return unit


def _checked(units: tuple[str, ...], strict: bool) -> tuple[str, ...]:
    """The phrases of ``units`` that name a body: all of them must (``is_unit_name``), or the
    level yields none ("Nội dung thực hiện: Tổ chức tập huấn ..." names an activity, and an
    answer showing it as the acting unit is wrong); ``strict`` also splits and distributes them."""
    if not strict:
        return units if units and all(is_unit_name(u) for u in units) else ()
    return tuple(part for u in units for d in _distributed(_cut_at_verb(u))
                 for part in split_units(d) if is_unit_name(part))


# "các Tập đoàn: A, B" / "các Sở: Y tế, Tài chính": one head shared by the names listed after it.
_SHARED_HEAD = re.compile(rf"^(?:cac\s+)?(?P<head>{_UNIT_HEAD})\s*:\s*(?P<names>.+)$")


def _distributed(unit: str) -> tuple[str, ...]:
    m = _SHARED_HEAD.match(" ".join(fold(unit).split()))
    if not m:
        return (unit,)
    flat = " ".join(unit.split())
    head = flat[m.start("head"):m.end("head")]
    head = head[:1].upper() + head[1:]
    names = re.split(r",\s*|\s+và\s+", flat[m.start("names"):])
    return tuple(f"{head} {n.strip()}" for n in names if n.strip())


def _cut_at_verb(unit: str) -> str:
    """"Phòng Nội vụ hoàn thành" → "Phòng Nội vụ": the unit phrase ran into a verb _ACTION lacks."""
    m = _TRAILING_VERB.search(fold(unit))
    return unit[:m.start()] if m else unit


def _units_in(text: str, start: int, end: int, pattern: re.Pattern[str], *, flat: bool = False) -> tuple[str, ...]:
    folded = fold(text[start:end])
    if flat:
        folded = re.sub(r"[\n\t\r\u00a0*]", " ", folded)  # same length: offsets still hold
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
