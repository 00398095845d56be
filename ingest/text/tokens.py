"""The token patterns of accent-folded text, shared by the sparse index and question analysis.

Both sides must cut text into the same terms, or a question's terms would miss the indexed ones;
one definition keeps them from drifting apart. Patterns apply to ``fold_match`` output.
"""

from __future__ import annotations

import re

from ingest.text.normalize import fold, match_text

# A syllable is a run of letters/digits; number codes and dates ("28-ct/tw", "10/11") are also
# kept whole so an exact number typed by a user meets the exact code.
SYLLABLE = re.compile(r"[a-z0-9]+")
CODE = re.compile(r"[a-z0-9]+(?:[-/.][a-z0-9]+)+")


def written_syllables(text: str) -> tuple[list[str], list[str] | None]:
    """The syllables of ``text`` cut like indexed text (folded), and the same syllables as
    written (lower case, diacritics kept), or None when ``text`` carries no diacritic at all:
    typed without them, "tai" may stand for "tại" or "Tài", written it cannot. Also None in the
    rare text where a character folds to more than one, so that the two cannot be aligned: it
    is then read as if typed without diacritics."""
    written = match_text(text).lower()
    folded = fold(written)
    spans = [m.span() for m in SYLLABLE.finditer(folded)]
    syllables = [folded[a:b] for a, b in spans]
    # Folding maps each composed letter to one letter, so the two strings align.
    if written == folded or len(written) != len(folded):
        return syllables, None
    return syllables, [written[a:b] for a, b in spans]
