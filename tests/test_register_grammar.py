"""The register's deadline grammar, units and task tables, on synthetic sentences and tables.

Every text here is made up for the construction it tests (no corpus or devset strings).
"""

from __future__ import annotations

import pytest

from ingest.models import Document, DocumentMetadata
from ingest.register import extract_obligations


def _doc(text: str, **meta) -> Document:
    meta = {"date": "2031-02-10"} | meta
    return Document(doc_id="s-0", file="s.txt", file_sha256="0", kind="txt", text=text,
                    metadata=DocumentMetadata(**meta))


def _sig(o) -> tuple:
    d = o.deadline
    if d.kind == "quarter":
        return ("quarter", d.year, d.quarter)
    if d.kind == "year":
        return ("year", d.year)
    if d.kind == "recurring":
        return (d.recurrence, d.month_day or d.day)
    return (d.kind, d.date or d.month)


@pytest.mark.parametrize("text, expected", [
    # quarters and years
    ("Giao Sở Văn hóa chủ trì hoàn thành việc kiểm kê di tích trong quý III năm 2031.", [("quarter", 2031, 3)]),
    ("Đề nghị Sở Tài nguyên xây dựng cơ sở dữ liệu, xong trong Quý IV/2031.", [("quarter", 2031, 4)]),
    ("Giao Công an tỉnh hoàn thành việc cấp đổi giấy tờ trong năm 2032.", [("year", 2032)]),
    # dates and months written out
    ("Đề nghị Sở Giáo dục gửi báo cáo trước ngày 12 tháng 9 năm 2031.", [("date", "2031-09-12")]),
    ("Giao Sở Công Thương tổ chức hội chợ trong tháng 10 năm 2031.", [("month", "2031-10")]),
    ("Giao Ban Quản lý dự án hoàn thành xong trước ngày 02 tháng 11 năm 2031.", [("date", "2031-11-02")]),
    ("Giao Sở Giao thông hoàn thành chậm nhất đến ngày 30 tháng 6 năm 2033.", [("date", "2033-06-30")]),
    # ranges: the end is due
    ("Giao Sở Nội vụ tổ chức tiếp nhận hồ sơ từ ngày 03/4/2031 đến hết ngày 17/4/2031.", [("date", "2031-04-17")]),
    ("Giao Sở Y tế triển khai từ tháng 3/2031 đến quý III/2031.", [("quarter", 2031, 3)]),
    # recurring
    ("Giao Sở Tài chính hằng tháng, trước ngày 18 gửi báo cáo về Ủy ban nhân dân tỉnh.", [("monthly", 18)]),
    ("Đề nghị Sở Xây dựng tổng hợp, báo cáo trước 20/12 hằng năm.", [("yearly", "12-20")]),
    ("Đề nghị Sở Xây dựng tổng hợp, báo cáo trước ngày 20/12 hàng năm.", [("yearly", "12-20")]),
    ("Các doanh nghiệp lập và nộp báo cáo trước ngày 20 tháng 01 của năm liền kề sau năm báo cáo.",
     [("yearly", "01-20")]),
    ("Giao Sở Nội vụ định kỳ hằng quý, trước ngày 22 báo cáo Ủy ban nhân dân tỉnh.", [("quarterly", 22)]),
    # passive duties and effective dates
    ("Hồ sơ phải được bàn giao cho Sở Tư pháp trước ngày 14/8/2031.", [("date", "2031-08-14")]),
    ("Quy chế này có hiệu lực từ 01/9/2031, các cơ quan tổ chức thực hiện.", [("date", "2031-09-01")]),
    # a year inferred from the document's date
    ("Giao Sở Y tế gửi báo cáo trước ngày 15/6.", [("date", "2031-06-15")]),
])
def test_deadline_constructions(text, expected):
    assert [_sig(o) for o in extract_obligations(_doc(text), [])] == expected


