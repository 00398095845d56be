"""Which units act on a deadline: comma lists, "Giao X" headings, the previous sentence of the
paragraph, verb-first duties under a unit heading, a subject after a purpose clause, and
"tổ chức, cá nhân" as a body.

Every text here is made up for the rule it tests (no corpus or devset strings).
"""

from __future__ import annotations

import pytest

from ingest.models import Document, DocumentMetadata
from ingest.register import extract_obligations
from ingest.text.actors import is_unit_name, split_units


def _doc(text: str, **meta) -> Document:
    meta = {"date": "2031-02-10"} | meta
    return Document(doc_id="u-0", file="u.txt", file_sha256="0", kind="txt", text=text,
                    metadata=DocumentMetadata(**meta))


def _units(text: str, **meta) -> list[list[str]]:
    return [ob.units for ob in extract_obligations(_doc(text, **meta), [])]


@pytest.mark.parametrize("phrase, parts", [
    # a comma opens a new unit only before a fresh body name (capital or "các")
    ("Sở Y tế, các phòng, ban, đơn vị trực thuộc",
     ("Sở Y tế", "các phòng, ban, đơn vị trực thuộc")),
    ("Hội Nông dân tỉnh, Hội Cựu chiến binh tỉnh", ("Hội Nông dân tỉnh", "Hội Cựu chiến binh tỉnh")),
    ("Ban Dân tộc, các sở, ngành và Ủy ban nhân dân các huyện, thị xã",
     ("Ban Dân tộc", "các sở, ngành", "Ủy ban nhân dân các huyện, thị xã")),
    # lower-case pieces and names with commas stay whole
    ("Ủy ban nhân dân các xã, phường, thị trấn", ("Ủy ban nhân dân các xã, phường, thị trấn",)),
    ("Sở Văn hóa, Thể thao và Du lịch", ("Sở Văn hóa, Thể thao và Du lịch",)),
    ("các đơn vị sản xuất, kinh doanh, phân phối", ("các đơn vị sản xuất, kinh doanh, phân phối",)),
])
def test_comma_lists_split_into_units(phrase, parts):
    assert split_units(phrase) == parts


@pytest.mark.parametrize("phrase, is_unit", [
    ("Tổ chức, cá nhân kinh doanh xăng dầu", True),
    ("Tổ chức và cá nhân có liên quan", True),
    ("Tổ chức tập huấn nghiệp vụ", False),
    # "Sở, ban, ngành" is the departments together, with or without "các"
    ("Sở, ban, ngành thành phố", True),
    ("Sở, ban ngành tỉnh", True),
    ("các sở, ban, ngành", True),
    ("Số liệu, báo cáo", False),
])
def test_organizations_and_individuals_are_a_body(phrase, is_unit):
    assert is_unit_name(phrase) is is_unit


@pytest.mark.parametrize("text, expected", [
    # a numbered heading that lists several bodies, split on commas and "và"
    ("1. Sở Giáo dục, các phòng, ban chuyên môn và Ủy ban nhân dân các huyện, thị xã\n"
     "Tổ chức rà soát cơ sở vật chất, hoàn thành trong tháng 8/2031.\n",
     [["Sở Giáo dục", "các phòng, ban chuyên môn", "Ủy ban nhân dân các huyện, thị xã"]]),
    # a "Giao X" heading whose body starts on the next line
    ("1. Các nội dung chung\nQuán triệt chủ trương.\n3. Giao Sở Tài chính\n"
     "Chủ trì lập dự toán kinh phí.\n- Tổng hợp nhu cầu, hoàn thành trong tháng 9/2031.\n",
     [["Sở Tài chính"]]),
    # the previous sentence of the paragraph names the unit
    ("Giao Sở Nội vụ chủ trì rà soát biên chế các đơn vị. Đồng thời, tổng hợp kết quả, "
     "báo cáo trước ngày 15/6/2031.\n",
     [["Sở Nội vụ"]]),
    ("5. Về đề xuất sửa đổi quy chế: giao Bộ Tư pháp chủ trì xem xét. Đối với nội dung vượt thẩm "
     "quyền, đề xuất phương án báo cáo trước ngày 20 tháng 11 năm 2031.\n",
     [["Bộ Tư pháp"]]),
    # a subject after a purpose clause
    ("Để bảo đảm tiến độ, Ủy ban nhân dân huyện An Bình phối hợp với Sở Tài chính rà soát, "
     "báo cáo trong tháng 12 năm 2031.\n",
     [["Ủy ban nhân dân huyện An Bình"]]),
    # "Đề nghị X, Y ..." is not a purpose clause
    ("Đề nghị Sở Tài chính, Sở Nội vụ chủ trì rà soát, hoàn thành trong tháng 5/2031.\n",
     [["Sở Tài chính", "Sở Nội vụ"]]),
    # organizations and individuals as the subject
    ("(1) Tổ chức, cá nhân kinh doanh xăng dầu phải nộp báo cáo trước ngày 20 tháng 01 hằng năm.\n",
     [["Tổ chức, cá nhân kinh doanh xăng dầu"]]),
])
def test_units_of_a_deadline(text, expected):
    assert _units(text) == expected


@pytest.mark.parametrize("text", [
    # a blank line ends the paragraph
    "Giao Sở Nội vụ chủ trì rà soát biên chế các đơn vị.\n\nTổng hợp kết quả, báo cáo trước ngày 15/6/2031.\n",
    # so does a new bullet
    "Giao Sở Nội vụ chủ trì rà soát biên chế các đơn vị.\n- Tổng hợp kết quả, báo cáo trước ngày 15/6/2031.\n",
])
def test_the_previous_sentence_stays_in_its_paragraph(text):
    [units] = _units(text)
    assert "Sở Nội vụ" not in units


@pytest.mark.parametrize("body, expected", [
    # a verb-first duty under a unit heading: "yêu cầu X" names whom the unit directs
    ("- Chủ trì kiểm tra các cửa hàng, hướng dẫn, yêu cầu các đơn vị kinh doanh thực hiện khắc phục, "
     "hoàn thành trong tháng 10/2031.\n", ["Sở Công Thương"]),
    ("- Đối với các dự án đã cấp phép, chủ động đôn đốc, yêu cầu các đơn vị thi công thực hiện điều chỉnh, "
     "xong trong tháng 11/2031.\n", ["Sở Công Thương"]),
    # a subject right before "yêu cầu" is the actor, and the object is the unit that must act
    ("Thực hiện chỉ đạo của Bộ, Sở Công Thương yêu cầu các đơn vị kinh doanh thực hiện báo cáo "
     "trước ngày 10/4/2031.\n", ["các đơn vị kinh doanh"]),
])
def test_verb_first_duties_keep_the_heading_unit(body, expected):
    text = f"1. Các nội dung chung\nQuán triệt chủ trương.\n4. Sở Công Thương\n{body}"
    assert _units(text) == [expected]
