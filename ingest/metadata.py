"""Read the Nghị định 30/2020 metadata of each document in a file.

Each field is read from its fixed position in the layout (header block, number line, place and
date line, type title, "Kính gửi", "Nơi nhận", signature block). Parsing runs on ``match_text``
(canonical tone marks, no Markdown emphasis, repaired number codes), so values come out in that
form: "Tỉnh uỷ" is returned as "Tỉnh ủy". Fields the layout lacks may be read from context (a
body sentence naming the author, the cover letter of an attachment); those are listed in
``DocumentMetadata.inferred``. A field with no evidence stays None: nothing is guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ingest.models import DocumentMetadata
from ingest.text.abbreviations import SPELLED_OUT
from ingest.text.normalize import fold, fold_match, match_text, repair_ocr_codes
from ingest.split import (
    DOCUMENT_TYPES,
    is_recipients_label,
    is_signing_authority,
    title_type,
)

# The opening of a document (issuer, number, date, title) fits in its first lines; looking no
# further keeps body lines that resemble a header ("Số: ..." in a table) out of it.
_OPENING_LINES = 30
# The signature block is at the end, after or beside a "Nơi nhận" list of a dozen entries.
_CLOSING_LINES = 30

_FIELD_ORDER = list(DocumentMetadata.model_fields)

# --- header block -------------------------------------------------------------------------------

# The quốc hiệu, the Party header and the motto may share a line with the issuer (OCR of two
# columns); everything from them to the end of the line belongs to the right column.
# The right column's national motto (Nghị định 30/2020): "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" (its
# second line "CHỦ NGHĨA VIỆT NAM" alone when a conversion puts each line apart), "Độc lập - Tự do
# - Hạnh phúc", or the Party's "ĐẢNG CỘNG SẢN VIỆT NAM". A scan may garble the rest of the motto
# ("CỘNG HOÀ XÃ ` 'HỦ NGHĨA"): its first three syllables are enough, as no issuer's name holds them.
_RIGHT_COLUMN = re.compile(r"\bcong hoa xa\b|\bchu nghia viet nam\b|\bdang cong san viet nam\b|\bdoc \S+ - \S+ do\b")
_PARTY_HEADER = re.compile(r"\bdang cong san viet nam\b")

# Standard agency abbreviations in headers, expanded before looking for their written form: a
# selection of the shared list (the header has always expanded only these). HDND is HĐND whose
# stroke the scan lost.
_ABBREVIATIONS: dict[str, str] = {a: SPELLED_OUT[fold_match(a)].upper() for a in ("UBND", "HĐND", "HDND", "UBMTTQ")}
_ABBREVIATION = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\b")

# Readable spelling of standard agency names, keyed by their folded form: used when the body
# never writes the header's words in normal case (an OCR body that only says "UBND").
_AGENCY_SPELLING: dict[str, str] = {
    fold(name): name
    for name in (
        "Ủy ban nhân dân",
        "Hội đồng nhân dân",
        "Ủy ban Mặt trận Tổ quốc Việt Nam",
        "Ban Thường vụ",
        "Ban Chấp hành",
        "Tỉnh ủy",
        "Huyện ủy",
        "Thành ủy",
        "Thị ủy",
        "Quận ủy",
        "Đảng ủy",
        "Văn phòng",
        "Sở Lao động - Thương binh và Xã hội",
        "Công an",
    )
}

# Administrative units that end a local agency's name: "... TỈNH SÓC TRĂNG", "... HUYỆN BẮC SƠN".
_LOCALITY_WORDS: dict[str, str] = {
    "thanh pho": "thành phố",
    "thi xa": "thị xã",
    "thi tran": "thị trấn",
    "tinh": "tỉnh",
    "huyen": "huyện",
    "quan": "quận",
    "phuong": "phường",
    "xa": "xã",
}
# Party committees end a name the same way: "BAN TUYÊN GIÁO TỈNH ỦY SÓC TRĂNG".
_PARTY_COMMITTEES: dict[str, str] = {
    "tinh uy": "Tỉnh ủy",
    "huyen uy": "Huyện ủy",
    "thanh uy": "Thành ủy",
    "thi uy": "Thị ủy",
    "quan uy": "Quận ủy",
}
# "XÃ HỘI" (society) ends "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI" but names no commune, and
# "TỈNH ỦY" is a committee, not the province "TỈNH" of a place called "ỦY".
_LOCALITY_TAIL = re.compile(
    r"\b(?P<unit>" + "|".join([*_PARTY_COMMITTEES, *_LOCALITY_WORDS]) + r") "
    r"(?!(?:hoi|uy)\b)(?P<name>\w+(?: \w+){0,3})$"
)
_PARTY_BODY = re.compile(
    r"\b(?:tinh uy|huyen uy|thanh uy|thi uy|quan uy|dang uy|dang bo|dang doan|ban thuong vu|ban can su dang)\b"
)
# Header lines that continue the previous one: a locality line under "ỦY BAN NHÂN DÂN", the
# wrapped end of a long name ("SỞ LAO ĐỘNG - THƯƠNG BINH" / "VÀ XÃ HỘI"), or the decision a team
# works under ("ĐOÀN KIỂM TRA" / "THEO QUYẾT ĐỊNH" / "SỐ 1050/QĐ-SCT").
_CONTINUATION_START = re.compile(
    r"^(?:va\b|-|,|theo\b|so \d|(?:" + "|".join(_LOCALITY_WORDS) + r")\b(?! uy\b))")
_CONTINUATION_END = re.compile(r"(?:\bva|-|,)$")

_SECRECY = {"mat": "MẬT", "toi mat": "TỐI MẬT", "tuyet mat": "TUYỆT MẬT"}
_URGENCY = {"khan": "KHẨN", "thuong khan": "THƯỢNG KHẨN", "hoa toc": "HỎA TỐC"}

# --- number, place and date ---------------------------------------------------------------------

_NUMBER_LINE = re.compile(r"^Số\s*:?\s*(?P<number>\d*\s*[-/]\s*[^\W_][\w&/.-]*)(?P<rest>.*)$")
# "Sóc Trăng, ngày 23 tháng 10 năm 2024": a short place without digits, then the date in words.
# A reference's date ("..., ngày 22/3/2024") has no "tháng"/"năm" and never starts a line this way.
_PLACE_DATE = re.compile(
    r"^(?P<place>[^\W\d_][^\d,:;/()]{0,40}?),\s*ng[àa]y\s*(?P<day>\d{1,2})?\s*"
    r"th[áa]ng\s*(?P<month>\d{1,2})\s*n[ăa]m\s*(?P<year>\d{4})\b",
    re.IGNORECASE,
)

# OCR of a two-column header puts the left column (issuer, "Số: ...") and the right one (quốc
# hiệu, place and date) on the same lines in either order, and misreads "Số" ("Sô", "SỐ", "Sé",
# "S ố"). Such lines are searched anywhere, on the accent-folded copy (one character per
# character, so offsets map back), only in the header region above the title, "Kính gửi" and the
# body, and only where a number or date cannot be a citation (see ``_loose_number``).
_NUMBER_MARK = re.compile(r"(?<![^\W\d_])s ?[o6eb](?![^\W\d_])[ \t]*(?P<colon>[:;])?[ \t]*")
# Digits as OCR reads them in a number or date: O for 0 and l, I or | for 1 (digit context only).
_OCR_DIGITS = str.maketrans("OoIl|", "00111")
_LOOSE_CODE = re.compile(r"(?P<digits>[0-9OoIl|]*)[ \t]*(?P<sep>[-/])[ \t]*(?P<code>[A-ZĐ][\w&/.-]*)")
_LOOSE_DATE = re.compile(
    r",[ \t]*ng[a-z]{0,2}y(?P<day>[^\n]{0,6}?)th[a-z]{1,3}g(?P<month>[^\n]{0,6}?)n[a-z]{1,2}m[ \t]*"
    r"(?P<year>[0-9oil|]{4})(?![0-9])"
)
# Lower-case words a place name may hold ("Thành phố Hồ Chí Minh"), and words that, right before
# a place, make it part of a citation ("của UBND tỉnh Lạng Sơn, ngày ...").
_PLACE_UNIT_WORDS = {"phố", "xã", "trấn"}
_CITATION_BEFORE_PLACE = {"của", "tại", "ở", "tỉnh", "huyện", "thành", "phố", "xã", "phường", "quận", "số"}
# A digital signature's stamp: "Thời gian ký: 02.04.2026 14:24:26 +07:00".
_SIGNED_AT = re.compile(r"thoi gian ky\s*:?\s*(?P<day>\d{1,2})[./-](?P<month>\d{1,2})[./-](?P<year>\d{4})")

# --- type and subject ---------------------------------------------------------------------------

# The most lines OCR leaves of a V/v block after a blank line inside it.
_SUBJECT_TAIL_LINES = 3
_SUBJECT_LINE = re.compile(r"^V/[vV]?\s*:?\s*(?P<rest>\S.*)$")
_ISSUER_IN_TITLE = re.compile(r"^CỦA\s+(?P<issuer>.+)$")
_BODY_OPENER = re.compile(r"^(?:Căn cứ|Thực hiện|Kính gửi|[IVX]+[.-]|\d+\.)")
_STATE_NUMBER_TYPE = re.compile(r"^\d*/(?:\d{4}/)?(?P<type>[^\W\d_]+)-")
_PARTY_NUMBER = re.compile(r"^\d*-(?P<type>[^\W\d_]+)/")

# --- addressees and recipients ------------------------------------------------------------------

_ADDRESSEES_LABEL = re.compile(r"^kinh gui\s*:?")
_RECIPIENTS_LABEL = re.compile(r"^noi nhan\s*:?")
_BULLET = re.compile(r"^[-+•]\s*(?=\S)")
_ENTRY_END = re.compile(r"[\s;.,:]+$")
# OCR can put the signer's name at the end of the last "Lưu:" entry: "Lưu: VT, abc. Lam Minh Thanh".
_TRAILING_NAME = re.compile(r"^(?P<entry>.*\.)\s+(?P<name>\S+(?:\s+\S+){1,4})$")

# --- signer -------------------------------------------------------------------------------------

_TITLE_WORDS = re.compile(r"\b(?:chu tich|giam doc|truong|bi thu|chanh|pho|uy vien|thu ky)\b")
# An authority at the end of a line shared with the "Nơi nhận" column: "- Lưu: VT. | KT. GIÁM ĐỐC".
_INLINE_AUTHORITY = re.compile(r"(?:^|(?<=[\s|]))(?:K/?T|T/?M|T/?L|TUQ|Q)\s*\.\s*\w")
# Lines the signature block never reaches past: an annex or a new title.
_ANNEX = re.compile(r"^phu luc\b")
# First words of lines that look like names but are agencies or list labels ("Sở Tư Pháp"). Words
# that are also surnames (Đoàn, Lưu, Hồ) are left out: a real name must never be refused.
_NOT_A_NAME = {
    "sở", "bộ", "ủy", "ban", "phòng", "công", "cục", "văn", "trung", "hội", "tổng", "trường", "viện", "chi",
    "tòa", "kho", "báo", "đài", "nhà", "xã", "phường", "tỉnh", "huyện", "thành", "thị", "quận",
    "lãnh", "giám", "chủ", "phó", "thủ", "như", "nơi", "kính", "đã", "các", "cổng",
}
# How far below its authority line the signer's name may be (name lines, "Đã ký", a seal note).
_NAME_LINES = 6

# --- references ---------------------------------------------------------------------------------

_CODE = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
_REFERENCE = re.compile(
    r"(?<![\w/.-])(?:"
    rf"\d{{1,5}}/(?:19|20)\d{{2}}/{_CODE}(?:-{_CODE})*"  # legal normative: 56/2017/NĐ-CP, 121/2020/QH14
    rf"|\d{{1,5}}/{_CODE}(?:-{_CODE})+"  # named type or công văn: 1183/QĐ-TTg, 3452/UBND-VX
    rf"|\d{{1,5}}-{_CODE}/{_CODE}(?:-{_CODE})*"  # Party: 28-CT/TW, 61-CTr/TU
    r")(?![\w/])"
)
# OCR loses the stroke of Đ in type codes; "QD" and "ND" are no abbreviation of their own.
_TYPE_CODE_REPAIRS = {"QD": "QĐ", "ND": "NĐ"}
_CODE_SEGMENT = re.compile(r"[^\W\d_][\w&]*")
_REFERENCE_DATE = re.compile(
    r"^\s*,?\s*ngày\s+(?:\d{1,2}\s*/\s*\d{1,2}\s*/\s*(?P<y1>\d{4})"
    r"|\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+(?P<y2>\d{4}))",
    re.IGNORECASE,
)

# --- authors named in the body ------------------------------------------------------------------

# "<agency> xây dựng/ban hành Kế hoạch", "<agency> có ý kiến như sau", "Chủ tịch <agency> yêu cầu":
# sentences whose grammatical subject is the document's author. Matched on folded text.
_AGENCY_HEAD = r"(?:uy ban|ubnd|hoi dong|hdnd|so|ban|bo|tinh uy|huyen uy|thanh uy|dang uy|van phong|phong|cong an)"
_AUTHOR_SENTENCE = re.compile(
    rf"(?:^|(?<=[.,;:)] )|(?<=\n))(?:chu tich )?(?P<agency>{_AGENCY_HEAD}\b[^.,;:()\n]{{0,80}}?) "
    r"(?:(?:xay dung|ban hanh) (?:" + "|".join(fold(t) for t in DOCUMENT_TYPES.values()) + r")\b"
    r"|co y kien\b|yeu cau\b)",
    re.MULTILINE,
)
_BARE_LOCALITY = re.compile(r"\b(?:" + "|".join(_LOCALITY_WORDS) + r")$")

# --- cover letter mentions of an attachment -----------------------------------------------------

_MENTION_TAIL = re.compile(
    rf"\s+số\s+(?P<number>{_REFERENCE.pattern})\s*,?\s*ngày\s+(?P<day>\d{{1,2}})\s*/\s*(?P<month>\d{{1,2}})"
    r"\s*/\s*(?P<year>\d{4})\s+của\s+(?P<agency>[^.,;:()\n]+?)"
    r"(?=\s+(?:về|thực hiện|triển khai|tại|đã|được)\s|[.,;:()\n]|$)"
)
_ENCLOSED = re.compile(r"(?:kem theo|dinh kem)\W*$")


@dataclass
class _Opening:
    """Line indexes of the layout positions found in a document's opening."""

    number: int | None
    place_date: int | None
    title: int | None
    subject: int | None
    addressees: int | None
    end: int
    number_value: str | None = None
    place: str | None = None
    date: str | None = None
    # Where a value read from inside a line starts, by line: the text before it is the other column.
    cuts: dict[int, int] = field(default_factory=dict)