@pytest.mark.parametrize("text", [
    # a cited document's date and a document's own date
    "Thực hiện Kế hoạch số 31/KH-UBND ngày 07/3/2031 của Ủy ban nhân dân tỉnh, Sở Y tế triển khai thực hiện.",
    # a past event told, with its period
    "Từ ngày 04 đến ngày 06 tháng 1 năm 2031, đoàn công tác đã đến thăm và làm việc tại huyện.",
    # a letter told by its date, with that letter's deadline
    "Ngày 12 tháng 1 năm 2031, Sở Công Thương có văn bản đề nghị các đơn vị báo cáo trước ngày 20/01/2031.",
    # something already done before a date, and a planned date
    "Các hồ sơ đã tiếp nhận trước ngày 01/01/2031 được giải quyết theo quy định cũ.",
    "Dự kiến tổ chức hội nghị tổng kết trong tháng 12/2031.",
    # a year as a period, not as a deadline
    "Ưu tiên bố trí nguồn lực thực hiện chương trình trong năm 2031 và giai đoạn 2031 - 2035.",
    "Kết quả giải ngân trong năm 2030 đạt thấp.",
])
def test_dates_that_are_not_deadlines(text):
    assert extract_obligations(_doc(text), []) == []


def test_labelled_items_take_units_from_their_role_lines():
    text = (
        "II. NHIỆM VỤ\n"
        "1. Tuyên truyền về ngày hội\n"
        "- Tổ chức tuyên truyền trên hệ thống loa.\n"
        "- Thời gian hoàn thành: Quý II/2031;\n"
        "- Đơn vị chủ trì: Đồng chí Phó Chủ tịch phụ trách văn hóa\n"
        "- Đơn vị phối hợp: Đoàn Thanh niên, Hội Phụ nữ xã.\n"
        "2. Tổng kết\n"
        "- Thời gian thực hiện: Từ tháng 5/2031 đến tháng 8/2031.\n"
        "- Đơn vị chủ trì: Văn phòng Ủy ban nhân dân xã\n"
        "3. Duy trì thường xuyên\n"
        "- Thời gian thực hiện: Thường xuyên.\n"
        "- Thời gian thực hiện: Từ tháng 3/2031 đến khi kết thúc.\n"
    )
    found = extract_obligations(_doc(text), [])
    assert [_sig(o) for o in found] == [("quarter", 2031, 2), ("month", "2031-08")]
    assert found[0].units == ["Đồng chí Phó Chủ tịch phụ trách văn hóa"]
    assert found[0].coordinating == ["Đoàn Thanh niên", "Hội Phụ nữ xã"]
    assert found[1].units == ["Văn phòng Ủy ban nhân dân xã"]
    assert "Thời gian hoàn thành: Quý II/2031" in found[0].source.quote


@pytest.mark.parametrize("heading, unit", [
    ("2. Sở Khoa học và Công nghệ: chủ trì các nội dung sau", "Sở Khoa học và Công nghệ"),
    ("2.1. Sở Khoa học và Công nghệ - cơ quan thường trực", "Sở Khoa học và Công nghệ"),
    ("2.1. Trách nhiệm của các đơn vị sử dụng ngân sách:", "các đơn vị sử dụng ngân sách"),
])
def test_numbered_heading_names_the_unit(heading, unit):
    text = f"{heading}\n- Rà soát danh mục thiết bị.\nThời hạn hoàn thành: Trước ngày 20/5/2031.\n"
    [ob] = extract_obligations(_doc(text), [])
    assert ob.units == [unit] and ob.deadline.date == "2031-05-20"


def test_a_sibling_heading_without_a_unit_hides_the_one_before():
    text = ("1. Sở Tài chính\n- Lập dự toán.\n\n2. Các nội dung chung\n"
            "- Tổng kết, hoàn thành trong tháng 9/2031.\n")
    [ob] = extract_obligations(_doc(text), [])
    assert ob.units == []


