"""References between documents: which documents a document implements ("Thực hiện Chương
trình số 61-CTr/TU ..."), is based on ("Căn cứ ..."), encloses ("Kèm theo ...") or merely cites,
by number; the number key two spellings of a number share; and resolution of a cited number to
the indexed document that carries it.

References are extracted per document and stored unresolved: the document a number points to
may be in another file, ingested before or after. ``resolve_relations`` runs at read time.
"""

from __future__ import annotations

import re

from ingest.models import Chunk, Document
from ingest.schema import DocumentSummary
from ingest.register.models import Relation
from ingest.register.spans import chunk_sentences, in_recipients_list, matching_view, source_ref
from ingest.text.normalize import fold, match_text

_CODE = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
# Document numbers, as ingest.metadata reads them: 56/2017/NĐ-CP, 3452/UBND-VX, 28-CT/TW.
_NUMBER = re.compile(
    r"(?<![\w/.-])(?:"
    rf"\d{{1,5}}/(?:19|20)\d{{2}}/{_CODE}(?:-{_CODE})*"
    rf"|\d{{1,5}}/{_CODE}(?:-{_CODE})+"
    rf"|\d{{1,5}}-{_CODE}/{_CODE}(?:-{_CODE})*"
    r")(?![\w/])"
)
DOCUMENT_KINDS: tuple[str, ...] = (
    "chi thi", "quyet dinh", "ke hoach", "chuong trinh", "cong van", "van ban", "nghi quyet", "nghi dinh", "thong tu",
    "thong tri", "thong bao", "huong dan", "ket luan", "de an", "quy dinh", "bao cao", "cong dien", "phuong an",
    "luat", "to trinh",
)
"""Kinds of document a reference names before its number, accent-folded ("Chỉ thị số …");
"văn bản" names any kind."""
_TYPE_WORDS = "(?:" + "|".join(DOCUMENT_KINDS) + ")"
_OPENER = r"^[\W\d]*(?:v/v?\s*:?\s*)?"
# What precedes a number that the document carries out: "Thực hiện Chương trình số", "V/v triển
# khai thực hiện Kế hoạch số"; later ";"-items of such a sentence start with the type itself.
_IMPLEMENTS = re.compile(rf"{_OPENER}(?:thuc hien|trien khai(?:\s+thuc hien)?)\s+{_TYPE_WORDS}\s+so\s*$")
_BASED_ON = re.compile(rf"{_OPENER}can cu\s+{_TYPE_WORDS}\s+so\s*$")
_LIST_ITEM = re.compile(rf"^\W*{_TYPE_WORDS}\s+so\s*$")
_SENTENCE_VERB = re.compile(rf"{_OPENER}(?P<verb>thuc hien|trien khai|can cu)\b")
_ENCLOSES = re.compile(rf"\b(?:kem theo|dinh kem|gui kem)\s+{_TYPE_WORDS}\s+so\s*$")
_TYPE_CODE_REPAIRS = {"QD": "QĐ", "ND": "NĐ"}
# Digits then "-" or "/" (or OCR's "J" for "/"): the sentence may hold a document number.
_MAYBE_NUMBER = re.compile(r"\d\s*(?:[-/]|j[a-z])")
_STRENGTH = {"implements": 3, "based_on": 2, "encloses": 1, "cites": 0}


def number_key(number: str) -> str:
    """The form two spellings of one number share: '61-CTr/TU' and '61-ctr/tu' → '61-ctr/tu'."""
    return fold(re.sub(r"\s+", "", number))


def extract_references(doc: Document, chunks: list[Chunk] | None = None) -> list[Relation]:
    """The documents ``doc`` refers to by number, one relation per number, strongest kind kept:
    implements > based_on > encloses > cites. ``target_doc_id`` is left for the reader to resolve."""
    own = number_key(doc.metadata.number) if doc.metadata.number else None
    view = matching_view(doc.text)
    best: dict[str, Relation] = {}
    for chunk, sentences in chunk_sentences(doc, chunks or []):
        if in_recipients_list(chunk):
            continue
        for s_start, s_end in sentences:
            if not _MAYBE_NUMBER.search(view, s_start, s_end):
                continue  # reading a sentence's repaired copy is the slow part; most have no number
            for number, kind in _sentence_references(doc.text[s_start:s_end]):
                key = number_key(number)
                if key == own:
                    continue
                held = best.get(key)
                if held is None or _STRENGTH[kind] > _STRENGTH[held.kind]:
                    best[key] = Relation(
                        id="", kind=kind, source_doc_id=doc.doc_id, source_number=doc.metadata.number,
                        target_number=number, target_key=key, source=source_ref(doc, chunk, s_start, s_end),
                    )
    relations = sorted(best.values(), key=lambda r: (r.source.start, r.target_key))
    return [r.model_copy(update={"id": f"{doc.doc_id}:r{i}"}) for i, r in enumerate(relations)]


def _sentence_references(sentence: str) -> list[tuple[str, str]]:
    """(number, kind) for each number in one sentence, read on its repaired copy.

    Only the number a sentence opens with ("Thực hiện Chương trình số X"), or that opens one of
    its ";"-items ("...; Kế hoạch số Y ..."), is what the document carries out; numbers nested in
    their descriptions ("Chương trình số X ... thực hiện Chỉ thị số Z") are merely cited.
    """
    text = match_text(sentence).replace("\n", " ")
    folded = matching_view(text)
    verb = _SENTENCE_VERB.match(folded)
    out = []
    for m in _NUMBER.finditer(text):
        semicolon = folded.rfind(";", 0, m.start())
        head = folded[semicolon + 1:m.start()]
        first_item = semicolon < 0
        if first_item and _IMPLEMENTS.search(head):
            kind = "implements"
        elif first_item and _BASED_ON.search(head):
            kind = "based_on"
        elif not first_item and verb and _LIST_ITEM.match(head):
            kind = "based_on" if verb["verb"] == "can cu" else "implements"
        elif _ENCLOSES.search(folded, max(0, m.start() - 40), m.start()):
            kind = "encloses"
        else:
            kind = "cites"
        out.append((_unify_code(m.group()), kind))
    return out


def opens_with_basis_verb(sentence: str) -> bool:
    """The sentence opens with what a document carries out or rests on: "Thực hiện …",
    "Triển khai …", "Căn cứ …" (a preamble sentence)."""
    return bool(_SENTENCE_VERB.match(matching_view(match_text(sentence).replace("\n", " "))))


def _unify_code(number: str) -> str:
    """Restore Đ in a type code OCR read without it: 1183/QD-TTg → 1183/QĐ-TTg."""
    return re.sub(r"(?<=[/-])(QD|ND)(?=[-/]|$)", lambda m: _TYPE_CODE_REPAIRS[m.group(1)], number)


def resolve_relations(relations: list[Relation], documents: list[Document] | list[DocumentSummary]) -> list[Relation]:
    """Fill ``target_doc_id`` where an indexed document has the cited number."""
    by_number: dict[str, str] = {}
    for d in documents:
        if d.metadata.number and d.metadata.number[:1].isdigit():
            by_number.setdefault(number_key(d.metadata.number), d.doc_id)
    return [r.model_copy(update={"target_doc_id": by_number.get(r.target_key)}) for r in relations]


def extract_relations(documents: list[Document], chunks: list[Chunk] | None = None) -> list[Relation]:
    """References between ``documents`` (and to numbers outside them), targets resolved."""
    refs = [r for d in documents for r in extract_references(d, chunks)]
    return resolve_relations(refs, documents)