class _AlignedFold(dict):
    """``str.translate`` table of each character's folded form, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        self[code] = folded = (fold(ch) or ch)[0]
        return folded


_ALIGNED_FOLD = _AlignedFold()


def _fold_aligned(text: str) -> str:
    """``fold`` that keeps one character per input character, so match offsets map back.

    A translate table rather than ``fold`` per character: metadata folds a document's whole
    text once per agency spelling looked up, which was a third of ingest time.
    """
    return text.translate(_ALIGNED_FOLD)


def _is_caps(text: str) -> bool:
    return any(ch.isalpha() for ch in text) and text == text.upper()


def _is_person_name(line: str) -> bool:
    """2 to 5 capitalised words and nothing else: "Trần Thị Hoàng Mỹ", OCR "Lam Minh Thanh".

    Lines starting with an agency word ("Sở Tư Pháp", "Ban Chỉ Đạo") are not names.
    """
    words = line.split()
    return (2 <= len(words) <= 5 and all(w.isalpha() and w[0].isupper() and w[1:].islower() for w in words)
            and words[0].lower() not in _NOT_A_NAME)


def _flatten(text: str) -> str:
    """Join wrapped lines inside paragraphs; keep paragraph breaks as single newlines."""
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    return re.sub(r"\n{2,}", "\n", text)


def _iso_date(year: str, month: str | None, day: str | None) -> str | None:
    """ISO date, partial when the day (or month) is blank; None when a part is out of range."""
    y, m, d = int(year), int(month) if month else None, int(day) if day else None
    if m is not None and not 1 <= m <= 12 or d is not None and not 1 <= d <= 31:
        return None
    if m is None:
        return f"{y:04d}"
    return f"{y:04d}-{m:02d}" if d is None else f"{y:04d}-{m:02d}-{d:02d}"


# --- opening ------------------------------------------------------------------------------------


def _find_opening(lines: list[str]) -> _Opening:
    """Locate the number, place/date, title, V/v and "Kính gửi" lines among the first lines."""
    seen, end = 0, len(lines)
    for i, line in enumerate(lines):
        if line:
            seen += 1
        if seen > _OPENING_LINES:
            end = i
            break
    found: dict[str, int | None] = dict.fromkeys(("number", "place_date", "title", "subject", "addressees"))
    for i in range(end):
        line = lines[i]
        folded = fold(line)
        if found["addressees"] is None and _ADDRESSEES_LABEL.match(folded):
            found["addressees"] = i
            break  # the body follows "Kính gửi"
        if found["number"] is None and _NUMBER_LINE.match(line):
            found["number"] = i
            if _PLACE_DATE.match(_NUMBER_LINE.match(line).group("rest").strip()):
                found["place_date"] = i
        elif found["place_date"] is None and _PLACE_DATE.match(line):
            found["place_date"] = i
        elif found["title"] is None and title_type(line):
            found["title"] = i
        elif found["subject"] is None and _SUBJECT_LINE.match(line):
            found["subject"] = i
    opening = _Opening(**found, end=found["addressees"] if found["addressees"] is not None else end)
    if opening.number is not None:
        opening.number_value = _strict_number(lines[opening.number])
    if opening.place_date is not None:
        strict = _strict_place_date(lines[opening.place_date], opening)
        if strict is None:
            opening.place_date = None  # a citation's place and date at the start of a line
        else:
            opening.place, opening.date, col = strict
            if col:
                opening.cuts[opening.place_date] = col
    region = _header_region(lines, opening)
    if opening.number is None:
        loose = _loose_number(lines, region)
        if loose:
            opening.number, opening.number_value, col = loose
            opening.cuts[opening.number] = col
    if opening.place_date is None:
        loose_date = _loose_place_date(lines, region)
        if loose_date:
            opening.place_date, opening.place, opening.date, col, wrapped = loose_date
            opening.cuts.setdefault(opening.place_date, col)
            if wrapped:
                opening.cuts[opening.place_date + 1] = 0  # the next line starts with the rest of the date
    return opening


def _header_region(lines: list[str], opening: _Opening) -> int:
    """The end of the header region: the title, "Kính gửi" or the first body line, whichever is first."""
    ends = [i for i in (opening.title, opening.addressees) if i is not None]
    body = next((i for i in range(opening.end) if _BODY_OPENER.match(lines[i]) and not lines[i].startswith("Kính")),
                None)
    return min([*ends, opening.end] + ([body] if body is not None else []))


def _ocr_digits(raw: str) -> str | None:
    """Digits of a number or date slot with OCR's O→0 and l/I/|→1; None without a real digit."""
    if not raw or not any(ch.isdigit() for ch in raw):
        return None
    return raw.translate(_OCR_DIGITS)


