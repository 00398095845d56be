"""Comparing text read from a scan with what the document says, tolerating OCR misreadings.

A test about an OCR'd seed should state what the document says ("Giám đốc ... các sở"), not
how Tesseract misread it ("Gidam doc ... cac sg"): a better OCR or a repair step must not fail
it. Both sides are accent-folded and cut into words and punctuation; they match when they have
the same words in the same order, each at most one letter edit apart (a letter misread, lost or
added), which is what a scan of that line can give and what another line cannot.
"""

from __future__ import annotations

import re

from ingest.text.normalize import fold

_TOKEN = re.compile(r"\w+|[^\w\s]")


class OcrText(str):
    """An expected value as the document means it, matched OCR-tolerantly (:func:`ocr_matches`)."""


def ocr_matches(actual: str | None, expected: str) -> bool:
    """True when ``actual`` reads as ``expected`` up to one letter edit per word, accents aside."""
    got, want = _TOKEN.findall(fold(actual or "")), _TOKEN.findall(fold(expected))
    return len(got) == len(want) and all(_within_one_edit(a, b) for a, b in zip(got, want))


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))
