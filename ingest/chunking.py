"""Section-aware chunking of one directive into citable passages.

A document reads as three regions:

* the header block (issuer, number, date, subject, Kính gửi) and any preamble before the first
  numbered heading: section path ``[]``;
* the body, cut along its numbered headings ("I.", "II-", "Điều 3.", "1.", "2.1.", "a)", "(1)");
* the tail from "Nơi nhận" or the signing line ("KT. CHỦ TỊCH") to the end: section ``["Nơi nhận"]``,
  kept as its own chunk so "ai ký văn bản này?" finds the signer;
* annexes after the signature, each from its "Phụ lục" line, or from the upper-case title over a
  "(Kèm theo Kế hoạch số …)" line: section ``[that line]``.

Every chunk is an exact slice of ``Document.text`` (``chunk.text == text[start:end]``), chunks never
overlap and together cover every non-whitespace character, so citations can quote the source
verbatim and point at its offsets.

Heading levels come from the numbering, not from Markdown: converted files mark the same level
with "##", "###" or plain bold inside one document (seed 002), while the numbering is consistent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ingest.models import Chunk, Document, DocumentMetadata
from ingest.text.normalize import fold, match_text

__all__ = ["Section", "parse_sections", "section_extents", "chunk_document", "document_header", "TAIL_LABEL"]

# The closing chunk holds the recipients and the signature; the label says both, so a question
# about who signed finds it by its words as well.
TAIL_LABEL = "Nơi nhận, người ký"
"""Section label of the closing chunk(s): recipients list and signature block."""

# Labels longer than this are cut to a lead; leads are truncated near _LABEL_CUT characters.
_LABEL_MAX = 100
_LABEL_CUT = 80
_SUBJECT_MAX = 160
# How many wrapped lines a heading label may span (PDF and OCR text wrap long headings).
_LABEL_LINES = 4
# A signing line this close before "Nơi nhận" starts the tail (two-column layouts extracted
# signature-first); farther away it is more likely body text.
_SIGN_BEFORE_RECIPIENTS = 400

# --- heading patterns (applied to a line with Markdown stripped) ---------------------------

# "Phụ lục", "PHỤ LỤC II", "Phụ lục 1:", "Phụ lục số 02" (accent-folded): an annex's first line.
_ANNEX = re.compile(r"phu luc(?:\s+(?:so\s+)?(?:[ivxl]+|\d{1,2}))?\s*[.:\-–]?(?:\s|$)")

_PART = re.compile(
    r"(?P<marker>(?:PHẦN|Phần|CHƯƠNG|Chương)\s+(?:[IVXL]+|\d{1,2}|(?:THỨ|thứ)\s+\w+))(?=$|[\s.:\-–—])"
)
_ARTICLE = re.compile(r"(?P<marker>Điều\s+\d{1,3}[a-zđ]?)\s*[.:]")
_ROMAN = re.compile(r"(?P<num>[IVX]{1,6})\s*[.\-–—](?=\s*\S)")
_ROMAN_VALID = re.compile(r"X{0,3}(?:IX|IV|V?I{0,3})")
# "1." needs its dot; "2.1" and "2.1." both occur. A letter may follow without a space ("1.Mục").
_DECIMAL = re.compile(r"(?P<num>\d{1,2}(?:\.\d{1,2})+)\.?(?=\s+\S|[^\W\d_])|(?P<single>\d{1,2})\.(?=\s+\S|[^\W\d_])")
# Vietnamese alphabet: no f, j, w, z.
_LETTER = re.compile(r"[abcdđeghiklmnopqrstuvxy]\)(?=\s*\S)")
_PAREN = re.compile(r"\(\d{1,2}\)(?=\s*\S)")

_BULLET = re.compile(r"[-+•*–]\s")
_MD_LEAD = re.compile(r"^\s*(?:#{1,6}\s+)?")
_MD_EMPHASIS = re.compile(r"\*+|__")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_WS = re.compile(r"\s+")
# A line after which a new numbered line may start a heading (not a wrapped sentence).
_ENDS_CLAUSE = re.compile(r"[.:;!?…\"”'’)\]]$")
_LEAD_END = re.compile(r"[:;]|\.(?=\s|$)")

# --- header block and tail (applied to folded, repaired text) ------------------------------

_HDR_NUMBER = re.compile(r"^\s*so\s*:", re.MULTILINE)
_HDR_SUBJECT = re.compile(r"^\s*v/v?\s", re.MULTILINE)
_HDR_NATIONAL = re.compile(r"cong hoa xa hoi chu nghia|doc lap\s*-\s*tu do|dang cong san viet nam")
# The date line of ND30's header: the date, after the place and a comma, ends its line ("Hà Nội,
# ngày 22 tháng 11 năm 2025"). A body sentence that holds a date ("Từ ngày 08 đến ngày 09 tháng
# 11 năm 2025 tại Thanh / Hóa, Thủ tướng ...", "Căn cứ Luật ... ngày 16 tháng 6 năm 2025;") is not
# one: read as header, it ended the header block in the middle of the sentence.
_HDR_DATE = re.compile(r"^\W*(?:[^\d\n]{0,60}?,\s*)?ngay\s+[\d.…]*\s*thang\s+[\d.…]*\s*nam\s+\d{4}\W*$",
                       re.MULTILINE)
_HDR_ADDRESSEES = re.compile(r"^\s*kinh\s+gui\b")
_HDR_DATE_MAX = 200
_HDR_TITLE_MAX = 400
_HDR_BLOCK_MAX = 600
_NOI_NHAN = re.compile(r"^noi\s*nhan\b")
_SIGNING = re.compile(r"(?:KT|TM|T/M|T\.M|TL|TUQ|Q|K/T)\s*\.?\s+\w")

# --- split points inside an oversized span, strongest first -------------------------------

_BREAKS: list[re.Pattern[str]] = [
    re.compile(r"\n[ \t\u00a0]*\n\s*"),  # paragraph
    re.compile(r"(?:\./\.|[.;?!…])[*_\"”’)]*\s+"),  # sentence or clause end
    re.compile(r"\n\s*"),  # line break (hard-wrapped OCR/PDF text)
    re.compile(r",\s+"),  # clause
    re.compile(r"\s+"),  # word
]
# A page-bottom footnote ("¹ Nghị định ...") up to the next blank line: pieces are cut before or
# after it, never inside, so a note stays whole in the chunk where it appears.
_FOOTNOTE = re.compile(r"^[ \t]*[⁰¹²³⁴⁵⁶⁷⁸⁹]+[^\n]*(?:\n(?![ \t]*\n)[^\n]*)*", re.MULTILINE)
# A table row written as one line ("| 2 | Rà soát ... năm 2050. | Sở ... | Xong trong tháng 5/2026 |"):
# cut between rows, never at a full stop inside a cell, or the task and its deadline land in two
# chunks and neither answers "xong khi nào?". A row longer than a piece is cut where it must be.
_TABLE_ROW = re.compile(r"^[ \t]*\|[^\n]*\|[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Section:
    """A heading found in a document's body.

    ``heading`` is the display label (Markdown removed, whitespace collapsed, long items cut to
    their lead), ``level`` its depth (0 Phần/Chương, 1 "I."/"Điều", 2 "1.", 3 "2.1.", ...; "a)" and
    "(1)" sit one below whatever encloses them), ``start``/``end`` the offsets of its line(s).
    """

    heading: str
    level: int
    start: int
    end: int


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    path: tuple[str, ...]
    region: str  # "head", "body", "tail" or "annex": chunks never merge across regions
    lead_end: int = -1  # end of heading lines that open the span: never split before it


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    plain: str  # Markdown stripped, whitespace collapsed


def parse_sections(text: str) -> list[Section]:
    """The numbered headings of ``text``'s body, in order, with their nesting levels.

    The header block (before the body starts) and the tail (from "Nơi nhận" or the signing line)
    are skipped, so "Số: 123/KH-UBND" or a numbered Kính gửi list never become headings.
    """
    lines = _lines(text)
    body_start, tail_start = _regions(text, lines)
    return _sections(text, lines, body_start, tail_start)


def section_extents(text: str) -> list[tuple[Section, int]]:
    """Each heading of ``parse_sections(text)`` with the offset where what it heads ends: at the
    next heading of its level or above, else where the tail ("Nơi nhận", the signature) starts."""
    lines = _lines(text)
    body_start, tail_start = _regions(text, lines)
    sections = _sections(text, lines, body_start, tail_start)
    return [(s, next((t.start for t in sections[i + 1:] if t.level <= s.level), tail_start))
            for i, s in enumerate(sections)]


def chunk_document(doc: Document, *, max_chars: int, min_chars: int, header: str | None = None) -> list[Chunk]:
    """Cut ``doc.text`` into contiguous, non-overlapping chunks along its sections.

    Each chunk is ``doc.text[start:end]`` with surrounding whitespace left out, ``section`` the
    heading path of the deepest section that holds all of the chunk's own text (a heading that
    opens the chunk with no text of its own, such as "V. TỔ CHỨC THỰC HIỆN" right before
    "1. Phòng ...", adds to the path of what follows it). Sections over ``max_chars`` are split at
    paragraph, then sentence, line, clause and word boundaries. A piece under ``min_chars`` is
    merged with the neighbour it shares the deeper path with (the next one on a tie), if the
    result fits ``max_chars`` and they share at least their top-level section: merging never
    drops a chunk's path to ``[]`` and never mixes the header block, the body and the
    "Nơi nhận"/signature tail, which always forms the last chunk(s).
    """
    if max_chars < 1 or min_chars < 0:
        raise ValueError(f"max_chars must be >= 1 and min_chars >= 0, got {max_chars} and {min_chars}")
    text = doc.text
    lines = _lines(text)
    body_start, tail_start = _regions(text, lines)
    sections = _sections(text, lines, body_start, tail_start)
    units = _units(text, sections, body_start, tail_start)
    pieces = [piece for unit in units for piece in _split(text, unit, max_chars, min_chars)]
    merged = _merge_small(text, pieces, max_chars, min_chars)
    head = document_header(doc.metadata) if header is None else header
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}:{ordinal}",
            doc_id=doc.doc_id,
            ordinal=ordinal,
            text=text[span.start:span.end],
            start=span.start,
            end=span.end,
            section=list(span.path),
            header=head,
        )
        for ordinal, span in enumerate(merged)
    ]


def document_header(meta: DocumentMetadata) -> str:
    """A one-line context for retrieval: "Công văn 3452/UBND-VX · <issuer> · 23/10/2024 · <subject>".

    Missing fields are left out (an empty metadata gives ""); the subject is cut near 160 characters.
    """
    first = " ".join(
        part for part in (
            _clean(meta.doc_type)[:1].upper() + _clean(meta.doc_type)[1:] if meta.doc_type else "",
            _clean(meta.number) if meta.number else "",
        ) if part
    )
    parts = [
        first,
        _clean(meta.issuer) if meta.issuer else "",
        _display_date(meta.date) if meta.date else "",
        _truncate(_clean(meta.subject), _SUBJECT_MAX) if meta.subject else "",
    ]
    return " · ".join(part for part in parts if part)


# --- lines and regions ---------------------------------------------------------------------


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        out.append(_Line(pos, pos + len(raw), _plain(raw)))
        pos += len(raw) + 1
    return out


def _plain(line: str) -> str:
    """A line as a reader sees it: no Markdown heading marks, emphasis or escapes."""
    line = _MD_LEAD.sub("", line)
    line = _MD_EMPHASIS.sub("", line)
    line = _MD_ESCAPE.sub(r"\1", line)
    return _WS.sub(" ", line).strip()


def _folded(line: _Line) -> str:
    return fold(match_text(line.plain))


def _blocks(lines: list[_Line]) -> list[list[int]]:
    """Indices of lines grouped into paragraphs (runs of non-blank lines)."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if line.plain:
            current.append(i)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _regions(text: str, lines: list[_Line]) -> tuple[int, int]:
    """(start of the body, start of the tail); the tail start is ``len(text)`` when there is none."""
    body_start = _header_end(lines)
    return body_start, max(body_start, _tail_start(text, lines, body_start))