def _loose_number(lines: list[str], region: int) -> tuple[int, str, int] | None:
    """(line, number, column) of a "Số:" that OCR misread, moved off the line start, or split.

    Accepted only where a citation cannot be: a mark with a colon that is capitalised or starts
    its line (an OCR header line "BỘ CÔNG THƯƠNG Số: 2265/BCT-HC", "số: 12/UBND"), or a
    capitalised mark without a colon at the start of a line that is not in capitals ("Sô
    12/UBND"; "SỐ 1050/QĐ-SCT" under "THEO QUYẾT ĐỊNH" names the document that set up the issuer).
    The code after it must start with a capital; a mark ending its line takes the code from the
    start of the next line.
    """
    for i in range(region):
        line = lines[i]
        for mark in _NUMBER_MARK.finditer(_fold_aligned(line)):
            at_start = not any(ch.isalnum() for ch in line[:mark.start()])
            capital = line[mark.start()] == "S"
            colon = mark.group("colon") is not None
            word = line[mark.start():mark.end()].split(":")[0].split(";")[0].strip()
            if not (colon and (capital or at_start) or at_start and capital and not _is_caps(word)):
                continue
            rest = line[mark.end():]
            if not rest.strip() and colon and i + 1 < region:
                rest = lines[i + 1]
            code = _LOOSE_CODE.match(rest)
            if not code:
                continue
            digits = _ocr_digits(code.group("digits")) if code.group("digits") else ""
            if digits is None:
                continue
            number = f"{digits}{code.group('sep')}{code.group('code')}".rstrip(".,;")
            return i, _unify_code(number), mark.start()
    return None


