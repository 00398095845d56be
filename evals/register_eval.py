"""Score an indexed obligations register against a gold register (``congvan eval register``).

The gold format is the devset's ``obligations.jsonl`` (checked by ``check_obligations.py``): one
JSON object a line with ``file``, ``units``, ``coordinating``, ``action``, ``deadline_text``,
``deadline`` (normalized), ``report_to`` and an exact ``quote``.

Match rule: a gold obligation and an extracted one (``ingest.register.models.Obligation``) can
pair when all three hold:

* **same document**: the gold ``file`` and the extracted ``source.file`` name the same document
  by path suffix, extensions dropped from the last part. Gold files are ``text/`` names
  (``001_x.txt`` for ``docs/001_x.pdf``), index keys may be ``docs/001_x.pdf`` or longer paths:
  the gold parts (``001_x``) must be the trailing parts of the key (``docs``, ``001_x``).
* **same deadline**: ``deadline_key`` of both sides is equal and not None. The mapping:

  ====================================================  =============================================
  gold ``deadline``                                     extracted ``Deadline``
  ====================================================  =============================================
  ``{"kind":"date","date":D}``                          ``kind='date'``, ``date=D``
  ``{"kind":"month","month":M}``                        ``kind='month'``, ``month=M``
  ``{"kind":"recurring","every":"yearly","day":MD}``    ``recurrence='yearly'``, ``month_day=MD``
  ``{"kind":"recurring","every":"semiannual",...}``     ``recurrence='semiannual'``; both MM-DD are
                                                        folded onto the first half (07-31 → 01-31),
                                                        since either half names the same schedule
  ``{"kind":"recurring","every":"monthly","day":DD}``   ``recurrence='monthly'``, ``day=int(DD)``
  ``{"kind":"quarter","year":Y,"quarter":Q}``           ``kind='quarter'``, same ``year`` and ``quarter``
  ``{"kind":"year","year":Y}``                          ``kind='year'``, ``year=Y``
  ``{"kind":"recurring","every":"quarterly",...}``      ``recurrence='quarterly'``: an MM-DD folded onto
                                                        the first quarter (05-15 → 02-15), or a day DD
  ====================================================  =============================================

  ``year_inferred`` is ignored on both sides (the value is compared, however it was reached); an
  unknown or malformed kind on either side never matches.
* **overlapping quotes**: ``quote_overlap`` of the gold quote and the extracted source span text
  is at least ``threshold`` (0.5 by default).

Among the candidate pairs the assignment is one-to-one and greedy: highest overlap first (ties
by input order), each gold and each extracted item used once. Precision = matched / extracted,
recall = matched / gold (None when the denominator is 0). Unit accuracy is over matched pairs:
a pair counts when its acting units are equal as sets after ``unit_norm`` (accent folding with
``ingest.text.normalize.fold``, whitespace collapsed, surrounding spaces and punctuation stripped).

The scoring functions here are pure; ``load_gold`` and the command in ``evals.cli`` do the I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path, PurePosixPath
from typing import Any

from ingest.register.models import Deadline, Obligation
from ingest.text.normalize import fold

DEFAULT_THRESHOLD = 0.5

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class GoldObligation:
    """One line of a gold register."""

    file: str
    units: tuple[str, ...]
    deadline: dict
    deadline_text: str
    quote: str
    action: str = ""
    line: int = 0

    @classmethod
    def from_dict(cls, row: dict, line: int = 0) -> GoldObligation:
        return cls(file=str(row["file"]), units=tuple(row.get("units") or ()), deadline=dict(row.get("deadline") or {}),
                   deadline_text=str(row.get("deadline_text") or ""), quote=str(row.get("quote") or ""),
                   action=str(row.get("action") or ""), line=line)


@dataclass
class Pair:
    gold: GoldObligation
    extracted: Obligation
    overlap: float
    units_ok: bool


@dataclass
class RegisterScore:
    """One scoring run: counts, the matched pairs, and every gold item missed or item extra."""

    gold: int
    extracted: int
    pairs: list[Pair] = field(default_factory=list)
    misses: list[GoldObligation] = field(default_factory=list)
    extras: list[Obligation] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return len(self.pairs)

    @property
    def precision(self) -> float | None:
        return self.matched / self.extracted if self.extracted else None

    @property
    def recall(self) -> float | None:
        return self.matched / self.gold if self.gold else None

    @property
    def unit_accuracy(self) -> float | None:
        return sum(p.units_ok for p in self.pairs) / len(self.pairs) if self.pairs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold, "extracted": self.extracted, "matched": self.matched,
            "precision": self.precision, "recall": self.recall, "unit_accuracy": self.unit_accuracy,
            "pairs": [{"file": p.gold.file, "gold_line": p.gold.line, "extracted_id": p.extracted.id,
                       "overlap": round(p.overlap, 3), "units_ok": p.units_ok,
                       "gold_units": list(p.gold.units), "extracted_units": list(p.extracted.units)}
                      for p in self.pairs],
            "misses": {f: [{"line": g.line, "deadline_text": g.deadline_text, "deadline": g.deadline, "quote": g.quote}
                           for g in items] for f, items in misses_by_file(self).items()},
            "extras": {f: [{"id": o.id, "deadline_text": o.deadline.text, "deadline": extracted_deadline_dict(o.deadline),
                            "source": short(o.source.quote)} for o in items]
                       for f, items in extras_by_file(self).items()},
        }


# --- normalization ---------------------------------------------------------------------------


def doc_parts(path: str) -> tuple[str, ...]:
    """A file name as path parts, the last without its extension, folded: 'docs/001_x.pdf' → ('docs', '001_x')."""
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("", "/", ".")]
    if not parts:
        return ()
    last = parts[-1]
    stem = last.rsplit(".", 1)[0] if "." in last.lstrip(".") else last
    return tuple(fold(p) for p in [*parts[:-1], stem])


def same_document(gold_file: str, extracted_file: str) -> bool:
    """Whether the gold file's parts (extension dropped) are the trailing parts of the extracted key."""
    g, e = doc_parts(gold_file), doc_parts(extracted_file)
    return bool(g) and len(g) <= len(e) and e[-len(g):] == g


