"""What every extractor of the register reads through: the aligned matching view of a text, its
sentences grouped by chunk, the ";"-clauses of a sentence, and the ``SourceRef`` of a span.

Matching runs on ``matching_view``: an accent-folded copy with exactly one character per
character of the display text, so every offset found in it is an offset into ``doc.text`` (OCR
text included), and quotes are always the source as written.
"""

from __future__ import annotations

import bisect
import functools
import re

from ingest.models import Chunk, Document
from ingest.register.models import SourceRef
from ingest.text.labels import page_at
from ingest.text.normalize import fold
from ingest.text.sentences import sentence_spans

# One character each, so offsets survive: markup and line breaks become spaces, dashes one dash,
# and OCR's "¢" (read for ơ/ô in "Sở") an o.
_VIEW_EXTRA = {"*": " ", "\n": " ", "\t": " ", "\u00a0": " ", "–": "-", "—": "-", "‐": "-", "−": "-", "¢": "o"}
# Used with .finditer(view, start, end) so that clauses split within one sentence.
_SEMICOLON = re.compile(";")


@functools.lru_cache(maxsize=4096)
def _view_char(ch: str) -> str:
    extra = _VIEW_EXTRA.get(ch)
    if extra is not None:
        return extra
    folded = fold(ch)
    return folded[0] if folded else ch


def matching_view(text: str) -> str:
    """Accent-folded, lower-case copy of ``text`` with exactly one character per input character."""
    return "".join(map(_view_char, text))


def tidy(text: str) -> str:
    """Display form of a slice: markup gone, whitespace collapsed, edge punctuation trimmed."""
    return re.sub(r"\s+", " ", text.replace("*", "")).strip(" ,;:-–\n")


def split_clauses(view: str, start: int, end: int) -> list[tuple[int, int]]:
    """The ";"-separated clauses of a sentence (semicolons inside parentheses do not split)."""
    clauses, cursor = [], start
    for m in _SEMICOLON.finditer(view, start, end):
        i = m.start()
        if view.count("(", start, i) > view.count(")", start, i):
            continue
        clauses.append((cursor, i))
        cursor = i + 1
    clauses.append((cursor, end))
    return [(a, b) for a, b in clauses if view[a:b].strip()]


def chunk_sentences(doc: Document, chunks: list[Chunk]) -> list[tuple[Chunk, list[tuple[int, int]]]]:
    """Each chunk of ``doc`` with the sentences that start in it (one chunk for the whole text if
    none given). Sentences are cut from the whole text: a long paragraph can span two chunks, and
    a sentence cut at a chunk boundary loses its "Thực hiện ..." or its deadline."""
    own = sorted((c for c in chunks if c.doc_id == doc.doc_id), key=lambda c: c.start)
    if not own:
        own = [Chunk(chunk_id=f"{doc.doc_id}:all", doc_id=doc.doc_id, ordinal=0, text=doc.text,
                     start=0, end=len(doc.text))]
    starts = [c.start for c in own]
    groups: list[list[tuple[int, int]]] = [[] for _ in own]
    for span in sentence_spans(doc.text):
        groups[max(0, bisect.bisect_right(starts, span[0]) - 1)].append(span)
    return [(chunk, spans) for chunk, spans in zip(own, groups) if spans]


def in_recipients_list(chunk: Chunk) -> bool:
    """Whether ``chunk`` is the "Nơi nhận" block: its units are copies, its numbers no references."""
    return bool(chunk.section) and fold(chunk.section[0]).startswith("noi nhan")


def source_ref(doc: Document, chunk: Chunk | None, start: int, end: int) -> SourceRef:
    """The citation of ``doc.text[start:end]``: the document's metadata, the chunk's section path
    and the page the span starts on."""
    m = doc.metadata
    return SourceRef(
        doc_id=doc.doc_id, file=doc.file, number=m.number, doc_type=m.doc_type, issuer=m.issuer, date=m.date,
        subject=m.subject, section=chunk.section_path if chunk else "", quote=doc.text[start:end],
        start=start, end=end, page=page_at(doc.page_starts, start), references=list(m.references),
    )
