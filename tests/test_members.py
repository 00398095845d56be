"""Team members as decisions list them, and questions asking who holds a place in a team."""

import pytest

from ingest.text.members import holds_role, member_name, members_with_role, role_as_written
from rag.query import analyze, asked_role


@pytest.mark.parametrize("line, name", [
    ("1. Bà Khúc Thị Hòa - Phó Chủ tịch Ủy ban MTTQ Việt Nam xã - Tổ trưởng.", "Khúc Thị Hòa"),
    ("4.1. Ông. Hoàng Văn Thuân - Trưởng đoàn: Phụ trách chung", "Hoàng Văn Thuân"),
    ("- Đồng chí Lò Văn Páo, Phó Giám đốc Sở, Phó Trưởng ban;", "Lò Văn Páo"),
    ("Bà Mai - Tổ phó", None),  # one word is no full name
    ("Ông bà tổ tiên để lại", None),  # lower-case words are no name
    ("Tổ trưởng: phụ trách chung", None),  # no honorific: not a member's line
])
def test_a_members_line_opens_with_an_honorific_and_a_name(line, name):
    assert member_name(line) == name


@pytest.mark.parametrize("line, role, held, written", [
    ("1. Bà Khúc Thị Hòa - Phó Chủ tịch xã - Tổ trưởng.", "to truong", True, "Tổ trưởng"),
    ("4.2. Ông. Đỗ Mạnh Cường - Phó Trưởng đoàn: Chủ trì", "truong doan", False, None),  # the deputy
    ("4.2. Ông. Đỗ Mạnh Cường - Phó Trưởng đoàn: Chủ trì", "pho truong doan", True, "Phó Trưởng đoàn"),
    ("2. Ông Đặng Văn Quân - Chuyên viên - Tổ phó.", "to truong", False, None),
    ("3. Bà Hà Thị Mai - Thư ký.", "thu ky", True, "Thư ký"),
])
def test_the_place_a_line_gives_its_member(line, role, held, written):
    assert holds_role(line, role) is held
    assert role_as_written(line, role) == written


def test_member_lines_are_found_where_they_stand():
    text = "Điều 1. Thành lập Tổ gồm:\n1. Bà Khúc Thị Hòa - Tổ trưởng.\n2. Ông Đặng Văn Quân - Tổ phó.\n"
    (member,) = members_with_role(text, "to pho")
    assert (member.name, text[member.start:member.end]) == ("Đặng Văn Quân", "2. Ông Đặng Văn Quân - Tổ phó.")
    assert list(members_with_role(text, "to pho", 0, text.index("2."))) == []  # only inside the span


@pytest.mark.parametrize("question, role", [
    ("Ai làm tổ trưởng Tổ tiếp công dân của xã?", "to truong"),
    ("ai la truong doan kiem tra theo quyet dinh 1050/QD-SCT?", "truong doan"),  # typed without diacritics
    ("Phó trưởng đoàn kiểm tra là ai?", "pho truong doan"),
    ("Ai được phân công làm thư ký hội nghị?", "thu ky"),
    ("Trưởng đoàn có nhiệm vụ gì?", None),  # asks what the leader does, not who
    ("Ai chủ trì việc kiểm tra?", None),
])
def test_a_question_asking_who_holds_a_place(question, role):
    assert asked_role(analyze(question).folded) == role