def _first_half(month_day: str) -> str | None:
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", month_day or "")
    if not m:
        return None
    month, day = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        return None
    return f"{(month - 1) % 6 + 1:02d}-{day:02d}"


def _first_quarter(month_day: str) -> str | None:
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", month_day or "")
    if not m or not 1 <= int(m.group(1)) <= 12:
        return None
    return f"{(int(m.group(1)) - 1) % 3 + 1:02d}-{int(m.group(2)):02d}"


def gold_deadline_key(d: dict) -> tuple | None:
    """The comparable form of a gold deadline (see the module docstring), None when it has no extracted form."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind == "date" and isinstance(d.get("date"), str):
        return ("date", d["date"])
    if kind == "month" and isinstance(d.get("month"), str):
        return ("month", d["month"])
    if kind == "quarter" and isinstance(d.get("year"), int) and d.get("quarter") in (1, 2, 3, 4):
        return ("quarter", d["year"], d["quarter"])
    if kind == "year" and isinstance(d.get("year"), int):
        return ("year", d["year"])
    if kind == "recurring":
        every, day = d.get("every"), d.get("day")
        if not isinstance(day, str):
            return None
        if every == "quarterly":
            if re.fullmatch(r"\d{2}-\d{2}", day):
                first = _first_quarter(day)
                return ("quarterly", first) if first else None
            return ("quarterly", int(day)) if day.isdigit() else None
        if every == "yearly" and re.fullmatch(r"\d{2}-\d{2}", day):
            return ("yearly", day)
        if every == "semiannual":
            half = _first_half(day)
            return ("semiannual", half) if half else None
        if every == "monthly" and day.isdigit():
            return ("monthly", int(day))
    return None


def extracted_deadline_key(d: Deadline) -> tuple | None:
    """The comparable form of an extracted deadline (see the module docstring)."""
    if d.kind == "date" and d.date:
        return ("date", d.date)
    if d.kind == "month" and d.month:
        return ("month", d.month)
    if d.kind == "quarter" and d.year and d.quarter:
        return ("quarter", d.year, d.quarter)
    if d.kind == "year" and d.year:
        return ("year", d.year)
    if d.kind == "recurring":
        if d.recurrence == "quarterly":
            if d.month_day:
                first = _first_quarter(d.month_day)
                return ("quarterly", first) if first else None
            return ("quarterly", int(d.day)) if d.day is not None else None
        if d.recurrence == "yearly" and d.month_day and re.fullmatch(r"\d{2}-\d{2}", d.month_day):
            return ("yearly", d.month_day)
        if d.recurrence == "semiannual" and d.month_day:
            half = _first_half(d.month_day)
            return ("semiannual", half) if half else None
        if d.recurrence == "monthly" and d.day is not None:
            return ("monthly", int(d.day))
    return None


def extracted_deadline_dict(d: Deadline) -> dict:
    return d.model_dump(include={"kind", "date", "month", "year", "quarter", "recurrence", "month_day", "day", "year_inferred"},
                        exclude_none=True)


def quote_words(text: str) -> list[str]:
    """Folded words (markdown pipes, bold markers and punctuation dropped; whitespace collapsed)."""
    return _WORD.findall(fold(" ".join(text.split())))


def quote_overlap(gold_quote: str, extracted_text: str) -> float:
    """Words the two texts share in order (difflib matching blocks on folded words) over the
    shorter text's word count: 1.0 when one is inside the other, 0.0 when nothing is shared."""
    a, b = quote_words(gold_quote), quote_words(extracted_text)
    if not a or not b:
        return 0.0
    matched = sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return matched / min(len(a), len(b))