def _loose_place_date(lines: list[str], region: int) -> tuple[int, str, str | None, int, bool] | None:
    """(line, place, ISO date, column, wrapped) of "<Place>, ngày … tháng … năm …" in a header line.

    The place is the run of capitalised words before the comma ("Hà Nội" in "V/v ... cấp Hà Nội,
    ngày ..."); a place after "của", "tỉnh", "số" … belongs to a citation and is refused. Day and
    month slots OCR could not read count as blank ("ngày} thángh năm 2026" gives the year);
    digits out of range reject the date, as on a clean line. A date wrapped onto the next line is
    read across the break.
    """
    for i in range(region):
        line = lines[i]
        joined = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        for match in _LOOSE_DATE.finditer(_fold_aligned(joined)):
            if match.start() >= len(line):
                break
            place, col = _place_before(line, match.start())
            if place is None:
                continue
            day, month = _date_slot(match.group("day")), _date_slot(match.group("month"))
            year = _ocr_digits(match.group("year"))
            if year is None or not year.startswith(("19", "20")) or day is False or month is False:
                continue
            if month is None:
                day = None  # a day without its month says nothing
            return i, place, _iso_date(year, month, day), col, match.end() > len(line)
    return None


def _place_before(line: str, comma: int) -> tuple[str | None, int]:
    """The place name ending at ``comma`` in ``line`` and the column it starts at, or (None, 0)."""
    words = line[:comma].split()
    taken: list[str] = []
    first = ""  # the first word as written, markup included
    while words and len(taken) < 5:
        word = words[-1]
        bare = word.lstrip("*_|([")
        title_case = bare[:1].isupper() and bare.isalpha() and (len(bare) == 1 or bare[1:].islower())
        if not (title_case or taken and bare in _PLACE_UNIT_WORDS):
            break
        taken.insert(0, bare)
        first = words.pop()
        if bare != word:
            break  # markup before the word ("*Cần Thơ") opens the place
    if not taken or taken[0] in _PLACE_UNIT_WORDS:
        return None, 0
    if words and words[-1].lower() in _CITATION_BEFORE_PLACE:
        return None, 0
    return " ".join(taken), line.rfind(first, 0, comma)


def _date_slot(raw: str) -> str | None | bool:
    """A day or month slot: its digits, None when blank or unreadable, False when not a number
    although it holds digits with letters between them (a reference, not a blank)."""
    cleaned = re.sub(r"[^0-9a-z|]", "", raw)
    if not cleaned:
        return None
    if re.fullmatch(r"[0-9oil|]{1,2}", cleaned):
        return _ocr_digits(cleaned)
    return None if not any(ch.isdigit() for ch in cleaned) else False


def _header_lines(lines: list[str], opening: _Opening) -> list[str]:
    """The left-column agency lines above the number/date/title, right-column text cut off."""
    anchors = [i for i in (opening.number, opening.place_date, opening.title, opening.subject) if i is not None]
    stop = min(anchors, default=opening.end if opening.addressees is not None else 0)
    kept = []
    candidates = lines[:stop]
    if opening.cuts.get(stop):
        candidates = [*candidates, lines[stop][: opening.cuts[stop]].strip()]  # the left column beside it
    for line in candidates:
        folded = _fold_aligned(line)
        cut = _RIGHT_COLUMN.search(folded)
        left = line[: cut.start()].strip() if cut else line
        if _is_caps(left) and not _standalone_marker(left, _SECRECY) and not _standalone_marker(left, _URGENCY):
            kept.append(left)
    return kept


def _has_party_header(lines: list[str], opening: _Opening) -> bool:
    """True when the opening carries "ĐẢNG CỘNG SẢN VIỆT NAM" in capitals (Party layout)."""
    for line in lines[: opening.end]:
        match = _PARTY_HEADER.search(_fold_aligned(line))
        if match and _is_caps(line[match.start():match.end()]):
            return True
    return False


def _standalone_marker(line: str, table: dict[str, str]) -> str | None:
    """The standard spelling when an all-caps line is nothing but a secrecy or urgency mark."""
    bare = line.strip(" *.:-()[]")
    return table.get(fold(bare)) if _is_caps(bare) else None


def _marker(lines: list[str], opening: _Opening, table: dict[str, str]) -> str | None:
    """The first secrecy (or urgency) mark standing alone on a line of the opening."""
    for line in lines[: opening.end]:
        found = _standalone_marker(line, table)
        if found:
            return found
    return None


def _agency_units(header: list[str]) -> list[str]:
    """Group header lines into agency names: parent first, issuer last."""
    units: list[str] = []
    for line in header:
        folded = fold(line)
        # A line of one word is the tail of a wrapped name ("VĂN PHÒNG CHÍNH" / "PHỦ"): no agency
        # is named by a single word.
        wrapped = len(line.strip(" *").split()) == 1
        if units and (wrapped or _CONTINUATION_START.match(folded) or _CONTINUATION_END.search(fold(units[-1]))):
            units[-1] = f"{units[-1]} {line}"
        else:
            units.append(line)
    return units


def _locality(agency: str) -> str | None:
    """The locality that ends a local agency's name: "TỈNH SÓC TRĂNG", "TỈNH ỦY SÓC TRĂNG"."""
    match = _LOCALITY_TAIL.search(_fold_aligned(agency))
    return agency[match.start():] if match else None


