"""How sure the register is of an item, from what extraction knows about how it was read.

A quiz question built on a wrong unit or an inferred year teaches the wrong thing, so consumers
that present an item as a fact (the training quiz) keep only items at or above a threshold
(``Settings.quiz_min_confidence``). The figures are a documented ordering, not a fitted
probability: each factor says how often that way of reading is known to go wrong, relative to
the sure case (1.0), and the factors multiply.
"""

from __future__ import annotations

from ingest.register.models import Deadline, Obligation, Target
from ingest.text.normalize import fold

# Where the acting units were read. A unit the sentence, the table row or the item's role line
# names is the sure case; a heading above, the previous sentence or a lead-in is one step away;
# the addressees ("Kính gửi") are everyone the letter goes to, not necessarily who must act.
UNIT_SOURCE_FACTORS: dict[str | None, float] = {
    "sentence": 1.0, "table": 1.0, "item": 1.0, "collecting": 0.95, "heading": 0.9,
    "previous": 0.85, "lead-in": 0.8, "addressees": 0.5, None: 0.4,
}
# A date written without its year ("trước ngày 25/5") takes the plan's year: usually right,
# sometimes next year.
INFERRED_YEAR_FACTOR = 0.75
# An action this short says too little to ask about; this long, it is a paragraph, not a task.
SHORT_ACTION_WORDS = 3
LONG_ACTION_CHARS = 400
ACTION_FACTOR = 0.8


def deadline_confidence(deadline: Deadline) -> float:
    """1.0 for a deadline written in full, less when its year was inferred, 0 without a usable value."""
    if deadline.kind == "date" and not deadline.date:
        return 0.0
    if deadline.kind == "month" and not deadline.month:
        return 0.0
    if deadline.kind in ("quarter", "year") and not deadline.year:
        return 0.0
    if deadline.kind == "recurring" and not (deadline.month_day or deadline.day):
        return 0.0
    return INFERRED_YEAR_FACTOR if deadline.year_inferred else 1.0


def obligation_confidence(o: Obligation) -> float:
    """Deadline factor × unit-source factor × action factor, in [0, 1]."""
    units = UNIT_SOURCE_FACTORS.get(o.units_from, 0.8) if o.units else UNIT_SOURCE_FACTORS[None]
    words = len(o.action.split())
    action = ACTION_FACTOR if words < SHORT_ACTION_WORDS or len(o.action) > LONG_ACTION_CHARS else 1.0
    return round(deadline_confidence(o.deadline) * units * action, 3)


def target_confidence(t: Target) -> float:
    """1.0 for a figure with a clear subject; less when the subject was cut short, is one word or a bare "tỷ lệ"."""
    subject = t.subject.strip()
    if len(subject.split()) < 2 or fold(subject) in ("ty le", "ti le"):
        return 0.5  # a figure of what? ("tỷ lệ" alone)
    if subject.endswith("…"):
        return ACTION_FACTOR
    return 1.0