def unit_norm(unit: str) -> str:
    """A unit as compared: folded, whitespace collapsed, surrounding spaces and punctuation stripped."""
    return " ".join(fold(unit).split()).strip(" \t.,;:-–—()[]\"'*|")


def units_equal(gold_units: tuple[str, ...] | list[str], extracted_units: list[str]) -> bool:
    """Acting units equal as sets after ``unit_norm`` (empty names dropped)."""
    g = {u for u in map(unit_norm, gold_units) if u}
    e = {u for u in map(unit_norm, extracted_units) if u}
    return g == e


# --- scoring ---------------------------------------------------------------------------------


def score_register(gold: list[GoldObligation], extracted: list[Obligation], *,
                   threshold: float = DEFAULT_THRESHOLD) -> RegisterScore:
    """Pair gold and extracted obligations one-to-one (the module docstring's rule) and score them."""
    candidates: list[tuple[float, int, int]] = []
    e_keys = [extracted_deadline_key(o.deadline) for o in extracted]
    for gi, g in enumerate(gold):
        g_key = gold_deadline_key(g.deadline)
        if g_key is None:
            continue
        for ei, o in enumerate(extracted):
            if e_keys[ei] != g_key or not same_document(g.file, o.source.file):
                continue
            overlap = quote_overlap(g.quote, o.source.quote)
            if overlap >= threshold:
                candidates.append((overlap, gi, ei))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_g: set[int] = set()
    used_e: set[int] = set()
    pairs: list[tuple[int, Pair]] = []
    for overlap, gi, ei in candidates:
        if gi in used_g or ei in used_e:
            continue
        used_g.add(gi)
        used_e.add(ei)
        g, o = gold[gi], extracted[ei]
        pairs.append((gi, Pair(g, o, overlap, units_equal(g.units, o.units))))
    pairs.sort(key=lambda p: p[0])
    return RegisterScore(
        gold=len(gold), extracted=len(extracted), pairs=[p for _, p in pairs],
        misses=[g for gi, g in enumerate(gold) if gi not in used_g],
        extras=[o for ei, o in enumerate(extracted) if ei not in used_e],
    )


def misses_by_file(score: RegisterScore) -> dict[str, list[GoldObligation]]:
    out: dict[str, list[GoldObligation]] = {}
    for g in score.misses:
        out.setdefault(g.file, []).append(g)
    return dict(sorted(out.items()))


def extras_by_file(score: RegisterScore) -> dict[str, list[Obligation]]:
    out: dict[str, list[Obligation]] = {}
    for o in score.extras:
        out.setdefault(o.source.file, []).append(o)
    return dict(sorted(out.items()))


def short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def format_score(score: RegisterScore) -> str:
    """The plain-text report: figures, then misses and extras grouped by file."""
    lines = [
        f"register: {score.gold} gold, {score.extracted} extracted, {score.matched} matched",
        f"  precision      {_pct(score.precision)}",
        f"  recall         {_pct(score.recall)}",
        f"  unit accuracy  {_pct(score.unit_accuracy)}  ({sum(p.units_ok for p in score.pairs)}/{score.matched} matched pairs)",
    ]
    misses = misses_by_file(score)
    lines += ["", f"misses (gold not matched): {len(score.misses)}"]
    for f, items in misses.items():
        lines.append(f"  {f}")
        for g in items:
            kind = g.deadline.get("kind", "?") if isinstance(g.deadline, dict) else "?"
            lines.append(f"    - [{kind}] {short(g.deadline_text, 60)} | {short(g.quote)}")
    extras = extras_by_file(score)
    lines += ["", f"extras (extracted not matched): {len(score.extras)}"]
    for f, items in extras.items():
        lines.append(f"  {f}")
        for o in items:
            lines.append(f"    - [{o.deadline.kind}] {short(o.deadline.text, 60)} | {short(o.source.quote)}")
    return "\n".join(lines)


# --- I/O -------------------------------------------------------------------------------------


class GoldInputError(ValueError):
    """The gold register cannot be read."""


def load_gold(path: Path) -> list[GoldObligation]:
    """Read a gold register (JSONL); a bad line is an error naming its line number."""
    items: list[GoldObligation] = []
    with open(path, encoding="utf-8") as fh:
        for ln, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not an object")
                items.append(GoldObligation.from_dict(row, line=ln))
            except (ValueError, KeyError, TypeError) as exc:
                raise GoldInputError(f"{path}: line {ln}: {exc}") from exc
    return items
