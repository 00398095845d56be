"""Which cell of a pipe table's row stands under the column naming who carries the row out."""

import pytest

from ingest.text.pipe_tables import who_cell

TEAM = (
    "PHÂN CÔNG NHIỆM VỤ\n"
    "| TT | Nhiệm vụ thực hiện | Người thực hiện | Ghi chú |\n"
    "|  | Rà soát điều kiện của học viên | Trần Văn An |  |\n"
    "|  | Tổ chức chấm bài | Lê Thị Bình |  |\n"
    "|  | In ấn chứng chỉ |  |  |\n"
)
TASKS = (
    "| STT | Nội dung | Thời gian thực hiện | Đơn vị chủ trì | Đơn vị phối hợp |\n"
    "| 1 | Rà soát quy hoạch | Quý II/2026 | Sở Xây dựng | Sở Tài chính |\n"
)
SHORT = "| TT | Nhiệm vụ | Người thực hiện |\n| 1 | Chấm bài | Lê Thị Bình | thừa |\n"


@pytest.mark.parametrize("text, row, coordinating, column, cell", [
    (TEAM, "Tổ chức chấm bài", False, "Người thực hiện", "Lê Thị Bình"),
    (TEAM, "Rà soát điều kiện", False, "Người thực hiện", "Trần Văn An"),
    (TEAM, "In ấn chứng chỉ", False, None, None),   # nobody written against it
    (TEAM, "Nhiệm vụ thực hiện", False, None, None),  # the header is no row of its own
    # "Thời gian thực hiện" names when, not who; the lead and the coordinating columns apart
    (TASKS, "Rà soát quy hoạch", False, "Đơn vị chủ trì", "Sở Xây dựng"),
    (TASKS, "Rà soát quy hoạch", True, "Đơn vị phối hợp", "Sở Tài chính"),
    (SHORT, "Chấm bài", False, None, None),  # a row with more cells than its header
    ("Lê Thị Bình tổ chức chấm bài.", "chấm bài", False, None, None),  # no table
])
def test_the_cell_under_the_who_column_is_read_for_a_row(text, row, coordinating, column, cell):
    found = who_cell(text, text.index(row), coordinating=coordinating)
    if column is None:
        assert found is None
    else:
        assert (found.column, text[found.start:found.end]) == (column, cell)