@pytest.mark.parametrize("text, units", [
    ("3. Về cải tạo kênh: Bộ Nông nghiệp khẩn trương rà soát, hoàn thành trong tháng 7 năm 2031.",
     ["Bộ Nông nghiệp"]),
    ("Giao Sở Tư pháp chủ\ntrì, phối hợp với các cơ quan liên quan báo cáo trước ngày 30/7/2031.", ["Sở Tư pháp"]),
    ("Đề nghị các Tổng công ty: Điện lực miền Bắc, Cấp nước Hà Đông hoàn thành trong tháng 6 năm 2031.",
     ["Tổng công ty Điện lực miền Bắc", "Tổng công ty Cấp nước Hà Đông"]),
    ("Giao Sở Nội vụ làm việc với các đơn vị để thống nhất phương án, hoàn thành trong tháng 4 năm 2031.",
     ["Sở Nội vụ"]),
])
def test_units_in_the_sentence(text, units):
    [ob] = extract_obligations(_doc(text), [])
    assert ob.units == units


_MARKDOWN_TABLE = """| TT | Nội dung | Đơn vị chủ trì | Đơn vị phối hợp | Thời gian hoàn thành |
|---|---|---|---|---|
| 1 | Xây dựng kho dữ liệu | Sở Y tế | Sở Tài chính; Sở Nội vụ | Quý III/2031 |
| 2 | Đào tạo cán bộ | Sở Nội vụ | Các sở, ngành | Trong năm 2032 |
| 3 | Duy trì hệ thống | Sở Y tế | Các sở, ngành | Hằng năm |
| 4 | Triển khai nền tảng | Sở Y tế | Các sở, ngành | 2031 - 2035 |
| 5 | Tổng kết | Sở Y tế; UBND các xã | Các sở, ngành | Xong trước ngày 15/12/2031 |
"""

_CELL_LINE_TABLE = """|
|
**Nội dung**
|
**Đơn vị thực hiện**
|
**Đơn vị phối hợp**
|
**Thời gian thực hiện**
|
**Sản phẩm**
|
|
1.1
|
Xây dựng quy chế
|
Sở Tư pháp
|
Các sở, ban, ngành
|
2031
|
Quy chế
|
|
1.2
|
Mở rộng mạng lưới
|
Sở Khoa học và
Công nghệ
|
Các sở, ban, ngành
|
Tháng 4 - 6/2031
|
Kế hoạch
|
"""

_WORD_TABLE = """PHỤ LỤC
TT
Tên nhiệm vụ
Cơ quan chủ trì
Cơ quan phối hợp
Thời gian thực hiện
Ghi chú
(1)
(2)
(3)
(4)
(5)
(6)
1
Rà soát quy hoạch
Sở Xây dựng
Các sở, ngành liên quan
Xong trong tháng 8/2031
2
Kiểm tra định kỳ
Thanh tra tỉnh
Các sở, ngành
Thường xuyên
3
Cập nhật dữ liệu đất đai
Sở Nông nghiệp và Môi trường; Sở Tài chính
Ủy ban nhân dân các xã
Trong năm 2031
"""


@pytest.mark.parametrize("table, expected", [
    (_MARKDOWN_TABLE, [
        (("quarter", 2031, 3), ["Sở Y tế"], ["Sở Tài chính", "Sở Nội vụ"]),
        (("year", 2032), ["Sở Nội vụ"], ["Các sở, ngành"]),
        (("date", "2031-12-15"), ["Sở Y tế", "UBND các xã"], ["Các sở, ngành"]),
    ]),
    (_CELL_LINE_TABLE, [
        (("year", 2031), ["Sở Tư pháp"], ["Các sở, ban, ngành"]),
        (("month", "2031-06"), ["Sở Khoa học và Công nghệ"], ["Các sở, ban, ngành"]),
    ]),
    (_WORD_TABLE, [
        (("month", "2031-08"), ["Sở Xây dựng"], ["Các sở, ngành liên quan"]),
        (("year", 2031), ["Sở Nông nghiệp và Môi trường", "Sở Tài chính"], ["Ủy ban nhân dân các xã"]),
    ]),
])
def test_task_tables_give_one_obligation_per_row(table, expected):
    found = extract_obligations(_doc(table), [])
    assert [(_sig(o), o.units, o.coordinating) for o in found] == expected
    assert all(o.units_from == "table" for o in found)
