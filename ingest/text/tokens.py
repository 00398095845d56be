"""The token patterns of accent-folded text, shared by the sparse index and question analysis.

Both sides must cut text into the same terms, or a question's terms would miss the indexed ones;
one definition keeps them from drifting apart. Patterns apply to ``fold_match`` output.
"""

from __future__ import annotations

import re

# A syllable is a run of letters/digits; number codes and dates ("28-ct/tw", "10/11") are also
# kept whole so an exact number typed by a user meets the exact code.
SYLLABLE = re.compile(r"[a-z0-9]+")
CODE = re.compile(r"[a-z0-9]+(?:[-/.][a-z0-9]+)+")
