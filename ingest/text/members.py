"""Members of a team as a decision lists them, and the place each holds in it.

A decision that sets up a team (tổ công tác, đoàn kiểm tra, ban chỉ đạo) or a plan that names one
lists each member on a line of their own: a number, an honorific, the name, then their post and
their place in the team after dashes ("1. Bà Khúc Thị Hòa - Phó Chủ tịch Ủy ban MTTQ xã - Tổ
trưởng.", "4.1. Ông. Hoàng Văn Thuân - Trưởng đoàn: Phụ trách chung"). "Ai làm tổ trưởng?" is
answered by the line whose place is the one asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ingest.text.normalize import fold

# Places in a team, accent-folded, longest first so "phó trưởng đoàn" is never read as "trưởng đoàn".
TEAM_ROLES: tuple[str, ...] = (
    "pho truong doan", "pho truong ban", "pho truong nhom", "pho to truong",
    "truong doan", "truong ban", "truong nhom", "to truong", "to pho", "thu ky",
)
_ROLE = re.compile(r"\b(" + "|".join(TEAM_ROLES) + r")\b")
# "1. Bà", "4.1. Ông.", "- Đồng chí", "Đ/c": the opening of a member's line, then the name.
_MEMBER = re.compile(r"^[\s\-–+•*]*(?:\d+(?:\.\d+)*[.)]?\s*)?(?:Ông|Bà|Đồng chí|Đ/c)\.?\s+(?P<name>[^\W\d_]+(?:\s+[^\W\d_]+){1,4})")


@dataclass(frozen=True)
class Member:
    """A member's line: the name, and where the line stands in the text it was read from."""

    name: str
    start: int
    end: int


def member_name(line: str) -> str | None:
    """The name a member's line opens with ("Bà Khúc Thị Hòa - ..." -> "Khúc Thị Hòa"): two to
    five capitalised words after an honorific; None for any other line."""
    m = _MEMBER.match(line)
    if not m:
        return None
    words = []
    for word in m.group("name").split():
        if not word[0].isupper():
            break
        words.append(word)
    return " ".join(words) if 2 <= len(words) <= 5 else None


def holds_role(line: str, role: str) -> bool:
    """The line gives its member the place ``role`` (folded, one of ``TEAM_ROLES``); "Phó trưởng
    đoàn" is not "trưởng đoàn", as the longest place written is the one read."""
    return role in {m.group(1) for m in _ROLE.finditer(fold(line).lower())}


def role_as_written(line: str, role: str) -> str | None:
    """``role`` as ``line`` writes it ("Tổ trưởng" for "to truong"), or None."""
    words = [w.strip(".,;:()-–") for w in line.split()]
    size = len(role.split())
    for i in range(len(words) - size + 1):
        window = " ".join(words[i:i + size])
        if fold(window).lower() == role and not (i and fold(words[i - 1]).lower() == "pho"):
            return window
    return None


def members_with_role(text: str, role: str, start: int = 0, end: int | None = None) -> Iterator[Member]:
    """The member lines of ``text[start:end]`` that give their member ``role``, in order."""
    end = len(text) if end is None else end
    at = start
    for line in text[start:end].split("\n"):
        name = member_name(line)
        if name and holds_role(line, role):
            lead = len(line) - len(line.lstrip())
            yield Member(name=name, start=at + lead, end=at + len(line.rstrip()))
        at += len(line) + 1