# --- readable case ------------------------------------------------------------------------------


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Folded ``phrase`` as a whole-word pattern tolerant of spacing around dashes."""
    tokens = fold(phrase).replace("-", " - ").split()
    body = r"\s+".join(re.escape(t) for t in tokens).replace(r"\s+\-\s+", r"\s*-\s*")
    return re.compile(rf"(?<!\w){body}(?!\w)")


def _written_form(phrase: str, text: str) -> str | None:
    """The first spelling of ``phrase`` in ``text`` that is not all capitals (accent-insensitive)."""
    for match in _phrase_pattern(phrase).finditer(_fold_aligned(text)):
        found = " ".join(text[match.start():match.end()].split())
        if not _is_caps(found):
            return found
    return None


def _readable_agency(caps: str, text: str) -> str:
    """Turn an all-caps header agency into normal case, preferring how the document writes it."""
    caps = _ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m.group(1)], " ".join(caps.split()))
    found = _written_form(caps, text)
    if found:
        return found
    match = _LOCALITY_TAIL.search(_fold_aligned(caps))
    if match:
        head = caps[: match.start()].strip()
        name = caps[match.start("name"):]
        readable_name = _written_form(name, text) or name.title()
        unit = _PARTY_COMMITTEES.get(match.group("unit")) or _LOCALITY_WORDS[match.group("unit")]
        return f"{_readable_head(head, text)} {unit} {readable_name}" if head else f"{unit} {readable_name}"
    return _readable_head(caps, text)


def _readable_head(caps: str, text: str) -> str:
    """An agency name without locality: as written in the text, a standard spelling, or sentence case."""
    return _written_form(caps, text) or _AGENCY_SPELLING.get(fold(caps)) or caps.capitalize()


# --- number, place, date ------------------------------------------------------------------------


def _strict_number(line: str) -> str:
    """The "Số:" value without spaces: "Số: 3452 /UBND-VX" → "3452/UBND-VX"; blank numbers keep the code."""
    raw = _NUMBER_LINE.match(line).group("number")
    return _unify_code("".join(raw.split()).rstrip(".,;"))


def _strict_place_date(line: str, opening: _Opening) -> tuple[str, str | None, int] | None:
    """(place, ISO date, column of the place) of a line that starts with them, or of a number
    line that ends with them.

    When the words before the comma are not all a place name ("dịch sốt xuất huyết Bắc Kạn, ngày
    ...": OCR put the V/v beside the date), the place is the capitalised run before the comma and
    the rest belongs to the other column; None when that run is part of a citation ("... của
    UBND tỉnh Bắc Kạn, ngày ...").
    """
    offset = 0
    if opening.place_date == opening.number:
        rest = _NUMBER_LINE.match(line).group("rest")
        offset = len(line) - len(rest) + (len(rest) - len(rest.lstrip()))
        line = rest.strip()
    match = _PLACE_DATE.match(line)
    date = _iso_date(match["year"], match["month"], match["day"])
    place = " ".join(match.group("place").split())
    if all(_is_place_word(word) for word in place.split()):
        return place, date, 0
    refined, col = _place_before(line, match.end("place"))
    return (refined, date, offset + col) if refined else None


def _is_place_word(word: str) -> bool:
    """A word of a place name: capitalised ("Trăng", "Hồ"), an abbreviation ("TP."), "phố", "xã"…"""
    bare = word.rstrip(".")
    return bool(bare) and (bare[0].isupper() or word in _PLACE_UNIT_WORDS or word in ("-", "–"))


def _signed_date(lines: list[str], date: str | None) -> str | None:
    """The date of a digital signature's stamp, when the header gives none or only part of it."""
    for line in lines:
        match = _SIGNED_AT.search(fold(line))
        if match:
            signed = _iso_date(match["year"], match["month"], match["day"])
            if signed and (date is None or signed.startswith(date)) and signed != date:
                return signed
            return None
    return None


# --- type and subject ---------------------------------------------------------------------------


def _type_from_number(number: str | None) -> str | None:
    """Type named by the number's abbreviation: "/KH-UBND" → kế hoạch, "61-CTr/TU" → chương trình."""
    if not number:
        return None
    party = _PARTY_NUMBER.match(number)
    match = party or _STATE_NUMBER_TYPE.match(number)
    if not match:
        return None
    code = match.group("type")
    if party and code == "TT":
        return "thông tri"  # TT is thông tư for the state, thông tri for the Party
    return DOCUMENT_TYPES.get(code)


def _doc_type(lines: list[str], opening: _Opening, number: str | None) -> str | None:
    """Type title first; a V/v subject makes a công văn; then the number's code; then "Kính gửi"."""
    if opening.title is not None:
        return title_type(lines[opening.title])
    if opening.subject is not None:
        return "công văn"
    return _type_from_number(number) or ("công văn" if opening.addressees is not None else None)


def _join_wrapped(parts: list[str]) -> str | None:
    """Wrapped lines joined by single spaces, number codes repaired, end punctuation dropped."""
    joined = repair_ocr_codes(" ".join(" ".join(parts).split())).rstrip(" .;,")
    return joined or None


def _subject(lines: list[str], opening: _Opening) -> str | None:
    """The V/v block, or the trích yếu lines under the type title, up to the next blank line."""
    if opening.subject is not None:
        first = lines[opening.subject][: opening.cuts.get(opening.subject)]
        parts = [_SUBJECT_LINE.match(first).group("rest")]
        two_columns = any(i in opening.cuts for i in range(opening.subject, opening.end))
        for i in range(opening.subject + 1, len(lines)):
            line = lines[i]
            if not line and two_columns and _subject_goes_on(lines, i + 1, opening.addressees):
                continue
            if not line or _ADDRESSEES_LABEL.match(fold(line)):
                break
            if i in opening.cuts:
                parts.append(line[: opening.cuts[i]])  # a date OCR put beside the V/v is not part of it
            elif _PLACE_DATE.match(line):
                break
            else:
                parts.append(line)
        return _join_wrapped(parts)
    if opening.title is None:
        return None
    first = opening.title + 1
    while first < len(lines) and not lines[first]:
        first += 1
    parts = []
    for line in lines[first:]:
        if not line:
            break
        if not parts and _ISSUER_IN_TITLE.match(line) and _is_caps(line):
            continue  # "CỦA BAN THƯỜNG VỤ TỈNH ỦY": the issuer, not the subject
        parts.append(line)
    # Past a blank line the next block may already be the body ("Căn cứ ...", "I. MỤC ĐÍCH").
    if not parts or first > opening.title + 1 and _BODY_OPENER.match(parts[0]):
        return None
    return _join_wrapped(parts)


def _subject_goes_on(lines: list[str], start: int, addressees: int | None) -> bool:
    """A scan read as one column, the date beside the V/v: OCR may leave a blank line inside the
    V/v block ("V/v triển khai thủ tục cấp Hà Nội, ngày ..." / "" / "Giấy phép vận chuyển ...").
    The lines from ``start`` continue it when they are a short block that runs straight into
    "Kính gửi" and is neither caps (a title), a place and date nor the motto: nothing else stands
    between the V/v and the addressees."""
    if addressees is None or not 0 < addressees - start <= _SUBJECT_TAIL_LINES + 1:
        return False
    block = lines[start:addressees]
    while block and not block[-1]:
        block.pop()
    return (bool(block) and all(block) and not _is_caps(" ".join(block))
            and not any(_PLACE_DATE.match(line) or _RIGHT_COLUMN.search(fold(line)) for line in block))


def _issuer_in_title(lines: list[str], opening: _Opening) -> str | None:
    """The "CỦA <AGENCY>" line a Party title block carries under its type name."""
    if opening.title is None:
        return None
    for line in lines[opening.title + 1: opening.title + 3]:
        match = _ISSUER_IN_TITLE.match(line)
        if match and _is_caps(line):
            return match.group("issuer")
    return None


# --- lists: Kính gửi and Nơi nhận ---------------------------------------------------------------


def _list_entries(lines: list[str], label: int, label_pattern: re.Pattern[str]) -> list[str]:
    """Entries of a labelled list: bullets, wrapped continuations, blank lines between entries."""
    folded_label = _fold_aligned(lines[label])
    inline = lines[label][label_pattern.match(folded_label).end():].strip()
    entries = [inline] if sum(ch.isalpha() for ch in inline) >= 2 else []
    after_blank = False
    for line in lines[label + 1:]:
        if not line:
            after_blank = True
            continue
        if is_signing_authority(line) or _is_person_name(line) or is_recipients_label(line):
            break
        # The signature's column beside "Nơi nhận" (not "Kính gửi", whose addressees may be written
        # in capitals: "CHỦ TỊCH UBND CÁC HUYỆN").
        beside_signature = label_pattern is _RECIPIENTS_LABEL
        if beside_signature and _is_caps(line) and _TITLE_WORDS.search(fold(line)):
            continue  # "PHÓ GIÁM ĐỐC", read between two entries
        bullet = _BULLET.match(line)
        if bullet:
            entry = line[bullet.end():]
            title = _title_at_end(entry) if beside_signature else None
            # "- Như trên;   PHÓ GIÁM ĐỐC": the signer's title beside an entry is not part of it.
            entries.append(entry[: len(entry) - len(title)].rstrip() if title and title != entry.strip() else entry)
        elif entries and not after_blank and (line[0].islower() or not _ENTRY_END.search(entries[-1])):
            entries[-1] = f"{entries[-1]} {line}"
        else:
            break
        after_blank = False
    return [cleaned for e in entries if (cleaned := _ENTRY_END.sub("", e))]


def _addressees(lines: list[str], opening: _Opening) -> list[str]:
    if opening.addressees is None:
        return []
    return _list_entries(lines, opening.addressees, _ADDRESSEES_LABEL)


def _recipients_label(lines: list[str]) -> int | None:
    return next((i for i in range(len(lines) - 1, -1, -1) if is_recipients_label(lines[i])), None)


def _recipients(lines: list[str]) -> tuple[list[str], str | None]:
    """"Nơi nhận" entries, and a signer's name found glued to the last "Lưu:" entry (OCR)."""
    label = _recipients_label(lines)
    if label is None:
        return [], None
    entries, glued_name = [], None
    for entry in _list_entries(lines, label, _RECIPIENTS_LABEL):
        beside = _INLINE_AUTHORITY.search(entry)
        if beside:
            # "Nơi nhận: KT. BỘ TRƯỞNG", "- Như trên; TM. ỦY BAN NHÂN DÂN": a scan read the
            # signature column into the list's line; the authority is the signer's, not a recipient.
            entry = _ENTRY_END.sub("", entry[:beside.start()])
            if sum(ch.isalpha() for ch in entry) < 2:
                continue
        match = _TRAILING_NAME.match(entry) if fold(entry).startswith("luu") else None
        if match and _is_person_name(match.group("name")):
            entry, glued_name = _ENTRY_END.sub("", match.group("entry")), match.group("name")
        entries.append(entry)
    return entries, glued_name


# --- signer -------------------------------------------------------------------------------------


def _signer(lines: list[str]) -> tuple[str | None, str | None, str | None]:
    """(signing authority, signer title, signer name) from the signature block.

    The block is looked for beside the last "Nơi nhận" list first (it is often followed by an
    annex whose tables hold other names), then at the end of the document. Within it the
    authority ("KT. GIÁM ĐỐC") may share its line with a recipient (two columns read as one
    line); the title is the all-caps line under it and the name the first name-like line below,
    stopping at an annex, a title or a long line.
    """
    kept = [line for line in lines if line]
    label = next((i for i in range(len(kept) - 1, -1, -1) if is_recipients_label(kept[i])), None)
    if label is not None:
        start = max(0, label - 8)
        found = _signature_block(kept[start: label + 30], label - start)
        if found[2]:
            return found
    tail = kept[-_CLOSING_LINES:]
    authority_at = next((i for i in range(len(tail) - 1, -1, -1) if is_signing_authority(tail[i])), None)
    if authority_at is not None:
        after = tail[authority_at + 1: authority_at + 8]
        title = after[0] if after and _is_caps(after[0]) and not is_signing_authority(after[0]) else None
        names = [line for line in after[1 if title else 0:] if _is_person_name(line)]
        return tail[authority_at], title, names[-1] if names else None
    last = tail[-6:]
    for i in range(len(last) - 1, -1, -1):
        if _is_person_name(last[i]):
            above = last[i - 1] if i > 0 else ""
            title = above if _is_caps(above) and _TITLE_WORDS.search(fold(above)) else None
            return None, title, last[i]
    return None, None, None


def _authority_in(line: str) -> str | None:
    """The signing authority a line holds: the whole line, or its all-caps end beside a recipient."""
    if is_signing_authority(line):
        return line
    for match in _INLINE_AUTHORITY.finditer(line):
        candidate = line[match.start():].strip()
        if _is_caps(candidate) and is_signing_authority(candidate):
            return candidate
    return None


def _signature_block(window: list[str], label: int) -> tuple[str | None, str | None, str | None]:
    """Authority, title and name of the signature block near the "Nơi nhận" label at ``label``."""
    found = [(i, a) for i, line in enumerate(window) if (a := _authority_in(line))]
    if found:
        first = found[0][0]
        # "TM. ỦY BAN NHÂN DÂN" over "KT. CHỦ TỊCH": the last authority of the run signs.
        at, authority = [(i, a) for i, a in found if i <= first + 3][-1]
        below = window[at + 1] if at + 1 < len(window) else ""
        after = window[at + 2] if at + 2 < len(window) else ""
        if _is_caps(below) and not _TITLE_WORDS.search(fold(below)) and _is_caps(after):
            # "TM. ỦY BAN NHÂN" / "DÂN" / "CHỦ TỊCH": the authority wrapped onto a second line
            authority, at = f"{authority} {below}", at + 1
            below = after
        title = below if _is_caps(below) and not _authority_in(below) else None
        if title is None:
            # The recipients' column between: the title on a line of its own or beside an entry.
            title = next((t for line in window[at + 1: at + 1 + _TITLE_REACH] if (t := _title_at_end(line))), None)
            return authority, title, _name_below(window, at + 1)
        return authority, title, _name_below(window, at + 2)
    # No authority line (OCR lost it, or the block has only a name under the list).
    name = _name_below(window, label + 1)
    if name is None:
        return None, None, None
    at = window.index(name, label + 1)
    above = window[at - 1]
    title = above if _is_caps(above) and _TITLE_WORDS.search(fold(above)) else None
    return None, title, name


_TITLE_REACH = 4  # lines under the authority a title set beside the recipients is looked for in


def _title_at_end(line: str) -> str | None:
    """A signer's title in capitals ending ``line`` ("PHÓ CHỦ TỊCH", "TRƯỞNG ĐOÀN"), the whole
    line or beside a recipient a two-column tail put on the same line ("- Như trên; PHÓ GIÁM
    ĐỐC"); None when the line ends otherwise."""
    words = line.split()
    k = len(words)
    while k > 0 and _is_caps(words[k - 1]):
        k -= 1
    run = " ".join(words[k:])
    if len(words) - k < 2 or not _TITLE_WORDS.search(fold(run)) or _authority_in(run):
        return None
    return run


def _name_below(window: list[str], start: int) -> str | None:
    """The first name-like line from ``start``, skipping the recipients beside the block."""
    seen = 0
    for line in window[start:]:
        if _BULLET.match(line) or line == "|":
            continue  # the "Nơi nhận" column, read interleaved with the block
        if title_type(line) or _ANNEX.match(fold(line)) or len(line.split()) > 8:
            return None
        if _is_person_name(line):
            return line
        seen += 1
        if seen >= _NAME_LINES:
            return None
    return None


# --- references ---------------------------------------------------------------------------------


def _unify_code(number: str) -> str:
    """Restore Đ in the type code of a number whose OCR lost it: 1183/QD-TTg → 1183/QĐ-TTg."""
    match = _CODE_SEGMENT.search(number)
    if match and match.group() in _TYPE_CODE_REPAIRS:
        return number[: match.start()] + _TYPE_CODE_REPAIRS[match.group()] + number[match.end():]
    return number


def _references(text: str, own_number: str | None) -> list[str]:
    """Numbers of other documents cited, in order of first appearance, without the document's own."""
    found: list[str] = []
    for match in _REFERENCE.finditer(text):
        number = _unify_code(match.group())
        if number != own_number and number not in found:
            found.append(number)
    return found


def _latest_cited_year(text: str) -> str | None:
    """The year of the latest dated reference ("số 978/... ngày 12 tháng 3 năm 2024")."""
    flat = " ".join(text.split())
    years = []
    for match in _REFERENCE.finditer(flat):
        dated = _REFERENCE_DATE.match(flat[match.end():])
        if dated:
            years.append(dated.group("y1") or dated.group("y2"))
    return max(years) if years else None


# --- issuer from context ------------------------------------------------------------------------


def _author_in_body(text: str) -> str | None:
    """The agency a body sentence names as its author: "Ủy ban nhân dân huyện X xây dựng Kế hoạch"."""
    flat = _flatten(text)
    for match in _AUTHOR_SENTENCE.finditer(_fold_aligned(flat)):
        agency = flat[match.start("agency"):match.end("agency")].strip()
        if agency[:1].isupper():
            agency = _ABBREVIATION.sub(lambda m: _ABBREVIATIONS[m.group(1)].capitalize(), agency)
            return _complete_locality(agency, flat)
    return None


def _complete_locality(agency: str, text: str) -> str:
    """Add the place to an agency ending in a bare unit ("... tỉnh"): the place the text names most."""
    unit = _BARE_LOCALITY.search(fold(agency))
    if not unit:
        return agency
    places: Counter[str] = Counter()
    pattern = re.compile(rf"(?<!\w){re.escape(unit.group())} ((?:[^\W\d_]+ ?){{1,3}})")
    for match in pattern.finditer(_fold_aligned(text)):
        words = text[match.start(1):match.end(1)].split()
        name = []
        for word in words:
            if not (word[0].isupper() and word[1:].islower()):
                break
            name.append(word)
        if name:
            places[" ".join(name)] += 1
    return f"{agency} {places.most_common(1)[0][0]}" if places else agency


# --- one document -------------------------------------------------------------------------------


def _header_issuer(
    units: list[str], lines: list[str], opening: _Opening, clean: str
) -> tuple[str | None, str | None]:
    """(issuer, parent issuer) in readable case from the header block or a Party title block."""
    parent = units[-2] if len(units) >= 2 else None
    issuer = units[-1] if units else _issuer_in_title(lines, opening)
    if parent and issuer and _locality(issuer) is None and _locality(parent):
        issuer = f"{issuer} {_locality(parent)}"  # a department of a province names the province
    return (
        _readable_agency(issuer, clean) if issuer else None,
        _readable_agency(parent, clean) if parent else None,
    )


def _is_party(number: str | None, issuer: str | None, party_header: bool) -> bool:
    return party_header or bool(number and _PARTY_NUMBER.match(number)) or bool(
        issuer and _PARTY_BODY.search(fold(issuer))
    )


def _read_document(text: str) -> DocumentMetadata:
    """Metadata of one document read from its own text."""
    clean = match_text(text)
    lines = clean.split("\n")
    opening = _find_opening(lines)
    inferred: list[str] = []

    units = _agency_units(_header_lines(lines, opening))
    issuer, parent = _header_issuer(units, lines, opening, clean)
    if issuer is None:
        issuer = _author_in_body(clean)
        if issuer:
            inferred.append("issuer")

    number, place, date = opening.number_value, opening.place, opening.date
    signed = _signed_date(lines[: opening.end], date)
    if signed:
        date = signed
        inferred.append("date")
    # A header cut right above "Kính gửi": the document is no older than the latest text it cites.
    header_cut = opening.addressees is not None and opening.number is None and opening.place_date is None
    if date is None and header_cut and opening.title is None and not units:
        date = _latest_cited_year(clean)
        if date:
            inferred.append("date")

    recipients, glued_name = _recipients(lines)
    authority, title, name = _signer(lines)
    party_header = _has_party_header(lines, opening)
    return DocumentMetadata(
        doc_type=_doc_type(lines, opening, number),
        number=number,
        issuer=issuer,
        parent_issuer=parent,
        place=place,
        date=date,
        subject=_subject(lines, opening),
        addressees=_addressees(lines, opening),
        recipients=recipients,
        signer_name=name or glued_name,
        signer_title=title,
        signing_authority=authority,
        references=_references(clean, number),
        secrecy=_marker(lines, opening, _SECRECY),
        urgency=_marker(lines, opening, _URGENCY),
        is_party=_is_party(number, issuer, party_header),
        inferred=inferred,
    )


# --- attachments --------------------------------------------------------------------------------


@dataclass
class _Mention:
    number: str
    date: str | None
    agency: str


def _mentions(text: str, doc_type: str) -> list[tuple[bool, _Mention]]:
    """"<Type> số N ngày d/m/y của <agency>" in ``text``, flagged when introduced by "kèm theo"."""
    flat = " ".join(match_text(text).split())
    folded = _fold_aligned(flat)
    found = []
    for head in re.finditer(rf"(?<!\w){re.escape(fold(doc_type))}(?!\w)", folded):
        tail = _MENTION_TAIL.match(flat, head.end())
        if not tail:
            continue
        number = _unify_code(tail.group("number"))
        if _type_from_number(number) not in (None, doc_type):
            continue
        enclosed = bool(_ENCLOSED.search(folded[max(0, head.start() - 20):head.start()]))
        date = _iso_date(tail["year"], tail["month"], tail["day"])
        found.append((enclosed, _Mention(number, date, " ".join(tail.group("agency").split()))))
    return found


def _cover_mention(covers: list[str], doc_type: str) -> _Mention | None:
    """What the earlier documents of the file say about an attachment of type ``doc_type``.

    A "Kèm theo <type> số ..." mention wins; otherwise mentions count only when they all name
    the same number, so a cover letter citing other documents of that type lends nothing.
    """
    mentions = [m for text in covers for m in _mentions(text, doc_type)]
    enclosed = [m for flag, m in mentions if flag]
    if enclosed:
        return enclosed[0]
    numbers = {m.number for _flag, m in mentions}
    return mentions[0][1] if len(numbers) == 1 else None


# "(Kèm theo Quyết định số: 1627/QĐ-UBND ngày 21/11/2025 của ...)" on its own line under an
# attachment's title (ND30): the plan or regulation a decision issues has no number of its own; it
# is known by the decision's. A cover letter's "... gửi kèm theo Kế hoạch số ..." is no such line.
_ATTACHED_LINE = re.compile(
    r"(?:^|\n)[\s*_]*\(\s*(?:ban hanh\s+)?kem theo\s+(?P<ref>(?:quyet dinh|nghi quyet|cong van|ke hoach|chuong trinh|chi thi|thong bao|to trinh|"
    r"thong tu|nghi dinh)\s+(?:so\s*:?\s*)?(?P<number>\d+[^\s,;()]*)(?:\s+ngay\s+\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4})?)")
_ATTACHED_REACH = 1200  # characters from the start: the line sits right under the title


def _attached_to(text: str) -> str | None:
    """The document an attachment is issued with, from its "(Kèm theo ...)" line, as written
    ("Quyết định số 1627/QĐ-UBND ngày 21/11/2025"); None without such a line."""
    head = text[:_ATTACHED_REACH]
    m = _ATTACHED_LINE.search(_fold_aligned(head))
    if not m or not any(c.isalpha() for c in m.group("number").split("/", 1)[-1]):
        return None  # "kèm theo Quyết định 12" without a ký hiệu names no document
    ref = " ".join(head[m.start("ref"):m.end("ref")].split())
    return repair_ocr_codes(re.sub(r"(?i)\b(số)\s*:\s*", r"\1 ", ref))


def _borrow_from_cover(meta: DocumentMetadata, covers: list[str]) -> DocumentMetadata:
    """Fill an attachment's missing number, date and issuer from its cover letter's mention."""
    if meta.number is not None or meta.doc_type is None:
        return meta
    mention = _cover_mention(covers, meta.doc_type)
    if mention is None:
        return meta
    update: dict = {"number": mention.number}
    inferred = set(meta.inferred) | {"number"}
    if meta.date is None and mention.date:
        update["date"] = mention.date
        inferred.add("date")
    own = fold(meta.issuer or "")
    if fold(mention.agency).startswith(own) and fold(mention.agency) != own:
        update["issuer"] = mention.agency  # the cover letter names the issuer in full
        inferred.add("issuer")
    issuer = update.get("issuer", meta.issuer)
    update["is_party"] = meta.is_party or _is_party(mention.number, issuer, False)
    update["references"] = [r for r in meta.references if r != mention.number]
    update["inferred"] = [f for f in _FIELD_ORDER if f in inferred]
    return meta.model_copy(update=update)


def extract_metadata(texts: list[str]) -> list[DocumentMetadata]:
    """Read the metadata of every document of one file.

    ``texts`` are the display texts of the file's documents in order (as cut by
    ``ingest.split.split_documents``). An attachment without its own number takes number, date
    and the full issuer from what an earlier document (its cover letter) says about it; such
    fields are listed in ``inferred``.
    """
    metas = [_read_document(text) for text in texts]
    for i in range(1, len(metas)):
        metas[i] = _borrow_from_cover(metas[i], texts[:i])
    for i, (meta, text) in enumerate(zip(metas, texts)):
        if meta.number and not meta.number.startswith("/"):
            continue
        attached = _attached_to(text)
        if attached:
            metas[i] = _issued_with(meta.model_copy(update={"attached_to": attached}), metas[:i])
    return metas


def _issued_with(meta: DocumentMetadata, covers: list[DocumentMetadata]) -> DocumentMetadata:
    """An attachment takes the date and issuer it lacks from the earlier document of its file that
    its "(Kèm theo ...)" line names: they are issued together (ND30)."""
    folded = fold_match(meta.attached_to or "")
    for cover in covers:
        if cover.number and fold_match(cover.number) in folded:
            update: dict = {}
            if meta.date is None and cover.date:
                update["date"] = cover.date
            if not meta.issuer and cover.issuer:
                update["issuer"] = cover.issuer
            if update:
                update["inferred"] = [f for f in _FIELD_ORDER if f in set(meta.inferred) | set(update)]
            return meta.model_copy(update=update)
    return meta