def _header_end(lines: list[_Line]) -> int:
    """End of the header block: the leading paragraphs that look like ND30 header fields.

    Paragraphs are judged whole (a subject wraps over lines that carry no marker of their own),
    except a long one: PDF text often has no blank lines, and one "paragraph" may then hold the
    header and the body, so it is judged line by line and the header ends at the first body line.
    """
    end = 0
    in_addressees = False
    for block in _blocks(lines):
        first = lines[block[0]]
        if lines[block[-1]].end - first.start > _HDR_BLOCK_MAX:
            for i in block:
                in_addressees, is_header = _header_like(lines[i : i + 1], in_addressees)
                if not is_header:
                    return end
                end = lines[i].end
            continue
        in_addressees, is_header = _header_like([lines[i] for i in block], in_addressees)
        if not is_header:
            break
        end = lines[block[-1]].end
    return end


def _header_like(block: list[_Line], in_addressees: bool) -> tuple[bool, bool]:
    """(inside the Kính gửi list afterwards, whether ``block`` belongs to the header)."""
    folded = "\n".join(_folded(line) for line in block)
    size = block[-1].end - block[0].start
    if _HDR_ADDRESSEES.match(folded):
        return True, True
    if in_addressees and all(_BULLET.match(line.plain) or line.plain[:1].islower() for line in block):
        return True, True  # the Kính gửi list, one addressee per line
    is_header = bool(
        _HDR_NUMBER.search(folded)
        or _HDR_SUBJECT.search(folded)
        or _HDR_NATIONAL.search(folded)
        or (size <= _HDR_DATE_MAX and _HDR_DATE.search(folded))
        or (size <= _HDR_TITLE_MAX and _is_upper(block[0].plain) and _heading_kind(block[0].plain) is None)
    )
    return False, is_header


def _is_upper(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _tail_start(text: str, lines: list[_Line], body_start: int) -> int:
    recipients = signing = None
    for line in lines:
        if line.start < body_start or not line.plain:
            continue
        if line.plain[0] in "Nn" and _NOI_NHAN.match(_folded(line)):
            recipients = line.start
        elif _SIGNING.match(line.plain) and _is_upper(line.plain):
            signing = line.start
    if recipients is None:
        return signing if signing is not None else len(text)
    if signing is not None and 0 <= recipients - signing <= _SIGN_BEFORE_RECIPIENTS:
        return signing
    return recipients


# --- headings ------------------------------------------------------------------------------


def _heading_kind(plain: str) -> tuple[str, int | None] | None:
    """(style, fixed level) of a heading line; level None for styles that nest under their parent."""
    if _PART.match(plain):
        return "part", 0
    if _ARTICLE.match(plain):
        return "article", 1
    m = _ROMAN.match(plain)
    if m and _ROMAN_VALID.fullmatch(m.group("num")):
        return "roman", 1
    m = _DECIMAL.match(plain)
    if m:
        depth = m.group("num").count(".") + 1 if m.group("num") else 1
        return f"decimal{depth}", depth + 1
    if _LETTER.match(plain):
        return "letter", None
    if _PAREN.match(plain):
        return "paren", None
    return None


def _sections(text: str, lines: list[_Line], body_start: int, tail_start: int) -> list[Section]:
    sections: list[Section] = []
    stack: list[tuple[str, int]] = []  # (style, level) of the open headings
    prev_ok = True  # may the current line start a heading?
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.start < body_start or line.start >= tail_start:
            prev_ok = True
            i += 1
            continue
        kind = _heading_kind(line.plain) if line.plain and prev_ok else None
        if kind is None:
            prev_ok = not line.plain or bool(_ENDS_CLAUSE.search(line.plain))
            i += 1
            continue
        style, level = kind
        if level is None:
            if any(s == style for s, _ in stack):
                while stack[-1][0] != style:
                    stack.pop()
                level = stack.pop()[1]
            else:
                level = stack[-1][1] + 1 if stack else 1
        else:
            while stack and stack[-1][1] >= level:
                stack.pop()
        stack.append((style, level))
        # Wrapped heading lines continue in lower case ("... các huyện,\nthành phố"); a bare
        # "Chương I" takes its title from the next line ("QUY ĐỊNH CHUNG").
        last = i
        bare = _marker_end(line.plain) >= len(line.plain.rstrip(" .:-–—"))
        while (
            last + 1 < len(lines)
            and last + 1 - i < _LABEL_LINES
            and lines[last + 1].start < tail_start
            and _heading_kind(lines[last + 1].plain) is None  # "a) ..." starts its own heading
            and (lines[last + 1].plain[:1].islower() or (bare and last == i and _is_upper(lines[last + 1].plain)))
        ):
            last += 1
        label = _label(" ".join(lines[k].plain for k in range(i, last + 1)))
        sections.append(Section(label, level, line.start, lines[last].end))
        prev_ok = True
        i = last + 1
    return sections


def _label(heading: str) -> str:
    """Display label: the whole heading when short, else its lead, truncated at a word."""
    heading = heading.strip()
    if len(heading) > _LABEL_MAX:
        kind = _heading_kind(heading)
        marker_end = _marker_end(heading) if kind else 0
        m = _LEAD_END.search(heading, marker_end + 1)
        if m:
            heading = heading[:m.start()]
    heading = heading.rstrip(" .:;,")
    return _truncate(heading, _LABEL_MAX, cut=_LABEL_CUT)


def _marker_end(heading: str) -> int:
    for pattern in (_PART, _ARTICLE, _ROMAN, _DECIMAL, _LETTER, _PAREN):
        m = pattern.match(heading)
        if m:
            return m.end()
    return 0


def _truncate(s: str, limit: int, *, cut: int | None = None) -> str:
    """``s`` if it fits ``limit``, else cut at the last word boundary before ``cut`` plus "…"."""
    if len(s) <= limit:
        return s
    cut = cut or limit - 1
    head = s[:cut + 1]
    space = head.rfind(" ")
    head = head[:space] if space > cut // 2 else s[:cut]
    return head.rstrip(" ,;:.-–") + "…"


# --- spans: sections, splitting and merging ----------------------------------------------


def _units(text: str, sections: list[Section], body_start: int, tail_start: int) -> list[_Span]:
    """One span per section with its path; heading-only sections are glued to what follows."""
    raw: list[tuple[int, int, tuple[str, ...], bool, int]] = []  # start, end, path, own text, heading end
    first = sections[0].start if sections else tail_start
    if body_start > 0:
        raw.append((0, body_start, (), True, -1))
    if first > body_start:
        raw.append((body_start, first, (), True, -1))
    stack: list[Section] = []
    for k, sec in enumerate(sections):
        while stack and stack[-1].level >= sec.level:
            stack.pop()
        stack.append(sec)
        end = sections[k + 1].start if k + 1 < len(sections) else tail_start
        # A heading that directly opens a deeper one ("V." then "1.") is glued to it; a short
        # item such as "(1) Tỷ lệ ... đạt 97,2%." is its own text.
        opens_child = k + 1 < len(sections) and sections[k + 1].level > sec.level
        own = bool(text[sec.end:end].strip()) or not opens_child
        raw.append((sec.start, end, tuple(s.heading for s in stack), own, sec.end))
    units: list[_Span] = []
    pending: list[tuple[int, int, tuple[str, ...], bool, int]] = []
    for item in raw:
        pending.append(item)
        if not item[3]:
            continue
        # Glued headings are ancestors of the one that has text: they are already in its path.
        region = "head" if item[0] < first else "body"
        units.append(_Span(pending[0][0], item[1], item[2], region, item[4]))
        pending = []
    if pending:  # headings with no text before the tail: attach to the previous unit
        start = pending[0][0]
        if units:
            last = units.pop()
            units.append(_Span(last.start, pending[-1][1], last.path, last.region, last.lead_end))
        else:
            units.append(_Span(start, pending[-1][1], pending[0][2], "body", pending[-1][4]))
    if tail_start < len(text):
        annexes = _annex_starts(text, tail_start)
        ends = annexes + [len(text)]
        units.append(_Span(tail_start, ends[0], (TAIL_LABEL,), "tail"))
        for start, end in zip(annexes, ends[1:]):
            line_end = text.find("\n", start)
            label = _plain(text[start:line_end if line_end >= 0 else len(text)])
            units.append(_Span(start, end, (label,), "annex", line_end if line_end >= 0 else end))
    return units


def _annex_starts(text: str, tail_start: int) -> list[int]:
    """Where each annex after the signature begins: a line of its own reading "Phụ lục",
    "PHỤ LỤC II" or "Phụ lục: …" (Nghị định 30/2020 puts appendices after the signature), or
    the title over a "(Kèm theo …)" line. An annex is not the recipients and signature, so it is
    not labelled as them."""
    starts: list[int] = []
    pos = tail_start
    block: list[tuple[int, str]] = []  # the run of non-blank lines above this one: (offset, plain)
    since = 0  # non-blank lines since the last annex began
    for raw in text[tail_start:].split("\n"):
        plain = _plain(raw)
        at = pos + len(raw) - len(raw.lstrip())
        if pos > tail_start and len(plain) <= _LABEL_MAX and _ANNEX.match(fold(plain)):
            starts.append(at)
            since = -1
        elif pos > tail_start and _ATTACHED.match(fold(plain)) and not (starts and since <= _ANNEX_TITLE_LINES):
            # "PHÂN CÔNG NHIỆM VỤ …" over "(Kèm theo Kế hoạch số …)": an annex without a short
            # "Phụ lục" line, from its title (upper case, or a long "Phụ lục 1: Danh sách …"), else
            # from this line. Under an annex's own "Phụ lục" and title it starts none.
            first = at
            for offset, line in reversed(block[-_ANNEX_TITLE_LINES:]):
                if not (_upper_case(line) or _ANNEX.match(fold(line))):
                    break
                first = offset
            starts.append(first)
            since = -1
        if plain:
            since += 1
        block = block + [(at, plain)] if plain else []
        pos += len(raw) + 1
    return starts


# "(Kèm theo Kế hoạch số …/KH-UBND ngày …)": the line under an attachment's title.
_ATTACHED = re.compile(r"^\(\s*kem theo\b")
_ANNEX_TITLE_LINES = 3  # an attachment's title takes at most this many lines


def _upper_case(line: str) -> bool:
    """Written in capitals ("MỘT SỐ NHIỆM VỤ TRỌNG TÂM"): a title, not a signer's name."""
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 4 and sum(ch.isupper() for ch in letters) >= 0.9 * len(letters)


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split(text: str, unit: _Span, max_chars: int, min_chars: int) -> list[_Span]:
    """Cut a span into pieces of at most ``max_chars`` at the strongest boundaries available."""
    pos, end = _trim(text, unit.start, unit.end)
    # Spans never cut inside: footnotes, and table rows that fit a piece.
    whole = [(m.start(), m.end()) for m in _FOOTNOTE.finditer(text, pos, end)]
    whole += [(m.start(), m.end()) for m in _TABLE_ROW.finditer(text, pos, end) if m.end() - m.start() <= max_chars]
    pieces: list[_Span] = []
    while pos < end:
        if end - pos <= max_chars:
            cut = end
        else:
            cut = _cut_point(text, pos, end, max_chars, min_chars, max(unit.lead_end, pos), whole)
        s, e = _trim(text, pos, cut)
        if e > s:
            pieces.append(_Span(s, e, unit.path, unit.region))
        pos = _trim(text, cut, end)[0]
    return pieces


def _cut_point(
    text: str, pos: int, end: int, max_chars: int, min_chars: int, lead_end: int, whole: list[tuple[int, int]]
) -> int:
    """Where the next piece ends: the strongest boundary in its window, nearest an even share.

    The window starts after the piece's opening headings and leaves it at least ``min_chars``
    (or half an even share, when that is less), so a paragraph break is preferred to a
    sentence break whenever it leaves a piece of reasonable size.
    """
    remaining = end - pos
    ideal = pos + remaining / math.ceil(remaining / max_chars)
    lo = max(pos + min(min_chars, int((ideal - pos) / 2)), lead_end)
    hi = pos + max_chars
    for pattern in _BREAKS:
        # Search a little past hi: a break's whitespace may run over it while its content fits.
        cuts = [
            b for m in pattern.finditer(text, lo, min(end, hi + 64))
            if lo <= (b := _boundary(m)) <= hi and b > pos and not any(s < b < e for s, e in whole)
        ]
        if cuts:
            return min(cuts, key=lambda c: abs(c - ideal))
    # Headings longer than the window: any word boundary after the piece's start.
    cuts = [b for m in _BREAKS[-1].finditer(text, pos + 1, min(end, hi + 64)) if pos < (b := _boundary(m)) <= hi]
    return cuts[-1] if cuts else hi  # no space at all: one "word" longer than max_chars


def _boundary(m: re.Match[str]) -> int:
    """Where a piece ending at this break ends: its punctuation kept, its whitespace not."""
    return m.start() + len(m.group().rstrip())


def _merge_small(text: str, pieces: list[_Span], max_chars: int, min_chars: int) -> list[_Span]:
    """Merge pieces under ``min_chars`` into a neighbour that shares their section."""
    spans = list(pieces)
    while True:
        best: tuple[int, int] | None = None  # (size of the small span, index of the pair's left span)
        for i, span in enumerate(spans):
            size = span.end - span.start
            if size >= min_chars:
                continue
            options = []
            for j in (i, i - 1):  # merge with next (pair j=i), or with previous (pair j=i-1)
                if 0 <= j and j + 1 < len(spans) and _can_join(spans[j], spans[j + 1], max_chars):
                    options.append((len(_common(spans[j].path, spans[j + 1].path)), j == i, j))
            if options:
                _, _, j = max(options)
                if best is None or size < best[0]:
                    best = (size, j)
        if best is None:
            return spans
        j = best[1]
        a, b = spans[j], spans[j + 1]
        joined = _Span(a.start, b.end, _common(a.path, b.path), a.region)
        spans[j:j + 2] = [joined]


def _can_join(a: _Span, b: _Span, max_chars: int) -> bool:
    if b.end - a.start > max_chars:
        return False
    if a.region != b.region:
        return False
    return bool(_common(a.path, b.path)) or (not a.path and not b.path)


# --- header formatting ---------------------------------------------------------------------


def _clean(s: str | None) -> str:
    return _WS.sub(" ", s or "").strip()


_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _display_date(iso: str) -> str:
    m = _ISO_DATE.fullmatch(iso.strip())
    if not m:
        return _clean(iso)
    year, month, day = m.groups()
    if day:
        return f"{int(day):02d}/{int(month):02d}/{year}"
    if month:
        return f"{int(month):02d}/{year}"
    return year
